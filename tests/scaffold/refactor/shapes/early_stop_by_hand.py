"""Shape: early stopping and best-model saving written by hand at the end of the epoch loop: a patience counter one
branch of an `if` resets and the other increments, then `break`; the best weights are loaded back after training."""
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


def evaluate(loader):
    total = 0.0
    with torch.no_grad():
        for xb, yb in loader:
            total += nn.functional.mse_loss(model(xb), yb).item()
    return total / len(loader)


best, bad = float("inf"), 0
for epoch in range(10):
    for xb, yb in train_loader:
        loss = nn.functional.mse_loss(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    val_loss = evaluate(val_loader)
    print("epoch", epoch, "val", val_loss)
    if val_loss < best - 100:  # only the first epoch is "better": training stops after epoch 2
        best, bad = val_loss, 0
        torch.save(model.state_dict(), "best.pt")
    else:
        bad += 1
        if bad >= 2:
            print("stopping early")
            break

model.load_state_dict(torch.load("best.pt"))
print("best", best)
