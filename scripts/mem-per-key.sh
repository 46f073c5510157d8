#!/usr/bin/env bash
# Memory per key, Tessera next to redis-server, measured in one run.
#
# Loads N keys (default 1,000,000) with 16-byte names (key:%012d) and 16-byte
# values into Tessera (1 shard) and into redis-server, and prints used_memory
# and RSS growth per key for both.
#
#   scripts/mem-per-key.sh            # N=1000000
#   N=200000 scripts/mem-per-key.sh
#
# With SERVERS_RUNNING="name=port:pid ..." it measures those servers instead
# (started empty by the caller, as scripts/bench-vs-redis.sh does) and starts
# nothing itself.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}

if [ -n "${SERVERS_RUNNING:-}" ]; then
  read -ra SPECS <<<"$SERVERS_RUNNING"
else
  TESSERA=${TESSERA:-target/release/tessera}
  [ -x "$TESSERA" ] || cargo build --release
  command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server redis-tools)"; exit 1; }

  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  TP=$(free_port); RP=$(free_port)
  "$TESSERA" --port "$TP" --shards 1 --save "" --loglevel warning & TPID=$!
  redis-server --port "$RP" --save '' --appendonly no --loglevel warning & RPID=$!
  trap 'kill $TPID $RPID 2>/dev/null || true' EXIT
  for p in "$TP" "$RP"; do
    for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  SPECS=("tessera=$TP:$TPID" "redis=$RP:$RPID")
fi

field() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: -v f="$2" '$1==f {print $2}'; }
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }

gen() {
  python3 - "$N" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
buf = []
for i in range(n):
    k = b"key:%012d" % i
    v = b"%016d" % i
    buf.append(b"*3\r\n$3\r\nSET\r\n$16\r\n" + k + b"\r\n$16\r\n" + v + b"\r\n")
    if len(buf) == 10000:
        out.write(b"".join(buf)); buf = []
out.write(b"".join(buf))
PY
}

printf '| server | keys | used_memory/key (B) | RSS/key (B) |\n|---|---|---|---|\n'
for spec in "${SPECS[@]}"; do
  IFS='=:' read -r name port pid <<<"$spec"
  u0=$(field "$port" used_memory); r0=$(rss "$pid")
  gen | redis-cli -p "$port" --pipe >/dev/null
  u1=$(field "$port" used_memory); r1=$(rss "$pid")
  keys=$(redis-cli -p "$port" dbsize)
  python3 -c "print('| $name | $keys | %.1f | %.1f |' % (($u1-$u0)/$N, ($r1-$r0)/$N))"
done
