"""The LightningModule: what one training / validation / test step does, and the optimizer."""
from typing import Literal

import torch
from torch.nn import functional as F

import runtime as pl
from runtime.metrics import Accuracy

from {{ cookiecutter.package_name }}.models import MLP


class ClassifierModule(pl.LightningModule):
    """Cross-entropy classification with an MLP.

    Args:
        num_features: input width (must match the data).
        num_classes: number of classes (must match the data).
        hidden_dim: width of the hidden layers.
        num_layers: number of hidden layers.
        dropout: dropout probability after each hidden layer.
        optimizer: adam, adamw or sgd.
        lr: learning rate.
        weight_decay: weight decay of the optimizer.
    """

    def __init__(
        self,
        num_features: int = {{ cookiecutter._num_features }},
        num_classes: int = {{ cookiecutter._num_classes }},
        hidden_dim: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        optimizer: Literal["adam", "adamw", "sgd"] = "adam",
        lr: float = 0.003,
        weight_decay: float = 0.0,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.model = MLP(num_features, num_classes, hidden_dim, num_layers, dropout)
        self.val_acc = Accuracy(task="multiclass", num_classes=num_classes)
        self.test_acc = Accuracy(task="multiclass", num_classes=num_classes)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", self.val_acc, prog_bar=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.test_acc(logits, y)
        self.log("test_acc", self.test_acc)

    def predict_step(self, batch, batch_idx):
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        return self(x).argmax(dim=-1)

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "sgd":
            return torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=0.9, weight_decay=hp.weight_decay)
        cls = torch.optim.AdamW if hp.optimizer == "adamw" else torch.optim.Adam
        return cls(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
