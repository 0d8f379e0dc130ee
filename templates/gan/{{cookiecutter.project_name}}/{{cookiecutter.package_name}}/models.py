"""Plain PyTorch modules: a DCGAN-style generator and discriminator (Radford et al., 2015), sized for small images."""

import math

from torch import nn


def _stages(image_size: int) -> int:
    """How many times a 4x4 map doubles to reach ``image_size`` (which must be 4 times a power of two)."""
    stages = round(math.log2(image_size / 4))
    if stages < 1 or 4 * 2**stages != image_size:
        raise ValueError(f"image_size must be 8, 16, 32, 64, ...; got {image_size}")
    return stages


class Generator(nn.Module):
    """Noise (N, latent_dim) -> images (N, channels, image_size, image_size) in [-1, 1].

    A linear layer makes a 4x4 map of ``width * 2**stages`` channels; each transposed convolution doubles
    the size and halves the channels; batch norm and ReLU between, tanh at the end.
    """

    def __init__(
        self,
        latent_dim: int = 32,
        channels: int = 3,
        image_size: int = 32,
        width: int = 16,
    ):
        super().__init__()
        stages = _stages(image_size)
        self.top = width * 2 ** (stages - 1)
        self.project = nn.Sequential(
            nn.Linear(latent_dim, self.top * 16, bias=False),
            nn.BatchNorm1d(self.top * 16),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        c = self.top
        for _ in range(stages - 1):
            layers += [
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c // 2),
                nn.ReLU(),
            ]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(self.project(z).view(len(z), self.top, 4, 4))


class Discriminator(nn.Module):
    """Images (N, channels, image_size, image_size) -> one logit each: real (high) or generated (low).

    Strided convolutions halve the size down to 4x4 (LeakyReLU, batch norm after the first), then a linear layer.
    """

    def __init__(self, channels: int = 3, image_size: int = 32, width: int = 16):
        super().__init__()
        stages = _stages(image_size)
        layers: list[nn.Module] = [
            nn.Conv2d(channels, width, 4, 2, 1),
            nn.LeakyReLU(0.2),
        ]
        c = width
        for _ in range(stages - 1):
            layers += [
                nn.Conv2d(c, c * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c * 2),
                nn.LeakyReLU(0.2),
            ]
            c *= 2
        layers += [nn.Flatten(), nn.Linear(c * 16, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
