#!/usr/bin/env bash
# The whole test suite: installs test dependencies when missing, then checks formatting,
# lints, builds with and without default features, runs every test, and fuzzes the
# parsers for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
export CCLOCAL_TEST_DEPS="${CCLOCAL_TEST_DEPS:-$PWD/target/test-deps}"

cargo fmt --all -- --check
shellcheck scripts/*.sh .ci/run
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --no-default-features -- -D warnings
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Without the embedded llama.cpp: every test but those that start a real program (the real
# llama-server, Claude Code, the Python servers: tests/it/real/, module real::). None of them
# depends on the embedded llama.cpp, so the default-features run below runs them once.
# tests/it/test_layout.rs keeps every real-program test in that folder.
cargo test --no-default-features -- --skip real:: 2>&1 | tee -a "$log"
cargo test 2>&1 | tee -a "$log"
# Tests that measure speed (the session-time prediction against a real session): alone,
# after the parallel suite, so nothing else shares the CPUs while they compare two measurements.
cargo test --test it -- --ignored --test-threads 1 --nocapture 2>&1 | tee -a "$log"
scripts/fuzz.sh "${CCLOCAL_FUZZ_SECONDS:-60}"
# One closing line for both test runs (the fuzz output comes after cargo's own lines).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
