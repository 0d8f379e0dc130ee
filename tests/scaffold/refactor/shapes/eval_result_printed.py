"""Shape: an evaluation function run once after training, its result printed (word_language_model:
`test_loss = evaluate(test_data)` then `print(... test_loss ...)`)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(64, 4)
y = x.sum(1, keepdim=True)
train_loader = DataLoader(TensorDataset(x, y), batch_size=8)
test_loader = DataLoader(TensorDataset(x[:16], y[:16]), batch_size=8)
model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)


def evaluate(loader):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for xb, yb in loader:
            total += nn.functional.mse_loss(model(xb), yb).item()
    return total / len(loader)


for epoch in range(2):
    model.train()
    for xb, yb in train_loader:
        loss = nn.functional.mse_loss(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

print("=" * 20)
test_loss = evaluate(test_loader)
test_ppl = test_loss * 2
print("test loss", test_loss, test_ppl)
