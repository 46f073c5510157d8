#!/usr/bin/env bash
# Persistence next to Redis, in one run: SET throughput with the append-only
# file (appendfsync always and everysec), and the time and peak memory of a
# background snapshot of N keys (Tessera's BGSAVE against Redis's fork).
#
# Servers are pinned to the same CPU and take turns, round by round; medians
# are printed as a Markdown table.
#
#   scripts/bench-persistence.sh [--keys N] [--requests N] [--rounds N] [--cpu C] [--client-cpu C]
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS=1000000
REQUESTS=100000
ROUNDS=3
CPU=0
CLIENT_CPU=1
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) KEYS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --cpu) CPU=$2; shift 2 ;;
    --client-cpu) CLIENT_CPU=$2; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server)" >&2; exit 2; }
cargo build --release --quiet
TESSERA=target/release/tessera
WORK=$(mktemp -d /tmp/bench-persistence.XXXXXX)
trap 'pkill -f "port 74[0-9][0-9] " >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

start() { # name port dir extra...
  local name=$1 port=$2 dir=$3; shift 3
  mkdir -p "$dir"
  if [ "$name" = tessera ]; then
    taskset -c "$CPU" "$TESSERA" --port "$port" --shards 1 --dir "$dir" --save "" "$@" >"$dir/log" 2>&1 &
  else
    taskset -c "$CPU" redis-server --port "$port" --dir "$dir" --save "" --daemonize no "$@" >"$dir/log" 2>&1 &
  fi
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "$name did not start" >&2; exit 1
}
stop() { redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true; sleep 0.3; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# 1. SET throughput with the append-only file.
declare -A RPS
for round in $(seq "$ROUNDS"); do
  for fsync in always everysec; do
    for name in tessera redis; do
      port=7401
      start $name $port "$WORK/$name-$fsync-$round" --appendonly yes --appendfsync $fsync
      r=$(taskset -c "$CLIENT_CPU" redis-benchmark -p $port -t set -n "$REQUESTS" -c 50 -r 100000 -q 2>/dev/null \
        | tr '\r' '\n' | awk '/requests per second/ {print $2}' | tail -1)
      RPS[$name-$fsync]+="$r "
      stop $port
    done
  done
done

# 2. BGSAVE of KEYS keys: wall time and peak RSS (Redis: parent + fork child).
rss_of() { # pattern -> summed RSS in KiB of matching processes
  ps -eo rss,args | awk -v p="$1" '$0 ~ p && !/awk/ {s+=$1} END {print s+0}'
}
declare -A SECS PEAK BASE
for round in $(seq "$ROUNDS"); do
  for name in tessera redis; do
    port=7402
    start $name $port "$WORK/$name-snap-$round"
    seq 1 "$KEYS" | awk '{printf "*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$16\r\nvalue-%010d\r\n", length("key:" $1), $1, $1}' \
      | redis-cli -p $port --pipe >/dev/null
    pattern="[ :]$port( |$)"
    base=$(rss_of "$pattern")
    t0=$(date +%s.%N)
    redis-cli -p $port bgsave >/dev/null
    peak=$base
    while redis-cli -p $port info persistence | grep -q 'rdb_bgsave_in_progress:1'; do
      r=$(rss_of "$pattern"); [ "$r" -gt "$peak" ] && peak=$r
      sleep 0.01
    done
    t1=$(date +%s.%N)
    SECS[$name]+="$(echo "$t1 - $t0" | bc) "
    PEAK[$name]+="$peak "
    BASE[$name]+="$base "
    stop $port
  done
done

echo "| measure | Tessera (1 shard) | Redis 7.0 | Tessera / Redis |"
echo "|---|---|---|---|"
for fsync in always everysec; do
  t=$(echo ${RPS[tessera-$fsync]} | tr ' ' '\n' | median)
  r=$(echo ${RPS[redis-$fsync]} | tr ' ' '\n' | median)
  echo "| SET req/s, appendfsync $fsync | $t | $r | $(echo "scale=2; $t / $r" | bc) |"
done
t=$(echo ${SECS[tessera]} | tr ' ' '\n' | median); r=$(echo ${SECS[redis]} | tr ' ' '\n' | median)
echo "| BGSAVE of $KEYS keys, seconds | $t | $r | $(echo "scale=2; $t / $r" | bc) |"
for what in BASE PEAK; do
  declare -n M=$what
  t=$(echo ${M[tessera]} | tr ' ' '\n' | median); r=$(echo ${M[redis]} | tr ' ' '\n' | median)
  label=$([ $what = BASE ] && echo "RSS before BGSAVE, MiB" || echo "peak RSS during BGSAVE, MiB")
  echo "| $label | $((t / 1024)) | $((r / 1024)) | $(echo "scale=2; $t / $r" | bc) |"
done
