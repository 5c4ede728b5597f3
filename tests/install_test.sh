#!/usr/bin/env bash
# Install test: configures BUILD with the CLI linked fully static, builds, installs into a
# temporary prefix, then uses ONLY the installed tree:
#   1. the layout, the SONAME and the exported symbols (exactly the functions of onnxrun.h);
#   2. the static CLI runs the quickstart model;
#   3. examples/minimal/main.c, copied outside the source tree, built with pkg-config alone,
#      linked against libonnxrun.so and fully static (pkg-config --static); both print the
#      logits PyTorch and onnxruntime compute (|a-e| <= 1e-5 + 1e-3*|e|);
#   4. examples/ built with find_package(onnxrun), against the shared and the static target:
#      minimal as above, char_gru greedy output equal to PyTorch's (expected.txt), sampled
#      output repeatable for a seed; kws_stream through examples/kws_stream/check.sh if both exist.
# Prints "install: N passed, M failed"; exits non-zero on any failure.
#
# usage: tests/install_test.sh [BUILD]     (default: build-install)
# env:   INSTALL_KEEP=1 keeps the prefix and work folder.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
build=${1:-build-install}

need=()
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v node >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
    --no-install-recommends "${need[@]}" || exit 2
fi
if [ ! -d node_modules/onnxruntime-node ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >&2 || exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/onnxrun-install-test.XXXXXX")
prefix=$(mktemp -d /tmp/onnxrun-prefix.XXXXXX)
if [ "${INSTALL_KEEP:-0}" = 1 ]; then
  trap 'echo "install_test.sh: kept $prefix and $work" >&2' EXIT
else
  trap 'rm -rf "$work" "$prefix"' EXIT
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DONNXRUN_TESTS=OFF -DONNXRUN_STATIC_EXE=ON \
  >"$work/configure.log" || { cat "$work/configure.log"; exit 2; }
cmake --build "$build" -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 2; }
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; exit 2; }

passed=0
failed=0
check() { # NAME COMMAND...: runs COMMAND, counts and reports it
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); echo "PASS $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; printf '%s\n' "$out" | head -20 | sed 's/^/  /'
  fi
}

is_static() { ! readelf -l "$1" | grep -q INTERP; }
needs_libonnxrun() { readelf -d "$1" | grep -q 'NEEDED.*\[libonnxrun\.so\.0\]'; }

layout() {
  local f
  for f in include/onnxrun.h lib/libonnxrun.a lib/libonnxrun.so lib/libonnxrun.so.0 bin/onnxrun \
    lib/pkgconfig/onnxrun.pc lib/cmake/onnxrun/onnxrunConfig.cmake \
    lib/cmake/onnxrun/onnxrunConfigVersion.cmake lib/cmake/onnxrun/onnxrunTargets.cmake; do
    [ -e "$prefix/$f" ] || { echo "missing $f"; return 1; }
  done
  readelf -d "$prefix/lib/libonnxrun.so" | grep -q 'SONAME.*\[libonnxrun\.so\.0\]' ||
    { echo "SONAME is not libonnxrun.so.0"; return 1; }
}

# The exported dynamic symbols must be exactly the functions declared in the public header.
exports() {
  cc -E -P -x c "$prefix/include/onnxrun.h" | grep -o 'onnxrun_[a-z0-9_]* *(' | tr -d '( ' |
    sort -u >"$work/declared.txt"
  nm -D --defined-only "$prefix/lib/libonnxrun.so" | awk '{print $3}' | sort -u >"$work/exported.txt"
  diff "$work/declared.txt" "$work/exported.txt" || { echo "(< declared only, > exported only)"; return 1; }
}

model=$root/examples/lstm_classifier/model.onnx
input=$root/examples/lstm_classifier/input.npy
node tools/ort_ref.js "$model" "$work/ort" "$input" >/dev/null || exit 2

# Compares the numbers after '=' on OUT's "logits:" line with float32 .npy files.
logits_match() {
  local out=$1; shift
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const fs = require("fs");
    const line = fs.readFileSync(process.argv[1], "latin1").split("\n").find((l) => l.startsWith("logits:"));
    if (!line) { console.log("no logits line"); process.exit(1); }
    const got = line.split("=")[1].trim().split(/\s+/).map(Number);
    for (const file of process.argv.slice(2)) {
      const b = fs.readFileSync(file), hlen = b.readUInt16LE(8);
      const want = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));
      const bad = want.length !== got.length || got.some((g, i) => !(Math.abs(g - want[i]) <= 1e-5 + 1e-3 * Math.abs(want[i])));
      if (bad) { console.log(`${file}: want ${Array.from(want)}, got ${got}`); process.exit(1); }
    }' "$out" "$@"
}

run_minimal() { # EXE: runs it on the quickstart model, compares with PyTorch and onnxruntime
  "$1" "$model" "$input" >"$work/minimal.txt" || return 1
  cat "$work/minimal.txt"
  logits_match "$work/minimal.txt" "$root/examples/lstm_classifier/expected_output.npy" "$work/ort/logits.npy"
}

cli_static() {
  is_static "$prefix/bin/onnxrun" || { echo "bin/onnxrun is dynamically linked"; return 1; }
  "$prefix/bin/onnxrun" "$model" "$input" >"$work/cli.txt" || return 1
  grep -q '^logits: float32 \[1,3\]' "$work/cli.txt"
}

pc_shared() {
  local exe=$work/pc/minimal_shared
  PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  export PKG_CONFIG_PATH
  # shellcheck disable=SC2046 # pkg-config output is a list of flags
  cc -std=c11 -Wall -Wextra -Wpedantic -O2 "$work/pc/main.c" -o "$exe" \
    $(pkg-config --cflags --libs onnxrun) -Wl,-rpath,"$(pkg-config --variable=libdir onnxrun)" || return 1
  needs_libonnxrun "$exe" || { echo "not linked against libonnxrun.so.0"; return 1; }
  run_minimal "$exe"
}

pc_static() {
  local exe=$work/pc/minimal_static
  PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  export PKG_CONFIG_PATH
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Wpedantic -O2 -static "$work/pc/main.c" -o "$exe" \
    $(pkg-config --static --cflags --libs onnxrun) || return 1
  is_static "$exe" || { echo "not statically linked"; return 1; }
  run_minimal "$exe"
}

examples_build() { # MODE (shared|static)
  local dir=$work/examples-$1 flag=OFF
  [ "$1" = static ] && flag=ON
  cmake -S examples -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" -DONNXRUN_EXAMPLES_STATIC=$flag >/dev/null &&
    cmake --build "$dir" -j"$(nproc)" >/dev/null || return 1
  if [ "$1" = shared ]; then needs_libonnxrun "$dir/minimal"; else ! needs_libonnxrun "$dir/minimal"; fi
}

char_gru_greedy() { # DIR
  local dir=$root/examples/char_gru want got
  want=$(tr -d '\t' <"$dir/expected.txt")
  got=$("$1/char_gru" "$dir/model.onnx" "$dir/vocab.txt" -p "$(cut -f1 "$dir/expected.txt")" \
    -n "$(cut -f2 "$dir/expected.txt" | tr -d '\n' | wc -c)" -t 0) || return 1
  [ "$got" = "$want" ] || { printf 'PyTorch:  %s\nchar_gru: %s\n' "$want" "$got"; return 1; }
}

char_gru_sampled() { # DIR: same seed -> same text; another seed -> other text
  local dir=$root/examples/char_gru a b c
  a=$("$1/char_gru" "$dir/model.onnx" "$dir/vocab.txt" -n 120 -t 1.0 -s 1) || return 1
  b=$("$1/char_gru" "$dir/model.onnx" "$dir/vocab.txt" -n 120 -t 1.0 -s 1) || return 1
  c=$("$1/char_gru" "$dir/model.onnx" "$dir/vocab.txt" -n 120 -t 1.0 -s 2) || return 1
  echo "$a"
  [ "$a" = "$b" ] && [ "$a" != "$c" ] && [ ${#a} -eq $((10 + 120)) ]
}

check layout layout
check exports exports
check cli-static cli_static
mkdir -p "$work/pc"
cp examples/minimal/main.c "$work/pc/main.c"
check pkg-config-shared pc_shared
check pkg-config-static pc_static
for mode in shared static; do
  dir=$work/examples-$mode
  check "examples-$mode-build" examples_build $mode
  check "examples-$mode-minimal" run_minimal "$dir/minimal"
  check "examples-$mode-char_gru-greedy" char_gru_greedy "$dir"
  check "examples-$mode-char_gru-sampled" char_gru_sampled "$dir"
  if [ -x "$dir/kws_stream" ] && [ -f examples/kws_stream/check.sh ]; then
    check "examples-$mode-kws_stream" bash examples/kws_stream/check.sh "$dir/kws_stream"
  fi
done

echo "sizes (bytes, unstripped / stripped):"
for f in "$prefix/bin/onnxrun" "$prefix/lib/libonnxrun.a" "$prefix/lib/libonnxrun.so.0"; do
  cp -L "$f" "$work/strip.tmp" && strip --strip-unneeded "$work/strip.tmp"
  echo "  ${f#"$prefix"/} $(stat -L -c %s "$f") / $(stat -c %s "$work/strip.tmp")"
done
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
