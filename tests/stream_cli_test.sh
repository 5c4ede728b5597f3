#!/bin/sh
# The CLI's --stream, --state, --stream-axis and --max-memory options on
# examples/kws_stream/kws.onnx (a PyTorch LSTM with h0/c0 inputs and hn/cn
# outputs): streaming the 64-frame utterance in chunks of any size must give
# PyTorch's outputs for the whole utterance (examples/kws_stream/expected_*.npy)
# and onnxrun's own whole run, within 1e-5.
# usage: tests/stream_cli_test.sh [BUILD_DIR]   (needs BUILD_DIR/onnxrun and
#        BUILD_DIR/tests/npy_compare)
set -u

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$here/../build}
ONNXRUN=$BUILD/onnxrun
COMPARE=$BUILD/tests/npy_compare
K=$here/../examples/kws_stream

# As in cli_test.sh: the caller's ONNXRUN_* values (an invalid one would add
# a warning to every message) are dropped.
for var in $(env | sed -n 's/^\(ONNXRUN_[A-Z0-9_]*\)=.*/\1/p'); do unset "$var"; done

pass=0
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stream_cli_test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run NAME EXPECTED_STATUS ARGS...: an error must be exactly one line on stderr.
run() {
    name=$1 want=$2
    shift 2
    "$ONNXRUN" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        ko "$name: exit $got, expected $want; stderr: $(head -c 300 "$tmp/err")"
        return 1
    fi
    if [ "$want" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
        ko "$name: expected one line on stderr, got: $(cat "$tmp/err")"
        return 1
    fi
    ok
}

expect() {
    if grep -q -e "$3" "$2"; then ok; else ko "$1: '$3' not in: $(head -c 400 "$2")"; fi
}

# same NAME WANT GOT: npy files equal within 1e-5 absolute.
same() {
    if "$COMPARE" --atol 1e-5 --rtol 0 "$2" "$3" >"$tmp/cmp" 2>&1; then ok; else
        ko "$1: $(cat "$tmp/cmp")"
    fi
}

for f in "$ONNXRUN" "$COMPARE"; do
    [ -x "$f" ] || { echo "stream_cli_test: $f is not executable"; exit 2; }
done

# ---- streaming equals the whole run ----
# a zero state for the whole run: a v1.0 .npy of 16 float32 zeros
zeros="$tmp/zeros.npy"
{
    printf '\223NUMPY\001\000\166\000'
    printf "%-117s\n" "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 16), }"
    head -c 64 /dev/zero
} >"$zeros"
run whole 0 "$K/kws.onnx" "$K/stream.npy" "$zeros" "$zeros" -o "$tmp/whole" &&
    same "whole vs torch" "$K/expected_logits.npy" "$tmp/whole/logits.npy"

for chunk in 1 3 7 16 64 100; do
    out="$tmp/chunk$chunk"
    run "stream $chunk" 0 --stream "$chunk" "$K/kws.onnx" "$K/stream.npy" -o "$out" || continue
    same "stream $chunk logits vs torch" "$K/expected_logits.npy" "$out/logits.npy"
    same "stream $chunk hn vs torch" "$K/expected_hn.npy" "$out/hn.npy"
    same "stream $chunk cn vs torch" "$K/expected_cn.npy" "$out/cn.npy"
    same "stream $chunk logits vs whole" "$tmp/whole/logits.npy" "$out/logits.npy"
done

# explicit pairing, and explicit zero initial states, give the same
run "stream --state" 0 --stream 10 --state hn=h0 --state=cn=c0 "$K/kws.onnx" "$K/stream.npy" \
    h0="$zeros" c0="$zeros" -o "$tmp/named" &&
    same "stream --state logits" "$K/expected_logits.npy" "$tmp/named/logits.npy"

# printed per chunk
run "stream print" 0 --stream 20 "$K/kws.onnx" "$K/stream.npy"
expect "stream print" "$tmp/out" '^chunk 1/4: steps 0-19$'
expect "stream print" "$tmp/out" '^chunk 4/4: steps 60-63$'
expect "stream print" "$tmp/out" '^logits: float32 \[4,1,3\] = '
[ "$(grep -c '^hn: ' "$tmp/out")" -eq 4 ] && ok || ko "stream print: 4 hn lines expected"

# ---- --stream-axis: one batch element per chunk, no state ----
B=$K/batch
run "batch whole" 0 "$K/kws.onnx" "$B/feats.npy" "$B/h0.npy" "$B/c0.npy" -o "$tmp/bw" &&
    run "batch axis 1" 0 --stream 1 --stream-axis 1 --state none "$K/kws.onnx" \
        "$B/feats.npy" "$B/h0.npy" "$B/c0.npy" -o "$tmp/b1" &&
    same "batch axis 1 logits" "$tmp/bw/logits.npy" "$tmp/b1/logits.npy" &&
    same "batch axis 1 hn" "$tmp/bw/hn.npy" "$tmp/b1/hn.npy"
run "batch axis 1 chunks of 3" 0 --stream 3 --stream-axis=1 --state none "$K/kws.onnx" \
    "$B/feats.npy" "$B/h0.npy" "$B/c0.npy" -o "$tmp/b3" &&
    same "batch axis 1 chunks of 3" "$tmp/bw/logits.npy" "$tmp/b3/logits.npy"

# ---- errors ----
run "state without stream" 1 --state hn=h0 "$K/kws.onnx" "$K/stream.npy"
expect "state without stream" "$tmp/err" "--state needs --stream"
run "bad state" 1 --stream 4 --state hn "$K/kws.onnx" "$K/stream.npy"
run "unknown state output" 1 --stream 4 --state nope=h0 "$K/kws.onnx" "$K/stream.npy"
expect "unknown state output" "$tmp/err" "no output named 'nope'"
run "mismatched state" 1 --stream 4 --state logits=h0 --state cn=c0 "$K/kws.onnx" "$K/stream.npy"
expect "mismatched state" "$tmp/err" "^onnxrun: state 'logits' -> 'h0': output shape .* does not match"
run "axis beyond rank" 3 --stream 4 --stream-axis 3 "$K/kws.onnx" "$K/stream.npy"
run "stream 0" 1 --stream 0 "$K/kws.onnx" "$K/stream.npy"
run "stream axis without stream" 1 --stream-axis 1 "$K/kws.onnx" "$K/stream.npy"
expect "stream axis without stream" "$tmp/err" "^onnxrun: --stream-axis needs --stream$"
run "stream with bench" 1 --stream 4 --bench 2 "$K/kws.onnx" "$K/stream.npy"
run "missing state with none" 3 --stream 4 --state none "$K/kws.onnx" "$K/stream.npy"

# ---- stacked layers pipelined on two threads (ops/recurrent_pipe.c) ----
# tests/models/lstm_h0c0: a 2-layer LSTM with h0/c0 inputs, batch 5, 11 steps;
# ONNXRUN_RNN_PIPE=1 pairs its layers whatever the length. Streamed in chunks
# (the last one shorter: a re-plan on the pair's packs), state carried over.
S=$here/models/lstm_h0c0/set_1
export ONNXRUN_RNN_PIPE=1
for chunk in 3 11; do
    out="$tmp/pipe$chunk"
    run "pipelined stream $chunk" 0 --threads 2 --stream "$chunk" \
        "$here/models/lstm_h0c0/model.onnx" x="$S/input/x.npy" h0="$S/input/h0.npy" \
        c0="$S/input/c0.npy" -o "$out" || continue
    for o in y h_n c_n; do same "pipelined stream $chunk $o" "$S/output/$o.npy" "$out/$o.npy"; done
done
unset ONNXRUN_RNN_PIPE

# ---- --max-memory ----
run "max-memory small" 5 --max-memory 4K "$K/kws.onnx" "$K/stream.npy" "$zeros" "$zeros"
expect "max-memory small" "$tmp/err" "memory limit exceeded (max_memory_bytes = 4096)"
run "max-memory stream small" 5 --max-memory 20000 --stream 8 "$K/kws.onnx" "$K/stream.npy"
run "max-memory enough" 0 --max-memory 1M --stream 8 "$K/kws.onnx" "$K/stream.npy"
run "max-memory=bytes" 0 --max-memory=1048576 "$K/kws.onnx" "$K/stream.npy" "$zeros" "$zeros"
run "max-memory bad" 1 --max-memory 12Q "$K/kws.onnx"
run "max-memory zero" 1 --max-memory 0 "$K/kws.onnx"

echo "stream_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
