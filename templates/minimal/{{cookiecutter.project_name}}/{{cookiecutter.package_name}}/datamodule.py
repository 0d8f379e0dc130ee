"""The data: a noisy linear relation made here (no downloads), or your own file when ``data_path`` is set."""
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl


def make_linear(num_samples: int, num_features: int, noise: float = 0.1, seed: int = 0):
    """``y = x @ w + b + noise``: a linear model can reach a mean squared error of ``noise**2``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(num_samples, num_features, generator=g)
    w = torch.randn(num_features, generator=g)
    return x, x @ w + 0.5 + noise * torch.randn(num_samples, generator=g)


def load_file(path: str):
    """Features and a float target from a .csv (last column: target; a header row is skipped), .npz or .pt (x, y)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            table = np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError:
            table = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
        x, y = table[:, :-1], table[:, -1]
    elif suffix == ".npz":
        arrays = np.load(path)
        names = list(arrays.files)
        x = arrays["x"] if "x" in names else arrays[names[0]]
        y = arrays["y"] if "y" in names else arrays[names[1]]
    elif suffix == ".pt":
        obj = torch.load(path, weights_only=True)
        x, y = (obj["x"], obj["y"]) if isinstance(obj, dict) else obj
    else:
        raise ValueError(f"{path}: expected a .csv, .npz or .pt file")
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    return x.reshape(len(x), -1), torch.as_tensor(np.asarray(y), dtype=torch.float32).reshape(-1)


class MinimalDataModule(pl.LightningDataModule):
    """Train and validation splits.

    Args:
        data_path: a .csv, .npz or .pt file; None makes synthetic data.
        num_samples: synthetic samples in all.
        num_features: synthetic input width.
        val_fraction: share held out for validation.
        batch_size: samples per batch.
        seed: seed of the synthetic data and the split.
    """

    def __init__(self, data_path: str | None = None, num_samples: int = 2000, num_features: int = {{ cookiecutter._num_features }},
                 val_fraction: float = 0.2, batch_size: int = 64, seed: int = 0):
        super().__init__()
        self.save_hyperparameters()
        self.train_set = self.val_set = None

    def setup(self, stage: str):
        if self.train_set is not None:
            return
        hp = self.hparams
        x, y = load_file(hp.data_path) if hp.data_path else make_linear(hp.num_samples, hp.num_features, seed=hp.seed)
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(hp.seed))
        n_val = max(1, int(len(x) * hp.val_fraction))
        self.train_set = TensorDataset(x[order[n_val:]], y[order[n_val:]])
        self.val_set = TensorDataset(x[order[:n_val]], y[order[:n_val]])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size)

    def test_dataloader(self):
        return self.val_dataloader()

    def predict_dataloader(self):
        return self.val_dataloader()
