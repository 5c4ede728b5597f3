#!/usr/bin/python3
"""A tiny streaming keyword spotter for examples/kws_stream (and onnxrun's
streaming-state tests).

Frames of 10 features (think of them as filterbank energies) go through a
one-layer LSTM (hidden 16) and a linear head that scores every frame as
0 silence, 1 "yes" (energy rising in the low bands) or 2 "no" (energy in the
high bands). The model takes the LSTM state as inputs h0/c0 and returns it as
hn/cn, so that a caller can feed audio in chunks. Training on synthetic
frames takes a few seconds on one CPU thread and is seeded, so rerunning this
script (Debian's /usr/bin/python3 with python3-torch) rewrites the same files:

  kws.onnx             opset 14, seq-first: feats [time, batch, 10],
                       h0/c0 [1, batch, 16] -> logits [time, batch, 3], hn, cn
  stream.npy           one 64-frame utterance, [64, 1, 10], "yes" then "no"
  expected_logits.npy  PyTorch's logits for the whole stream, zero h0/c0
  expected_hn.npy, expected_cn.npy  PyTorch's final state
  batch/feats.npy, batch/h0.npy, batch/c0.npy  random [5, 4, 10] frames and
                       [1, 4, 16] states, for the CLI's --stream-axis test
"""
import os
import warnings

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
FEATS, HIDDEN, CLASSES = 10, 16, 3


class Spotter(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATS, HIDDEN)
        self.head = nn.Linear(HIDDEN, CLASSES)

    def forward(self, feats, h0, c0):
        y, (hn, cn) = self.lstm(feats, (h0, c0))
        return self.head(y), hn, cn


def utterance(gen, frames):
    """Noise with up to two keywords; returns x [frames, 10] and per-frame labels."""
    x = 0.1 * torch.randn(frames, FEATS, generator=gen)
    labels = torch.zeros(frames, dtype=torch.long)
    start = 2
    while start < frames - 12:
        kind = int(torch.randint(0, 3, (1,), generator=gen))
        length = 8 + int(torch.randint(0, 5, (1,), generator=gen))
        if kind == 1:  # "yes": rising energy in bands 0-4
            ramp = torch.linspace(0.3, 1.0, length).unsqueeze(1)
            x[start:start + length, :5] += ramp
        elif kind == 2:  # "no": flat energy in bands 5-9
            x[start:start + length, 5:] += 0.8
        if kind:
            # labelled from the keyword's middle on: the LSTM has heard enough
            labels[start + length // 2:start + length + 2] = kind
        start += length + 4 + int(torch.randint(0, 6, (1,), generator=gen))
    return x, labels


def batch(gen, n, frames):
    xs, ys = zip(*(utterance(gen, frames) for _ in range(n)))
    return torch.stack(xs, 1), torch.stack(ys, 1)  # [frames, n, 10], [frames, n]


def main():
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    model = Spotter()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(200):
        x, y = batch(gen, 16, 48)
        zeros = torch.zeros(1, 16, HIDDEN)
        logits, _, _ = model(x, zeros, zeros)
        loss = nn.functional.cross_entropy(logits.reshape(-1, CLASSES), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()

    stream = 0.1 * torch.randn(64, 1, FEATS, generator=gen)
    stream[10:20, 0, :5] += torch.linspace(0.3, 1.0, 10).unsqueeze(1)
    stream[36:46, 0, 5:] += 0.8
    zeros = torch.zeros(1, 1, HIDDEN)
    with torch.no_grad():
        logits, hn, cn = model(stream, zeros, zeros)
    torch.onnx.export(model, (stream, zeros, zeros), os.path.join(HERE, "kws.onnx"),
                      input_names=["feats", "h0", "c0"], output_names=["logits", "hn", "cn"],
                      dynamic_axes={"feats": {0: "time", 1: "batch"}, "h0": {1: "batch"},
                                    "c0": {1: "batch"}, "logits": {0: "time", 1: "batch"},
                                    "hn": {1: "batch"}, "cn": {1: "batch"}},
                      opset_version=14)
    np.save(os.path.join(HERE, "stream.npy"), stream.numpy())
    np.save(os.path.join(HERE, "expected_logits.npy"), logits.numpy())
    np.save(os.path.join(HERE, "expected_hn.npy"), hn.numpy())
    np.save(os.path.join(HERE, "expected_cn.npy"), cn.numpy())
    os.makedirs(os.path.join(HERE, "batch"), exist_ok=True)
    for name, shape in (("feats", (5, 4, FEATS)), ("h0", (1, 4, HIDDEN)), ("c0", (1, 4, HIDDEN))):
        np.save(os.path.join(HERE, "batch", name + ".npy"),
                torch.randn(*shape, generator=gen).numpy())
    print("loss", float(loss), "frame classes", logits.argmax(-1).flatten().tolist())


if __name__ == "__main__":
    main()
