"""The autoencoder as a LightningModule: reconstruction loss, and the error relative to the data's variance."""
from typing import Literal

import torch
from torch.nn import functional as F

import runtime as pl

from {{ cookiecutter.package_name }}.models import Decoder, Encoder


class AutoencoderModule(pl.LightningModule):
    """Squeeze each sample through a narrow code and rebuild it.

    Args:
        num_features: width of a sample (must match the data).
        latent_dim: width of the code.
        hidden_dim: width of the hidden layers.
        optimizer: adam, adamw or sgd.
        lr: learning rate.
        weight_decay: weight decay of the optimizer.
    """

    def __init__(
        self,
        num_features: int = {{ cookiecutter._num_features }},
        latent_dim: int = 8,
        hidden_dim: int = 128,
        optimizer: Literal["adam", "adamw", "sgd"] = "adam",
        lr: float = 0.003,
        weight_decay: float = 0.0,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = Encoder(num_features, latent_dim, hidden_dim)
        self.decoder = Decoder(latent_dim, num_features, hidden_dim)
        self._sq_error = self._sum = self._sq_sum = self._count = 0.0

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def training_step(self, batch, batch_idx):
        (x,) = batch
        loss = F.mse_loss(self(x), x)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def on_validation_epoch_start(self):
        self._sq_error = self._sum = self._sq_sum = self._count = 0.0

    def validation_step(self, batch, batch_idx):
        (x,) = batch
        recon = self(x)
        self.log("val_loss", F.mse_loss(recon, x), prog_bar=True)
        # sums for the relative error over the whole validation set (kept on the device: no sync per step)
        self._sq_error = self._sq_error + ((recon - x) ** 2).sum()
        self._sum = self._sum + x.sum(dim=0)
        self._sq_sum = self._sq_sum + (x**2).sum(dim=0)
        self._count += len(x)

    def on_validation_epoch_end(self):
        n = self._count
        variance = (self._sq_sum / n - (self._sum / n) ** 2).sum()  # total variance of the data
        rel_error = self._sq_error / n / variance.clamp_min(1e-12)
        self.log("val_rel_error", rel_error, prog_bar=True)

    test_step = validation_step
    on_test_epoch_start = on_validation_epoch_start

    def on_test_epoch_end(self):
        n = self._count
        variance = (self._sq_sum / n - (self._sum / n) ** 2).sum()
        self.log("test_rel_error", self._sq_error / n / variance.clamp_min(1e-12))

    def predict_step(self, batch, batch_idx):
        (x,) = batch
        return self.encoder(x)

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "sgd":
            return torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=0.9, weight_decay=hp.weight_decay)
        cls = torch.optim.AdamW if hp.optimizer == "adamw" else torch.optim.Adam
        return cls(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
