"""Metrics with the runtime: self.log of a metric object, MetricCollection with log_dict, lazy import."""
import subprocess
import sys

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl
from tests.runtime.helpers import make_trainer


def _loader(n=24, batch_size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(torch.randn(n, 6, generator=g), torch.randint(0, 3, (n,), generator=g)), batch_size=batch_size)


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(6, 3)
        self.train_acc = pl.metrics.Accuracy()  # no task: the 1.0 announcement's spelling
        self.val_metrics = pl.metrics.MetricCollection(
            [pl.metrics.Accuracy(task="multiclass", num_classes=3), pl.metrics.F1Score(task="multiclass", num_classes=3, average="macro")],
            prefix="val_",
        )
        self.step_values, self.val_preds = [], []

    def forward(self, x):
        return self.layer(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.train_acc(logits, y)
        self.log("train_acc", self.train_acc, on_step=True, on_epoch=True)
        self.step_values.append(float(self.train_acc._forward_cache))
        return F.cross_entropy(logits, y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_preds.append((logits.detach().clone(), y))
        self.val_metrics(logits, y)
        self.log_dict(self.val_metrics)  # the metric objects: epoch values are computed over the epoch

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)  # frozen weights: the epoch value is checkable


def test_metric_logged_on_step_and_epoch_and_reset(tmp_path):
    model = Classifier()
    trainer = make_trainer(tmp_path, max_epochs=2, log_every_n_steps=1, num_sanity_val_steps=0)
    trainer.fit(model, _loader(), _loader(n=16, seed=1))
    cm = trainer.callback_metrics
    assert float(cm["train_acc_step"]) == model.step_values[-1]
    # epoch value = accuracy over the last epoch's 24 samples alone (the state was reset after epoch 0)
    with torch.no_grad():
        x, y = _loader().dataset.tensors
        expected = (model(x).argmax(1) == y).float().mean()
    assert float(cm["train_acc_epoch"]) == float(expected)
    assert int(model.train_acc.total) == 0  # reset at epoch end
    preds = torch.cat([p for p, _ in model.val_preds[-2:]])
    target = torch.cat([t for _, t in model.val_preds[-2:]])
    assert float(cm["val_Accuracy"]) == float(
        pl.metrics.functional.accuracy(preds, target, task="multiclass", num_classes=3))
    assert float(cm["val_F1Score"]) == float(
        pl.metrics.functional.f1_score(preds, target, task="multiclass", num_classes=3, average="macro"))


def test_import_runtime_does_not_import_metrics():
    code = "import sys, runtime; assert 'runtime.metrics' not in sys.modules; import runtime as pl; pl.metrics.Accuracy(); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(__import__("pathlib").Path(__file__).parents[3]))
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr
