"""Shape (MorvanZhou 503_dropout): every few steps the training loop itself switches the model to eval mode, looks
at the test data, and switches back. The trainer never changes modes inside a training step, so the toggles stay:
without them the look at the test data runs dropout (other values, and random numbers the next step would draw)."""
import torch

x = torch.unsqueeze(torch.linspace(-1, 1, 20), 1)
y = x + 0.3 * torch.normal(torch.zeros(20, 1), torch.ones(20, 1))
test_x = torch.unsqueeze(torch.linspace(-1, 1, 20), 1)
net = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.Dropout(0.5), torch.nn.ReLU(), torch.nn.Linear(16, 1))
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
loss_func = torch.nn.MSELoss()
for t in range(8):
    loss = loss_func(net(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if t % 2 == 0:
        net.eval()
        print("test", net(test_x).mean().item())
        net.train()
