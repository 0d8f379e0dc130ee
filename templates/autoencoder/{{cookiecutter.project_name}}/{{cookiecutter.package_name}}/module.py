"""The autoencoder as a LightningModule: reconstruction loss, the error relative to the data's variance, and pictures."""
from typing import Literal

import torch
from torch.nn import functional as F

import runtime as pl

from {{ cookiecutter.package_name }}.images import log_picture, make_grid
from {{ cookiecutter.package_name }}.models import ConvDecoder, ConvEncoder, Decoder, Encoder
from {{ cookiecutter.package_name }}.report import RunSummary


class AutoencoderModule(pl.LightningModule):
    """Squeeze each sample through a narrow code and rebuild it: convolutions for images, an MLP for vectors.

    After every validation, 16 validation images each beside its reconstruction are saved as
    ``reconstructions/epoch=NNN.png`` in the run's folder and shown in TensorBoard (images only).

    Args:
        num_features: width of a feature vector (a .csv / .npz / .pt file); None for images.
        channels: image channels, 3 for colour, 1 for grey (images only).
        image_size: side of the images (images only; a multiple of 8).
        latent_dim: width of the code.
        hidden_dim: width of the hidden layers (MLP) or of the first convolution (it doubles twice).
        optimizer: adam, adamw or sgd.
        lr: learning rate.
        weight_decay: weight decay of the optimizer.
    """

    def __init__(
        self,
        num_features: int | None = {{ cookiecutter._num_features }},
        channels: int = 3,
        image_size: int = 32,
        latent_dim: int = 32,
        hidden_dim: int = 16,
        optimizer: Literal["adam", "adamw", "sgd"] = "adam",
        lr: float = 0.003,
        weight_decay: float = 0.0,
    ):
        super().__init__()
        self.save_hyperparameters()
        if num_features is None:
            self.encoder = ConvEncoder(channels, latent_dim, image_size, hidden_dim)
            self.decoder = ConvDecoder(latent_dim, channels, image_size, hidden_dim)
        else:
            self.encoder = Encoder(num_features, latent_dim, hidden_dim)
            self.decoder = Decoder(latent_dim, num_features, hidden_dim)
        self._sq_error = self._sum = self._sq_sum = self._count = 0.0
        self._pairs = None

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
        if batch_idx == 0 and x.ndim == 4:
            self._pairs = torch.stack([x[:16], recon[:16]], dim=1).flatten(0, 1)  # input, its reconstruction, ...

    def _rel_error(self):
        n = self._count
        variance = (self._sq_sum / n - (self._sum / n) ** 2).sum()  # total variance of the data
        return self._sq_error / n / variance.clamp_min(1e-12)

    def on_validation_epoch_end(self):
        self.log("val_rel_error", self._rel_error(), prog_bar=True)
        if self._pairs is not None and not self.trainer.sanity_checking and self.trainer.is_global_zero:
            log_picture(self.trainer, "reconstructions", f"epoch={self.current_epoch:03d}", make_grid(self._pairs, nrow=8))

    test_step = validation_step
    on_test_epoch_start = on_validation_epoch_start

    def on_test_epoch_end(self):
        self.log("test_rel_error", self._rel_error())

    def predict_step(self, batch, batch_idx):
        (x,) = batch
        return self.encoder(x)

    def configure_callbacks(self):
        return [RunSummary(monitor="val_rel_error", mode="min", pictures="reconstructions")]

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "sgd":
            return torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=0.9, weight_decay=hp.weight_decay)
        cls = torch.optim.AdamW if hp.optimizer == "adamw" else torch.optim.Adam
        return cls(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
