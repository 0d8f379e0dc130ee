"""Shape: one evaluation function called twice after training, on the training data then on the test data (a common
YouTube-tutorial layout): both calls run at the end, and the function they call is kept."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(48, 6)
y = (x[:, 0] > 0).long()
train_loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
test_loader = DataLoader(TensorDataset(x[:16], y[:16]), batch_size=8)
model = nn.Linear(6, 2)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

for epoch in range(2):
    for features, labels in train_loader:
        loss = criterion(model(features), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def report_accuracy(loader, net):
    hits = 0
    seen = 0
    net.eval()
    with torch.no_grad():
        for features, labels in loader:
            hits += (net(features).argmax(1) == labels).sum()
            seen += labels.size(0)
        print(f"accuracy {float(hits) / seen:.3f}")
    net.train()


report_accuracy(train_loader, model)
report_accuracy(test_loader, model)
