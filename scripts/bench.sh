#!/usr/bin/env bash
# Benchmarks with their anchors, measured in the same run:
#   - GGUF header parse of the real gemma3-270m file: cclocal vs Python's gguf.GGUFReader
#     (pip package `gguf`) — the ratio is printed at the end.
# Usage: scripts/bench.sh [criterion filter]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh >/dev/null
DEPS="${CCLOCAL_TEST_DEPS:-$PWD/target/test-deps}"
export CCLOCAL_TEST_DEPS="$DEPS"
GEMMA="$DEPS/gemma-3-270m-q4_k_m.gguf"

cargo bench --no-default-features --bench gguf_parse -- --noplot "${1:-}" | tee "$DEPS/bench-gguf.txt"
ours_ns=$(python3 - "$DEPS/bench-gguf.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"gguf_header_gemma3_270m\s+time:\s+\[\S+ \S+ (\S+) (\S+)", text)
val, unit = float(m.group(1)), m.group(2)
print(int(val * {"ns": 1, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]))
PY
)
python3 -m pip install -q --disable-pip-version-check --target "$DEPS/py-gguf" gguf numpy >/dev/null 2>&1 || true
anchor_ns=$(PYTHONPATH="$DEPS/py-gguf" python3 - "$GEMMA" <<'PY'
import sys, time
from gguf import GGUFReader
t = time.perf_counter(); GGUFReader(sys.argv[1]); print(int((time.perf_counter() - t) * 1e9))
PY
)
python3 -c "o=$ours_ns; a=$anchor_ns; print(f'gguf header: cclocal {o/1e6:.2f} ms, Python GGUFReader {a/1e6:.0f} ms, ratio {a/o:.0f}x faster')"
