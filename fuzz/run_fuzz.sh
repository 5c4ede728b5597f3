#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) and
# runs each for a bounded time: first over its committed regression inputs
# (fuzz/regressions/<target>/), then fuzzing from a scratch copy of its seed
# corpus (fuzz/corpus/<target>/). Any crash, leak, UB report, timeout or
# out-of-memory is a failure; its input is kept in BUILD_DIR/fuzz-findings/.
# Prints one line per target with libFuzzer's final stats, writes them to
# BUILD_DIR/fuzz-stats.txt and ends with "fuzz: N passed, M failed".
#
# usage: fuzz/run_fuzz.sh [BUILD_DIR] [SECONDS_PER_TARGET] [TARGET...]
#        (defaults: build-fuzz, 15, every target)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-fuzz}
secs=${2:-15}
shift $(($# > 2 ? 2 : $#))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_model_load fuzz_npy fuzz_tensor_pb fuzz_model_run)

if ! command -v clang >/dev/null || ! dpkg -s libclang-rt-14-dev >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
    --no-install-recommends clang libclang-rt-14-dev >/dev/null || exit 1
fi
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DONNXRUN_TESTS=OFF \
  -DONNXRUN_FUZZ=ON >/dev/null || exit 1
cmake --build "$build" -j2 --target "${targets[@]}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -n 30 "$build/fuzz-build.log"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
findings=$build/fuzz-findings
stats=$build/fuzz-stats.txt
mkdir -p "$findings"
: >"$stats"
passed=0 failed=0 total_execs=0
for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  log=$build/$t.log
  status=ok
  regs=("$root/fuzz/regressions/$t"/*)
  # The replay keeps libFuzzer's 10 s limit: an input that ran too slowly is a finding too.
  if [ -e "${regs[0]}" ] && ! "$bin" -timeout=10 "${regs[@]}" >"$log.regressions" 2>&1; then
    status=FAILED
    echo "$t: a regression input fails:"; grep -m5 -E "ERROR|runtime error|Running" "$log.regressions"
  fi
  work=$(mktemp -d "${TMPDIR:-/tmp}/$t.XXXXXX")
  cp "$root/fuzz/corpus/$t"/* "$work/" 2>/dev/null
  "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -artifact_prefix="$findings/$t-" "$work" >"$log" 2>&1
  rc=$?
  rm -rf "$work"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  crashes=$(ls "$findings" | grep -c "^$t-")
  if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then
    status=FAILED
    grep -m5 -E "ERROR|runtime error|SUMMARY" "$log"
  fi
  total_execs=$((total_execs + ${execs:-0}))
  line="$t: ${secs}s, ${execs:-0} executions, coverage ${cov:-?} edges, $crashes crashes: $status"
  echo "$line" | tee -a "$stats"
  if [ $status = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "total: $total_execs executions" | tee -a "$stats"
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
