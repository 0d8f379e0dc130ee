"""Shape: validation written inline in the epoch loop, then the epoch's own end (a counter and a print; the
PyTorch-with-YouTube tutorial's `epoch_number += 1`): the trainer's sanity check must not run that end."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(32, 4)
y = x.sum(1, keepdim=True)
train_loader = DataLoader(TensorDataset(x, y), batch_size=8)
val_loader = DataLoader(TensorDataset(x[:16], y[:16]), batch_size=8)
model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
epochs_done = 0

for epoch in range(3):
    model.train()
    for xb, yb in train_loader:
        loss = nn.functional.mse_loss(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    total = 0.0
    with torch.no_grad():
        for xb, yb in val_loader:
            total += nn.functional.mse_loss(model(xb), yb).item()
    epochs_done += 1
    print("EPOCHS DONE", epochs_done)
