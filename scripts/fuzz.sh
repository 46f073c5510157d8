#!/usr/bin/env bash
# Fuzz Tessera's RESP parser (fuzz/fuzz_targets/resp_parser.rs).
#
# Usage: scripts/fuzz.sh [seconds]        (default 60; FUZZ_TARGET picks another target)
#
# With a nightly toolchain (cargo-fuzz needs one for its sanitizer flags), this
# installs cargo-fuzz if missing (`cargo install cargo-fuzz --locked`) and runs
# libFuzzer for the given time. New inputs go to fuzz/corpus/<target>/, crashes
# to fuzz/artifacts/<target>/ (both git-ignored); the committed seeds live in
# fuzz/seeds/<target>/ - copy a crash there once it is fixed, as a regression.
#
# Without nightly (it cannot be downloaded on machines that only reach package
# registries) the script says so and falls back to replaying the seeds, the
# local corpus and any crash artifacts, plus 20,000 mutated seeds, through the
# same target code on the stable toolchain:
#   cargo test --manifest-path fuzz/Cargo.toml --lib --no-default-features
# That replay needs no libFuzzer; it is a regression check, not fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
target="${FUZZ_TARGET:-resp_parser}"

replay() {
    echo "fuzz.sh: replaying fuzz inputs on the stable toolchain" >&2
    exec cargo test --manifest-path fuzz/Cargo.toml --lib --no-default-features
}

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz.sh: no nightly toolchain installed; cargo-fuzz needs one and it cannot be" >&2
    echo "fuzz.sh: downloaded here. Falling back to a replay of the corpora." >&2
    replay
fi

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    if ! cargo install cargo-fuzz --locked; then
        echo "fuzz.sh: cargo-fuzz could not be installed; falling back to a replay." >&2
        replay
    fi
fi

mkdir -p "fuzz/corpus/$target"
cd fuzz
exec cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- -max_total_time="$seconds"
