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
cargo test --no-default-features
cargo test
scripts/fuzz.sh "${CCLOCAL_FUZZ_SECONDS:-60}"
