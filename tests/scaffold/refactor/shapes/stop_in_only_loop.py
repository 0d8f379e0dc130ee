"""Shape: one loop over an endless stream of batches, no epoch loop, left by `break` once the loss is small (as
pytorch/examples' regression does): the break ends the training, and the lines after the loop print its last values."""
from itertools import count

import torch

torch.manual_seed(0)
w_true = torch.tensor([[2.0], [-1.0]])


def draw(n=16):
    x = torch.randn(n, 2)
    return x, x @ w_true


layer = torch.nn.Linear(2, 1)
for step in count(1):
    xb, yb = draw()
    layer.zero_grad()
    out = torch.nn.functional.mse_loss(layer(xb), yb)
    value = out.item()
    out.backward()
    for p in layer.parameters():
        p.data.add_(-0.1 * p.grad)
    if value < 1e-2:
        break

print(f"STOPPED AT {step} WITH {value:.6f}")
