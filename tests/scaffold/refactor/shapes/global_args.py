"""Shape: `args = None` at module level, `global args` in main() that parses the options, and the script's own class
and function reading `args.hidden` / `args.lr` as a global (the pytorch/examples imagenet style of adjust_learning_rate)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

args = None


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 1))

    def forward(self, x):
        return self.body(x)


def decayed_lr(optimizer, epoch):
    lr = args.lr * (0.5 ** epoch)
    for group in optimizer.param_groups:
        group["lr"] = lr


def main():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=6)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(0)
    x = torch.randn(24, 3)
    loader = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        decayed_lr(optimizer, epoch)
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
        print("epoch", epoch, "loss", loss.item())


if __name__ == "__main__":
    main()
