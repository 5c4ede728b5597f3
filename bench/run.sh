#!/usr/bin/env bash
# Benchmarks onnxrun against onnxruntime on PyTorch-exported recurrent models and writes
# bench/results.md and bench/ratios.png. Not part of the test suite; takes about 5-10 minutes.
#
#   bash bench/run.sh [--budget SECONDS] [--passes P] [--only NAME,NAME] [--threads 1,2]
#                     [--precisions fp32,bf16,int8]
#
# --budget is the timing budget per model and thread count (default 4 s), split over --passes
# passes through the whole model list (default 3; every engine still gets at least 5 timed runs
# per pass). Installs what it needs (Debian packages, npm ci) when missing.
# Work files (build, exported models, outputs) go to $BENCH_BUILD (default build-bench); the report
# to $BENCH_RESULTS (default bench/, the committed results.md and ratios.png).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build="${BENCH_BUILD:-$root/build-bench}"
bench_args=("$@")
results="${BENCH_RESULTS:-$root/bench}"
mkdir -p "$results"

need=()
for p in python3-torch python3-onnx python3-numpy; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
command -v gnuplot >/dev/null 2>&1 || need+=(gnuplot-nox)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
bash tools/setup_build.sh
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
[ -d node_modules/onnxruntime-node ] || ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null

echo "== building onnxrun (Release, static CLI) in $build"
static_opt=()
grep -q ONNXRUN_STATIC_EXE CMakeLists.txt && static_opt=(-DONNXRUN_STATIC_EXE=ON)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DONNXRUN_TESTS=OFF "${static_opt[@]}" >/dev/null
cmake --build "$build" -j2 --target onnxrun onnxrun_static >/dev/null
lib="$build/libonnxrun.a"
cli="$build/onnxrun"
is_static() { ! readelf -d "$1" 2>/dev/null | grep -q NEEDED; }
if ! is_static "$cli"; then
  # No static option in this tree: link the CLI statically here.
  cc -O2 -static -o "$build/onnxrun-static" tools/onnxrun.c -I runtime -I ops -I onnx -I "$build/gen" \
    "$lib" -lprotobuf-c -lpthread -lm
  cli="$build/onnxrun-static"
fi
cli_static=0
is_static "$cli" && cli_static=1

echo "== building the benchmark tools"
cflags=(-O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Wpedantic)
cc "${cflags[@]}" -I runtime -o "$build/bench_onnxrun" bench/bench_onnxrun.c "$lib" -lprotobuf-c -lpthread -lm
cc "${cflags[@]}" -o "$build/peak_rss" bench/peak_rss.c
cc "${cflags[@]}" -I runtime -o "$build/cache_sizes" bench/cache_sizes.c "$lib" -lprotobuf-c -lpthread -lm
fma_objs=()
if [ "$(uname -m)" = x86_64 ]; then
  cc "${cflags[@]}" -mavx512f -mfma -c bench/fma_peak_avx512.c -o "$build/fma_peak_avx512.o"
  cc "${cflags[@]}" -mavx2 -mfma -c bench/fma_peak_avx2.c -o "$build/fma_peak_avx2.o"
  fma_objs=("$build/fma_peak_avx512.o" "$build/fma_peak_avx2.o")
fi
cc "${cflags[@]}" -o "$build/fma_peak" bench/fma_peak.c "${fma_objs[@]}"
# The 1-thread runs use core 0 and the last core in turn (bench.js swaps them
# every round), so the peak is the higher of the two, each measured pinned when
# taskset is there.
fma_line=$(for core in 0 "$(($(nproc) - 1))"; do
  taskset -c "$core" "$build/fma_peak" 2>/dev/null
done | sort -k2,2 -g | tail -n 1)
[ -n "$fma_line" ] || fma_line=$("$build/fma_peak")
fma_peak=$(echo "$fma_line" | awk '{print $2}')
# -march=native: the loads as wide as this machine's, or a cache level would
# measure the adds (SSE2 at -O2: about 70 GB/s on a Zen 5 whose L2 gives 240).
native=(-O3 -march=native)
cc "${cflags[@]}" "${native[@]}" -o "$build/mem_bw" bench/mem_bw.c 2>/dev/null ||
  cc "${cflags[@]}" -o "$build/mem_bw" bench/mem_bw.c
read_gbs=$("$build/mem_bw" | awk '{print $2}')
# Pinned to the last core, one of the two that the 1-thread runs use.
read_curve=$(taskset -c "$(($(nproc) - 1))" "$build/mem_bw" --curve 2>/dev/null ||
  "$build/mem_bw" --curve)
read_curve=$(echo "$read_curve" | awk '{printf "%s%s:%s", (NR > 1 ? "," : ""), $2, $4}')
caches=$("$build/cache_sizes")
echo "   $fma_line, read_gbs $read_gbs, by size (KiB:GB/s) $read_curve; $caches"

models="$build/bench-models"
if [ ! -f "$models/order.json" ] || [ bench/export_models.py -nt "$models/order.json" ]; then
  echo "== exporting the models (PyTorch) to $models"
  rm -rf "$models"
  /usr/bin/python3 bench/export_models.py "$models"
fi

echo "== benchmarking"
start=$(date +%s)
rc=0
node bench/bench.js --models "$models" --driver "$build/bench_onnxrun" --cli "$cli" --cli-static "$cli_static" \
  --peak-rss "$build/peak_rss" --fma-peak "$fma_peak" --fma-peak-line "$fma_line" --read-gbs "$read_gbs" \
  --read-curve "$read_curve" --caches "$caches" \
  --out "$build/bench-out" --md "$results/results.md" --png "$results/ratios.png" "${bench_args[@]}" || rc=$?
echo "== done in $(( $(date +%s) - start )) s: $results/results.md, $results/ratios.png"
# 3: some onnxrun output differed from onnxruntime's (the report says which).
exit $rc
