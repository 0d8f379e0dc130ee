"""Shape: the accuracy check after training forgets the reshape the training loop does (aladdinpersson's
lr_ratescheduler), so the script fails only at its end, after more epochs than --verify compares losses of. --verify
must run both sides to the end of training and fail, saying which side failed, not say MATCH."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
images = torch.randn(32, 1, 2, 2)
labels = (images.sum((1, 2, 3)) > 0).long()
loader = DataLoader(TensorDataset(images, labels), batch_size=4, shuffle=True)
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
opt = torch.optim.SGD(net.parameters(), lr=0.1)

for epoch in range(30):
    for x, y in loader:
        loss = nn.functional.cross_entropy(net(x.reshape(x.shape[0], -1)), y)
        loss.backward()
        opt.step()
        opt.zero_grad()


def check_accuracy(loader, model):
    correct = 0
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum()  # no reshape: (4, 1, 2, 2) into Linear(4, 8) fails
    print(f"accuracy {float(correct) / len(loader.dataset):.2f}")
    model.train()


check_accuracy(loader, net)
