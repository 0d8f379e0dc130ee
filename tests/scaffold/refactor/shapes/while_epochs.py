"""Shape: the epochs counted by a `while` loop (`epoch = 1` / `while epoch <= 3:` ... `epoch += 1`), the batch loop in
a function it calls."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(64, 4)
y = x.sum(1, keepdim=True)
train_loader = DataLoader(TensorDataset(x, y), batch_size=8)
model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)


def train_epoch(epoch):
    for xb, yb in train_loader:
        loss = nn.functional.mse_loss(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print("epoch", epoch, loss.item())


epoch = 1
while epoch <= 3:
    train_epoch(epoch)
    epoch += 1
