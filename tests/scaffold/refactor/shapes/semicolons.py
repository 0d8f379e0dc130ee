"""Shape: statements joined by `;` (MorvanZhou's tutorials: `plt.xlabel('step');plt.ylabel('loss');plt.legend()`);
each one is placed once, and one that is removed takes nothing else on its line with it."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

WIDTH = 8; SCALE = 2.0  # two constants on one line
torch.manual_seed(0)
device = torch.device("cpu")
x = torch.randn(64, 4); y = x.sum(1, keepdim=True) * SCALE
loader = DataLoader(TensorDataset(x, y), batch_size=8)
model = nn.Sequential(nn.Linear(4, WIDTH), nn.ReLU(), nn.Linear(WIDTH, 1))
model.to(device); print("model ready")
loss_fn = nn.MSELoss(); optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)

for epoch in range(2):
    for xb, yb in loader:
        xb = xb.to(device); yb = yb.to(device)
        pred = model(xb); loss = loss_fn(pred, yb)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
    print("epoch", epoch); print("loss", loss.item())

print("first"); print("second"); print("third")  # the end
