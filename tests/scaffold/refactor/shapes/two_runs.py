"""Shape: the script trains twice, one run after the other (the transfer-learning tutorial fine-tunes one model, then
trains a second with a frozen backbone; `nn_tutorial` trains again after each step of its own refactoring)."""
import torch
import torch.nn as nn

x = torch.randn(32, 4)
y = x.sum(1, keepdim=True)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)


def train_model(model, optimizer, epochs):
    for epoch in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
    return model


first = nn.Linear(4, 1)
first = train_model(first, torch.optim.SGD(first.parameters(), lr=0.1), 2)
second = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 1))
second = train_model(second, torch.optim.SGD(second.parameters(), lr=0.1), 2)
