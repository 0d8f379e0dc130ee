"""The GAN as a LightningModule: manual optimization with two optimizers, as in the Lightning 1.0 announcement."""
from typing import Literal

import torch
from torch.nn import functional as F

import runtime as pl

from {{ cookiecutter.package_name }}.models import Discriminator, Generator


class GANModule(pl.LightningModule):
    """A generator and a discriminator trained against each other, one optimizer each.

    Args:
        num_features: width of a sample (must match the data).
        latent_dim: width of the generator's noise input.
        hidden_dim: width of the hidden layers of both networks.
        optimizer: adam, adamw or sgd, for both networks.
        lr: learning rate of both optimizers.
        b1: Adam's first beta (0.5 is the usual choice for GANs).
        b2: Adam's second beta.
    """

    def __init__(
        self,
        num_features: int = {{ cookiecutter._num_features }},
        latent_dim: int = 8,
        hidden_dim: int = 64,
        optimizer: Literal["adam", "adamw", "sgd"] = "adam",
        lr: float = 0.0005,
        b1: float = 0.5,
        b2: float = 0.999,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False  # two optimizers, stepped by hand in training_step
        self.generator = Generator(latent_dim, num_features, hidden_dim)
        self.discriminator = Discriminator(num_features, hidden_dim)
        self._real: list[torch.Tensor] = []
        self._fake: list[torch.Tensor] = []

    def forward(self, z):
        return self.generator(z)

    def sample(self, n: int) -> torch.Tensor:
        """``n`` generated samples."""
        return self(torch.randn(n, self.hparams.latent_dim, device=self.device))

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(len(real), self.hparams.latent_dim, device=self.device, dtype=real.dtype)
        ones = torch.ones(len(real), 1, device=self.device, dtype=real.dtype)
        zeros = torch.zeros_like(ones)

        # discriminator: real samples are 1, generated ones 0
        self.toggle_optimizer(opt_d)
        fake = self.generator(z).detach()
        real_loss = F.binary_cross_entropy_with_logits(self.discriminator(real), ones)
        fake_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake), zeros)
        d_loss = (real_loss + fake_loss) / 2
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_d)

        # generator: make the discriminator call generated samples real
        self.toggle_optimizer(opt_g)
        g_loss = F.binary_cross_entropy_with_logits(self.discriminator(self.generator(z)), ones)
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)

        self.log_dict({"d_loss": d_loss, "g_loss": g_loss}, prog_bar=True)

    def on_train_epoch_end(self):
        # manual optimization steps the schedulers by hand too
        for scheduler in self.lr_schedulers() or []:
            scheduler.step()

    def on_validation_epoch_start(self):
        self._real, self._fake = [], []

    def validation_step(self, batch, batch_idx):
        (real,) = batch
        self._real.append(real)
        self._fake.append(self.sample(len(real)))

    def on_validation_epoch_end(self):
        gaps = sample_gaps(torch.cat(self._real), torch.cat(self._fake))
        self.log_dict({"val_mean_gap": gaps["mean_gap"], "val_std_gap": gaps["std_gap"]}, prog_bar=True)

    def predict_step(self, batch, batch_idx):
        (real,) = batch
        return self.sample(len(real))

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "sgd":
            make = lambda params: torch.optim.SGD(params, lr=hp.lr, momentum=0.9)  # noqa: E731
        else:
            cls = torch.optim.AdamW if hp.optimizer == "adamw" else torch.optim.Adam
            make = lambda params: cls(params, lr=hp.lr, betas=(hp.b1, hp.b2))  # noqa: E731
        optimizers = [make(self.generator.parameters()), make(self.discriminator.parameters())]
        # the learning rates fall to zero over the run: a GAN oscillates around its target at a fixed
        # learning rate, and the shrinking steps settle it there
        epochs = self.trainer.max_epochs if self._trainer is not None else None
        if not epochs or epochs < 1:  # no known end (max_epochs=-1, or max_steps alone): constant rates
            return optimizers
        schedulers = [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) for opt in optimizers]
        return optimizers, schedulers


def sample_gaps(real: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
    """How far the generated samples' mean and spread are from the real ones', in real standard deviations.

    The largest gap over the features: 0.25 means off by a quarter of a standard deviation.
    """
    std = real.std(dim=0).clamp_min(1e-8)
    mean_gap = ((fake.mean(dim=0) - real.mean(dim=0)).abs() / std).max()
    std_gap = ((fake.std(dim=0) - std).abs() / std).max()
    return {"mean_gap": mean_gap, "std_gap": std_gap}
