#!/usr/bin/env bash
# Benchmarks with their anchors, measured in the same run:
#   - GGUF header parse of the real gemma3-270m file: cclocal vs Python's gguf.GGUFReader
#     (pip package `gguf`) — the ratio is printed at the end;
#   - the server-log reader: 100 MB (criterion, with read_until and `wc -l` anchors) and a
#     1 GiB log through the release binary next to `wc -l`.
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

# Server-log reader (llama-server / Ollama lines): the criterion bench at 100 MB with its
# read_until and `wc -l` anchors, then a 1 GiB log through the release binary, timed next to
# `wc -l` over the same file (target: the debug-log reader's speed class, ~1 GB/s).
cargo bench --no-default-features --bench serverlog_parse -- --noplot | tee "$DEPS/bench-serverlog.txt"
cargo build --release --no-default-features --bin cclocal
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/cclocal"
BIG="$DEPS/big-server-log-1g.log"
python3 - "$BIG" tests/fixtures/server-logs <<'PY'
import os, sys
out, src = sys.argv[1], sys.argv[2]
corpus = b"".join(open(os.path.join(src, n), "rb").read().rstrip(b"\n") + b"\n"
                  for n in sorted(os.listdir(src)) if n.endswith(".log"))
target = 1 << 30
if not (os.path.exists(out) and os.path.getsize(out) >= target):
    with open(out, "wb") as f:
        size = 0
        while size < target:
            f.write(corpus); size += len(corpus)
PY
python3 - "$BIN" "$BIG" <<'PY'
import os, subprocess, sys, time
bin_, big = sys.argv[1], sys.argv[2]
size = os.path.getsize(big)
def best(cmd, n=3):
    t = []
    for _ in range(n):
        s = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True); t.append(time.perf_counter() - s)
    return min(t)
ours = best([bin_, "logs", "--server-log", big, "--limit", "5"])
wc = best(["wc", "-l", big])
print(f"server log 1 GiB: cclocal {ours:.2f} s ({size/ours/1e9:.2f} GB/s), wc -l {wc:.2f} s ({size/wc/1e9:.2f} GB/s), ratio {ours/wc:.1f}x wc")
PY
