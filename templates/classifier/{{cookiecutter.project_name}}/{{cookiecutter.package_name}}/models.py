"""Plain PyTorch modules: nothing here knows about training."""

from torch import nn


class MLP(nn.Module):
    """A multilayer perceptron for feature vectors: ``num_features`` inputs -> ``num_classes`` logits."""

    def __init__(
        self,
        num_features: int,
        num_classes: int,
        hidden_dim: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
    ):
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


class CNN(nn.Module):
    """A small convolutional network for images (N, channels, H, W) -> ``num_classes`` logits.

    ``num_layers`` blocks of 3x3 convolution, ReLU and 2x2 max pooling (the width doubles per block), then a
    global max pool, so any image size works.
    """

    def __init__(
        self,
        channels: int,
        num_classes: int,
        hidden_dim: int = 16,
        num_layers: int = 3,
        dropout: float = 0.1,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = channels
        for i in range(num_layers):
            layers += [
                nn.Conv2d(width, hidden_dim * 2**i, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            width = hidden_dim * 2**i
        layers += [
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(width, num_classes),
        ]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
