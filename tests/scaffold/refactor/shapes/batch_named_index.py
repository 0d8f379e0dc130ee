"""Shape: the batch index named `batch` (the quickstart, word_language_model) with an evaluation every epoch: the
training loop's `batch` is not stored on self because validation_step reads its own `batch` parameter."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(64, 4)
train_dataloader = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)
val_dataloader = DataLoader(TensorDataset(x[:16], x[:16].sum(1, keepdim=True)), batch_size=8)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)

for t in range(2):
    model.train()
    for batch, (X, y) in enumerate(train_dataloader):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 4 == 0:
            print(f"batch {batch} loss {loss.item():>7f}")
    model.eval()
    val_loss = 0.0
    with torch.no_grad():
        for X, y in val_dataloader:
            val_loss += loss_fn(model(X), y).item()
    print(f"epoch {t} val {val_loss / len(val_dataloader):.4f}")
