"""runtime.demos.mnist_datamodule: Lightning's examples import MNIST / MNISTDataModule from there.

The data are written here as small IDX files (MNIST's own format); nothing is downloaded.
"""

import gzip
import struct
import urllib.request

import pytest
import torch

import runtime as pl
from runtime.demos.mnist_datamodule import MNIST, MNISTDataModule, _MNIST


def _write_idx(path, tensor, compress):
    header = bytes([0, 0, 0x08, tensor.dim()]) + struct.pack(f">{tensor.dim()}I", *tensor.shape)
    payload = header + tensor.numpy().tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


@pytest.fixture
def mnist_root(tmp_path, monkeypatch):
    monkeypatch.setenv("PL_USE_MOCKED_MNIST", "1")  # our reader, whether torchvision is installed or not
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    for prefix, n, compress in (("train", 96, True), ("t10k", 40, False)):
        images = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
        labels = torch.arange(n, dtype=torch.uint8) % 10
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images, compress)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, compress)
    return tmp_path


def test_reads_idx_files_gz_or_plain(mnist_root):
    train = MNIST(str(mnist_root), train=True, download=False, normalize=None)
    test = MNIST(str(mnist_root), train=False, download=False)
    assert isinstance(train, _MNIST)
    assert (len(train), len(test)) == (96, 40)
    image, label = train[13]
    assert image.shape == (1, 28, 28) and label == 3
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0


def test_transform_gets_a_pil_image(mnist_root):
    seen = []
    dataset = MNIST(str(mnist_root), train=False, download=False, transform=lambda img: seen.append(img.size) or 1)
    assert dataset[0] == (1, 0) and seen == [(28, 28)]


def test_missing_files_offline_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("PL_USE_MOCKED_MNIST", "1")

    def offline(*args, **kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match=r"Could not download MNIST .*MNIST[/\\]raw"):
        MNIST(str(tmp_path), train=True, download=True)
    with pytest.raises(RuntimeError, match="MNIST not found"):
        MNIST(str(tmp_path), train=True, download=False)


def test_a_file_that_is_not_idx_is_refused(mnist_root):
    (mnist_root / "MNIST" / "raw" / "t10k-images-idx3-ubyte").write_bytes(b"\x80\x04not an idx file")
    with pytest.raises(ValueError, match="not an MNIST IDX file"):
        MNIST(str(mnist_root), train=False, download=False)


def test_datamodule_trains(mnist_root, tmp_path):
    class Classifier(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(28 * 28, 10)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.cross_entropy(self.layer(x.flatten(1)), y)

        def validation_step(self, batch, batch_idx):
            x, y = batch
            self.log("val_loss", torch.nn.functional.cross_entropy(self.layer(x.flatten(1)), y))

        def test_step(self, batch, batch_idx):
            x, y = batch
            self.log("test_loss", torch.nn.functional.cross_entropy(self.layer(x.flatten(1)), y))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    dm = MNISTDataModule(data_dir=str(mnist_root), val_split=32, num_workers=0, batch_size=16)
    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(Classifier(), datamodule=dm)
    assert trainer.global_step == 4  # 64 training images, batches of 16, drop_last
    assert "val_loss" in trainer.callback_metrics
    (result,) = trainer.test(datamodule=dm, verbose=False)
    assert "test_loss" in result
