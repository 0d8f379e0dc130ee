"""Shape: state that the epoch's start binds only in a branch (an RNN's hidden state, none for other models: as in
pytorch/examples' word_language_model) and each batch reads and re-binds."""
import argparse

import torch
from torch.utils.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser()
parser.add_argument("--kind", default="rnn")
args = parser.parse_args()

torch.manual_seed(0)
x = torch.randn(32, 5, 3)
loader = DataLoader(TensorDataset(x, x[:, -1, :1]), batch_size=8)
rnn = torch.nn.RNN(3, 1, batch_first=True)
optimizer = torch.optim.SGD(rnn.parameters(), lr=0.05)

for epoch in range(2):
    if args.kind == "rnn":
        state = torch.zeros(1, 8, 1)
    for xb, yb in loader:
        out, state = rnn(xb, state.detach())
        loss = torch.nn.functional.mse_loss(out[:, -1], yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print("epoch", epoch, "loss", loss.item())
