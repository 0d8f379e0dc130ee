"""Shape: dcgan's seed option that is None until the script picks one (`torch.manual_seed(opt.manualSeed)`)."""
import argparse
import random

import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--manualSeed", type=int, help="manual seed")
opt = parser.parse_args()
if opt.manualSeed is None:
    opt.manualSeed = random.randint(1, 10000)
torch.manual_seed(opt.manualSeed)

data = [(torch.randn(8, 3), torch.randn(8, 1)) for _ in range(4)]
model = nn.Linear(3, 1)
optimizer = torch.optim.Adam(model.parameters())
for epoch in range(2):
    for x, y in data:
        optimizer.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        optimizer.step()
