"""Pattern 12: names a LightningModule owns (`log`, `trainer`, `global_step`) used by the script for its own things:
a model method `log`, a dict named `trainer`, a counter named `global_step`. They must keep meaning what they meant."""
import torch
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 1))
        self.history = []

    def forward(self, x):
        return self.net(x).squeeze(-1)

    def log(self, value):
        self.history.append(value)


def main():
    torch.manual_seed(12)
    x = torch.randn(96, 6)
    y = x[:, :2].sum(1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=12, shuffle=True)
    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    trainer = {"steps": 0}
    global_step = 0
    for epoch in range(2):
        for features, target in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(features), target)
            loss.backward()
            optimizer.step()
            model.log(loss.item())
            trainer["steps"] += 1
            global_step += 1
        print(epoch, trainer["steps"], global_step, len(model.history))


if __name__ == "__main__":
    main()
