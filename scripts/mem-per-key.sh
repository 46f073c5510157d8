#!/usr/bin/env bash
# Memory per key, Tessera next to redis-server, measured in one run.
#
# Loads N keys (default 1,000,000) with 16-byte names (key:%012d) and 16-byte
# values into Tessera (1 shard) and into redis-server, and prints used_memory
# and RSS growth per key for both. With KINDS="hash set zset list" it instead
# loads one collection of N elements of each kind (16-byte fields, members and
# values; scores 0..N) and prints the growth per element.
#
#   scripts/mem-per-key.sh            # N=1000000
#   N=200000 scripts/mem-per-key.sh
#   KINDS="hash set zset" scripts/mem-per-key.sh
#
# Each kind is loaded into freshly started servers, so RSS growth is not
# blurred by memory an earlier kind freed. With SERVERS_RUNNING="name=port:pid
# ..." it measures those servers instead (started empty by the caller, as
# scripts/bench-vs-redis.sh does) and starts nothing itself.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}

PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
if [ -z "${SERVERS_RUNNING:-}" ]; then
  TESSERA=${TESSERA:-target/release/tessera}
  [ -x "$TESSERA" ] || cargo build --release
  command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server redis-tools)"; exit 1; }
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Fills SPECS with the servers to measure: the caller's, or two fresh ones.
servers() {
  if [ -n "${SERVERS_RUNNING:-}" ]; then
    read -ra SPECS <<<"$SERVERS_RUNNING"
    return
  fi
  kill "${PIDS[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  local tp rp
  tp=$(free_port); rp=$(free_port)
  "$TESSERA" --port "$tp" --shards 1 --save "" --loglevel warning & local tpid=$!
  redis-server --port "$rp" --save '' --appendonly no --loglevel warning >/dev/null & local rpid=$!
  PIDS=("$tpid" "$rpid")
  for p in "$tp" "$rp"; do
    for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  SPECS=("tessera=$tp:$tpid" "redis=$rp:$rpid")
}

field() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: -v f="$2" '$1==f {print $2}'; }
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }

# The load for one kind as RESP on stdout: N SETs, or N elements added to one
# collection (100 per command).
gen() {
  python3 - "$N" "$1" <<'PY'
import sys
n, kind = int(sys.argv[1]), sys.argv[2]
out = sys.stdout.buffer
def cmd(*args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
buf = []
for start in range(0, n, 100):
    ids = range(start, min(n, start + 100))
    if kind == "string":
        buf.extend(cmd(b"SET", b"key:%012d" % i, b"%016d" % i) for i in ids)
    elif kind == "hash":
        buf.append(cmd(b"HSET", b"h", *[x for i in ids for x in (b"field:%010d" % i, b"%016d" % i)]))
    elif kind == "set":
        buf.append(cmd(b"SADD", b"s", *[b"member:%09d" % i for i in ids]))
    elif kind == "zset":
        buf.append(cmd(b"ZADD", b"z", *[x for i in ids for x in (b"%d" % i, b"member:%09d" % i)]))
    elif kind == "list":
        buf.append(cmd(b"RPUSH", b"l", *[b"member:%09d" % i for i in ids]))
    if len(buf) >= 1000:
        out.write(b"".join(buf)); buf = []
out.write(b"".join(buf))
PY
}

read -ra KIND_LIST <<<"${KINDS:-string}"
printf '| server | type | elements | used_memory/element (B) | RSS/element (B) |\n|---|---|---|---|---|\n'
for kind in "${KIND_LIST[@]}"; do
  servers
  for spec in "${SPECS[@]}"; do
    IFS='=:' read -r name port pid <<<"$spec"
    redis-cli -p "$port" flushall >/dev/null
    u0=$(field "$port" used_memory); r0=$(rss "$pid")
    gen "$kind" | redis-cli -p "$port" --pipe >/dev/null
    u1=$(field "$port" used_memory); r1=$(rss "$pid")
    case $kind in
      string) count=$(redis-cli -p "$port" dbsize) ;;
      hash) count=$(redis-cli -p "$port" hlen h) ;;
      set) count=$(redis-cli -p "$port" scard s) ;;
      zset) count=$(redis-cli -p "$port" zcard z) ;;
      list) count=$(redis-cli -p "$port" llen l) ;;
    esac
    python3 -c "print('| $name | $kind | $count | %.1f | %.1f |' % (($u1-$u0)/$N, ($r1-$r0)/$N))"
  done
done
