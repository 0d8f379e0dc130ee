"""Shape: a data tensor named `input` (time_sequence_prediction), batched by slicing without a DataLoader."""
import torch
import torch.nn as nn

torch.manual_seed(0)
input = torch.randn(32, 3)
target = input.sum(1, keepdim=True)
model = nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
for epoch in range(3):
    for i in range(0, 32, 8):
        x, y = input[i:i + 8], target[i:i + 8]
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
