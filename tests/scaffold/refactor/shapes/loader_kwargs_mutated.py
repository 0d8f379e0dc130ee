"""Shape: the loaders' options are changed in place under a flag, after the dict is made and before the loaders are
built (pytorch/examples mnist: `if use_accel: train_kwargs.update(accel_kwargs)`); the flag also picks the model."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--batch-size", type=int, default=4)
parser.add_argument("--fast", action="store_true")
parser.add_argument("--epochs", type=int, default=1)
args = parser.parse_args()

fast = args.fast and args.batch_size > 1
width = 8 if fast else 4
train_kwargs = {"batch_size": args.batch_size}
if fast:
    extra = {"shuffle": True, "drop_last": True}
    train_kwargs.update(extra)
train_kwargs["num_workers"] = 0

torch.manual_seed(0)
x = torch.randn(10, 3)
loader = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), **train_kwargs)
model = nn.Sequential(nn.Linear(3, width), nn.Linear(width, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(args.epochs):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
