"""Shape: several models trained side by side on each batch (MorvanZhou's 306_optimizer, 504_batch_normalization)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(64, 1)
loader = DataLoader(TensorDataset(x, x.pow(2)), batch_size=16, shuffle=True)
nets = [nn.Linear(1, 1), nn.Linear(1, 1)]
opts = [torch.optim.SGD(nets[0].parameters(), lr=0.01), torch.optim.Adam(nets[1].parameters(), lr=0.01)]
loss_func = nn.MSELoss()
for epoch in range(2):
    for step, (b_x, b_y) in enumerate(loader):
        for net, opt in zip(nets, opts):
            loss = loss_func(net(b_x), b_y)
            opt.zero_grad()
            loss.backward()
            opt.step()
