"""Shape: argparse options whose default= and type= have side effects, and a local module that writes a file when
imported: `scaffold refactor` without --verify must run none of them."""
import argparse
import os

import torch
import torch.nn as nn

import side_effects_helper  # noqa: F401  (writes IMPORTED when imported)


def marked(text):
    open(os.environ.get("SIDE_EFFECT_MARK", "TYPE_RAN"), "w").write(text)
    return float(text)


parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=marked, default=0.1)
parser.add_argument("--out", default=open(os.environ.get("SIDE_EFFECT_DEFAULT", "DEFAULT_RAN"), "w").name)
parser.add_argument("--epochs", type=int, default=1)
args = parser.parse_args()

data = [(torch.randn(4, 3), torch.randn(4, 1)) for _ in range(3)]
model = nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
for epoch in range(args.epochs):
    for x, y in data:
        optimizer.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        optimizer.step()
