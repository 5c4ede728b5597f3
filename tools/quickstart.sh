#!/usr/bin/env bash
# The README's first command: install build dependencies, build, run the example model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_build.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DONNXRUN_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
./build/onnxrun examples/lstm_classifier/model.onnx examples/lstm_classifier/input.npy
