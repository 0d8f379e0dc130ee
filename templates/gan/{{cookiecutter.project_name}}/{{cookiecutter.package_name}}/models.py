"""Plain PyTorch modules: the generator and the discriminator."""
from torch import nn


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """Noise of width ``latent_dim`` -> a sample of width ``num_features``."""

    def __init__(self, latent_dim: int, num_features: int, hidden_dim: int = 64):
        super().__init__()
        self.net = _mlp([latent_dim, hidden_dim, hidden_dim, num_features])

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    """A sample -> one logit: real (high) or generated (low)."""

    def __init__(self, num_features: int, hidden_dim: int = 64):
        super().__init__()
        self.net = _mlp([num_features, hidden_dim, hidden_dim, 1])

    def forward(self, x):
        return self.net(x)
