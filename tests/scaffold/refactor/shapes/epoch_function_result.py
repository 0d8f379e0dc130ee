"""Shape: `avg_loss = train_one_epoch(epoch, writer)` returns the epoch's last running loss, the SummaryWriter is
passed in as a parameter, validation is written inline after it and prints `avg_loss`; demo code at module level
reads the loss function (the official "Training with PyTorch" tutorial)."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.tensorboard import SummaryWriter

x = torch.randn(48, 5)
y = (x.sum(1) > 0).long()
train_loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
val_loader = DataLoader(TensorDataset(x[:16], y[:16]), batch_size=8)
model = nn.Linear(5, 2)
loss_fn = nn.CrossEntropyLoss()
dummy_outputs = torch.rand(4, 2)
dummy_labels = torch.tensor([0, 1, 1, 0])
print("demo loss", loss_fn(dummy_outputs, dummy_labels).item())
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train_one_epoch(epoch_index, tb_writer):
    running_loss = 0.
    last_loss = 0.
    for i, (inputs, labels) in enumerate(train_loader):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 2 == 1:
            last_loss = running_loss / 2
            tb_writer.add_scalar("Loss/train", last_loss, epoch_index * len(train_loader) + i + 1)
            running_loss = 0.
    return last_loss


writer = SummaryWriter("runs/shape")
epoch_number = 0
for epoch in range(2):
    model.train(True)
    avg_loss = train_one_epoch(epoch_number, writer)
    running_vloss = 0.0
    model.eval()
    with torch.no_grad():
        for i, (vinputs, vlabels) in enumerate(val_loader):
            running_vloss += loss_fn(model(vinputs), vlabels)
    avg_vloss = running_vloss / (i + 1)
    print("LOSS train {} valid {}".format(avg_loss, avg_vloss))
    epoch_number += 1
