#!/usr/bin/python3
"""Trains and exports the tiny character-level GRU used by examples/char_gru.

Run with Debian's /usr/bin/python3 (python3-torch). Training is
seeded and takes under a minute on one CPU thread; it rewrites:
  model.onnx     inputs  x [batch, time] int64 character ids, h0 [2, batch, 64]
                 outputs logits [batch, time, vocab], hn [2, batch, 64]
  vocab.txt      the characters, in id order (no trailing newline)
  expected.txt   PROMPT, a tab, then the GREEDY_CHARS characters PyTorch
                 generates greedily after it; `char_gru --temperature 0` must
                 print exactly the same.
The state is an input and an output so that a caller runs the prompt once and
then feeds one character at a time, passing hn back as h0.
"""
import os
import warnings

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
HIDDEN = 64
LAYERS = 2
PROMPT = "the river "
GREEDY_CHARS = 200

# Written for this example; short and repetitive enough for a tiny model to learn in seconds.
TEXT = (
    "the river runs down to the sea and the sea runs out to the sky. "
    "the boat goes down the river in the morning and comes back in the evening. "
    "the old man sits by the river and counts the boats. one boat, two boats, three boats. "
    "the wind comes up from the sea and the river turns grey. the boats come home early. "
    "in the evening the old man walks home along the river and the birds go quiet. "
    "in the morning the sea is calm and the boats go out again. "
)


class CharGRU(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.gru = nn.GRU(16, HIDDEN, num_layers=LAYERS, batch_first=True)
        self.head = nn.Linear(HIDDEN, vocab)

    def forward(self, x, h0):
        y, hn = self.gru(self.embed(x), h0)
        return self.head(y), hn


def batches(ids, gen, batch=32, seq=48):
    start = torch.randint(0, len(ids) - seq - 1, (batch,), generator=gen)
    x = torch.stack([ids[s:s + seq] for s in start])
    y = torch.stack([ids[s + 1:s + seq + 1] for s in start])
    return x, y


def greedy(model, ids, n):
    """The procedure examples/char_gru/main.c follows: prompt in one run, then one char per run."""
    h = torch.zeros(LAYERS, 1, HIDDEN)
    logits, h = model(ids.unsqueeze(0), h)
    out, margin = [], float("inf")
    for _ in range(n):
        last = logits[0, -1]
        top = torch.topk(last, 2).values
        margin = min(margin, (top[0] - top[1]).item())
        nxt = int(last.argmax())
        out.append(nxt)
        logits, h = model(torch.tensor([[nxt]]), h)
    return out, margin


def main():
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    chars = sorted(set(TEXT))
    ids = torch.tensor([chars.index(c) for c in TEXT])
    model = CharGRU(len(chars))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(0)
    for step in range(400):
        x, y = batches(ids, gen)
        logits, _ = model(x, torch.zeros(LAYERS, x.shape[0], HIDDEN))
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        prompt = torch.tensor([chars.index(c) for c in PROMPT])
        out, margin = greedy(model, prompt, GREEDY_CHARS)
        text = "".join(chars[i] for i in out)
        torch.onnx.export(model, (prompt.unsqueeze(0), torch.zeros(LAYERS, 1, HIDDEN)),
                          os.path.join(HERE, "model.onnx"),
                          input_names=["x", "h0"], output_names=["logits", "hn"],
                          dynamic_axes={"x": {0: "batch", 1: "time"}, "h0": {1: "batch"},
                                        "logits": {0: "batch", 1: "time"}, "hn": {1: "batch"}},
                          opset_version=14, do_constant_folding=True)
    with open(os.path.join(HERE, "vocab.txt"), "w") as f:
        f.write("".join(chars))
    with open(os.path.join(HERE, "expected.txt"), "w") as f:
        f.write(PROMPT + "\t" + text + "\n")
    print("final training loss %.3f; smallest top-2 logit margin on the greedy path %.3f"
          % (loss.item(), margin))
    print(repr(PROMPT + text))


if __name__ == "__main__":
    main()
