"""The data: coloured shapes drawn here (no downloads), or your own images when ``data_path`` is set."""
import torch
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl

from {{ cookiecutter.package_name }}.images import read_images
from {{ cookiecutter.package_name }}.shapes import make_shapes


class GANDataModule(pl.LightningDataModule):
    """Real images in [-1, 1], split into train and validation.

    Args:
        data_path: a folder of .png/.jpg images, or a .npz / .pt file of images; None draws shapes.
        image_size: images are resized to image_size x image_size (8, 16, 32, 64, ...).
        channels: 3 for colour, 1 for grey (your images are converted).
        num_samples: shapes drawn in all (ignored with data_path).
        val_fraction: share of the images held out for validation.
        batch_size: images per batch.
        num_workers: DataLoader worker processes.
        seed: seed of the drawn shapes and of the split.
    """

    def __init__(
        self,
        data_path: str | None = None,
        image_size: int = 32,
        channels: int = {{ cookiecutter._channels }},
        num_samples: int = 8000,
        val_fraction: float = 0.1,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.train_set = self.val_set = None

    def setup(self, stage: str):
        if self.train_set is not None:
            return
        hp = self.hparams
        if hp.data_path:
            x = read_images(hp.data_path, hp.image_size, hp.channels)
        else:
            x = make_shapes(hp.num_samples, hp.image_size, hp.seed)[0]
            x = x if hp.channels == 3 else x.mean(dim=1, keepdim=True)
        if len(x) < 2 * hp.batch_size:
            raise ValueError(f"{hp.data_path}: {len(x)} images; a GAN needs at least two batches ({2 * hp.batch_size})")
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(hp.seed))
        n_val = max(1, int(len(x) * hp.val_fraction))
        self.train_set = TensorDataset(x[order[n_val:]])
        self.val_set = TensorDataset(x[order[:n_val]])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True, drop_last=True,
                          num_workers=self.hparams.num_workers)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, num_workers=self.hparams.num_workers)

    def test_dataloader(self):
        return self.val_dataloader()

    def predict_dataloader(self):
        return self.val_dataloader()
