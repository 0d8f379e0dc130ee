"""Shape: the weights are plain tensors made with `requires_grad=True` (no nn.Module, no optimizer), updated by hand
under no_grad (the official tutorials' polynomial fit, `nn_tutorial`'s first loop)."""
import torch

torch.set_default_device("cpu")  # a torch function mode: Tensor.backward comes back through it
x = torch.linspace(-1, 1, 64)
y = 3 * x - 1
w = torch.randn((), requires_grad=True)
b = torch.zeros((), requires_grad=True)
lr = 0.05
for step in range(30):
    loss = ((w * x + b - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad = None
        b.grad = None
print(w.item(), b.item())
