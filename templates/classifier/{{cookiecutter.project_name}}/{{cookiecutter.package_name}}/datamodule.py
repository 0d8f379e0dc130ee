"""The data: synthetic clusters made here (no downloads), or your own file when ``data_path`` is set."""
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl


def make_clusters(num_samples: int, num_features: int, num_classes: int, noise: float = 1.0, seed: int = 0):
    """Each class is a mixture of two Gaussian blobs, so no straight line separates the classes."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(2 * num_classes, num_features, generator=g)
    y = torch.randint(0, num_classes, (num_samples,), generator=g)
    blob = 2 * y + torch.randint(0, 2, (num_samples,), generator=g)
    x = centers[blob] + noise * torch.randn(num_samples, num_features, generator=g)
    return x, y


def load_file(path: str):
    """Features and integer labels from a .csv (last column: label; a header row is skipped), .npz or .pt (x, y)."""
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
    x = torch.as_tensor(np.asarray(x), dtype=torch.float32).reshape(len(x), -1)
    return x, torch.as_tensor(np.asarray(y)).long()


class ClassifierDataModule(pl.LightningDataModule):
    """Train / validation / test splits of one dataset.

    Args:
        data_path: a .csv, .npz or .pt file; None makes synthetic clusters.
        num_samples: synthetic samples in all (ignored with data_path).
        num_features: synthetic input width.
        num_classes: synthetic number of classes.
        noise: standard deviation of the synthetic blobs (the centers have about 1); higher is harder.
        val_fraction: share of the samples held out for validation (and again for test).
        batch_size: samples per batch.
        num_workers: DataLoader worker processes.
        seed: seed of the synthetic data and of the split.
    """

    def __init__(
        self,
        data_path: str | None = None,
        num_samples: int = 6000,
        num_features: int = {{ cookiecutter._num_features }},
        num_classes: int = {{ cookiecutter._num_classes }},
        noise: float = 1.0,
        val_fraction: float = 0.2,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.train_set = self.val_set = self.test_set = None

    def setup(self, stage: str):
        if self.train_set is not None:
            return
        hp = self.hparams
        if hp.data_path:
            x, y = load_file(hp.data_path)
        else:
            x, y = make_clusters(hp.num_samples, hp.num_features, hp.num_classes, hp.noise, seed=hp.seed)
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(hp.seed))
        n_val = max(1, int(len(x) * hp.val_fraction))
        val, test, train = order[:n_val], order[n_val : 2 * n_val], order[2 * n_val :]
        self.train_set = TensorDataset(x[train], y[train])
        self.val_set = TensorDataset(x[val], y[val])
        self.test_set = TensorDataset(x[test], y[test])

    def _loader(self, dataset, shuffle=False):
        return DataLoader(dataset, batch_size=self.hparams.batch_size, shuffle=shuffle, num_workers=self.hparams.num_workers)

    def train_dataloader(self):
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self):
        return self._loader(self.val_set)

    def test_dataloader(self):
        return self._loader(self.test_set)

    def predict_dataloader(self):
        return self._loader(self.test_set)
