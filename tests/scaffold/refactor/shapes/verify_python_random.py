"""Shape (pytorch/examples siamese_network): the script seeds torch only, and its Dataset draws from Python's
`random`; the project's seed_everything seeds `random` with the same value, so --verify compares the run of the
script whose `random` starts there (any start is one of the script's runs)."""
import random

import torch
from torch.utils.data import DataLoader, Dataset


class Pairs(Dataset):
    def __init__(self):
        self.data = torch.randn(40, 3)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        other = random.randint(0, len(self.data) - 1)
        return self.data[index], self.data[other], torch.tensor(float(index % 2))


torch.manual_seed(3)
loader = DataLoader(Pairs(), batch_size=8)
model = torch.nn.Linear(6, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(2):
    for a, b, target in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(torch.cat([a, b], 1)).squeeze(1), target)
        loss.backward()
        optimizer.step()
