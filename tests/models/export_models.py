#!/usr/bin/python3
"""Exports the PyTorch fixture models that tests/models/check_models.sh runs.

Run with Debian's interpreter (python3-torch 1.13, python3-onnx 1.12):

    /usr/bin/python3 tests/models/export_models.py [NAME ...]

For each model it writes tests/models/<name>/model.onnx and one folder per
input set, set_<k>/input/<input name>.npy and set_<k>/output/<output name>.npy,
the outputs computed by PyTorch itself. Set 0 has the shapes used for export;
the others change batch and/or sequence length through the dynamic axes.
Everything is seeded, so reruns give the same files.
"""
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 14


# ---- the models ----------------------------------------------------------


class LstmH0C0(nn.Module):
    """2-layer LSTM, sequence first, initial states given as inputs."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(10, 20, num_layers=2)

    def forward(self, x, h0, c0):
        y, (h, c) = self.lstm(x, (h0, c0))
        return y, h, c


class GruBidirBatchFirst(nn.Module):
    """2-layer bidirectional GRU, batch first, h0 omitted (the exporter builds
    zeros with Shape/Gather/ConstantOfShape or Expand)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(12, 16, num_layers=2, batch_first=True, bidirectional=True)

    def forward(self, x):
        y, h = self.gru(x)
        return y, h


class RnnTanh3Layer(nn.Module):
    """3-layer tanh RNN with h0 given."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(8, 12, num_layers=3, nonlinearity="tanh")

    def forward(self, x, h0):
        y, h = self.rnn(x, h0)
        return y, h


class RnnReluBidir(nn.Module):
    """Bidirectional ReLU RNN, batch first, h0 omitted."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(6, 10, nonlinearity="relu", bidirectional=True, batch_first=True)

    def forward(self, x):
        y, h = self.rnn(x)
        return y, h


# With packed sequences torch 1.13's exporter bakes the export's batch size
# into the zero initial states it makes itself, so these models pass their
# initial states explicitly: as inputs, or as zeros shaped from x at run time.


class LstmPackedSorted(nn.Module):
    """pack_padded_sequence with lengths sorted longest first: the lengths
    become the LSTM's sequence_lens input. h0/c0 are inputs."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 8, batch_first=True, bidirectional=True)

    def forward(self, x, lengths, h0, c0):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=True)
        y, (h, c) = self.lstm(packed, (h0, c0))
        y, _ = pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return y, h, c


class GruPackedUnsorted(nn.Module):
    """pack_padded_sequence with unsorted lengths: the exporter sorts the batch
    (TopK, Gather) and restores the order afterwards (ScatterElements). h0 is
    zeros built from x's shape (Shape/Gather/ConstantOfShape)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(6, 9, num_layers=2, batch_first=True)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        h0 = torch.zeros(2, x.shape[0], 9, dtype=x.dtype)
        y, h = self.gru(packed, h0)
        y, _ = pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return y, h


class EmbeddingLstmClassifier(nn.Module):
    """Token ids -> Embedding (Gather) -> LSTM -> Linear on the last state."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 24, batch_first=True)
        self.fc = nn.Linear(24, 5)

    def forward(self, tokens):
        y, (h, _) = self.lstm(self.emb(tokens))
        return self.fc(h[-1]), y


class EmbeddingGruTagger(nn.Module):
    """Token ids, sequence first -> Embedding (Gather, no Transpose) -> 2-layer
    bidirectional GRU from a given state -> Linear per step."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(40, 12)
        self.gru = nn.GRU(12, 16, num_layers=2, bidirectional=True)
        self.fc = nn.Linear(32, 6)

    def forward(self, tokens, h0):
        y, h = self.gru(self.emb(tokens), h0)
        return self.fc(y), h


class Conv1dGru(nn.Module):
    """Conv1d + ReLU front end over [batch, channels, time], then a GRU."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, kernel_size=3, padding=1)
        self.gru = nn.GRU(8, 16, batch_first=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        feats = torch.relu(self.conv(x)).transpose(1, 2)
        y, h = self.gru(feats)
        return self.fc(y), h


class GruLstmStack(nn.Module):
    """A GRU, then a 2-layer LSTM over its output, h0 omitted: three stacked
    recurrent nodes, the first two of which onnxrun pipelines across two
    threads at batch 4 (ops/recurrent_pipe.c; onnxrun_args holds --threads 2)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(10, 32)
        self.lstm = nn.LSTM(32, 24, num_layers=2)

    def forward(self, x):
        y, h = self.gru(x)
        y, (h2, c2) = self.lstm(y)
        return y, h, h2, c2


# ---- inputs --------------------------------------------------------------


def randn(gen, *shape):
    return torch.randn(*shape, generator=gen)


def lengths_for(gen, batch, seq, sort):
    """Lengths in [1, seq] with one full sequence and, when possible, a 1."""
    lens = torch.randint(1, seq + 1, (batch,), generator=gen)
    lens[0] = seq
    if batch > 2:
        lens[-1] = 1
    if sort:
        lens, _ = torch.sort(lens, descending=True)
    else:
        lens = lens[torch.randperm(batch, generator=gen)]
    return lens.to(torch.int64)


# name -> (module class, input names, output names, dynamic axes, make_inputs(gen, batch, seq))
MODELS = {
    "lstm_h0c0": (
        LstmH0C0,
        ["x", "h0", "c0"],
        ["y", "h_n", "c_n"],
        {"x": {0: "seq", 1: "batch"}, "h0": {1: "batch"}, "c0": {1: "batch"},
         "y": {0: "seq", 1: "batch"}, "h_n": {1: "batch"}, "c_n": {1: "batch"}},
        lambda g, b, t: (randn(g, t, b, 10), randn(g, 2, b, 20), randn(g, 2, b, 20)),
    ),
    "gru_bidir_batch_first": (
        GruBidirBatchFirst,
        ["x"],
        ["y", "h_n"],
        {"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}, "h_n": {1: "batch"}},
        lambda g, b, t: (randn(g, b, t, 12),),
    ),
    "rnn_tanh_3layer": (
        RnnTanh3Layer,
        ["x", "h0"],
        ["y", "h_n"],
        {"x": {0: "seq", 1: "batch"}, "h0": {1: "batch"}, "y": {0: "seq", 1: "batch"},
         "h_n": {1: "batch"}},
        lambda g, b, t: (randn(g, t, b, 8), randn(g, 3, b, 12)),
    ),
    "rnn_relu_bidir": (
        RnnReluBidir,
        ["x"],
        ["y", "h_n"],
        {"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}, "h_n": {1: "batch"}},
        lambda g, b, t: (randn(g, b, t, 6),),
    ),
    "lstm_packed_sorted": (
        LstmPackedSorted,
        ["x", "lengths", "h0", "c0"],
        ["y", "h_n", "c_n"],
        {"x": {0: "batch", 1: "seq"}, "lengths": {0: "batch"}, "h0": {1: "batch"},
         "c0": {1: "batch"}, "y": {0: "batch", 1: "seq"}, "h_n": {1: "batch"},
         "c_n": {1: "batch"}},
        lambda g, b, t: (randn(g, b, t, 5), lengths_for(g, b, t, sort=True),
                         randn(g, 2, b, 8), randn(g, 2, b, 8)),
    ),
    "gru_packed_unsorted": (
        GruPackedUnsorted,
        ["x", "lengths"],
        ["y", "h_n"],
        {"x": {0: "batch", 1: "seq"}, "lengths": {0: "batch"}, "y": {0: "batch", 1: "seq"},
         "h_n": {1: "batch"}},
        lambda g, b, t: (randn(g, b, t, 6), lengths_for(g, b, t, sort=False)),
    ),
    "embedding_lstm_classifier": (
        EmbeddingLstmClassifier,
        ["tokens"],
        ["logits", "y"],
        {"tokens": {0: "batch", 1: "seq"}, "logits": {0: "batch"}, "y": {0: "batch", 1: "seq"}},
        lambda g, b, t: (torch.randint(0, 50, (b, t), generator=g),),
    ),
    "embedding_gru_tagger": (
        EmbeddingGruTagger,
        ["tokens", "h0"],
        ["tags", "h_n"],
        {"tokens": {0: "seq", 1: "batch"}, "h0": {1: "batch"}, "tags": {0: "seq", 1: "batch"},
         "h_n": {1: "batch"}},
        lambda g, b, t: (torch.randint(0, 40, (t, b), generator=g), randn(g, 4, b, 16)),
    ),
    "conv1d_gru": (
        Conv1dGru,
        ["x"],
        ["y", "h_n"],
        {"x": {0: "batch", 2: "seq"}, "y": {0: "batch", 1: "seq"}, "h_n": {1: "batch"}},
        lambda g, b, t: (randn(g, b, 4, t),),
    ),
    "gru_lstm_stack": (
        GruLstmStack,
        ["x"],
        ["y", "h_gru", "h_lstm", "c_lstm"],
        {"x": {0: "seq", 1: "batch"}, "y": {0: "seq", 1: "batch"}, "h_gru": {1: "batch"},
         "h_lstm": {1: "batch"}, "c_lstm": {1: "batch"}},
        lambda g, b, t: (randn(g, t, b, 10),),
        # on two threads by default: batch 16 splits each layer's batch rows, batch 4
        # pipelines the first two layers, batch 1 splits each layer's units
        [(16, 24), (4, 40), (1, 6)],
    ),
}

# (batch, seq) of each input set unless the model gives its own; set 0 is the export's.
SETS = [(3, 7), (5, 11), (1, 4)]


def save_set(folder, names, tensors):
    os.makedirs(folder, exist_ok=True)
    for name, t in zip(names, tensors):
        np.save(os.path.join(folder, name + ".npy"), t.detach().numpy())


def export(name):
    cls, in_names, out_names, axes, make_inputs = MODELS[name][:5]
    shapes = MODELS[name][5] if len(MODELS[name]) > 5 else SETS
    torch.manual_seed(0)
    model = cls().eval()
    gen = torch.Generator().manual_seed(1234)
    sets = [make_inputs(gen, b, t) for b, t in shapes]
    out_dir = os.path.join(HERE, name)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(model, sets[0], path, input_names=in_names, output_names=out_names,
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
        for k, inputs in enumerate(sets):
            outputs = model(*inputs)
            save_set(os.path.join(out_dir, "set_%d" % k, "input"), in_names, inputs)
            save_set(os.path.join(out_dir, "set_%d" % k, "output"), out_names, outputs)
    size = os.path.getsize(path)
    assert size < 1 << 20, "%s is %d bytes" % (path, size)
    print("%-28s %7d bytes, %d input sets" % (name, size, len(sets)))


def main(argv):
    import warnings

    warnings.filterwarnings("ignore")
    names = argv or list(MODELS)
    for name in names:
        if name not in MODELS:
            sys.exit("unknown model %s (known: %s)" % (name, ", ".join(MODELS)))
        export(name)


if __name__ == "__main__":
    main(sys.argv[1:])
