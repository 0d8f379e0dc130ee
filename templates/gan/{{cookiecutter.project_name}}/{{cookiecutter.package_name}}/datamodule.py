"""The data: samples of a 2-D Gaussian made here (no downloads), or your own file when ``data_path`` is set."""
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl


def make_target(num_samples: int, num_features: int = 2, seed: int = 0) -> torch.Tensor:
    """Samples of a correlated Gaussian whose mean and spread differ per feature (what the GAN must learn)."""
    g = torch.Generator().manual_seed(seed)
    mean = torch.linspace(2.0, -1.0, num_features)
    mix = torch.diag(torch.linspace(1.5, 0.5, num_features))
    if num_features > 1:
        mix[1:, 0] += 0.3  # correlate every feature with the first
    return mean + torch.randn(num_samples, num_features, generator=g) @ mix.T


def load_file(path: str) -> torch.Tensor:
    """Samples from a .csv (one per row; a header row is skipped), .npz (array ``x`` or the first) or .pt (``x``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            x = np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError:
            x = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
    elif suffix == ".npz":
        arrays = np.load(path)
        x = arrays["x"] if "x" in arrays.files else arrays[arrays.files[0]]
    elif suffix == ".pt":
        obj = torch.load(path, weights_only=True)
        x = obj["x"] if isinstance(obj, dict) else obj[0] if isinstance(obj, (list, tuple)) else obj
    else:
        raise ValueError(f"{path}: expected a .csv, .npz or .pt file")
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    return x.reshape(len(x), -1)


class GANDataModule(pl.LightningDataModule):
    """Real samples, split into train and validation.

    Args:
        data_path: a .csv, .npz or .pt file; None makes samples of the synthetic target.
        num_samples: synthetic samples in all (ignored with data_path).
        num_features: synthetic sample width.
        val_fraction: share of the samples held out for validation.
        batch_size: samples per batch.
        num_workers: DataLoader worker processes.
        seed: seed of the synthetic data and of the split.
    """

    def __init__(
        self,
        data_path: str | None = None,
        num_samples: int = 8000,
        num_features: int = {{ cookiecutter._num_features }},
        val_fraction: float = 0.25,
        batch_size: int = 128,
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
        x = load_file(hp.data_path) if hp.data_path else make_target(hp.num_samples, hp.num_features, hp.seed)
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
