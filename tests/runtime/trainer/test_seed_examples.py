"""The code snippets of the PyTorch Lightning 1.0.0 announcement (shared/seed/000_76d0102b00bf36af.txt),
made runnable: the parts elided with `...` are filled in with the smallest plausible code."""
import os

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import runtime as pl
from runtime.callbacks import ModelCheckpoint

from tests.runtime.helpers import clone_params, expect_deprecation


def xy_batches(n=16, batch_size=4, classes=3):
    g = torch.Generator().manual_seed(0)
    return DataLoader(TensorDataset(torch.randn(n, 8, generator=g), torch.randint(0, classes, (n,), generator=g)),
                      batch_size=batch_size)


def quiet(tmp_path, **kwargs):
    opts = dict(default_root_dir=str(tmp_path), max_epochs=1, logger=False, enable_progress_bar=False,
                enable_model_summary=False)
    opts.update(kwargs)
    return opts


# ---------------------------------------------------------------- "3. manual vs automatic optimization"
def test_automatic_optimization_snippet(tmp_path):
    class LitModel(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Linear(8, 1)

        # from the announcement
        def training_step(self, batch, batch_idx):
            loss = self.encoder(batch[0]).pow(2).mean()  # `self.encoder(batch[0])`, reduced to a scalar
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    model = LitModel()
    before = clone_params(model)
    trainer = pl.Trainer(enable_checkpointing=False, **quiet(tmp_path))
    trainer.fit(model, xy_batches())
    assert trainer.global_step == 4
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


class GanLike(pl.LightningModule):
    """Three optimizers, as in the announcement's manual-optimization snippet."""

    def __init__(self):
        super().__init__()
        self.gen = nn.Linear(8, 1)
        self.disc = nn.Linear(8, 1)
        self.third = nn.Linear(8, 1)
        self.opt_idx_seen = []

    def generator(self, x):
        return self.gen(x).pow(2).mean()

    def discriminator(self, x):
        return self.disc(x).pow(2).mean()

    # ---- the announcement's code, `...` filled in
    def training_step(self, batch, batch_idx, opt_idx):
        self.opt_idx_seen.append(opt_idx)
        (opt_a, opt_b, opt_c) = self.optimizers()
        loss_a = self.generator(batch[0])
        # use this instead of loss.backward so we can automate half
        # precision, etc...
        self.manual_backward(loss_a, opt_a, retain_graph=True)
        self.manual_backward(loss_a, opt_a)
        opt_a.step()
        opt_a.zero_grad()
        loss_b = self.discriminator(batch[0])
        self.manual_backward(loss_b, opt_b)
        opt_b.step()
        opt_b.zero_grad()
        loss_c = self.third(batch[0]).pow(2).mean()
        self.manual_backward(loss_c, opt_c)
        opt_c.step()
        opt_c.zero_grad()

    def configure_optimizers(self):
        return [torch.optim.SGD(m.parameters(), lr=0.1) for m in (self.gen, self.disc, self.third)]


def test_manual_optimization_snippet_with_three_optimizers(tmp_path):
    model = GanLike()
    before = {name: clone_params(getattr(model, name)) for name in ("gen", "disc", "third")}
    with expect_deprecation():
        trainer = pl.Trainer(automatic_optimization=False, enable_checkpointing=False, **quiet(tmp_path))
        trainer.fit(model, xy_batches())
    for name, params in before.items():
        assert any(not torch.equal(a, b) for a, b in zip(params, getattr(model, name).parameters())), name
    assert model.opt_idx_seen == [0, 0, 0, 0]
    assert trainer.global_step == 12  # three optimizer steps per batch


# ---------------------------------------------------------------- "4. Logging"
def test_logging_snippets(tmp_path):
    class LitModel(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(8, 3)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = F.cross_entropy(self.layer(x), y)
            self.log('my_metric', x.mean())
            self.log('my_loss', loss, on_step=True, on_epoch=True, prog_bar=True, logger=True)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    trainer = pl.Trainer(enable_checkpointing=False, **quiet(tmp_path))
    trainer.fit(LitModel(), xy_batches())
    cm = trainer.callback_metrics
    assert {"my_metric", "my_loss", "my_loss_step", "my_loss_epoch"} <= set(cm)
    assert {"my_loss_step", "my_loss_epoch"} <= set(trainer.progress_bar_metrics)


# ---------------------------------------------------------------- "5. Data flow"
def test_data_flow_snippet(tmp_path):
    class LitModel(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(8, 3)
            self.collected = []

        def training_step(self, batch, batch_idx):
            x, y = batch
            prediction = self.layer(x)
            loss = F.cross_entropy(prediction, y)
            return {'loss': loss, 'preds': prediction}

        def training_epoch_end(self, training_step_outputs):
            for out in training_step_outputs:
                prediction = out['preds']
                # do something with these
                self.collected.append(prediction)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    model = LitModel()
    with expect_deprecation(match="training_epoch_end"):
        pl.Trainer(max_epochs=2, enable_checkpointing=False, **{k: v for k, v in quiet(tmp_path).items()
                                                                 if k != "max_epochs"}).fit(model, xy_batches())
    assert len(model.collected) == 8  # 4 batches x 2 epochs
    assert all(p.shape == (4, 3) for p in model.collected)


def test_data_flow_pseudocode_order(tmp_path):
    """outs = []; for batch in data: out = training_step(batch); outs.append(out); training_epoch_end(outs)"""
    events = []

    class LitModel(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(8, 3)

        def training_step(self, batch, batch_idx):
            events.append(("step", batch_idx))
            return F.cross_entropy(self.layer(batch[0]), batch[1])

        def training_epoch_end(self, outs):
            events.append(("epoch_end", len(outs)))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    with expect_deprecation():
        pl.Trainer(enable_checkpointing=False, **quiet(tmp_path)).fit(LitModel(), xy_batches())
    assert events == [("step", 0), ("step", 1), ("step", 2), ("step", 3), ("epoch_end", 4)]


# ---------------------------------------------------------------- "6. Checkpointing"
class LitAutoEncoder(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(8, 3)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.backbone(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        y_hat = self.backbone(x)

        # 1. calculate loss
        loss = F.cross_entropy(y_hat, y)

        # 2. log `val_loss`
        self.log('val_loss', loss)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_checkpoint_snippet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # "in the current working directory"
    # 3. Init ModelCheckpoint callback, monitoring 'val_loss'
    checkpoint_callback = ModelCheckpoint(monitor='val_loss')

    # 4. Pass your callback to checkpoint_callback trainer flag
    with expect_deprecation(match="checkpoint_callback"):
        trainer = pl.Trainer(checkpoint_callback=checkpoint_callback, max_epochs=3, logger=False,
                             enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(LitAutoEncoder(), xy_batches(), xy_batches(n=8, batch_size=4))
    assert trainer.checkpoint_callback is checkpoint_callback
    best = checkpoint_callback.best_model_path
    assert best and os.path.isfile(best)
    assert os.path.realpath(best).startswith(os.path.realpath(str(tmp_path)))
    scores = checkpoint_callback.best_k_models
    assert float(checkpoint_callback.best_model_score) == pytest.approx(min(float(v) for v in scores.values()))


def test_checkpoint_snippet_2x_spelling(tmp_path):
    checkpoint_callback = ModelCheckpoint(monitor='val_loss', dirpath=str(tmp_path / "ckpt"))
    trainer = pl.Trainer(callbacks=[checkpoint_callback], max_epochs=2, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=str(tmp_path))
    trainer.fit(LitAutoEncoder(), xy_batches(), xy_batches(n=8, batch_size=4))
    assert os.path.isfile(checkpoint_callback.best_model_path)
    assert os.path.basename(checkpoint_callback.best_model_path) in {"epoch=0-step=4.ckpt", "epoch=1-step=8.ckpt"}


# ---------------------------------------------------------------- "2. Metrics" (needs runtime.metrics)
def test_metrics_snippet_accuracy(tmp_path):
    pytest.importorskip("runtime.metrics")

    class LitModel(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(8, 3)
            self.train_acc = pl.metrics.Accuracy()
            self.valid_acc = pl.metrics.Accuracy()

        def forward(self, x):
            return self.layer(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            logits = self(x)
            loss = F.cross_entropy(logits, y)
            self.train_acc(logits.softmax(-1), y)
            # log step metric
            self.log('train_acc_step', self.train_acc)
            return loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            logits = self(x)
            self.valid_acc(logits.softmax(-1), y)
            # logs epoch metrics
            self.log('valid_acc', self.valid_acc)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    trainer = pl.Trainer(enable_checkpointing=False, **quiet(tmp_path))
    trainer.fit(LitModel(), xy_batches(), xy_batches(n=8, batch_size=4))
    assert 0.0 <= float(trainer.callback_metrics["valid_acc"]) <= 1.0
    assert "train_acc_step" in trainer.callback_metrics


def test_metrics_snippet_custom_metric():
    metrics = pytest.importorskip("runtime.metrics")
    Metric = metrics.Metric

    class MyAccuracy(Metric):
        def __init__(self, dist_sync_on_step=False):
            super().__init__(dist_sync_on_step=dist_sync_on_step)
            self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
            self.add_state("total", default=torch.tensor(0), dist_reduce_fx="sum")

        def _input_format(self, preds, target):  # elided in the announcement
            return preds.argmax(-1), target

        def update(self, preds: torch.Tensor, target: torch.Tensor):
            preds, target = self._input_format(preds, target)
            assert preds.shape == target.shape
            self.correct += torch.sum(preds == target)
            self.total += target.numel()

        def compute(self):
            return self.correct.float() / self.total

    acc = MyAccuracy()
    acc.update(torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]), torch.tensor([0, 1, 1]))
    assert float(acc.compute()) == pytest.approx(2 / 3)
    acc.reset()
    acc.update(torch.tensor([[0.9, 0.1]]), torch.tensor([0]))
    assert float(acc.compute()) == 1.0
