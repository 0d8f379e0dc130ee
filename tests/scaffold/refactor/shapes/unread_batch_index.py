"""Shape: `for step, (b_x, b_y) in enumerate(loader):` with `step` never read (see unread_loop_index.py)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(1)
x = torch.unsqueeze(torch.linspace(-1, 1, 32), dim=1)
y = x.pow(2)
net = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
loss_func = nn.MSELoss()
loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)

for epoch in range(2):
    for step, (b_x, b_y) in enumerate(loader):
        loss = loss_func(net(b_x), b_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
