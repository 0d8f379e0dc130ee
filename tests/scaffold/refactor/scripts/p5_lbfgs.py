"""Pattern 5: optimizer.step(closure) with LBFGS (the shape of pytorch/examples time_sequence_prediction)."""
import argparse

import torch
import torch.nn as nn


class Curve(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 20), nn.Tanh(), nn.Linear(20, 1))

    def forward(self, x):
        return self.net(x)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3, help="steps to run")
    parser.add_argument("--lr", type=float, default=0.5)
    opt = parser.parse_args()
    torch.manual_seed(5)
    xs = torch.linspace(-2, 2, 64).unsqueeze(1)
    ys = torch.sin(2 * xs)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xs, ys), batch_size=64)
    seq = Curve()
    criterion = nn.MSELoss()
    optimizer = torch.optim.LBFGS(seq.parameters(), lr=opt.lr, max_iter=4)
    for i in range(opt.steps):
        print("STEP: ", i)
        for inp, target in loader:

            def closure():
                optimizer.zero_grad()
                out = seq(inp)
                loss = criterion(out, target)
                print("loss:", loss.item())
                loss.backward()
                return loss

            optimizer.step(closure)
