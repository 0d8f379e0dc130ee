"""MNIST for examples: ``MNIST`` (a dataset) and ``MNISTDataModule`` (train/val/test splits).

Lightning's examples import these from ``lightning.pytorch.demos.mnist_datamodule``. With torchvision
installed (and ``PL_USE_MOCKED_MNIST`` unset), ``MNIST`` is torchvision's dataset, as in Lightning.
Without it, ours reads the four IDX files of the MNIST distribution (``MNIST/raw/*-ubyte`` or
``*-ubyte.gz`` under ``root``, torchvision's layout) with plain byte parsing: nothing is unpickled.
Images come back as float tensors ``(1, 28, 28)`` in [0, 1], normalised by ``normalize`` when it is given
(mean, std), or as PIL images through ``transform`` when one is given.
"""

from __future__ import annotations

import gzip
import os
import struct
import urllib.request
from typing import Any, Callable

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, random_split

from runtime.core.datamodule import LightningDataModule
from runtime.utilities.imports import _IS_WINDOWS

_DATASETS_PATH = "./data"
_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_idx(path: str) -> Tensor:
    """One IDX file (unsigned bytes, 1 or 3 dimensions) as a uint8 tensor; a wrong header is an error."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] not in (1, 3):
        raise ValueError(f"{path} is not an MNIST IDX file of unsigned bytes (its header is {data[:4]!r})")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = data[4 + 4 * ndim :]
    expected = 1
    for size in shape:
        expected *= size
    if len(body) != expected:
        raise ValueError(f"{path} holds {len(body)} bytes of data, its header announces {expected} {shape}")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(shape)


class _MNIST(Dataset):
    """MNIST from its IDX files, without torchvision."""

    def __init__(
        self,
        root: str,
        train: bool = True,
        normalize: tuple | None = (0.1307, 0.3081),
        download: bool = True,
        transform: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.root = root
        self.train = train
        self.normalize = normalize
        self.transform = transform
        if download:
            self.prepare_data()
        images, labels = (self._find(name) for name in _FILES[train])
        self.data = _read_idx(images)
        self.targets = _read_idx(labels).long()
        if len(self.data) != len(self.targets):
            raise ValueError(f"{images} has {len(self.data)} images but {labels} has {len(self.targets)} labels")

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, "MNIST", "raw")

    def _find(self, name: str) -> str:
        for candidate in (name, name + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        raise RuntimeError(
            f"MNIST not found: no {name}(.gz) in {self.raw_folder}. Pass download=True with a network connection, "
            f"or put the four MNIST IDX files there ({_MIRROR} has them)."
        )

    def prepare_data(self) -> None:
        os.makedirs(self.raw_folder, exist_ok=True)
        for name in _FILES[True] + _FILES[False]:
            if any(os.path.isfile(os.path.join(self.raw_folder, n)) for n in (name, name + ".gz")):
                continue
            target = os.path.join(self.raw_folder, name + ".gz")
            try:
                with urllib.request.urlopen(_MIRROR + name + ".gz", timeout=60) as response:  # noqa: S310
                    payload = response.read()
            except OSError as err:
                raise RuntimeError(
                    f"Could not download MNIST from {_MIRROR} ({err}). Put the four IDX files "
                    f"({', '.join(_FILES[True] + _FILES[False])}, .gz or not) in {self.raw_folder}, "
                    "or install torchvision."
                ) from err
            partial = target + ".partial"
            with open(partial, "wb") as f:
                f.write(payload)
            os.replace(partial, target)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, idx: int) -> tuple[Any, int]:
        target = int(self.targets[idx])
        if self.transform is not None:
            from PIL import Image

            return self.transform(Image.fromarray(self.data[idx].numpy(), mode="L")), target
        img = self.data[idx].float().div(255).unsqueeze(0)
        if self.normalize is not None and len(self.normalize) == 2:
            mean, std = self.normalize
            img = (img - mean) / std
        return img, target


def MNIST(*args: Any, **kwargs: Any) -> Dataset:
    """torchvision's MNIST when torchvision is installed and ``PL_USE_MOCKED_MNIST`` is unset; ours otherwise."""
    if not os.getenv("PL_USE_MOCKED_MNIST"):
        try:
            from torchvision.datasets import MNIST as TorchvisionMNIST
        except ImportError:
            pass
        else:
            kwargs.pop("normalize", None)
            return TorchvisionMNIST(*args, **kwargs)
    return _MNIST(*args, **kwargs)


class MNISTDataModule(LightningDataModule):
    """MNIST's training set split into train and validation (``val_split`` images, a fixed seed), and its test set."""

    name = "mnist"

    def __init__(
        self,
        data_dir: str = _DATASETS_PATH,
        val_split: int = 5000,
        num_workers: int = 16,
        normalize: bool = False,
        seed: int = 42,
        batch_size: int = 32,
    ) -> None:
        super().__init__()
        if num_workers and _IS_WINDOWS:
            num_workers = 0
        self.data_dir = data_dir
        self.val_split = val_split
        self.num_workers = num_workers
        self.normalize = normalize
        self.seed = seed
        self.batch_size = batch_size

    @property
    def num_classes(self) -> int:
        return 10

    @property
    def default_transforms(self) -> Callable | None:
        try:
            from torchvision import transforms
        except ImportError:
            return None
        if self.normalize:
            return transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean=(0.5,), std=(0.5,))])
        return transforms.ToTensor()

    def _dataset(self, train: bool, download: bool) -> Dataset:
        transform = self.default_transforms
        if transform is not None:
            return MNIST(self.data_dir, train=train, download=download, transform=transform)
        return MNIST(self.data_dir, train=train, download=download, normalize=(0.5, 0.5) if self.normalize else None)

    def prepare_data(self) -> None:
        self._dataset(True, download=True)
        self._dataset(False, download=True)

    def setup(self, stage: str) -> None:
        dataset = self._dataset(True, download=False)
        self.dataset_train, self.dataset_val = random_split(
            dataset, [len(dataset) - self.val_split, self.val_split], generator=torch.Generator().manual_seed(42)
        )

    def _loader(self, dataset: Dataset, shuffle: bool) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            drop_last=True,
            pin_memory=torch.cuda.is_available(),
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.dataset_train, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.dataset_val, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self._dataset(False, download=False), shuffle=False)
