"""Plain PyTorch modules: encoders and decoders for images (convolutional) and for feature vectors (MLP)."""

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


class ConvEncoder(nn.Module):
    """Images (N, channels, image_size, image_size) -> codes (N, latent_dim): three stride-2 convolutions."""

    def __init__(
        self, channels: int, latent_dim: int, image_size: int = 32, width: int = 16
    ):
        super().__init__()
        if image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8; got {image_size}")
        side = image_size // 8
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1),
            nn.GELU(),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            nn.GELU(),
            nn.Conv2d(2 * width, 4 * width, 4, 2, 1),
            nn.GELU(),
            nn.Flatten(),
            nn.Linear(4 * width * side * side, latent_dim),
        )

    def forward(self, x):
        return self.net(x)


class ConvDecoder(nn.Module):
    """Codes (N, latent_dim) -> images (N, channels, image_size, image_size): the encoder mirrored (a linear
    output: a tanh would start saturated at the black background and stop learning)."""

    def __init__(
        self, latent_dim: int, channels: int, image_size: int = 32, width: int = 16
    ):
        super().__init__()
        self.shape = (4 * width, image_size // 8, image_size // 8)
        self.project = nn.Sequential(
            nn.Linear(latent_dim, 4 * width * (image_size // 8) ** 2), nn.GELU()
        )
        self.net = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1),
            nn.GELU(),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1),
            nn.GELU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1),
        )

    def forward(self, z):
        return self.net(self.project(z).view(len(z), *self.shape))
