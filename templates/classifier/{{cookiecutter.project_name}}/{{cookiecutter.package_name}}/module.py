"""The LightningModule: what one training / validation / test step does, the optimizer, and the confusion matrix."""
from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

import runtime as pl
from runtime.metrics import Accuracy

from {{ cookiecutter.package_name }}.images import log_picture
from {{ cookiecutter.package_name }}.models import CNN, MLP
from {{ cookiecutter.package_name }}.report import RunSummary


class ClassifierModule(pl.LightningModule):
    """Cross-entropy classification: a CNN for images, an MLP for feature vectors.

    After every validation the confusion matrix (rows: true class, columns: predicted) is saved as
    ``confusion/epoch=NNN.png`` in the run's folder and shown in TensorBoard.

    Args:
        num_classes: number of classes (must match the data).
        num_features: width of a feature vector (a .csv / .npz / .pt file); None for images.
        channels: image channels, 3 for colour, 1 for grey (images only).
        hidden_dim: width of the hidden layers (the CNN's first convolution; it doubles per block).
        num_layers: hidden layers (MLP) or convolution blocks (CNN).
        dropout: dropout probability.
        optimizer: adam, adamw or sgd.
        lr: learning rate.
        weight_decay: weight decay of the optimizer.
    """

    def __init__(
        self,
        num_classes: int = {{ cookiecutter._num_classes }},
        num_features: int | None = {{ cookiecutter._num_features }},
        channels: int = 3,
        hidden_dim: int = 16,
        num_layers: int = 3,
        dropout: float = 0.1,
        optimizer: Literal["adam", "adamw", "sgd"] = "adam",
        lr: float = 0.003,
        weight_decay: float = 0.0,
    ):
        super().__init__()
        self.save_hyperparameters()
        if num_features is None:
            self.model = CNN(channels, num_classes, hidden_dim, num_layers, dropout)
        else:
            self.model = MLP(num_features, num_classes, hidden_dim, num_layers, dropout)
        self.val_acc = Accuracy(task="multiclass", num_classes=num_classes)
        self.test_acc = Accuracy(task="multiclass", num_classes=num_classes)
        self._confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def on_validation_epoch_start(self):
        self._confusion = torch.zeros_like(self._confusion, device=self.device)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", self.val_acc, prog_bar=True)
        n = self.hparams.num_classes  # counts of (true, predicted) pairs, kept on the device
        self._confusion += torch.bincount(y * n + logits.argmax(-1), minlength=n * n).view(n, n)

    def on_validation_epoch_end(self):
        if self.trainer.sanity_checking or not self.trainer.is_global_zero:
            return
        names = getattr(self.trainer.datamodule, "class_names", None) or [str(i) for i in range(self.hparams.num_classes)]
        picture = draw_confusion(self._confusion.cpu().numpy(), names)
        log_picture(self.trainer, "confusion", f"epoch={self.current_epoch:03d}", picture, scale=2)

    def test_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.test_acc(logits, y)
        self.log("test_acc", self.test_acc)

    def predict_step(self, batch, batch_idx):
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        return self(x).argmax(dim=-1)

    def configure_callbacks(self):
        return [RunSummary(monitor="val_acc", mode="max", pictures="confusion")]

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "sgd":
            return torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=0.9, weight_decay=hp.weight_decay)
        cls = torch.optim.AdamW if hp.optimizer == "adamw" else torch.optim.Adam
        return cls(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)


def draw_confusion(matrix: np.ndarray, names: list[str], cell: int = 36) -> torch.Tensor:
    """A confusion matrix (rows: true class, columns: predicted) as a (3, H, W) picture in [0, 1].

    Each cell shows its count; its blue is the share of the true class's samples predicted there.
    """
    from PIL import Image, ImageDraw

    n = len(matrix)
    labels = [name[:10] for name in names]
    margin = 8 + 7 * max(len(s) for s in labels)
    img = Image.new("RGB", (margin + n * cell + 4, margin + n * cell + 4), "white")
    draw = ImageDraw.Draw(img)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    for i in range(n):
        draw.text((4, margin + i * cell + cell // 2 - 5), labels[i], fill="black")  # true class, left
        draw.text((margin + i * cell + 2, 4 + (i % 2) * 12), labels[i], fill="black")  # predicted, top
        for j in range(n):
            shade = int(255 * (1 - shares[i, j]))
            box = (margin + j * cell, margin + i * cell, margin + (j + 1) * cell - 1, margin + (i + 1) * cell - 1)
            draw.rectangle(box, fill=(shade, shade, 255), outline=(200, 200, 200))
            draw.text((box[0] + 4, box[1] + cell // 2 - 5), str(int(matrix[i, j])), fill="black" if shade > 120 else "white")
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1)
