"""Shape (pytorch/examples mnist_rnn, vae): the evaluation between epochs draws random numbers (a shuffled test
loader, sampling in the forward); the trainer's validation leaves the training streams alone, so --verify runs the
script's evaluation passes the same way, and the training steps after it match."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x + 0.1 * torch.randn_like(x))  # noise drawn in training and in evaluation


def train(model, loader, optimizer):
    model.train()
    for data, target in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data), target)
        loss.backward()
        optimizer.step()


def test(model, loader):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for data, target in loader:
            total += F.cross_entropy(model(data), target).item()
    print("test loss", total / len(loader))


def main():
    torch.manual_seed(1)
    data = torch.utils.data.TensorDataset(torch.randn(32, 4), torch.randint(0, 2, (32,)))
    train_loader = torch.utils.data.DataLoader(data, batch_size=8, shuffle=True)
    test_loader = torch.utils.data.DataLoader(data, batch_size=8, shuffle=True)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(3):
        train(model, train_loader, optimizer)
        test(model, test_loader)


if __name__ == "__main__":
    main()
