#!/bin/sh
# Checks a built kws_stream against PyTorch: for chunks of 1, 5, 8 and 64
# frames, every frame's scores must be within 1e-4 of expected_logits.npy
# (written by export.py) and the two keywords must be reported at the frames
# where PyTorch's scores switch to them.
# usage: examples/kws_stream/check.sh PATH/TO/kws_stream
set -u
exe=${1:?usage: check.sh PATH/TO/kws_stream}
here=$(cd "$(dirname "$0")" && pwd)
pass=0
fail=0
for chunk in 1 5 8 64; do
    out=$("$exe" "$here/kws.onnx" "$here/stream.npy" "$chunk" "$here/expected_logits.npy")
    status=$?
    if [ "$status" -eq 0 ] && echo "$out" | grep -q '^frame 15: "yes"' &&
        echo "$out" | grep -q '^frame 41: "no"' && [ "$(echo "$out" | grep -c '^frame ')" -eq 2 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: chunk $chunk (exit $status):"
        echo "$out"
    fi
done
echo "kws_stream: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
