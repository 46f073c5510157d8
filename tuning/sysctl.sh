#!/usr/bin/env bash
# Kernel settings that matter for a Tessera cache host: accept queues sized for
# connection storms, the per-CPU input backlog, io_uring allowed, automatic
# NUMA balancing off on multi-node hosts, and optional socket busy polling.
# tuning/README.md explains each one.
#
# By default it only prints what it would change (current -> new); --apply
# (as root) writes the changes, --persist also writes them to a sysctl.d file
# so they survive a reboot. Running it again changes nothing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tuning/common.sh
source "$here/common.sh"

usage() {
    cat <<'EOF'
Usage: tuning/sysctl.sh [--backlog N] [--busy-poll US] [--persist] [--apply]

  --backlog N      accept and SYN queue length to allow (default 65535); give
                   Tessera the same or less with `tcp-backlog N`
  --busy-poll US   also set net.core.busy_poll and net.core.busy_read to US
                   microseconds (0 turns busy polling off; default: leave them)
  --persist        with --apply, also write /etc/sysctl.d/60-tessera.conf
  --apply          write the changes (needs root); without it, print only

Settings that are raised only (somaxconn, backlogs) are never lowered.
EOF
}

backlog=65535 busy_poll="" persist=0
persist_file=/etc/sysctl.d/60-tessera.conf
while (($# > 0)); do
    case $1 in
        --backlog) backlog=${2:?--backlog needs a value}; shift 2 ;;
        --busy-poll) busy_poll=${2:?--busy-poll needs a value}; shift 2 ;;
        --persist) persist=1; shift ;;
        --apply) APPLY=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done
if ! [[ $backlog =~ ^[1-9][0-9]{2,9}$ ]] || ((backlog < 128 || backlog > 2147483647)); then
    die "--backlog takes a number from 128 to 2147483647, not '$backlog'"
fi
if [[ -n $busy_poll ]] && { ! [[ $busy_poll =~ ^(0|[1-9][0-9]{0,6})$ ]] || ((busy_poll > 1000000)); }; then
    die "--busy-poll takes microseconds from 0 to 1000000, not '$busy_poll'"
fi
if ((APPLY)); then need_root; fi

persisted=() # "key = value" lines for --persist

# setting KEY MODE TARGET: MODE "min" raises to TARGET and never lowers,
# "exact" sets TARGET.
setting() {
    local key=$1 mode=$2 target=$3 file cur want
    file=/proc/sys/${key//.//}
    if ! cur=$(read_file "$file"); then
        echo "  skip     $key: not present in this kernel"
        return
    fi
    want=$target
    if [[ $mode == min ]] && ((cur >= target)); then want=$cur; fi
    step "$key" "$cur" "$want" "$file" "$want"
    persisted+=("$key = $want")
}

echo "Kernel settings (/proc/sys):"
# Listen queue limit: the kernel caps every listen() backlog at this value.
setting net.core.somaxconn min "$backlog"
# SYN queue: half-open connections while a burst of clients reconnects.
setting net.ipv4.tcp_max_syn_backlog min "$backlog"
# Packets queued per CPU between the driver (or RPS) and the TCP stack.
setting net.core.netdev_max_backlog min 16384
# io_uring must be allowed (Linux 6.6+ can disable it system-wide).
setting kernel.io_uring_disabled exact 0
# Pinned, node-local shards gain nothing from NUMA balancing's page scanning.
nodes=$(expand_cpus "$(read_file /sys/devices/system/node/online || echo 0)") || nodes=0
read -ra node_arr <<<"$nodes"
if ((${#node_arr[@]} > 1)); then
    setting kernel.numa_balancing exact 0
else
    echo "  skip     kernel.numa_balancing: one NUMA node"
fi
if [[ -n $busy_poll ]]; then
    # Busy-poll the NIC queue from the socket instead of waiting for an interrupt.
    setting net.core.busy_poll exact "$busy_poll"
    setting net.core.busy_read exact "$busy_poll"
fi

if ((persist)); then
    echo
    content=$(printf '# Written by tuning/sysctl.sh for Tessera; see tuning/README.md.\n'; printf '%s\n' "${persisted[@]}")
    if [[ $(cat -- "$persist_file" 2>/dev/null) == "$content" ]]; then
        echo "  ok       $persist_file is up to date"
    elif ((APPLY == 0)); then
        CHANGES=$((CHANGES + 1))
        echo "  change   $persist_file would hold:"
        printf '             %s\n' "${persisted[@]}"
    elif printf '%s\n' "$content" >"$persist_file"; then
        CHANGES=$((CHANGES + 1))
        echo "  changed  $persist_file written (applied at boot by systemd-sysctl)"
    else
        CHANGES=$((CHANGES + 1))
        FAILED=$((FAILED + 1))
        echo "  FAILED   could not write $persist_file"
    fi
fi

if ((persist)); then KEEP_NOTE="$persist_file keeps them across reboots."; fi
finish
