#!/bin/sh
# End-to-end tests of the onnxrun CLI: outputs, exit codes and messages.
# usage: tests/cli_test.sh [ONNXRUN] [BACKEND_TESTS_DIR]
# Uses node/test_add from the ONNX backend tests (z = x + y, float32 [3,4,5]);
# every other model and .npy file is made here (byte patches, printf).
set -u

here=$(cd "$(dirname "$0")" && pwd)
ONNXRUN=${1:-${ONNXRUN:-$here/../build/onnxrun}}
TESTS=${2:-$here/../../shared/onnx-backend-tests}
ADD=$TESTS/node/test_add
SET=$ADD/test_data_set_0

# The contract is checked with the library's own choices: an ONNXRUN_* value
# the caller set (an invalid one would add a warning to every message) is
# dropped here.
for var in $(env | sed -n 's/^\(ONNXRUN_[A-Z0-9_]*\)=.*/\1/p'); do unset "$var"; done

pass=0
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli_test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run NAME EXPECTED_STATUS ARGS...: runs onnxrun, keeps stdout/stderr in
# $tmp/out and $tmp/err; an error must be exactly one line on stderr.
run() {
    name=$1 want=$2
    shift 2
    "$ONNXRUN" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        ko "$name: exit $got, expected $want; stderr: $(head -c 300 "$tmp/err")"
        return
    fi
    if [ "$want" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
        ko "$name: expected one line on stderr, got: $(cat "$tmp/err")"
        return
    fi
    ok
}

# expect NAME FILE GREP_PATTERN: FILE contains a line matching the pattern.
expect() {
    if grep -q -e "$3" "$2"; then ok; else ko "$1: '$3' not in: $(head -c 400 "$2")"; fi
}

# npy FILE DESCR SHAPE COUNT BYTES: a v1.0 .npy of COUNT elements, each the
# printf-escaped BYTES, with the header padded to 64 bytes as numpy does.
npy() {
    dict="{'descr': '$2', 'fortran_order': False, 'shape': ($3), }"
    total=$(((10 + ${#dict} + 1 + 63) / 64 * 64))
    hlen=$((total - 10))
    {
        printf '\223NUMPY\001\000'
        printf "\\$(printf %03o $((hlen % 256)))\\$(printf %03o $((hlen / 256)))"
        printf '%s' "$dict"
        printf "%$((hlen - ${#dict} - 1))s\n" ""
        i=0
        while [ "$i" -lt "$4" ]; do
            printf "$5"
            i=$((i + 1))
        done
    } >"$1"
}

if [ ! -x "$ONNXRUN" ]; then
    echo "cli_test: $ONNXRUN is not executable"
    exit 2
fi
if [ ! -f "$ADD/model.onnx" ]; then
    echo "cli_test: $ADD/model.onnx not found"
    exit 2
fi

# ---- fixtures ----
F32_1_5='\000\000\300\077'   # 1.5f little-endian
F32_2_25='\000\000\020\100'  # 2.25f
F32_3_75='\000\000\160\100'  # 3.75f = 1.5 + 2.25
I64_1='\001\000\000\000\000\000\000\000'
npy "$tmp/x.npy" '<f4' '3, 4, 5' 60 "$F32_1_5"
npy "$tmp/y.npy" '<f4' '3, 4, 5' 60 "$F32_2_25"
npy "$tmp/want_sum.npy" '<f4' '3, 4, 5' 60 "$F32_3_75"
npy "$tmp/x_int.npy" '<i8' '3, 4, 5' 60 "$I64_1"
npy "$tmp/x_2x2.npy" '<f4' '2, 2' 4 "$F32_1_5"
npy "$tmp/x_short.npy" '<f4' '3, 4, 5' 59 "$F32_1_5" # header lies: 59 values
printf 'this is not a numpy file' >"$tmp/bad.npy"
printf '\377\377\377\377' >"$tmp/bad.pb"
head -c 40 "$ADD/model.onnx" >"$tmp/truncated.onnx"
# The same graph with op_type "Add" patched to "Zzz" (op_type is field 4:
# tag 0x22 '"', length 3), and with the output renamed "sum" -> "s:m".
LC_ALL=C sed 's/"\x03Add/"\x03Zzz/' "$ADD/model.onnx" >"$tmp/unsupported.onnx"
LC_ALL=C sed 's/\x03sum/\x03s:m/g' "$ADD/model.onnx" >"$tmp/renamed.onnx"

# ---- running ----
run "pb inputs" 0 "$ADD/model.onnx" "$SET/input_0.pb" "$SET/input_1.pb" -o "$tmp/o1"
# output_0.pb ends with the raw float data (240 bytes); so does the .npy.
tail -c 240 "$SET/output_0.pb" >"$tmp/want_raw"
tail -c 240 "$tmp/o1/sum.npy" >"$tmp/got_raw" 2>/dev/null
if cmp -s "$tmp/want_raw" "$tmp/got_raw" && [ "$(wc -c <"$tmp/o1/sum.npy")" -eq 368 ]; then
    ok
else
    ko "pb inputs: sum.npy differs from output_0.pb"
fi
run "npy inputs" 0 "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy" -o "$tmp/o2/nested"
if cmp -s "$tmp/o2/nested/sum.npy" "$tmp/want_sum.npy"; then ok; else ko "npy inputs: sum.npy differs from 3.75 everywhere"; fi
run "named inputs, reversed" 0 "$ADD/model.onnx" y="$tmp/y.npy" x="$tmp/x.npy" -o "$tmp/o3"
if cmp -s "$tmp/o3/sum.npy" "$tmp/want_sum.npy"; then ok; else ko "named inputs: wrong sum.npy"; fi
run "mixed pb and npy" 0 "$ADD/model.onnx" "$SET/input_0.pb" y="$tmp/y.npy"
run "preview" 0 "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy"
expect "preview" "$tmp/out" '^sum: float32 \[3,4,5\] = 3.75 3.75 3.75 3.75 3.75 3.75 3.75 3.75 ... (60 values)$'
run "sanitised output name" 0 "$tmp/renamed.onnx" "$tmp/x.npy" "$tmp/y.npy" -o "$tmp/o4"
if cmp -s "$tmp/o4/s_m.npy" "$tmp/want_sum.npy"; then ok; else ko "sanitised name: s_m.npy missing or wrong"; fi
run "threads" 0 --threads 2 "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy"
run "bench" 0 "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy" --bench 5
expect "bench" "$tmp/out" '^bench: runs=5 min_ms=[0-9][0-9.]* median_ms=[0-9][0-9.]* mean_ms=[0-9][0-9.]*$'
if [ "$(wc -l <"$tmp/out")" -eq 1 ]; then ok; else ko "bench: expected exactly one line"; fi

# ---- ONNXRUN_* values the library does not accept: a warning each, then the run ----
env ONNXRUN_L2_BYTES=1MB ONNXRUN_RNN_TEAM=yes \
    "$ONNXRUN" "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy" >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ]; then ok; else ko "invalid environment: exit status"; fi
expect "invalid environment output" "$tmp/out" '^sum: float32 \[3,4,5\] = 3.75 3.75'
expect "invalid environment L2" "$tmp/err" \
    "^onnxrun: warning: ONNXRUN_L2_BYTES='1MB' is not a size in bytes above 0, optionally with a K or M suffix; ignored$"
expect "invalid environment team" "$tmp/err" "^onnxrun: warning: ONNXRUN_RNN_TEAM='yes' is not 0, 1, 2, 3 or 4; ignored$"
if [ "$(wc -l <"$tmp/err")" -eq 2 ]; then ok; else ko "invalid environment: expected two warnings, got: $(cat "$tmp/err")"; fi
env ONNXRUN_RNN_CHUNK=4 "$ONNXRUN" "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy" >"$tmp/out" 2>"$tmp/err"
if [ ! -s "$tmp/err" ]; then ok; else ko "valid environment: unexpected stderr: $(cat "$tmp/err")"; fi

# ---- --info and --help ----
run "info" 0 --info "$ADD/model.onnx"
expect "info producer" "$tmp/out" '^producer: backend-test'
expect "info opsets" "$tmp/out" '^opsets: ai.onnx 14'
expect "info input x" "$tmp/out" '^  x: float32 \[3,4,5\]$'
expect "info input y" "$tmp/out" '^  y: float32 \[3,4,5\]$'
expect "info output" "$tmp/out" '^  sum: float32 \[3,4,5\]$'
expect "info histogram" "$tmp/out" '^  Add 1$'
expect "info supported" "$tmp/out" '^unsupported ops: none$'
run "info unsupported" 0 --info "$tmp/unsupported.onnx"
expect "info unsupported list" "$tmp/out" '^  Zzz (not implemented)$'
run "help" 0 --help
expect "help" "$tmp/out" '^usage: onnxrun \[options\] MODEL \[INPUT ...\]'
run "help -h" 0 -h
expect "help -h" "$tmp/out" '^  -h, --help  show this help$'
run "info with an input" 1 --info "$ADD/model.onnx" "$tmp/x.npy"
expect "info with an input message" "$tmp/err" "^onnxrun: --info only prints the model"
run "info with --bench" 1 --info --bench 3 "$ADD/model.onnx"

# ---- usage errors: 1 ----
run "no args" 1
run "unknown option" 1 --frobnicate "$ADD/model.onnx"
run "bad --bench" 1 --bench abc "$ADD/model.onnx"
run "bad --threads" 1 --threads 0 "$ADD/model.onnx"
run "too many --threads" 1 --threads 100000 "$ADD/model.onnx"
expect "too many --threads message" "$tmp/err" "^onnxrun: --threads needs at most 1024, got 100000$"
run "-o without dir" 1 "$ADD/model.onnx" -o
run "too many inputs" 1 "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy" "$tmp/y.npy"
run "unknown input name" 1 "$ADD/model.onnx" z="$tmp/x.npy" "$tmp/y.npy"
expect "unknown input name message" "$tmp/err" "input 'z'"
run "input twice" 1 "$ADD/model.onnx" "$tmp/x.npy" x="$tmp/x.npy"

# ---- model errors: 2 ----
run "missing model" 2 "$tmp/nonexistent.onnx"
expect "missing model message" "$tmp/err" "nonexistent.onnx"
run "model is a directory" 2 "$tmp" "$tmp/x.npy" "$tmp/y.npy"
expect "model is a directory message" "$tmp/err" "^onnxrun: $tmp: cannot read: is a directory$"
run "corrupt model" 2 "$tmp/truncated.onnx" "$tmp/x.npy" "$tmp/y.npy"
expect "corrupt model message" "$tmp/err" "truncated.onnx"
run "corrupt model info" 2 --info "$tmp/truncated.onnx"
run "unsupported op" 2 "$tmp/unsupported.onnx" "$tmp/x.npy" "$tmp/y.npy"
expect "unsupported op message" "$tmp/err" "Zzz"

# ---- input errors: 3 ----
run "wrong dtype" 3 "$ADD/model.onnx" "$tmp/x_int.npy" "$tmp/y.npy"
expect "wrong dtype message" "$tmp/err" "^onnxrun: input 'x' (.*x_int.npy): expected float32, got int64$"
run "wrong shape" 3 "$ADD/model.onnx" "$tmp/x_2x2.npy" "$tmp/y.npy"
expect "wrong shape message" "$tmp/err" "input 'x' (.*x_2x2.npy): expected shape \[3,4,5\], got \[2,2\]"
run "missing input" 3 "$ADD/model.onnx" "$tmp/x.npy"
expect "missing input message" "$tmp/err" "input 'y'.*missing"
run "bad npy" 3 "$ADD/model.onnx" "$tmp/bad.npy" "$tmp/y.npy"
expect "bad npy message" "$tmp/err" "input 'x' (.*bad.npy)"
run "lying npy" 3 "$ADD/model.onnx" "$tmp/x_short.npy" "$tmp/y.npy"
run "stream a fixed axis" 3 --stream 1 --state none "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy"
expect "stream a fixed axis message" "$tmp/err" "input 'x' (.*x.npy): the model fixes axis 0 at 3, so 3 steps cannot be streamed in chunks of 1"
run "stream a fixed axis in one chunk" 0 --stream 5 --state none "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy"
run "missing input file" 3 "$ADD/model.onnx" "$tmp/x.npy" "$tmp/nope.npy"
expect "missing input file message" "$tmp/err" "input 'y' (.*nope.npy)"
run "bad pb" 3 "$ADD/model.onnx" "$tmp/x.npy" "$tmp/bad.pb"

# ---- output errors: 4 ----
: >"$tmp/plainfile"
run "unwritable output dir" 4 "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy" -o "$tmp/plainfile/sub"
expect "unwritable output dir message" "$tmp/err" "output directory '.*plainfile/sub': Not a directory$"
run "output dir is a file" 4 "$ADD/model.onnx" "$tmp/x.npy" "$tmp/y.npy" -o "$tmp/plainfile"
expect "output dir is a file message" "$tmp/err" "output directory '.*plainfile': Not a directory$"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
