#!/usr/bin/env bash
# Tessera's whole check, as CI runs it (.ci/run execs this script):
#   1. installs what the tests need, idempotently: redis-server/redis-tools (the
#      differential tests compare Tessera with a real Redis 7.0) via apt-get;
#   2. cargo fmt --check and cargo clippy --all-targets -D warnings, so style
#      failures stop the run before the slower tests;
#   3. one quick pass over every criterion benchmark (cargo test --benches), then
#      the unit tests and the integration binary tests/it (1 and 3 shards,
#      differential against redis-server).
# Exits non-zero on any failure; the last lines are cargo test's summaries.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v redis-server >/dev/null 2>&1; then
    echo "test.sh: installing redis-server (needed by the differential tests)" >&2
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server redis-tools
fi
# The Debian package starts a service on port 6379; the tests never use it, and
# they start their own redis-server processes on free ports.
redis-server --version

echo "test.sh: cargo fmt --check" >&2
cargo fmt --all -- --check

echo "test.sh: cargo clippy --all-targets -- -D warnings" >&2
cargo clippy --all-targets -- -D warnings

# Each criterion benchmark runs once as a smoke test; the test suites run last
# so that cargo's summary lines close the output.
echo "test.sh: cargo test --benches" >&2
cargo test --benches
echo "test.sh: cargo test --lib --bins --tests" >&2
cargo test --lib --bins --tests
