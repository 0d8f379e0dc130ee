"""Plain PyTorch modules: nothing here knows about training."""
from torch import nn


class MLP(nn.Module):
    """A multilayer perceptron: ``num_features`` inputs -> ``num_classes`` logits."""

    def __init__(self, num_features: int, num_classes: int, hidden_dim: int = 64, num_layers: int = 2, dropout: float = 0.1):
        super().__init__()
        layers: list[nn.Module] = []
        width = num_features
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_dim), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden_dim
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
