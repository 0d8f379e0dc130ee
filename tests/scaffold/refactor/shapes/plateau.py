"""Shape: ReduceLROnPlateau stepped with the validation loss (`scheduler.step(val_loss)`): configure_optimizers returned
it without the `monitor` the trainer requires (MisconfigurationException at fit)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(64, 4)
y = x.sum(1, keepdim=True)
train_loader = DataLoader(TensorDataset(x, y), batch_size=8)
val_loader = DataLoader(TensorDataset(x[:16], y[:16]), batch_size=8)
model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0)


def evaluate(loader):
    total = 0.0
    with torch.no_grad():
        for xb, yb in loader:
            total += nn.functional.mse_loss(model(xb), yb).item()
    return total / len(loader)


for epoch in range(2):
    for xb, yb in train_loader:
        loss = nn.functional.mse_loss(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    val_loss = evaluate(val_loader)
    scheduler.step(val_loss)
