#!/usr/bin/env bash
# Transparent huge pages: "madvise" (the default here) or "never", as Redis
# advises, instead of "always", whose background compaction and khugepaged
# collapses stall a shard for milliseconds. tuning/README.md explains why.
#
# By default it only prints what it would change (current -> new); --apply
# (as root) writes the changes. Running it again changes nothing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tuning/common.sh
source "$here/common.sh"

usage() {
    cat <<'EOF'
Usage: tuning/thp.sh [--mode madvise|never] [--apply]

  --mode M   transparent huge pages for memory that asks for them only
             ("madvise", default) or for nothing ("never"); defrag becomes
             "madvise" either way, so no allocation outside madvised memory
             waits for compaction
  --apply    write the changes (needs root); without it, print only
EOF
}

mode=madvise
while (($# > 0)); do
    case $1 in
        --mode) mode=${2:?--mode needs a value}; shift 2 ;;
        --apply) APPLY=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
[[ $mode =~ ^(madvise|never)$ ]] || die "--mode takes madvise or never, not '$mode'"
if ((APPLY)); then need_root; fi

thp=/sys/kernel/mm/transparent_hugepage
if [[ ! -d $thp ]]; then
    echo "This kernel has no transparent huge pages ($thp is missing): nothing to do."
    exit 0
fi

# The word in brackets: "always [madvise] never" -> madvise.
selected() {
    local v
    v=$(read_file "$1") || return 1
    [[ $v =~ \[([a-z+]+)\] ]] || return 1
    printf '%s' "${BASH_REMATCH[1]}"
}

echo "Transparent huge pages ($thp):"
for f in enabled:"$mode" defrag:madvise; do
    name=${f%%:*}
    want=${f#*:}
    if ! cur=$(selected "$thp/$name"); then
        echo "  skip     $name: $thp/$name is missing or unreadable"
        continue
    fi
    step "transparent_hugepage/$name" "$cur" "$want" "$thp/$name" "$want"
done

KEEP_NOTE="This lasts until reboot: add transparent_hugepage=$mode to the kernel command line to keep it (tuning/README.md)."
finish
