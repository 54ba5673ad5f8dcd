#!/usr/bin/env bash
# Builds cclocal (installing build dependencies when missing) and runs `cclocal doctor`.
# Extra arguments go to doctor, e.g. scripts/doctor.sh --model qwen3-coder:30b -v
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v cmake >/dev/null || need+=(cmake)
command -v clang >/dev/null || need+=(clang)
compgen -G '/usr/lib/llvm-*/lib/libclang*.so*' >/dev/null || need+=(libclang-dev)
command -v c++ >/dev/null || need+=(g++)
command -v dpkg >/dev/null && { dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev); }
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  echo "doctor.sh: installing build dependencies: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release
exec target/release/cclocal doctor "$@"
