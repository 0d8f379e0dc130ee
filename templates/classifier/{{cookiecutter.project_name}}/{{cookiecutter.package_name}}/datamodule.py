"""The data: coloured shapes drawn here (no downloads), or your own files when ``data_path`` is set."""
import csv
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl

from {{ cookiecutter.package_name }}.images import DataError, read_class_folders
from {{ cookiecutter.package_name }}.shapes import SHAPES, make_shapes


def read_table(path: Path):
    """Features, integer labels and class names from a .csv (a header row naming a ``label`` column, else
    the last column is the label; labels may be words), or a .npz / .pt file holding ``x`` and ``y``."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            rows = [row for row in csv.reader(f) if row]
        if not rows:
            raise DataError(f"{path}: the file is empty")
        header = None
        try:
            [float(v) for v in rows[0][:-1]]
        except ValueError:
            header, rows = rows[0], rows[1:]
        names = [h.strip().lower() for h in header] if header else []
        column = names.index("label") if "label" in names else -1
        try:
            x = np.array([[float(v) for i, v in enumerate(row) if i != column % len(row)] for row in rows])
        except ValueError as err:
            raise DataError(f"{path}: every column but the label must be a number ({err})") from None
        raw_labels = [_label_name(row[column]) for row in rows]
    elif suffix in (".npz", ".pt"):
        try:
            if suffix == ".npz":
                arrays = np.load(path)
                x, y = arrays["x"], arrays["y"]
            else:
                obj = torch.load(path, weights_only=True)  # tensors only: nothing in the file runs
                x, y = (obj["x"], obj["y"]) if isinstance(obj, dict) else obj
        except Exception as err:  # numpy and torch raise many kinds of errors for a broken file
            raise DataError(f"{path}: cannot read arrays 'x' (features) and 'y' (labels) ({type(err).__name__}: {err})") from None
        x, raw_labels = np.asarray(x, dtype=np.float64), [str(int(v)) for v in np.asarray(y).reshape(-1)]
    else:
        raise DataError(f"{path}: expected a folder with one sub-folder of images per class, or a .csv / .npz / .pt file")
    if len(x) != len(raw_labels) or len(x) < 10:
        raise DataError(f"{path}: {len(x)} samples and {len(raw_labels)} labels; give at least 10, one label each")
    numeric = all(v.lstrip("-").isdigit() for v in raw_labels)
    classes = sorted(set(raw_labels), key=int if numeric else str)
    index = {name: i for i, name in enumerate(classes)}
    x = torch.as_tensor(x, dtype=torch.float32).reshape(len(x), -1)
    return x, torch.tensor([index[v] for v in raw_labels]), classes


def _label_name(value: str) -> str:
    """``"2.0"`` -> ``"2"`` (numpy writes integer labels as floats); words stay as they are."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else value


class ClassifierDataModule(pl.LightningDataModule):
    """Train / validation / test splits of one dataset, and the names of its classes.

    Args:
        data_path: a folder with one sub-folder of .png/.jpg images per class (the sub-folder names are the
            classes), or a .csv of features with a label column (a header naming ``label``, else the last
            column), or a .npz / .pt file holding ``x`` and ``y``; None draws shapes.
        image_size: images are resized to image_size x image_size.
        channels: 3 for colour, 1 for grey (your images are converted).
        num_samples: shapes drawn in all (ignored with data_path).
        val_fraction: share of the samples held out for validation (and again for test).
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
        self.train_set = self.val_set = self.test_set = None
        self.class_names: list[str] = []

    def setup(self, stage: str):
        if self.train_set is not None:
            return
        hp = self.hparams
        if not hp.data_path:
            x, y = make_shapes(hp.num_samples, hp.image_size, hp.seed)
            x = x if hp.channels == 3 else x.mean(dim=1, keepdim=True)
            self.class_names = list(SHAPES)
        else:
            path = Path(hp.data_path).expanduser()
            if not path.exists():
                raise DataError(f"{path}: no such file or folder; give a folder with one sub-folder of images per "
                                "class, or a .csv / .npz / .pt file")
            if path.is_dir():
                x, y, self.class_names = read_class_folders(path, hp.image_size, hp.channels)
            else:
                x, y, self.class_names = read_table(path)
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
