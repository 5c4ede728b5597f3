#!/usr/bin/python3
"""A tiny LSTM sequence classifier for onnxrun's first run.

It learns to tell three kinds of 1-D signals apart: 0 rising, 1 falling,
2 oscillating. Training takes a few seconds on one CPU thread and is seeded,
so rerunning this script (Debian's /usr/bin/python3 with python3-torch)
rewrites the same model.onnx, input.npy (one oscillating sequence,
[batch=1, time=16, features=1]) and expected_output.npy (PyTorch's logits).
"""
import os
import warnings

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
SEQ = 16


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 12, batch_first=True)
        self.head = nn.Linear(12, 3)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


def signals(gen, n):
    """n random signals of each class, with noise; returns x [3n, SEQ, 1], labels [3n]."""
    t = torch.linspace(0, 1, SEQ)
    slope = 0.5 + torch.rand(n, 1, generator=gen)
    offset = torch.rand(n, 1, generator=gen) - 0.5
    freq = 2 + 3 * torch.rand(n, 1, generator=gen)
    phase = 6.28 * torch.rand(n, 1, generator=gen)
    rising = offset + slope * t
    falling = offset - slope * t
    wave = 0.8 * torch.sin(6.28 * freq * t + phase)
    x = torch.cat([rising, falling, wave]) + 0.05 * torch.randn(3 * n, SEQ, generator=gen)
    labels = torch.arange(3).repeat_interleave(n)
    return x.unsqueeze(-1), labels


def main():
    warnings.filterwarnings("ignore")  # the exporter's notes on shape inference
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        x, y = signals(gen, 32)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        x, y = signals(gen, 100)
        accuracy = (model(x).argmax(1) == y).float().mean().item()
        sample = signals(gen, 1)[0][2:3]  # one oscillating signal
        logits = model(sample)
        torch.onnx.export(model, sample, os.path.join(HERE, "model.onnx"),
                          input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch", 1: "time"}, "logits": {0: "batch"}},
                          opset_version=14)
    np.save(os.path.join(HERE, "input.npy"), sample.numpy())
    np.save(os.path.join(HERE, "expected_output.npy"), logits.numpy())
    print("accuracy on held-out signals: %.2f" % accuracy)
    print("logits for input.npy:", logits.numpy())


if __name__ == "__main__":
    main()
