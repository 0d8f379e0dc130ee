"""Pattern 4: no optimizer object; weights updated by hand, hand-written learning-rate decay."""
import torch
import torch.nn.functional as F


class TinyMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(6, 12)
        self.out = torch.nn.Linear(12, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def main():
    torch.manual_seed(3)
    x = torch.randn(120, 6)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=20, shuffle=True)
    model = TinyMLP()
    lr = 0.5
    for epoch in range(3):
        for xb, yb in loader:
            model.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p.data.add_(-lr * p.grad)
        lr = lr * 0.8  # hand-written decay
        print("epoch", epoch, "lr", lr, "loss", loss.item())


if __name__ == "__main__":
    main()
