"""Shape: one loop over the phases (`for phase in ("train", "val"):`) trains in one pass and evaluates in the other,
with per-phase statistics, a scheduler stepped after the training pass and the best weights kept after the
evaluation pass (the transfer-learning tutorial's layout): unrolled into a training loop then an evaluation loop."""
import copy

import torch
import torch.nn as nn

torch.manual_seed(0)
features = torch.randn(48, 6)
targets = (features[:, 0] > 0).long()
sets = {"train": torch.utils.data.TensorDataset(features[:32], targets[:32]),
        "val": torch.utils.data.TensorDataset(features[32:], targets[32:])}
loaders = {k: torch.utils.data.DataLoader(v, batch_size=8, shuffle=k == "train") for k, v in sets.items()}
sizes = {k: len(v) for k, v in sets.items()}
net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
loss_fn = nn.CrossEntropyLoss()
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
best_weights = copy.deepcopy(net.state_dict())
best_acc = 0.0

for epoch in range(2):
    for phase in ("train", "val"):
        if phase == "train":
            net.train()
        else:
            net.eval()
        total_loss, hits = 0.0, 0
        for xb, yb in loaders[phase]:
            opt.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                out = net(xb)
                loss = loss_fn(out, yb)
                if phase == "train":
                    loss.backward()
                    opt.step()
            total_loss += loss.item() * xb.size(0)
            hits += (out.argmax(1) == yb).sum().item()
        if phase == "train":
            sched.step()
        phase_loss = total_loss / sizes[phase]
        phase_acc = hits / sizes[phase]
        print(f"{phase} loss {phase_loss:.4f} acc {phase_acc:.4f}")
        if phase == "val" and phase_acc > best_acc:
            best_acc = phase_acc
            best_weights = copy.deepcopy(net.state_dict())

print(f"best val acc {best_acc:.4f}")
net.load_state_dict(best_weights)
