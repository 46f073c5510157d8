#!/usr/bin/env bash
# Steers a NIC's interrupts and its RPS/XPS queue maps to the CPUs that run
# Tessera's shards, so a packet is handled on the core that owns its
# connection and nothing crosses NUMA nodes.
#
# By default it only prints what it would change (current -> new); --apply
# (as root) writes the changes. Running it again changes nothing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tuning/common.sh
source "$here/common.sh"

usage() {
    cat <<'EOF'
Usage: tuning/irq-affinity.sh --iface IF [--cpus LIST] [--rps auto|on|off]
                              [--no-xps] [--stop-irqbalance] [--apply]

  --iface IF          the network interface clients reach Tessera through
  --cpus LIST         CPUs for the NIC's queues, e.g. 2-7 (default: the CPUs of
                      the NIC's NUMA node, or all online CPUs when it has none);
                      normally the CPUs given to tessera with --cpus/--numa-node
  --rps MODE          receive packet steering over LIST: "on", "off", or "auto"
                      (default: on when the NIC has fewer RX queues than CPUs)
  --no-xps            leave the transmit queue maps (xps_cpus) alone
  --stop-irqbalance   with --apply, stop and disable irqbalance, which would
                      otherwise move the interrupts back within seconds
  --apply             write the changes (needs root); without it, print only

Each queue interrupt goes to one CPU of LIST in turn (queue 0 to the first CPU,
queue 1 to the second, ...); control interrupts (config, async, misc) may use
all of LIST. Settings last until reboot or driver reload.
EOF
}

iface="" cpus_arg="" rps=auto xps=1 stop_irqbalance=0
while (($# > 0)); do
    case $1 in
        --iface) iface=${2:?--iface needs a value}; shift 2 ;;
        --cpus) cpus_arg=${2:?--cpus needs a value}; shift 2 ;;
        --rps) rps=${2:?--rps needs a value}; shift 2 ;;
        --no-xps) xps=0; shift ;;
        --stop-irqbalance) stop_irqbalance=1; shift ;;
        --apply) APPLY=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done

[[ -n $iface ]] || { usage >&2; die "--iface is required"; }
[[ $rps =~ ^(auto|on|off)$ ]] || die "--rps takes auto, on or off, not '$rps'"
[[ $iface =~ ^[A-Za-z0-9_.:@-]+$ ]] || die "'$iface' is not an interface name"
net=/sys/class/net/$iface
if [[ ! -e $net ]]; then
    die "no interface '$iface' (interfaces: $(names /sys/class/net/*))"
fi
if ((APPLY)); then need_root; fi

# --- Where the NIC is --------------------------------------------------------
if [[ ! -e $net/device ]]; then
    lower=$(names "$net"/lower_*)
    lower=${lower//lower_/}
    die "'$iface' is a virtual interface with no interrupts of its own${lower:+; run this for its ports: $lower}"
fi
dev=$(readlink -f "$net/device")
node=-1
for d in "$dev" "${dev%/*}"; do
    if v=$(read_file "$d/numa_node"); then
        node=$v
        break
    fi
done

online=$(online_cpus)
echo "Interface $iface: device ${dev#/sys/devices/}"
if ((node >= 0)) && node_list=$(node_cpus "$node"); then
    echo "  NUMA node $node, CPUs $(compact_cpus "$node_list")"
else
    node=-1
    node_list=$online
    echo "  NUMA node: not reported (a single-node machine, or the firmware does not say)"
fi

# --- Which CPUs ---------------------------------------------------------------
if [[ -n $cpus_arg ]]; then
    cpus=$(expand_cpus "$cpus_arg") || die "invalid --cpus '$cpus_arg': expected numbers and ranges like 2-7,10"
    for c in $cpus; do
        [[ " $online " == *" $c "* ]] || die "CPU $c in --cpus is not online (online: $(compact_cpus "$online"))"
    done
    if ((node >= 0)); then
        off=""
        for c in $cpus; do
            [[ " $node_list " == *" $c "* ]] || off+=" $c"
        done
        if [[ -n $off ]]; then
            warn "CPU(s) $(compact_cpus "${off# }") are not on the NIC's NUMA node $node: their packets cross nodes"
        fi
    fi
else
    cpus=$node_list
fi
read -ra cpu_arr <<<"$cpus"
ncpus=${#cpu_arr[@]}
echo "  target CPUs $(compact_cpus "$cpus") ($ncpus)"
if command -v ethtool >/dev/null 2>&1; then
    channels=$(ethtool -l "$iface" 2>/dev/null | awk '/^Current/ {cur = 1} cur && /^(Combined|RX):/ {print $1 " " $2}' | paste -sd' ' -) || true
    if [[ -n $channels ]]; then
        echo "  queues (ethtool -l): $channels; 'ethtool -L $iface combined N' sets N"
    fi
fi

# --- irqbalance ----------------------------------------------------------------
if pgrep -x irqbalance >/dev/null 2>&1; then
    if ((stop_irqbalance && APPLY)); then
        if systemctl disable --now irqbalance >/dev/null 2>&1; then
            echo "  irqbalance: stopped and disabled"
        else
            warn "could not stop irqbalance with systemctl; stop it by hand, or it will undo these settings"
        fi
    else
        warn "irqbalance is running and will move these interrupts back: pass --stop-irqbalance, or ban them (see tuning/README.md)"
    fi
fi

# --- Interrupts ----------------------------------------------------------------
echo
echo "Interrupts (/proc/irq/N/smp_affinity_list):"
# The device's MSI/MSI-X vectors (virtio: on the parent PCI device), else its
# legacy line, else interrupts that carry the interface's name.
irqs=""
for d in "$dev" "${dev%/*}"; do
    if [[ -d $d/msi_irqs ]]; then
        irqs=$(names "$d"/msi_irqs/*)
        break
    fi
done
if [[ -z $irqs ]] && v=$(read_file "$dev/irq") && ((v > 0)); then
    irqs=$v
fi
if [[ -z $irqs ]]; then
    irqs=$(awk -v ifc="$iface" '$NF ~ ifc { sub(":", "", $1); print $1 }' /proc/interrupts | paste -sd' ' -)
fi

irq_name() {
    awk -v n="$1:" '$1 == n { print $NF }' /proc/interrupts
}

if [[ -z $irqs ]]; then
    echo "  no interrupts found for $iface (no MSI vectors, legacy line or named entry in /proc/interrupts): nothing to steer"
else
    # The n-th interrupt of each kind (its name without digits: "virtioN-input.",
    # "ethN-TxRx-") goes to the n-th CPU, so RX and TX queue n share a CPU.
    declare -A seen=()
    for irq in $irqs; do
        f=/proc/irq/$irq/smp_affinity_list
        name=$(irq_name "$irq")
        if ! cur=$(read_file "$f"); then
            echo "  skip     irq $irq ${name:-?}: $f is missing (the vector is not in use)"
            continue
        fi
        if [[ ${name,,} =~ (config|async|misc|ctrl|control|event|link|fdir|mgmt|mgmnt) ]]; then
            want=$cpus
        else
            kind=${name//[0-9]/}
            n=${seen[$kind]:-0}
            seen[$kind]=$((n + 1))
            want=${cpu_arr[n % ncpus]}
        fi
        cur_set=$(expand_cpus "$cur") || cur_set=$cur
        step "irq $irq ${name:-?}" "$(compact_cpus "$cur_set")" "$(compact_cpus "$want")" "$f" "$(compact_cpus "$want")"
    done
fi

# Maps queue Q of the NIC to CPU list WANT through its KIND file (rps_cpus or
# xps_cpus); WHY says what an unreadable file means.
steer_queue() {
    local q=$1 kind=$2 want=$3 why=$4
    local f=$net/queues/$q/$kind cur
    if ! cur=$(read_file "$f"); then
        echo "  skip     $q: $f is not readable ($why)"
        return
    fi
    step "$q $kind" "$(compact_cpus "$(mask_to_cpus "$cur")")" "$(compact_cpus "$want")" "$f" "$(cpus_to_mask "$want")"
}

# --- RPS -----------------------------------------------------------------------
read -ra rx_arr <<<"$(names "$net"/queues/rx-*)"
echo
echo "Receive packet steering (queues/rx-N/rps_cpus), ${#rx_arr[@]} RX queue(s):"
if ((${#rx_arr[@]} == 0)); then
    echo "  no RX queues under $net/queues: skipped"
else
    if [[ $rps == auto ]]; then
        if ((${#rx_arr[@]} < ncpus)); then rps=on; else rps=off; fi
        echo "  auto: $rps (${#rx_arr[@]} RX queue(s) for $ncpus CPU(s))"
    fi
    if [[ $rps == on ]]; then want=$cpus; else want=""; fi
    for q in "${rx_arr[@]}"; do
        steer_queue "$q" rps_cpus "$want" "kernel without CONFIG_RPS?"
    done
fi

# --- XPS -----------------------------------------------------------------------
read -ra tx_arr <<<"$(names "$net"/queues/tx-*)"
echo
echo "Transmit packet steering (queues/tx-N/xps_cpus), ${#tx_arr[@]} TX queue(s):"
if ((xps == 0)); then
    echo "  --no-xps: left alone"
elif ((${#tx_arr[@]} < 2)); then
    echo "  one TX queue or none: every CPU uses it, nothing to map"
else
    # CPU number i of the list sends on queue i mod (TX queues).
    ntx=${#tx_arr[@]}
    for ((qi = 0; qi < ntx; qi++)); do
        want=""
        for ((i = qi; i < ncpus; i += ntx)); do want+=" ${cpu_arr[i]}"; done
        want=${want# }
        steer_queue "${tx_arr[qi]}" xps_cpus "$want" "the driver has no XPS support"
    done
fi

finish
