#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time (default 60 s each). cargo-fuzz needs
# nightly features; RUSTC_BOOTSTRAP=1 enables them on the stable toolchain this project
# builds with. Installs cargo-fuzz when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in $(cargo fuzz list); do
  echo "fuzz: $target for ${SECONDS_EACH}s"
  mkdir -p "fuzz/corpus/$target"
  seeds="fuzz/seeds/$target"
  dirs=("fuzz/corpus/$target")
  [ -d "$seeds" ] && dirs+=("$seeds")
  cargo fuzz run "$target" "${dirs[@]}" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=65536
done
