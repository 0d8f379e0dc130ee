# Pattern 2: the loop written at module level, with globals; zero_grad on the model; prints for logging.
import torch
from torch import nn

EPOCHS = 3
LR = 0.05
BATCH = 16

torch.manual_seed(4)
X = torch.randn(160, 8)
Y = X @ torch.randn(8, 1) + 0.1 * torch.randn(160, 1)
dataset = torch.utils.data.TensorDataset(X, Y)
loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True)

model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
loss_fn = nn.MSELoss()
opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
step = 0

for epoch in range(EPOCHS):
    model.train()
    for xb, yb in loader:
        pred = model(xb)
        loss = loss_fn(pred, yb)
        model.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 5 == 0:
            print("step", step, "loss", loss.item())
    print(f"epoch {epoch} done, last loss {loss.item():.4f}")
