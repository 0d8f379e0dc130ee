"""A tiny model and datamodule with typed, documented hyperparameters, shared by the config-runner tests.

Kept free of test imports so a generated-style ``train.py`` in a temp folder can copy it as its package.
"""
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl


class ToyModel(pl.LightningModule):
    """A small regressor whose hyperparameters cover the types the config runner checks.

    Args:
        hidden: width of the hidden layer.
        lr: learning rate of the SGD optimizer.
        activation: the nonlinearity
            between the layers.
        dropout: dropout probability, or None for no dropout.
        widths: extra hidden layers.
        name: a label for the run.
        out_dir: where to write extra artifacts.
    """

    def __init__(self, hidden: int = 8, lr: float = 0.1, activation: Literal["relu", "tanh"] = "relu",
                 dropout: float | None = None, widths: list[int] = [], name: str = "toy", out_dir: Path | None = None,
                 num_features: int = 4):
        super().__init__()
        self.save_hyperparameters()
        act = nn.ReLU() if activation == "relu" else nn.Tanh()
        sizes = [num_features, hidden, *widths]
        layers: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [nn.Linear(a, b), act]
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], 1))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.mse_loss(self(x), y))

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_loss", nn.functional.mse_loss(self(x), y))

    def predict_step(self, batch, batch_idx):
        return self(batch[0])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class ToyData(pl.LightningDataModule):
    """Random regression data.

    Args:
        batch_size: samples per batch.
        size: number of samples in each split.
        num_features: input width.
    """

    def __init__(self, batch_size: int = 4, size: int = 16, num_features: int = 4):
        super().__init__()
        self.batch_size, self.size, self.num_features = batch_size, size, num_features

    def _loader(self, seed: int) -> DataLoader:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(self.size, self.num_features, generator=g)
        return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=self.batch_size)

    def train_dataloader(self):
        return self._loader(0)

    def val_dataloader(self):
        return self._loader(1)

    def test_dataloader(self):
        return self._loader(2)

    def predict_dataloader(self):
        return self._loader(3)
