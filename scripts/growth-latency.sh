#!/usr/bin/env bash
# Command latency while one shard's keyspace grows, Tessera next to redis-server.
#
# Loads N keys (default 10,000,000; names key:%012d, 16-byte values) into
# Tessera with one shard and into redis-server, one after the other, with
# redis-cli --pipe. While each load runs, a second client sends one command at
# a time (PING, then GET of a loaded key, alternately) and records each round
# trip; the table prints their distribution and maximum, for the whole load.
# The load is written to a file first, so no generator competes for the CPU.
#
#   scripts/growth-latency.sh
#   N=2000000 scripts/growth-latency.sh
#
# A round trip includes waiting for whatever the server was doing when the
# command arrived: with one shard that is the loader's current batch of
# pipelined SETs, and any segment growth or split among them.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000000}
TESSERA=${TESSERA:-target/release/tessera}
[ -x "$TESSERA" ] || cargo build --release
command -v redis-server >/dev/null || { echo "redis-server is needed (apt-get install redis-server redis-tools)"; exit 1; }

WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

python3 - "$N" "$WORK/load.resp" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "wb") as out:
    buf = []
    for i in range(n):
        buf.append(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$16\r\n%016d\r\n" % (i, i))
        if len(buf) == 100000:
            out.write(b"".join(buf))
            buf = []
    out.write(b"".join(buf))
PY

# The probe: one command at a time until the file $2 appears, then prints
# count, p50, p99, p99.9, max (us) and how many took over 1 ms.
probe() {
  python3 - "$1" "$2" <<'PY'
import os, socket, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
cmds = [b"*1\r\n$4\r\nPING\r\n", b"*2\r\n$3\r\nGET\r\n$16\r\nkey:000000000001\r\n"]
lat = []
i = 0
while not os.path.exists(stop):
    c = cmds[i & 1]
    i += 1
    t0 = time.perf_counter_ns()
    s.sendall(c)
    data = s.recv(4096)
    # A reply ends with CRLF; a bulk reply may come in two reads.
    while not data.endswith(b"\r\n") or (data.startswith(b"$") and data.count(b"\r\n") < 2 and not data.startswith(b"$-1")):
        data += s.recv(4096)
    lat.append((time.perf_counter_ns() - t0) / 1000)
lat.sort()
q = lambda f: lat[min(len(lat) - 1, int(len(lat) * f))]
over = sum(1 for x in lat if x > 1000)
print(f"{len(lat)} {q(0.5):.0f} {q(0.99):.0f} {q(0.999):.0f} {lat[-1]:.0f} {over}")
PY
}

printf '| server | keys | load time (s) | probes | p50 (us) | p99 (us) | p99.9 (us) | max (us) | probes over 1 ms |\n|---|---|---|---|---|---|---|---|---|\n'
for name in tessera redis; do
  port=$(free_port)
  if [ "$name" = tessera ]; then
    "$TESSERA" --port "$port" --shards 1 --save "" --loglevel warning & pid=$!
  else
    redis-server --port "$port" --save '' --appendonly no --loglevel warning >/dev/null & pid=$!
  fi
  PIDS+=("$pid")
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$port" set key:000000000001 x >/dev/null
  rm -f "$WORK/stop"
  probe "$port" "$WORK/stop" >"$WORK/probe.out" & ppid=$!
  sleep 0.5
  t0=$(date +%s.%N)
  redis-cli -p "$port" --pipe <"$WORK/load.resp" >/dev/null
  t1=$(date +%s.%N)
  touch "$WORK/stop"
  wait "$ppid"
  keys=$(redis-cli -p "$port" dbsize)
  read -r count p50 p99 p999 max over <"$WORK/probe.out"
  python3 -c "print('| $name | $keys | %.1f | $count | $p50 | $p99 | $p999 | $max | $over |' % ($t1 - $t0))"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
