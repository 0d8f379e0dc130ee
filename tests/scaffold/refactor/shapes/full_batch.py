"""Shape: full-batch training (pytorch/examples gcn, pygcn): backward() is in a function the epoch loop calls, and
there is no loop over batches."""
import torch
import torch.nn as nn

torch.manual_seed(0)
features = torch.randn(50, 6)
labels = torch.randint(0, 3, (50,))
idx_train = torch.arange(40)
model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)


def train(epoch):
    model.train()
    optimizer.zero_grad()
    output = model(features)
    loss_train = nn.functional.cross_entropy(output[idx_train], labels[idx_train])
    loss_train.backward()
    optimizer.step()
    print(f"epoch {epoch} loss {loss_train.item():.4f}")


for epoch in range(5):
    train(epoch)
