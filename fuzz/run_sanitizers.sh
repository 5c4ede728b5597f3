#!/usr/bin/env bash
# Sanitizer runs of the test suites, each in its own build directory:
#   asan BUILD_DIR: -DONNXRUN_SANITIZE=ON (ASan + UBSan + LeakSanitizer); runs
#        the unit tests, the conformance runner (same expected list as the
#        normal run), then the same concurrency programs as tsan (use after
#        free and leaks of shared weights, pools and clones).
#   tsan BUILD_DIR: -DONNXRUN_TSAN=ON (ThreadSanitizer); runs tests/tsan_sessions
#        on PyTorch-exported models and a synthetic one: concurrent sessions,
#        with and without the intra-op pool; tests/tsan_clones (session
#        clones streaming from several threads); and tests/tsan_replans (the
#        original re-planned for other batches while its clones run).
# Every report is written under BUILD_DIR/sanitizer-reports/ (log_path), so a
# report in a child process (the conformance runner's onnxrun, Criterion's
# test workers) fails the run even when the child's exit status is not
# looked at. Ends with "<mode>: N passed, M failed".
#
# usage: fuzz/run_sanitizers.sh asan|tsan [BUILD_DIR] [BACKEND_TESTS_DIR]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:?usage: run_sanitizers.sh asan|tsan [BUILD_DIR] [BACKEND_TESTS_DIR]}
build=${2:-$root/build-$mode}
data=${3:-${ONNXRUN_SHARED:-$root/../shared}/onnx-backend-tests}
reports=$build/sanitizer-reports

case $mode in
asan) flags=(-DONNXRUN_SANITIZE=ON -DONNXRUN_TESTS=ON)
  targets=(unit_tests conformance onnxrun tsan_sessions tsan_clones tsan_replans) ;;
tsan) flags=(-DONNXRUN_TSAN=ON -DONNXRUN_TESTS=OFF); targets=(tsan_sessions tsan_clones tsan_replans) ;;
*) echo "run_sanitizers.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "${flags[@]}" >/dev/null || exit 1
cmake --build "$build" -j2 --target "${targets[@]}" >"$build/build.log" 2>&1 ||
  { tail -n 30 "$build/build.log"; exit 1; }

rm -rf "$reports"
mkdir -p "$reports"
common="halt_on_error=1:exitcode=86:log_path=$reports/report"
export ASAN_OPTIONS="$common:detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="$common:print_stacktrace=1"
# A leak exits with its own status (87): the report scan below decides.
export LSAN_OPTIONS="exitcode=87"
export TSAN_OPTIONS="$common:second_deadlock_stack=1"

passed=0 failed=0
step() {
  local name=$1; shift
  echo "--- $mode $name"
  "$@"
  local rc=$?
  # 87: LeakSanitizer only; its report is judged with the others below.
  if [ $rc -eq 0 ] || [ $rc -eq 87 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "--- $mode $name: FAILED"; fi
}

# A LeakSanitizer report none of whose leaks was allocated by our code: every
# leak's allocating frame (#1, the caller of malloc/calloc) is inside
# libcriterion.so. Criterion's runner leaks now and then by itself (48 bytes
# from calloc, seen once in three runs of this suite); its upstream issues
# list such leaks. Any leak with a frame of ours first still fails.
criterion_only_leak() {
  grep -q "ERROR: LeakSanitizer" "$1" || return 1
  grep -q -E "ERROR: (Address|Undefined|Thread)Sanitizer|runtime error:" "$1" && return 1
  awk '/^(Direct|Indirect) leak/ { inleak = 1; next }
       inleak && /^ +#1 / { n++; if ($0 ~ /libcriterion\.so/) crit++; inleak = 0 }
       END { exit !(n > 0 && crit == n) }' "$1"
}
models=(synthetic) # large enough ops to be split across the intra-op pool
for m in lstm_h0c0 gru_bidir_batch_first conv1d_gru rnn_tanh_3layer gru_lstm_stack; do
  models+=("$root/tests/models/$m")
done
if [ "$mode" = asan ]; then
  step unit "$build/tests/unit_tests" --jobs 2
  step conformance "$build/tests/conformance" --onnxrun "$build/onnxrun" --data "$data" \
    --expected "$root/tests/conformance_expected.txt" --log "$build/conformance.log"
fi
step sessions "$build/tests/tsan_sessions" "${models[@]}"
# the fused recurrent engine forced on, threads taking over each other's chunks
step rnn_team env ONNXRUN_RNN_TEAM=3 "$build/tests/tsan_sessions" "${models[@]:1}"
# the engine's input phases: X·Wᵀ in chunks of 2 steps, rows split between the members
step rnn_team_chunks env ONNXRUN_RNN_TEAM=3 ONNXRUN_RNN_CHUNK=2 "$build/tests/tsan_sessions" \
  "${models[@]:1}"
# the engine splitting batch rows: each member its rows' X·Wᵀ, state and steps, chunks of 2 steps
step rnn_team_rows env ONNXRUN_RNN_TEAM=4 ONNXRUN_RNN_CHUNK=2 "$build/tests/tsan_sessions" \
  "${models[@]:1}"
# stacked layers pipelined wherever they can be (ops/recurrent_pipe.c), chunks of one step
step rnn_pipe env ONNXRUN_RNN_PIPE=1 ONNXRUN_RNN_CHUNK=1 "$build/tests/tsan_sessions" "${models[@]:1}"
# onnxrun_session_clone from several threads (tests/tsan_clones.c); then with the team engine
# off and 3 copies of R forced, so that the clones' pools read shared copies
step clones "$build/tests/tsan_clones" "$root/examples/kws_stream"
step clones_r_copies env ONNXRUN_RNN_TEAM=0 ONNXRUN_R_COPIES=3 "$build/tests/tsan_clones" \
  "$root/examples/kws_stream"
# the original re-planned for other batches (other packs of R) while its clones run (tests/tsan_replans.c)
step replans "$build/tests/tsan_replans" "$root/tests/models/lstm_h0c0"

# ASan also logs warnings there (a refused huge allocation with
# allocator_may_return_null=1, which the library must survive): only errors count.
found=$(grep -l -E "ERROR: (Address|Leak|Undefined|Thread)Sanitizer|runtime error:|WARNING: ThreadSanitizer" \
  -r "$reports" 2>/dev/null)
kept=""
for f in $found; do
  if criterion_only_leak "$f"; then
    echo "$mode: ignored $f: a leak inside Criterion's runner, no frame of ours allocated it"
  else
    kept="$kept $f"
  fi
done
found=$(echo $kept | tr ' ' '\n')
n_reports=$(echo -n "$found" | grep -c .)
if [ "$n_reports" -gt 0 ]; then
  echo "$mode: $n_reports sanitizer report(s):"
  for f in $(echo "$found" | head -n 5); do echo "== $f"; head -n 40 "$f"; done
  failed=$((failed + 1))
else
  passed=$((passed + 1))
fi
echo "$mode: $passed passed, $failed failed"
[ $failed -eq 0 ]
