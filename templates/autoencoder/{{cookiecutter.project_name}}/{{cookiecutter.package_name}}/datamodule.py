"""The data: coloured shapes drawn here (no downloads), or your own images or table when ``data_path`` is set."""
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl

from {{ cookiecutter.package_name }}.images import DataError, read_image_folder
from {{ cookiecutter.package_name }}.shapes import make_shapes


def load_file(path: str) -> torch.Tensor:
    """Feature vectors from a .csv (one per row; a header row is skipped), .npz (array ``x`` or the first) or .pt (``x``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz", ".pt"):
        raise DataError(f"{path}: expected a folder of .png/.jpg images, or a .csv / .npz / .pt file of feature vectors")
    try:
        if suffix == ".csv":
            try:
                x = np.loadtxt(path, delimiter=",", ndmin=2)
            except ValueError:
                x = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
        elif suffix == ".npz":
            arrays = np.load(path)
            x = arrays["x"] if "x" in arrays.files else arrays[arrays.files[0]]
        else:
            obj = torch.load(path, weights_only=True)  # tensors only: nothing in the file runs
            x = obj["x"] if isinstance(obj, dict) else obj[0] if isinstance(obj, (list, tuple)) else obj
        x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    except Exception as err:  # numpy and torch raise many kinds of errors for a broken file
        raise DataError(f"{path}: cannot read it as a {suffix} file of numbers ({type(err).__name__}: {err})") from None
    return x.reshape(len(x), -1)


class AutoencoderDataModule(pl.LightningDataModule):
    """Real samples, split into train and validation: images (N, C, H, W) in [-1, 1], or feature vectors.

    Args:
        data_path: a folder of .png/.jpg images, or a .csv / .npz / .pt file of feature vectors; None draws shapes.
        image_size: images are resized to image_size x image_size (a multiple of 8).
        channels: 3 for colour, 1 for grey (your images are converted).
        num_samples: shapes drawn in all (ignored with data_path).
        val_fraction: share of the samples held out for validation.
        batch_size: samples per batch.
        num_workers: DataLoader worker processes.
        seed: seed of the drawn shapes and of the split.
    """

    def __init__(
        self,
        data_path: str | None = None,
        image_size: int = 32,
        channels: int = 3,
        num_samples: int = 4000,
        val_fraction: float = 0.15,
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
        if not hp.data_path:
            x = make_shapes(hp.num_samples, hp.image_size, hp.seed)[0]
            x = x if hp.channels == 3 else x.mean(dim=1, keepdim=True)
        else:
            path = Path(hp.data_path).expanduser()
            if not path.exists():
                raise DataError(f"{path}: no such file or folder; give a folder of .png/.jpg images or a .csv / .npz / .pt file")
            x = read_image_folder(path, hp.image_size, hp.channels) if path.is_dir() else load_file(path)
        if len(x) < 10:
            raise DataError(f"{hp.data_path}: {len(x)} samples; at least 10 are needed")
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(hp.seed))
        n_val = max(1, int(len(x) * hp.val_fraction))
        self.train_set = TensorDataset(x[order[n_val:]])
        self.val_set = TensorDataset(x[order[:n_val]])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True,
                          drop_last=len(self.train_set) > self.hparams.batch_size,
                          num_workers=self.hparams.num_workers)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, num_workers=self.hparams.num_workers)

    def test_dataloader(self):
        return self.val_dataloader()

    def predict_dataloader(self):
        return self.val_dataloader()
