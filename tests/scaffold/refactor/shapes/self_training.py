"""Shape: the model trains itself (pytorch/examples mnist_forward_forward). Each block builds its own optimizer from
the options it reads as a global and runs its own loop in a method named `train`, which replaces nn.Module.train; the
blocks sit in a plain list. The script draws one batch with next(iter(loader)), prepares it (drawing noise), makes
one training call, outside any loop, and then scores the result."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


def corrupt(x):
    return x + torch.randn_like(x)


class Block(nn.Linear):
    def __init__(self, n_in, n_out):
        super().__init__(n_in, n_out)
        self.opt = torch.optim.SGD(self.parameters(), lr=args.lr)

    def goodness(self, x):
        return self(x).pow(2).mean(1)

    def train(self, x_pos, x_neg):
        for _ in range(args.steps):
            loss = torch.log1p(torch.exp(torch.cat([1.0 - self.goodness(x_pos), self.goodness(x_neg) - 1.0]))).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return self(x_pos).detach(), self(x_neg).detach()


class Stack(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.blocks = []
        for a, b in zip(sizes, sizes[1:]):
            self.blocks = self.blocks + [Block(a, b)]

    def score(self, x):
        total = 0
        for block in self.blocks:
            total = total + block.goodness(x)
            x = block(x)
        return total

    def train(self, x_pos, x_neg):
        for block in self.blocks:
            x_pos, x_neg = block.train(x_pos, x_neg)


parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=3)
parser.add_argument("--lr", type=float, default=0.05)
args = parser.parse_args()

torch.manual_seed(0)
loader = DataLoader(TensorDataset(torch.randn(64, 8), torch.randint(0, 2, (64,))), batch_size=32, shuffle=True)
net = Stack([8, 6, 4])
x, y = next(iter(loader))
x_pos = x + y[:, None].float()
x_neg = corrupt(x_pos)
net.train(x_pos, x_neg)
print("score", net.score(x_pos).mean().item(), net.score(x_neg).mean().item())
