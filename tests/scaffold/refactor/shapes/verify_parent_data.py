"""Shape (tkipf/pygcn): the script reads its data from `../data`, beside its own folder; --verify runs it in a
scratch folder whose parent links to the real one, so the path still finds the data."""
import torch

values = [float(v) for v in open("../data/values.txt").read().split()]
x = torch.tensor(values).unsqueeze(1)
model = torch.nn.Linear(1, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(3):
    optimizer.zero_grad()
    loss = (model(x) - 2 * x).pow(2).mean()
    loss.backward()
    optimizer.step()
