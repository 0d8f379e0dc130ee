"""Shape (MorvanZhou 504_batch_normalization): no seed at all, and the data's noise drawn from NumPy's global
generator; --verify must start NumPy (and Python's random) from the same state on both sides, as it does torch."""
import numpy as np
import torch
import torch.utils.data as Data

x = np.linspace(-1, 1, 64)[:, np.newaxis]
y = np.square(x) + np.random.normal(0, 0.1, x.shape)
loader = Data.DataLoader(Data.TensorDataset(torch.from_numpy(x).float(), torch.from_numpy(y).float()), batch_size=16,
                         shuffle=True)
net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
opt = torch.optim.SGD(net.parameters(), lr=0.1)
loss_func = torch.nn.MSELoss()
for epoch in range(2):
    for b_x, b_y in loader:
        loss = loss_func(net(b_x), b_y)
        opt.zero_grad()
        loss.backward()
        opt.step()
