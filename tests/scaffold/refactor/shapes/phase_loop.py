"""Shape: one loop over ``for phase in ['train', 'val']`` trains in one pass and evaluates in the other (the
transfer-learning tutorial's train_model): refused with what to write instead."""
import torch
import torch.nn as nn

x = torch.randn(32, 4)
y = (x.sum(1) > 0).long()
ds = torch.utils.data.TensorDataset(x, y)
loaders = {p: torch.utils.data.DataLoader(ds, batch_size=8) for p in ["train", "val"]}
model = nn.Linear(4, 2)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(2):
    for phase in ["train", "val"]:
        model.train() if phase == "train" else model.eval()
        running = 0.0
        for inputs, labels in loaders[phase]:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                loss = criterion(model(inputs), labels)
                if phase == "train":
                    loss.backward()
                    optimizer.step()
            running += loss.item()
        print(phase, running)
