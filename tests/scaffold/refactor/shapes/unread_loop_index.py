"""Shape: loop variables the script never reads (MorvanZhou's tutorials): full-batch `for t in range(100):` (and
`for step, (b_x, b_y) in enumerate(loader):` in unread_batch_index.py) become no unused `t = batch` / `step = batch_idx`."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(1)
x = torch.unsqueeze(torch.linspace(-1, 1, 32), dim=1)
y = x.pow(2)
net = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 1))
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
loss_func = nn.MSELoss()

for t in range(20):
    prediction = net(x)
    loss = loss_func(prediction, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("full batch", loss.item())
