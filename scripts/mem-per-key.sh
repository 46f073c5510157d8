#!/usr/bin/env bash
# Memory per key, Tessera next to redis-server, measured in one run.
#
# Loads N keys (default 1,000,000) with 16-byte names (key:%012d) and 16-byte
# values into Tessera (1 shard) and into redis-server, and prints used_memory
# and RSS growth per key for both. With KINDS="hash set zset list" it instead
# loads one collection of N elements of each kind (16-byte fields, members and
# values; scores 0..N) and prints the growth per element.
#
# Other kinds:
#   string-ttl   N string keys as above, each SET with EX 100000000 (a TTL of
#                about three years), to compare with `string`.
#   small-hash   SMALL_KEYS keys (default 100,000; names hash:%08d), each a hash
#                of 8 fields field:0..field:7 with 8-byte values v%07d (the
#                packed encoding: Redis's listpack).
#   small-set    SMALL_KEYS sets of 8 members member:0..member:7 (listpack;
#                not integers, which would be Redis's intset).
#   small-zset   SMALL_KEYS sorted sets of 8 members member:0..member:7 with
#                scores 1..8 (listpack).
# The small kinds report growth per element (SMALL_KEYS * 8), the key included.
#
#   scripts/mem-per-key.sh            # N=1000000
#   N=200000 scripts/mem-per-key.sh
#   KINDS="string string-ttl" scripts/mem-per-key.sh
#   KINDS="small-hash small-set small-zset" scripts/mem-per-key.sh
#   KINDS="hash set zset" scripts/mem-per-key.sh
#
# Each kind is loaded into freshly started servers, so RSS growth is not
# blurred by memory an earlier kind freed. With SERVERS_RUNNING="name=port:pid
# ..." it measures those servers instead (started empty by the caller, as
# scripts/bench-vs-redis.sh does) and starts nothing itself.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
SMALL_KEYS=${SMALL_KEYS:-100000}

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
  # An empty directory of its own: nothing to load, nothing left behind.
  "$TESSERA" --port "$tp" --shards 1 --save "" --dir "$(mktemp -d)" --loglevel warning & local tpid=$!
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
  python3 - "$N" "$1" "$SMALL_KEYS" <<'PY'
import sys
n, kind, small = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
out = sys.stdout.buffer
def cmd(*args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
buf = []
if kind.startswith("small-"):
    n = small
for start in range(0, n, 100):
    ids = range(start, min(n, start + 100))
    if kind == "string":
        buf.extend(cmd(b"SET", b"key:%012d" % i, b"%016d" % i) for i in ids)
    elif kind == "string-ttl":
        buf.extend(cmd(b"SET", b"key:%012d" % i, b"%016d" % i, b"EX", b"100000000") for i in ids)
    elif kind == "small-hash":
        buf.extend(cmd(b"HSET", b"hash:%08d" % i, *[x for j in range(8) for x in (b"field:%d" % j, b"v%07d" % i)]) for i in ids)
    elif kind == "small-set":
        buf.extend(cmd(b"SADD", b"set:%08d" % i, *[b"member:%d" % j for j in range(8)]) for i in ids)
    elif kind == "small-zset":
        buf.extend(cmd(b"ZADD", b"zset:%08d" % i, *[x for j in range(8) for x in (b"%d" % (j + 1), b"member:%d" % j)]) for i in ids)
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
printf '| server | type | elements | used_memory/element (B) | RSS/element (B) | encoding |\n|---|---|---|---|---|---|\n'
for kind in "${KIND_LIST[@]}"; do
  servers
  for spec in "${SPECS[@]}"; do
    IFS='=:' read -r name port pid <<<"$spec"
    redis-cli -p "$port" flushall >/dev/null
    u0=$(field "$port" used_memory); r0=$(rss "$pid")
    gen "$kind" | redis-cli -p "$port" --pipe >/dev/null
    u1=$(field "$port" used_memory); r1=$(rss "$pid")
    enc=-
    case $kind in
      string | string-ttl) count=$(redis-cli -p "$port" dbsize) ;;
      small-*)
        count=$(($(redis-cli -p "$port" dbsize) * 8))
        enc=$(redis-cli -p "$port" object encoding "${kind#small-}:00000000") ;;
      hash) count=$(redis-cli -p "$port" hlen h) ;;
      set) count=$(redis-cli -p "$port" scard s) ;;
      zset) count=$(redis-cli -p "$port" zcard z) ;;
      list) count=$(redis-cli -p "$port" llen l) ;;
    esac
    python3 -c "print('| $name | $kind | $count | %.1f | %.1f | $enc |' % (($u1-$u0)/$count, ($r1-$r0)/$count))"
  done
done
