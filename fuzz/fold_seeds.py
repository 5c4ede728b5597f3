#!/usr/bin/env python3
"""Writes the fuzz_model_run seeds that reach embedding folding
(ops/recurrent_fold.c): Gather(E, indices) -> [Transpose 1,0,2] -> RNN/GRU/LSTM,
E, W and R initializers, the indices a graph input, run without a memory cap.

The bytes follow the order in which fuzz/fuzz_model_run.c reads them (opset,
graph inputs, initializers, nodes, run mode, input values); op and attribute
indices are looked up in that file so that its lists can grow.

    python3 fuzz/fold_seeds.py   # rewrites fuzz/corpus/fuzz_model_run/fold_*.bin
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = open(os.path.join(HERE, "fuzz_model_run.c")).read()


def c_list(start, end):
    block = SOURCE[SOURCE.index(start) : SOURCE.index(end)]
    return re.findall(r'"(\w+)"', block)


OPS = c_list("op_names[]", "#define N_OPS")
ATTRS = re.findall(r'\{"(\w+)", A_', SOURCE)
OPSET_14, FLOAT, INT64, INT32, DOUBLE = 4, 0, 3, 5, 7  # indices into opsets[] and dtypes[]
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def small_int(v):  # hostile_int: b % 12 - 4 for b < 240
    assert -4 <= v <= 7
    return v + 4


def tensor(dtype, dims, values):
    count = 1
    for d in dims:
        count *= d
    out = [dtype, len(dims)] + dims  # rank 2 or 3; dims 0-4
    return out + [values[i % len(values)] for i in range(count)]


def seed(op, dtype, idx_dtype, transposed, mode, seq=3, batch=2, vocab=4, inp=3):
    g = GATES[op]
    out = [OPSET_14, 0]  # opset 14; one graph input
    idx_dims = [batch, seq] if transposed else [seq, batch]
    out += [2] + [d - 1 for d in idx_dims] + [idx_dtype]  # indices "va"
    out += [3]  # three initializers: E "vb", W "vc", R "vd"
    out += tensor(dtype, [vocab, inp], [1, 2, 3, 4, 5, 0, 6])
    out += tensor(dtype, [1, g, inp], [3, 1, 4, 1, 5, 2])
    out += tensor(dtype, [1, g, 1], [4, 6, 3])
    out += [2 if transposed else 1]  # node count - 1
    out += [OPS.index("Gather"), 2, 1, 0, 0, 0]  # Gather(vb, va) -> ve, no attributes
    x = 4
    if transposed:  # Transpose(ve) -> vf, perm [1, 0, 2]
        out += [OPS.index("Transpose"), 1, 4, 0, 1, ATTRS.index("perm"), 3]
        out += [small_int(1), small_int(0), small_int(2)]
        x = 5
    outputs = 3 if op == "LSTM" else 2
    out += [OPS.index(op), 3, x, 2, 3, outputs - 1, 1, ATTRS.index("hidden_size"), small_int(1)]
    out += [mode]  # bit 0: two threads; bit 1: budgeted allocator, no cap
    out += [small_int(v) for v in [0, 1, 2, 3, -4, -1][: seq * batch]]  # indices in range
    return bytes(out)


CASES = {
    "fold_lstm_f32": seed("LSTM", FLOAT, INT64, False, 2),
    "fold_gru_f32_transposed": seed("GRU", FLOAT, INT32, True, 3),
    "fold_rnn_f64": seed("RNN", DOUBLE, INT64, False, 2),
    "fold_lstm_f64_transposed_2t": seed("LSTM", DOUBLE, INT32, True, 3),
}

if __name__ == "__main__":
    corpus = os.path.join(HERE, "corpus", "fuzz_model_run")
    for name, data in CASES.items():
        with open(os.path.join(corpus, name + ".bin"), "wb") as f:
            f.write(data)
        print(name, len(data), "bytes")
