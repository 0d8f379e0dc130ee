"""Shape: ReduceLROnPlateau stepped at the end of each epoch with the mean of that epoch's training losses, and no
validation (aladdinpersson's lr_ratescheduler): configure_optimizers returned it without the `monitor` the trainer needs."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
x = torch.randn(40, 3)
loader = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8, shuffle=True)
net = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1))
opt = torch.optim.Adam(net.parameters(), lr=0.05)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0)  # the loss falls: lr halves

for epoch in range(3):
    epoch_losses = []
    for xb, yb in loader:
        loss = nn.functional.mse_loss(net(xb), yb)
        epoch_losses.append(loss.item())
        loss.backward()
        opt.step()
        opt.zero_grad()
    avg = sum(epoch_losses) / len(epoch_losses)
    print(f"epoch {epoch} loss {avg:.4f} lr {opt.param_groups[0]['lr']}")
    sched.step(avg)
