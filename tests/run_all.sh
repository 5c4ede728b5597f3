#!/usr/bin/env bash
# The README's test command: installs the test dependencies, builds with tests, and runs every suite:
# unit tests (Criterion), the CLI contract, ONNX backend conformance, the randomized differential test of
# RNN/GRU/LSTM against onnxruntime, and the PyTorch-exported models.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash tools/setup_build.sh || exit 1
need=()
dpkg -s libcriterion-dev >/dev/null 2>&1 || need+=(libcriterion-dev)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" || exit 1
fi
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund >/dev/null || { echo "npm ci failed"; exit 1; }

build=build-test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DONNXRUN_TESTS=ON >/dev/null || exit 1
cmake --build "$build" -j"$(nproc)" || exit 1

shared="${ONNXRUN_SHARED:-$root/../shared}"
failed=()
suites=0
run() {
  local name=$1; shift
  suites=$((suites + 1))
  echo "=== $name"
  if "$@"; then echo "=== $name: ok"; else echo "=== $name: FAILED"; failed+=("$name"); fi
}
run unit "$build/tests/unit_tests" --jobs 2
run cli bash tests/cli_test.sh "$build/onnxrun"
run stream_cli sh tests/stream_cli_test.sh "$build"
run conformance "$build/tests/conformance" --onnxrun "$build/onnxrun" --data "$shared/onnx-backend-tests" \
  --expected tests/conformance_expected.txt
run rnn_diff bash tests/rnn_diff.sh "$build"
run models bash tests/models/check_models.sh "$build"
run install bash tests/install_test.sh build-install
run neon bash tests/cross/neon_check.sh build-neon
run fuzz bash fuzz/run_fuzz.sh build-fuzz 15
run asan bash fuzz/run_sanitizers.sh asan build-asan "$shared/onnx-backend-tests"
run tsan bash fuzz/run_sanitizers.sh tsan build-tsan

if [ ${#failed[@]} -gt 0 ]; then
  echo "suites failed: ${failed[*]}"
  echo "suites: $((suites - ${#failed[@]})) passed, ${#failed[@]} failed"
  exit 1
fi
echo "suites: $suites passed, 0 failed"
