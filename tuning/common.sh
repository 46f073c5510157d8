# shellcheck shell=bash
# Helpers shared by the tuning scripts (sourced, not run): messages, CPU lists
# and masks, and the one place a setting is compared, reported and (with
# --apply) written.
#
# Every change goes through `step`, which prints "current -> new" and writes
# only when --apply was given and the value differs, so running a script twice
# changes nothing the second time.

APPLY=0   # set by the script's --apply
CHANGES=0 # settings that differ from their target
FAILED=0  # writes that failed under --apply
# What `finish` says after applying: how to keep the settings across reboots.
KEEP_NOTE="These are runtime settings: see tuning/README.md to keep them across reboots."

die() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
    exit 2
}

warn() {
    printf 'warning: %s\n' "$*" >&2
}

need_root() {
    if [[ $(id -u) -ne 0 ]]; then
        die "--apply writes kernel settings and needs root: run it with sudo (without --apply it only prints)"
    fi
}

# Reads a one-line file, or prints nothing and fails when it is missing or unreadable.
read_file() {
    local v
    v=$(cat -- "$1" 2>/dev/null) || return 1
    printf '%s' "$v"
}

# Prints the names of the entries matching a glob, in natural order
# ("rx-2" before "rx-10"); prints nothing when none match.
names() {
    local f
    for f in "$@"; do
        if [[ -e $f ]]; then printf '%s\n' "${f##*/}"; fi
    done | sort -V | paste -sd' ' -
}

# expand_cpus "0-3,8" prints "0 1 2 3 8" (sorted, no duplicates); fails on bad syntax.
expand_cpus() {
    local spec=$1 part a b i
    local -a parts nums=()
    [[ $spec =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] || return 1
    IFS=, read -ra parts <<<"$spec"
    for part in "${parts[@]}"; do
        if [[ $part == *-* ]]; then
            a=$((10#${part%-*}))
            b=$((10#${part#*-}))
            ((a <= b)) || return 1
            for ((i = a; i <= b; i++)); do nums+=("$i"); done
        else
            nums+=("$((10#$part))")
        fi
    done
    printf '%s\n' "${nums[@]}" | sort -nu | paste -sd' ' -
}

# compact_cpus "0 1 2 3 8" prints "0-3,8"; an empty list prints "none".
compact_cpus() {
    local -a list
    read -ra list <<<"$1"
    if ((${#list[@]} == 0)); then
        printf 'none'
        return
    fi
    local text="" start=${list[0]} prev=${list[0]} c
    for c in "${list[@]:1}" ""; do
        if [[ -n $c ]] && ((c == prev + 1)); then
            prev=$c
            continue
        fi
        if ((start == prev)); then text+=",$start"; else text+=",$start-$prev"; fi
        start=$c
        prev=$c
    done
    printf '%s' "${text#,}"
}

# cpus_to_mask "0 1 33" prints the kernel's hex mask form "2,00000003"
# (32-bit words, most significant first), as rps_cpus and xps_cpus take it.
cpus_to_mask() {
    local -a words=()
    local c w top=0 hex
    for c in $1; do
        w=$((c / 32))
        words[w]=$((${words[w]:-0} | (1 << (c % 32))))
        if ((w > top)); then top=$w; fi
    done
    hex=$(printf '%x' "${words[top]:-0}")
    for ((w = top - 1; w >= 0; w--)); do
        hex+=$(printf ',%08x' "${words[w]:-0}")
    done
    printf '%s' "$hex"
}

# mask_to_cpus "00000000,00000003" prints "0 1".
mask_to_cpus() {
    local hex=${1//,/} i d bit n
    local -a set=()
    n=${#hex}
    for ((i = 0; i < n; i++)); do
        d=$((16#${hex:n-1-i:1}))
        for bit in 0 1 2 3; do
            if (((d >> bit) & 1)); then set+=("$((i * 4 + bit))"); fi
        done
    done
    printf '%s' "${set[*]}"
}

# The CPUs that are online, as "0 1 2 ...".
online_cpus() {
    local spec
    spec=$(read_file /sys/devices/system/cpu/online) || spec="0-$(($(getconf _NPROCESSORS_ONLN) - 1))"
    expand_cpus "$spec"
}

# The CPUs of NUMA node $1, or fails when the node does not exist.
node_cpus() {
    local spec
    spec=$(read_file "/sys/devices/system/node/node$1/cpulist") || return 1
    expand_cpus "$spec"
}

# step LABEL CURRENT NEW FILE VALUE
# Reports one setting. CURRENT and NEW are shown to the user and compared
# (callers pass them in one normal form); VALUE is what is written to FILE
# when --apply was given and they differ.
step() {
    local label=$1 cur=$2 new=$3 file=$4 value=$5 err
    if [[ $cur == "$new" ]]; then
        printf '  ok       %-40s %s\n' "$label" "$cur"
        return
    fi
    CHANGES=$((CHANGES + 1))
    if ((APPLY == 0)); then
        printf '  change   %-40s %s -> %s\n' "$label" "$cur" "$new"
    elif err=$({ printf '%s\n' "$value" >"$file"; } 2>&1); then
        printf '  changed  %-40s %s -> %s\n' "$label" "$cur" "$new"
    else
        FAILED=$((FAILED + 1))
        printf '  FAILED   %-40s %s -> %s (%s)\n' "$label" "$cur" "$new" "${err##*: }"
    fi
}

# Prints the summary line and sets the exit status: 1 when a write failed.
finish() {
    echo
    if ((FAILED > 0)); then
        echo "$FAILED of $CHANGES change(s) failed (see FAILED above)."
        exit 1
    elif ((CHANGES == 0)); then
        echo "Nothing to change."
    elif ((APPLY == 0)); then
        echo "$CHANGES setting(s) would change. Nothing was written: run again with --apply (as root) to apply."
    else
        echo "$CHANGES setting(s) changed. $KEEP_NOTE"
    fi
}
