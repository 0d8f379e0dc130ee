"""Shape: named optimizers gathered in a list that the batch loop zips with the models (MorvanZhou's 306_optimizer:
`optimizers = [opt_SGD, opt_Momentum, ...]`)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(64, 1)
loader = DataLoader(TensorDataset(x, x.pow(2)), batch_size=16, shuffle=True)
net_sgd, net_adam = nn.Linear(1, 1), nn.Linear(1, 1)
nets = [net_sgd, net_adam]
opt_sgd = torch.optim.SGD(net_sgd.parameters(), lr=0.01)
opt_adam = torch.optim.Adam(net_adam.parameters(), lr=0.01)
optimizers = [opt_sgd, opt_adam]
by_name = {"sgd": opt_sgd, "adam": opt_adam}
loss_func = nn.MSELoss()
for epoch in range(2):
    for step, (b_x, b_y) in enumerate(loader):
        for net, opt in zip(nets, optimizers):
            loss = loss_func(net(b_x), b_y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(step, sorted(by_name))
