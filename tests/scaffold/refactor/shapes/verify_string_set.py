"""Shape (tkipf/pygcn): the class numbering comes from iterating a set of strings, whose order changes with each
process's hash salt; --verify gives both sides the same salt (PYTHONHASHSEED), or the labels differ from run to run."""
import torch

torch.manual_seed(0)
names = ["cat", "dog", "bird", "fish", "frog", "horse", "mouse"] * 4
classes = {c: i for i, c in enumerate(set(names))}
labels = torch.tensor([classes[n] for n in names])
features = torch.randn(len(names), 5)
model = torch.nn.Linear(5, 7)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(features), labels)
    loss.backward()
    optimizer.step()
