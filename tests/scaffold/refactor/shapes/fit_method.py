"""Shape: a Keras-style model whose fit() method runs the whole training (its own optimizer, epochs and batches), called
once with the loader: no batch is drawn for the call."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        self.opt = torch.optim.Adam(self.parameters(), lr=0.01)

    def forward(self, x):
        return self.body(x)

    def fit(self, loader, epochs):
        for epoch in range(epochs):
            for x, y in loader:
                loss = nn.functional.mse_loss(self(x), y)
                self.opt.zero_grad()
                loss.backward()
                self.opt.step()
            print("epoch", epoch, loss.item())


torch.manual_seed(0)
x = torch.randn(96, 4)
y = x.sum(1, keepdim=True)
loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
model = Regressor()
model.fit(loader, epochs=3)
print("mse", nn.functional.mse_loss(model(x), y).item())
