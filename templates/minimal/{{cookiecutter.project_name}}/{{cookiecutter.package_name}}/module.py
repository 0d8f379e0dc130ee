"""A bare LightningModule: replace the model and the steps with your own."""
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

import runtime as pl

from {{ cookiecutter.package_name }}.report import RunSummary


class MinimalModule(pl.LightningModule):
    """Linear regression, the smallest model that trains; a starting point.

    Args:
        num_features: input width (must match the data).
        optimizer: adam, adamw or sgd.
        lr: learning rate.
    """

    def __init__(self, num_features: int = {{ cookiecutter._num_features }}, optimizer: Literal["adam", "adamw", "sgd"] = "adam", lr: float = 0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Linear(num_features, 1)

    def forward(self, x):
        return self.net(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.mse_loss(self(x), y), prog_bar=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_loss", F.mse_loss(self(x), y))

    def predict_step(self, batch, batch_idx):
        return self(batch[0])

    def configure_callbacks(self):
        return [RunSummary(monitor="val_loss", mode="min")]

    def configure_optimizers(self):
        hp = self.hparams
        cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[hp.optimizer]
        return cls(self.parameters(), lr=hp.lr)
