#!/usr/bin/env python3
"""Writes the fuzz_model_run seeds that reach embedding folding
(ops/recurrent_fold.c): Gather(E, indices) -> [Transpose 1,0,2] -> RNN/GRU/LSTM,
E, W and R initializers, the indices a graph input, run without a memory cap;
and pipelined layers (ops/recurrent_pipe.c): RNN/GRU/LSTM -> Squeeze -> the same
op, sharing W and R, only the last node's outputs graph outputs, two threads,
ONNXRUN_RNN_PIPE=1, no cap.

The bytes follow the order in which fuzz/fuzz_model_run.c reads them (opset,
graph inputs, initializers, nodes, run mode, input values); op and attribute
indices are looked up in that file so that its lists can grow.

    python3 fuzz/fold_seeds.py   # rewrites fuzz/corpus/fuzz_model_run/{fold,pipe}_*.bin
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


def pipe_seed(op, hidden, seq=4, batch=4):
    """Layer 1 -> Squeeze(axes [1]) -> layer 2, one W and one R for both (input size = hidden)."""
    g = GATES[op]
    out = [OPSET_14, 0]  # opset 14; one graph input
    out += [3, seq - 1, batch - 1, hidden - 1, FLOAT]  # X "va" [seq, batch, hidden]
    out += [3]  # three initializers: W "vb", R "vc", axes "vd"
    out += tensor(FLOAT, [1, g * hidden, hidden], [1, 3, 2, 0, 4, 1])
    out += tensor(FLOAT, [1, g * hidden, hidden], [3, 2, 1, 0])
    out += [INT64, 1, 1, small_int(1)]  # axes [1]
    out += [2]  # node count - 1
    outputs = 3 if op == "LSTM" else 2
    attr = [1, ATTRS.index("hidden_size"), small_int(hidden)]
    out += [OPS.index(op), 3, 0, 1, 2, outputs - 1] + attr  # layer 1 -> ve, vf[, vg]
    y1 = 4
    squeezed = 4 + outputs
    out += [OPS.index("Squeeze"), 2, y1, 3, 0, 0]  # Squeeze(Y1, axes)
    out += [OPS.index(op), 3, squeezed, 1, 2, outputs - 1] + attr
    out += [15]  # two threads, no cap, last node's outputs only, ONNXRUN_RNN_PIPE=1
    out += [(3 * i + 1) % 4 for i in range(seq * batch * hidden)]  # X: 1, 0, 0.5, -1, ...
    return bytes(out)


CASES = {
    "pipe_lstm": pipe_seed("LSTM", 1),
    "pipe_gru": pipe_seed("GRU", 1),
    "pipe_rnn": pipe_seed("RNN", 3),
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
