"""Pattern 7: gradient clipping, and a SummaryWriter for logging."""
import argparse

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter


class Regressor(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, width), nn.GELU(), nn.Linear(width, 1))

    def forward(self, x):
        return self.body(x).squeeze(-1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=24)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--clip", type=float, default=0.25, help="gradient clipping")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(5)
    model = Regressor(args.width)
    x = torch.randn(300, 5)
    y = x.sum(1) + 0.05 * torch.randn(300)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=30, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    writer = SummaryWriter()
    global_step = 0
    for epoch in range(args.epochs):
        for x_batch, y_batch in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x_batch), y_batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            writer.add_scalar("train/loss", loss.item(), global_step)
            global_step += 1
    writer.close()


if __name__ == "__main__":
    main()
