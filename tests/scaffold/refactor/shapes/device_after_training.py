"""Shape: the test after training moves its own batches (yunjey's tutorials): `images = images.to(device)` in a loop
of on_train_end; the trainer moves the model there, not these tensors."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
x = torch.randn(64, 4)
train_loader = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)
test_loader = DataLoader(TensorDataset(x[:16], x[:16].sum(1, keepdim=True)), batch_size=8)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)).to(device)
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)

for epoch in range(2):
    for inputs, targets in train_loader:
        inputs = inputs.to(device)
        targets = targets.to(device)
        if torch.cuda.is_available():  # old pytorch/examples: `if args.cuda: data, target = data.cuda(), target.cuda()`
            inputs, targets = inputs.cuda(), targets.cuda()
        loss = criterion(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

model.eval()
with torch.no_grad():
    total = 0.0
    for inputs, targets in test_loader:
        inputs, targets = inputs.to(device), targets.cuda()
        total += criterion(model(inputs), targets).item()
    print("test loss", total)

torch.save(model.state_dict(), "model.ckpt")
