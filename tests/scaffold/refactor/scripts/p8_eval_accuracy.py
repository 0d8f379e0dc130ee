"""Pattern 8: an evaluation loop under torch.no_grad() computing accuracy; model.train()/eval() toggles;
a helper named `log` (a LightningModule method name)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

history = []


def log(message):
    history.append(message)
    print(message)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return self.layers(x)


def main():
    torch.manual_seed(21)
    x = torch.randn(300, 4)
    y = torch.argmax(x[:, :3], dim=1)
    train_loader = DataLoader(TensorDataset(x[:240], y[:240]), batch_size=24, shuffle=True)
    val_loader = DataLoader(TensorDataset(x[240:], y[240:]), batch_size=30)
    model = Classifier()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(3):
        model.train()
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            loss.backward()
            optimizer.step()
        model.eval()
        correct = 0
        total = 0
        with torch.no_grad():
            for inputs, targets in val_loader:
                outputs = model(inputs)
                predicted = outputs.argmax(dim=1)
                total += targets.size(0)
                correct += (predicted == targets).sum().item()
        log(f"epoch {epoch}: accuracy {100 * correct / total:.1f}%")


if __name__ == "__main__":
    main()
