"""Shape: word_language_model's epoch loop inside `try: ... except KeyboardInterrupt:`, and a `break` in the
evaluation loop (mnist_rnn's --dry-run)."""
import torch
import torch.nn as nn

torch.manual_seed(0)
train_data = [(torch.randn(4, 3), torch.randn(4, 1)) for _ in range(6)]
val_data = [(torch.randn(4, 3), torch.randn(4, 1)) for _ in range(3)]
model = nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
dry_run = False


def evaluate(data):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for x, y in data:
            total += (model(x) - y).pow(2).mean().item()
            if dry_run:
                break
    return total / len(data)


def train():
    model.train()
    for x, y in train_data:
        optimizer.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        optimizer.step()


try:
    for epoch in range(1, 4):
        train()
        val_loss = evaluate(val_data)
        print(f"epoch {epoch} val {val_loss:.4f}")
except KeyboardInterrupt:
    print("Exiting from training early")
