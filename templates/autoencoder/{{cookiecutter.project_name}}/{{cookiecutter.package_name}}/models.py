"""Plain PyTorch modules: the encoder and the decoder."""
from torch import nn


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), nn.GELU()]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """A sample of width ``num_features`` -> a code of width ``latent_dim``."""

    def __init__(self, num_features: int, latent_dim: int, hidden_dim: int = 128):
        super().__init__()
        self.net = _mlp([num_features, hidden_dim, hidden_dim, latent_dim])

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    """A code of width ``latent_dim`` -> a reconstruction of width ``num_features``."""

    def __init__(self, latent_dim: int, num_features: int, hidden_dim: int = 128):
        super().__init__()
        self.net = _mlp([latent_dim, hidden_dim, hidden_dim, num_features])

    def forward(self, z):
        return self.net(z)
