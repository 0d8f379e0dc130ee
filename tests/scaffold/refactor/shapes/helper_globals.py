"""Shape: the script's own functions and classes read module globals that the set-up binds (pytorch/examples
regression's W_target, dcgan's nz = int(opt.nz), yunjey's device)."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--nz", type=int, default=4)
parser.add_argument("--epochs", type=int, default=2)
opt = parser.parse_args()

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
SCALE = torch.linspace(1, 2, 4)
nz = int(opt.nz)


def target(x):
    return (x * SCALE).sum(1, keepdim=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(nz, 1)

    def forward(self, x):
        return self.fc(x.to(device))


torch.manual_seed(0)
x = torch.randn(64, 4)
loader = DataLoader(TensorDataset(x, target(x)), batch_size=16)
model = Net().to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(opt.epochs):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
