"""The data: a short public-domain text shipped with the project (no downloads), or your .txt file."""

import math
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

import runtime as pl

CORPUS = Path(__file__).with_name(
    "corpus.txt"
)  # the Declaration of Independence (1776), public domain


def read_text_bytes(path: Path) -> bytes:
    """The bytes of a plain text file, or a ValueError saying why ``path`` is not one."""
    if not path.exists():
        raise ValueError(f"{path}: no such file; give a plain text file (.txt)")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a plain text file (.txt)")
    data = path.read_bytes()
    if not data.strip():
        raise ValueError(f"{path}: the file is empty")
    sample = data[:65536]
    # text has no NUL bytes and few control characters; images, archives and checkpoints have many
    controls = sum(b < 32 and b not in (9, 10, 13) for b in sample)
    if b"\0" in sample or controls > len(sample) // 100:
        raise ValueError(
            f"{path}: does not look like plain text (binary bytes found); give a .txt file"
        )
    return data


class Windows(Dataset):
    """(input, target) pairs of ``block_size`` bytes, the target shifted by one, starting every ``stride`` bytes."""

    def __init__(self, data: torch.Tensor, block_size: int, stride: int):
        self.data, self.block_size = data, block_size
        self.starts = list(range(0, len(data) - block_size - 1, stride)) or [0]

    def __len__(self):
        return len(self.starts)

    def __getitem__(self, i):
        s = self.starts[i]
        chunk = self.data[s : s + self.block_size + 1]
        return chunk[:-1], chunk[1:]


class TextDataModule(pl.LightningDataModule):
    """The text as bytes: the first part for training, the rest for validation.

    Args:
        data_path: a .txt file; None uses the shipped corpus.txt.
        block_size: characters of context per sample.
        train_stride: a training window starts every this many characters (1: every position).
        val_fraction: share of the text (its end) held out for validation.
        batch_size: samples per batch.
        num_workers: DataLoader worker processes.
    """

    def __init__(
        self,
        data_path: str | None = None,
        block_size: int = 64,
        train_stride: int = 3,
        val_fraction: float = 0.1,
        batch_size: int = 32,
        num_workers: int = 0,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.train_data = self.val_data = None

    def setup(self, stage: str):
        if self.train_data is not None:
            return
        path = (
            Path(self.hparams.data_path).expanduser()
            if self.hparams.data_path
            else CORPUS
        )
        data = torch.tensor(list(read_text_bytes(path)), dtype=torch.long)
        n_val = max(
            self.hparams.block_size + 2, int(len(data) * self.hparams.val_fraction)
        )
        if len(data) - n_val < self.hparams.block_size + 2:
            raise ValueError(
                f"{path} is too short: {len(data)} bytes for block_size={self.hparams.block_size}"
            )
        self.train_data, self.val_data = data[:-n_val], data[-n_val:]

    def unigram_perplexity(self) -> float:
        """Validation perplexity of a model that ignores context: byte frequencies of the training text."""
        self.setup("fit")
        counts = (
            torch.bincount(self.train_data, minlength=256).double() + 0.01
        )  # smoothed for unseen bytes
        log_probs = (counts / counts.sum()).log()
        return math.exp(-float(log_probs[self.val_data].mean()))

    def train_dataloader(self):
        data = Windows(
            self.train_data, self.hparams.block_size, stride=self.hparams.train_stride
        )
        return DataLoader(
            data,
            batch_size=self.hparams.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=self.hparams.num_workers,
        )

    def val_dataloader(self):
        data = Windows(
            self.val_data, self.hparams.block_size, stride=self.hparams.block_size // 2
        )
        return DataLoader(
            data,
            batch_size=self.hparams.batch_size,
            num_workers=self.hparams.num_workers,
        )

    def test_dataloader(self):
        return self.val_dataloader()

    def predict_dataloader(self):
        return self.val_dataloader()
