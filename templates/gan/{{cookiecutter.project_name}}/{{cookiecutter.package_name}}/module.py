"""The GAN as a LightningModule: manual optimization with two optimizers, as in the Lightning 1.0 announcement."""
from typing import Literal

import torch
from torch.nn import functional as F

import runtime as pl

from {{ cookiecutter.package_name }}.images import log_picture, make_grid
from {{ cookiecutter.package_name }}.models import Discriminator, Generator
from {{ cookiecutter.package_name }}.report import RunSummary


class GANModule(pl.LightningModule):
    """A DCGAN: a generator and a discriminator trained against each other, one optimizer each.

    After every training epoch the generator draws the same 64 noise vectors, and the grid of images is
    saved as ``samples/epoch=NNN.png`` in the run's folder and shown in TensorBoard, so you watch them improve.

    Args:
        image_size: side of the images (must match the data).
        channels: 3 for colour, 1 for grey (must match the data).
        latent_dim: width of the generator's noise input.
        width: channels of the generator's last and the discriminator's first convolution (doubles per stage).
        optimizer: adam, adamw or sgd, for both networks.
        lr: learning rate of both optimizers.
        b1: Adam's first beta (0.5 is the usual choice for GANs).
        b2: Adam's second beta.
        real_label: the discriminator's target for real images (0.9 rather than 1 keeps it from saturating).
    """

    def __init__(
        self,
        image_size: int = 32,
        channels: int = {{ cookiecutter._channels }},
        latent_dim: int = 32,
        width: int = 16,
        optimizer: Literal["adam", "adamw", "sgd"] = "adam",
        lr: float = 0.0005,
        b1: float = 0.5,
        b2: float = 0.999,
        real_label: float = 0.9,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False  # two optimizers, stepped by hand in training_step
        self.generator = Generator(latent_dim, channels, image_size, width)
        self.discriminator = Discriminator(channels, image_size, width)
        # the same noise every epoch, so successive sample grids show the same 64 images improving
        self.register_buffer("fixed_noise", torch.randn(64, latent_dim, generator=torch.Generator().manual_seed(0)))
        self._sums, self._count = 0.0, 0

    def forward(self, z):
        return self.generator(z)

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        """``n`` generated images (N, C, H, W) in [-1, 1], drawn in eval mode."""
        was_training = self.generator.training
        self.generator.eval()
        images = self(torch.randn(n, self.hparams.latent_dim, device=self.device))
        self.generator.train(was_training)
        return images

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        z = torch.randn(len(real), self.hparams.latent_dim, device=self.device, dtype=real.dtype)
        real_target = torch.full((len(real), 1), self.hparams.real_label, device=self.device, dtype=real.dtype)
        ones, zeros = torch.ones_like(real_target), torch.zeros_like(real_target)

        fake = self.generator(z)  # before the toggle below, which freezes the generator's weights

        # discriminator: real images are real_label, generated ones 0
        self.toggle_optimizer(opt_d)
        real_loss = F.binary_cross_entropy_with_logits(self.discriminator(real), real_target)
        fake_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake.detach()), zeros)
        d_loss = (real_loss + fake_loss) / 2
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_d)

        # generator: make the discriminator call the same generated images real
        self.toggle_optimizer(opt_g)
        g_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake), ones)
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)

        self.log_dict({"d_loss": d_loss, "g_loss": g_loss}, prog_bar=True)

    def on_train_epoch_end(self):
        for scheduler in self.lr_schedulers() or []:  # manual optimization steps the schedulers by hand too
            scheduler.step()
        if self.trainer.is_global_zero:
            with torch.no_grad():
                was_training = self.generator.training
                self.generator.eval()
                grid = make_grid(self(self.fixed_noise))
                self.generator.train(was_training)
            log_picture(self.trainer, "samples", f"epoch={self.current_epoch:03d}", grid)

    def on_validation_epoch_start(self):
        self._sums, self._count = 0.0, 0

    def validation_step(self, batch, batch_idx):
        (real,) = batch
        fake = self.sample(len(real))
        # per-pixel sums of real and generated images and of their squares (kept on the device: no sync per step)
        self._sums = self._sums + torch.stack([real.sum(0), (real**2).sum(0), fake.sum(0), (fake**2).sum(0)])
        self._count += len(real)

    def on_validation_epoch_end(self):
        mean_real, sq_real, mean_fake, sq_fake = self._sums / self._count
        std_real = (sq_real - mean_real**2).clamp_min(0).sqrt()
        std_fake = (sq_fake - mean_fake**2).clamp_min(0).sqrt()
        # how far the generated images' per-pixel mean and spread are from the real ones (0: the same)
        gap = ((mean_fake - mean_real).abs() + (std_fake - std_real).abs()).mean()
        self.log("val_pixel_gap", gap, prog_bar=True)

    def predict_step(self, batch, batch_idx):
        (real,) = batch
        return self.sample(len(real))

    def configure_callbacks(self):
        return [RunSummary(monitor="val_pixel_gap", mode="min", pictures="samples")]

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "sgd":
            make = lambda params: torch.optim.SGD(params, lr=hp.lr, momentum=0.9)  # noqa: E731
        else:
            cls = torch.optim.AdamW if hp.optimizer == "adamw" else torch.optim.Adam
            make = lambda params: cls(params, lr=hp.lr, betas=(hp.b1, hp.b2))  # noqa: E731
        optimizers = [make(self.generator.parameters()), make(self.discriminator.parameters())]
        # the learning rates fall to a tenth over the run: a GAN oscillates around its target at a fixed
        # learning rate, and the smaller steps at the end settle it (and sharpen the samples)
        epochs = self.trainer.max_epochs if self._trainer is not None else None
        if not epochs or epochs < 1:  # no known end (max_epochs=-1, or max_steps alone): constant rates
            return optimizers
        schedulers = [torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=epochs, eta_min=hp.lr / 10) for o in optimizers]
        return optimizers, schedulers
