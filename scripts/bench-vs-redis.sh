#!/usr/bin/env bash
# Tessera next to redis-server (and valkey-server or dragonfly when installed),
# measured in one run: requests/s, p50/p99 latency and server CPU time per
# request under redis-benchmark, memory per key, and optionally memtier_benchmark.
#
# Servers get the same settings and the same pinned CPUs and take turns run by
# run, so slow drifts of a shared machine hit them alike. Results (Markdown table,
# PNG chart, raw CSV of every run) go to bench-results/<timestamp>/.
#
#   scripts/bench-vs-redis.sh            # full run, see --help
#   scripts/bench-vs-redis.sh --quick    # smoke test: few requests, 1 round
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")/.."

ALL_TESTS="ping_inline ping_mbulk get set incr lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange_100 lrange_300 lrange_500 lrange_600 mset"

usage() {
  cat <<EOF
Usage: scripts/bench-vs-redis.sh [options]

Benchmarks Tessera against redis-server (and valkey-server / dragonfly when they
are on PATH) with redis-benchmark, and memtier_benchmark when it is installed.

Options (defaults in brackets):
  --tests LIST        redis-benchmark tests [get,set,incr,lpush,sadd,hset,zadd,mset]
  --pipelines LIST    pipeline depths (-P) [1,16]
  --shards LIST       Tessera shard counts; each gets its own set of runs [1,<CPUs>]
  --rounds N          rounds; servers alternate within each round [3]
  --requests N        requests per run at pipeline 1; at pipeline P runs send
                      N x min(P, 10), so that pipelined runs last about as long [100000]
  --clients N         parallel connections (-c) [50]
  --keyspace N        random keys (-r), preloaded so that GET hits [100000]
  --data-size N       value size in bytes (-d) [16]
  --mem-keys N        keys loaded for the memory-per-key table, 0 to skip [1000000]
  --servers LIST      servers to run [tessera,redis + valkey,dragonfly when installed]
  --tool LIST         redis-benchmark, memtier or both [redis-benchmark,memtier];
                      memtier is skipped with a note when not installed
  --server-cpus LIST  CPUs for the servers; N shards use the first N [allowed CPUs]
  --client-cpus LIST  CPUs for the load generator [CPUs left over, else all]
  --port-base P       first of four ports used [7100]
  --out DIR           result directory [bench-results/<timestamp>]
  --no-build          do not run cargo build (implied by TESSERA_BIN)
  --quick             smoke test: --requests 5000 --rounds 1 --mem-keys 20000
  -h, --help          this text

Environment: TESSERA_BIN (use this binary instead of building), TESSERA_ARGS,
REDIS_ARGS, VALKEY_ARGS, DRAGONFLY_ARGS (extra server arguments, word-split).

Every server of an N-shard run is pinned with taskset to the same N CPUs.
Redis runs its commands on one thread, so with N > 1 it still uses about one
core; compare CPU per request there, not requests/s alone.
EOF
}

die() { echo "bench-vs-redis: $*" >&2; exit 1; }
note() { echo "== $*" >&2; }

# ---------------------------------------------------------------- options
TESTS=get,set,incr,lpush,sadd,hset,zadd,mset
PIPELINES=1,16
SHARDS=""
ROUNDS=3
REQUESTS=100000
CLIENTS=50
KEYSPACE=100000
DATA_SIZE=16
MEM_KEYS=1000000
SERVERS=""
TOOLS=redis-benchmark,memtier
SERVER_CPUS=""
CLIENT_CPUS=""
PORT_BASE=7100
OUT=""
BUILD=1
MAXCLIENTS=10000
ARGV=("$@")

while (($#)); do
  opt=$1
  case $opt in
    -h | --help) usage; exit 0 ;;
    --quick) REQUESTS=5000 ROUNDS=1 MEM_KEYS=20000; shift; continue ;;
    --no-build) BUILD=0; shift; continue ;;
  esac
  (($# >= 2)) || die "$opt needs a value (see --help)"
  val=$2
  case $opt in
    --tests) TESTS=$val ;;
    --pipelines) PIPELINES=$val ;;
    --shards) SHARDS=$val ;;
    --rounds) ROUNDS=$val ;;
    --requests) REQUESTS=$val ;;
    --clients) CLIENTS=$val ;;
    --keyspace) KEYSPACE=$val ;;
    --data-size) DATA_SIZE=$val ;;
    --mem-keys) MEM_KEYS=$val ;;
    --servers) SERVERS=$val ;;
    --tool) TOOLS=$val ;;
    --server-cpus) SERVER_CPUS=$val ;;
    --client-cpus) CLIENT_CPUS=$val ;;
    --port-base) PORT_BASE=$val ;;
    --out) OUT=$val ;;
    *) die "unknown option $opt (see --help)" ;;
  esac
  shift 2
done

# --out and TESSERA_BIN are relative to where the script was called from.
[[ -z $OUT || $OUT == /* ]] || OUT=$CALLER_DIR/$OUT
[[ -z ${TESSERA_BIN:-} || $TESSERA_BIN == /* ]] || TESSERA_BIN=$CALLER_DIR/$TESSERA_BIN

for v in ROUNDS REQUESTS CLIENTS KEYSPACE DATA_SIZE MEM_KEYS PORT_BASE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "${v,,} must be a number, got '${!v}'"
done
((ROUNDS >= 1 && REQUESTS >= 1 && CLIENTS >= 1 && KEYSPACE >= 1)) ||
  die "rounds, requests, clients and keyspace must be at least 1"
IFS=, read -ra TESTS <<<"${TESTS,,}"
IFS=, read -ra PIPELINES <<<"$PIPELINES"
IFS=, read -ra TOOLS <<<"$TOOLS"
for t in "${TESTS[@]}"; do
  [[ " $ALL_TESTS " == *" $t "* ]] || die "unknown test '$t'; redis-benchmark knows: ${ALL_TESTS// /,}"
done
for p in "${PIPELINES[@]}"; do [[ $p =~ ^[1-9][0-9]*$ ]] || die "bad pipeline '$p'"; done
for t in "${TOOLS[@]}"; do
  [[ $t == redis-benchmark || $t == memtier ]] || die "unknown tool '$t' (redis-benchmark, memtier)"
done
has_tool() { [[ " ${TOOLS[*]} " == *" $1 "* ]]; }
RB_TESTS=()
if has_tool redis-benchmark; then RB_TESTS=("${TESTS[@]}"); fi
MEMTIER=0
if has_tool memtier; then
  if command -v memtier_benchmark >/dev/null; then
    MEMTIER=1
  else
    note "memtier_benchmark is not installed: skipping its runs (apt-get install memtier-benchmark where available)"
  fi
fi
((${#RB_TESTS[@]} || MEMTIER)) || { note "no benchmark tool to run"; exit 0; }

# ---------------------------------------------------------------- dependencies
# Installs only what is missing, so a second run touches nothing.
ensure_packages() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-benchmark >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-tools)
  command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
  command -v taskset >/dev/null || missing+=(util-linux)
  command -v python3 >/dev/null || missing+=(python3)
  ((${#missing[@]})) || return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  note "installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
ensure_packages

if [ -n "${TESSERA_BIN:-}" ]; then
  TESSERA=$TESSERA_BIN
else
  TESSERA=${CARGO_TARGET_DIR:-target}/release/tessera
  if ((BUILD)) || [ ! -x "$TESSERA" ]; then
    note "cargo build --release"
    cargo build --release --quiet
  fi
fi
[ -x "$TESSERA" ] || die "no Tessera binary at $TESSERA"

# Servers: Tessera and Redis always, the others when installed.
if [ -z "$SERVERS" ]; then
  SERVERS=tessera,redis
  command -v valkey-server >/dev/null && SERVERS+=,valkey
  command -v dragonfly >/dev/null && SERVERS+=,dragonfly
fi
IFS=, read -ra SERVERS <<<"$SERVERS"
declare -A PORT=()
i=0
for s in "${SERVERS[@]}"; do
  case $s in
    tessera | redis) ;;
    valkey) command -v valkey-server >/dev/null || die "valkey-server is not installed" ;;
    dragonfly) command -v dragonfly >/dev/null || die "dragonfly is not installed" ;;
    *) die "unknown server '$s' (tessera, redis, valkey, dragonfly)" ;;
  esac
  PORT[$s]=$((PORT_BASE + i))
  i=$((i + 1))
done

# ---------------------------------------------------------------- CPU placement
# cpu_list "0-2,5" -> "0 1 2 5"; with no argument, the CPUs this shell may use.
cpu_list() {
  python3 - "${1:-}" <<'PY'
import os, sys
spec = sys.argv[1]
if not spec:
    print(" ".join(map(str, sorted(os.sched_getaffinity(0)))))
    sys.exit()
cpus = []
for part in spec.split(","):
    lo, _, hi = part.partition("-")
    cpus += range(int(lo), int(hi or lo) + 1)
print(" ".join(map(str, cpus)))
PY
}
join_commas() { local IFS=,; echo "$*"; }

read -ra ALLOWED <<<"$(cpu_list)"
read -ra SERVER_POOL <<<"$(cpu_list "$SERVER_CPUS")"
if [ -z "$SHARDS" ]; then
  SHARDS=1
  if ((${#ALLOWED[@]} > 1)); then SHARDS+=",${#ALLOWED[@]}"; fi
fi
IFS=, read -ra SHARDS <<<"$SHARDS"
for n in "${SHARDS[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "bad shard count '$n'"
  ((n <= ${#SERVER_POOL[@]})) || die "$n shards need $n server CPUs, have ${#SERVER_POOL[@]} (${SERVER_POOL[*]})"
done

# Sets SCPUS (server CPUs) and CCPUS (client CPUs) for n shards, and PLACEMENT,
# one line on who shares what. With no CPU left over, the client shares them all.
place() {
  local n=$1 c rest=()
  SCPUS=$(join_commas "${SERVER_POOL[@]:0:n}")
  if [ -n "$CLIENT_CPUS" ]; then
    CCPUS=$(join_commas $(cpu_list "$CLIENT_CPUS"))
  else
    for c in "${ALLOWED[@]}"; do [[ ",$SCPUS," == *",$c,"* ]] || rest+=("$c"); done
    ((${#rest[@]})) || rest=("${ALLOWED[@]}")
    CCPUS=$(join_commas "${rest[@]}")
  fi
  PLACEMENT="$n shard(s): servers on CPU $SCPUS, load generator on CPU $CCPUS"
  local shared=""
  for c in ${CCPUS//,/ }; do [[ ",$SCPUS," == *",$c,"* ]] && shared+="$c,"; done
  [ -z "$shared" ] || PLACEMENT+=" (the load generator shares CPU ${shared%,} with the servers)"
}

# ---------------------------------------------------------------- output
TS=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-bench-results/$TS}
mkdir -p "$OUT/raw" "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
RUNS=$OUT/runs.csv
echo "tool,shards,pipeline,test,server,round,requests,cpu_ticks,clk_tck,wall_s,status,raw" >"$RUNS"
CLK_TCK=$(getconf CLK_TCK)
START=$(date +%s)

# ---------------------------------------------------------------- servers
declare -A PID=()
cleanup() {
  local s
  for s in "${!PID[@]}"; do kill "${PID[$s]}" 2>/dev/null || true; done
  for s in "${!PID[@]}"; do wait "${PID[$s]}" 2>/dev/null || true; done
  PID=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_version() {
  case $1 in
    tessera) "$TESSERA" --version ;;
    redis) redis-server --version ;;
    valkey) valkey-server --version ;;
    dragonfly) dragonfly --version 2>&1 | head -1 ;;
  esac
}

# start_server NAME SHARDS CPUS: starts NAME pinned to CPUS, waits until it answers.
start_server() {
  local name=$1 n=$2 cpus=$3 port=${PORT[$1]} cmd extra
  local log=$OUT/logs/$name-s$n.log
  redis-cli -p "$port" ping >/dev/null 2>&1 && die "port $port is already in use (try --port-base)"
  case $name in
    tessera)
      read -ra extra <<<"${TESSERA_ARGS:-}"
      cmd=("$TESSERA" --port "$port" --shards "$n" --cpus "$cpus" --save '' --appendonly no
        --maxclients "$MAXCLIENTS" --loglevel warning) ;;
    redis | valkey)
      local var=${name^^}_ARGS
      read -ra extra <<<"${!var:-}"
      cmd=("$name-server" --port "$port" --save '' --appendonly no --maxclients "$MAXCLIENTS"
        --loglevel warning --dir "$OUT/logs" --daemonize no) ;;
    dragonfly)
      read -ra extra <<<"${DRAGONFLY_ARGS:-}"
      cmd=(dragonfly --port="$port" --bind=127.0.0.1 --proactor_threads="$n" --dbfilename=
        --maxclients="$MAXCLIENTS" --dir="$OUT/logs") ;;
  esac
  # taskset execs the server, so $! is the server's own PID.
  taskset -c "$cpus" "${cmd[@]}" "${extra[@]}" >"$log" 2>&1 &
  PID[$name]=$!
  local _
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    kill -0 "${PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  tail -5 "$log" >&2
  die "$name did not start on port $port (log: $log)"
}

start_all() { local s; for s in "${SERVERS[@]}"; do start_server "$s" "$1" "$2"; done; }
stop_all() { cleanup; }
check_alive() {
  kill -0 "${PID[$1]}" 2>/dev/null && return 0
  tail -5 "$OUT/logs/$1-s$2.log" >&2
  die "$1 exited during the run (log: $OUT/logs/$1-s$2.log)"
}

# Utime + stime of the whole process (all threads), in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# SET key:%012d for 0..n-1 with size-byte values, the names redis-benchmark's
# -r draws, so that GET hits and SET overwrites.
load_keys() {
  python3 - "$2" "$3" <<'PY' | redis-cli -p "$1" --pipe >/dev/null
import sys
n, size = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
value = b"x" * size
head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
tail = b"\r\n$%d\r\n%s\r\n" % (size, value)
for start in range(0, n, 10000):
    out.write(b"".join(head + b"key:%012d" % i + tail for i in range(start, min(n, start + 10000))))
PY
}

# The command each redis-benchmark test sends, on a key of its own: a server
# that answers it with an error gets "n/a (unsupported)" for that test.
declare -A PROBE=(
  [ping_inline]="PING" [ping_mbulk]="PING" [get]="GET key:probe" [set]="SET key:probe x"
  [incr]="INCR counter:probe" [lpush]="LPUSH mylist:probe x" [rpush]="RPUSH mylist:probe x"
  [lpop]="LPOP mylist:probe" [rpop]="RPOP mylist:probe" [sadd]="SADD myset:probe x"
  [hset]="HSET myhash:probe f x" [spop]="SPOP myset:probe" [zadd]="ZADD myzset:probe 1 x"
  [zpopmin]="ZPOPMIN myzset:probe" [lrange_100]="LRANGE mylist:probe 0 99"
  [lrange_300]="LRANGE mylist:probe 0 299" [lrange_500]="LRANGE mylist:probe 0 499"
  [lrange_600]="LRANGE mylist:probe 0 599" [mset]="MSET key:probe x"
)
supports() {
  local port=$1 test=$2 reply
  read -ra words <<<"${PROBE[$test]}"
  reply=$(redis-cli -p "$port" "${words[@]}" 2>&1 || true)
  redis-cli -p "$port" DEL key:probe counter:probe mylist:probe myset:probe myhash:probe myzset:probe >/dev/null 2>&1 || true
  [[ $reply != *ERR* ]]
}

record() { echo "$1" >>"$RUNS"; }
requests_for() { echo $((REQUESTS * ($1 < 10 ? $1 : 10))); }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# run_rb SERVER SHARDS PIPELINE TEST ROUND: one redis-benchmark run, CPU measured.
run_rb() {
  local s=$1 n=$2 p=$3 t=$4 r=$5 port=${PORT[$1]} pid=${PID[$1]}
  local reqs=$(requests_for "$p") raw=$OUT/raw/rb-s$n-p$p-$t-$s-r$r.csv status=ok c0 c1 t0 t1
  c0=$(cpu_ticks "$pid")
  t0=$(date +%s.%N)
  taskset -c "$CCPUS" redis-benchmark -p "$port" --csv -t "$t" -n "$reqs" -c "$CLIENTS" -P "$p" \
    -d "$DATA_SIZE" -r "$KEYSPACE" >"$raw" 2>"$raw.err" || status=error
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "$pid")
  grep -qi 'error' "$raw.err" && status=error
  grep -qi 'unknown command' "$raw.err" && status=unsupported
  [ -s "$raw.err" ] || rm -f "$raw.err"
  [ "$status" = ok ] || note "$s $t -P $p: $status ($(head -c 200 "$raw.err" 2>/dev/null))"
  record "redis-benchmark,$n,$p,$t,$s,$r,$reqs,$((c1 - c0)),$CLK_TCK,$(elapsed "$t0" "$t1"),$status,${raw#"$OUT"/}"
  check_alive "$s" "$n"
}

# run_memtier SERVER SHARDS PIPELINE ROUND: a 1:10 SET:GET mix over the same keyspace.
run_memtier() {
  local s=$1 n=$2 p=$3 r=$4 port=${PORT[$1]} pid=${PID[$1]}
  local per_client=$((($(requests_for "$p") + CLIENTS - 1) / CLIENTS))
  local reqs=$((per_client * CLIENTS)) raw=$OUT/raw/memtier-s$n-p$p-$s-r$r.txt status=ok c0 c1 t0 t1
  c0=$(cpu_ticks "$pid")
  t0=$(date +%s.%N)
  taskset -c "$CCPUS" memtier_benchmark -s 127.0.0.1 -p "$port" --protocol=redis -t 1 -c "$CLIENTS" \
    --pipeline="$p" --ratio=1:10 --key-pattern=R:R --key-prefix=key: --key-minimum=1 \
    --key-maximum="$KEYSPACE" -d "$DATA_SIZE" -n "$per_client" --hide-histogram >"$raw" 2>"$raw.err" ||
    status=error
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "$pid")
  record "memtier,$n,$p,get-set-1:10,$s,$r,$reqs,$((c1 - c0)),$CLK_TCK,$(elapsed "$t0" "$t1"),$status,${raw#"$OUT"/}"
  check_alive "$s" "$n"
}

# ---------------------------------------------------------------- setup notes
{
  echo "# Tessera vs Redis: $TS"
  echo
  echo "Command: \`scripts/bench-vs-redis.sh ${ARGV[*]}\`"
  echo
  echo "- host: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), Linux $(uname -r)"
  for s in "${SERVERS[@]}"; do echo "- $s: $(server_version "$s")"; done
  echo "- redis-benchmark $(redis-benchmark --version | awk '{print $2}'): tests ${TESTS[*]}," \
    "pipelines ${PIPELINES[*]}, $CLIENTS clients, -r $KEYSPACE (preloaded), -d $DATA_SIZE," \
    "$REQUESTS requests per run x min(pipeline, 10), $ROUNDS round(s), servers alternating run by run"
  if ((MEMTIER)); then
    echo "- memtier_benchmark: 1:10 SET:GET, same clients, keyspace and value size"
  elif has_tool memtier; then
    echo "- memtier_benchmark: not installed, skipped"
  fi
  echo "- servers: no persistence (save '', appendonly no), maxclients $MAXCLIENTS"
  for n in "${SHARDS[@]}"; do place "$n"; echo "- $PLACEMENT"; done
  echo "- CPU µs/req: utime+stime of the whole server process from /proc/PID/stat" \
    "(clock tick $((1000000 / CLK_TCK)) µs) over the run, divided by the requests sent"
} >"$OUT/setup.md"

# ---------------------------------------------------------------- memory per key
if ((MEM_KEYS > 0)); then
  for n in "${SHARDS[@]}"; do
    place "$n"
    note "memory per key: $MEM_KEYS keys, $n shard(s)"
    start_all "$n" "$SCPUS"
    specs=""
    for s in "${SERVERS[@]}"; do specs+="$s=${PORT[$s]}:${PID[$s]} "; done
    SERVERS_RUNNING=$specs N=$MEM_KEYS scripts/mem-per-key.sh >"$OUT/mem-s$n.md"
    stop_all
  done
fi

# ---------------------------------------------------------------- throughput and CPU
declare -A OK=()
runs_per_round=$((${#PIPELINES[@]} * (${#RB_TESTS[@]} + MEMTIER) * ${#SERVERS[@]}))
for n in "${SHARDS[@]}"; do
  place "$n"
  note "$PLACEMENT"
  start_all "$n" "$SCPUS"
  OK=()
  for s in "${SERVERS[@]}"; do
    load_keys "${PORT[$s]}" "$KEYSPACE" "$DATA_SIZE"
    for t in "${RB_TESTS[@]}"; do
      if supports "${PORT[$s]}" "$t"; then
        OK[$s/$t]=1
      else
        OK[$s/$t]=0
        note "$s does not support $t: n/a"
      fi
    done
  done
  for ((r = 1; r <= ROUNDS; r++)); do
    note "$n shard(s), round $r/$ROUNDS ($runs_per_round runs)"
    for p in "${PIPELINES[@]}"; do
      for t in "${RB_TESTS[@]}"; do
        for s in "${SERVERS[@]}"; do
          if [ "${OK[$s/$t]}" = 1 ]; then
            run_rb "$s" "$n" "$p" "$t" "$r"
          elif ((r == 1)); then
            record "redis-benchmark,$n,$p,$t,$s,0,0,0,$CLK_TCK,0,unsupported,"
          fi
        done
      done
      if ((MEMTIER)); then
        for s in "${SERVERS[@]}"; do run_memtier "$s" "$n" "$p" "$r"; done
      fi
    done
  done
  stop_all
done

echo "- elapsed: $(($(date +%s) - START)) s" >>"$OUT/setup.md"
python3 scripts/bench_report.py "$OUT"
cat "$OUT/results.md"
note "results: $OUT/results.md, chart: $OUT/chart.png, raw runs: $OUT/runs.csv and $OUT/raw/"
