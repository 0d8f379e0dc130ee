"""The 1.0 spellings (PyTorch Lightning 1.0 announcement) still run, each with a deprecation warning:
x_step_end / x_epoch_end(outputs) data flow, Trainer(automatic_optimization=False),
Trainer(checkpoint_callback=...), training_step(batch, batch_idx, optimizer_idx) in manual mode,
self.manual_backward(loss, optimizer)."""
import glob
import os
import warnings

import pytest
import torch

import runtime as pl
from runtime.callbacks import ModelCheckpoint
from runtime.demos.boring_classes import BoringModel

from tests.runtime.helpers import QUIET, clone_params, expect_deprecation, make_trainer, random_loader


def _quiet(tmp_path, **kwargs):
    opts = dict(default_root_dir=str(tmp_path), max_epochs=1, logger=False, enable_progress_bar=False,
                enable_model_summary=False)
    opts.update(kwargs)
    return opts


# ------------------------------------------------------------------ data flow
class EpochEndModel(BoringModel):
    def __init__(self):
        super().__init__()
        self.train_outputs = []
        self.val_outputs = []
        self.test_outputs = []

    def training_step(self, batch, batch_idx):
        preds = self(batch)
        return {"loss": self.loss(preds), "preds": preds, "idx": batch_idx}

    def training_epoch_end(self, outputs):
        self.train_outputs.append(outputs)

    def validation_step(self, batch, batch_idx):
        return {"val_idx": batch_idx, "x": self.step(batch)}

    def validation_epoch_end(self, outputs):
        self.val_outputs.append(outputs)

    def test_step(self, batch, batch_idx):
        return batch_idx * 10

    def test_epoch_end(self, outputs):
        self.test_outputs.append(outputs)


def test_training_epoch_end_receives_every_step_output(tmp_path):
    model = EpochEndModel()
    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=3, limit_val_batches=2,
                           num_sanity_val_steps=0)
    with expect_deprecation(match="training_epoch_end"):
        trainer.fit(model, random_loader(length=6), random_loader(length=4))
    assert len(model.train_outputs) == 2  # once per epoch
    for outputs in model.train_outputs:
        assert len(outputs) == 3
        assert [o["idx"] for o in outputs] == [0, 1, 2]
        for o in outputs:
            assert set(o) == {"loss", "preds", "idx"}
            assert o["preds"].shape == (2, 2)
            assert not o["loss"].requires_grad  # detached
    # outputs are per epoch, not accumulated across epochs
    assert model.train_outputs[0] is not model.train_outputs[1]


def test_validation_epoch_end_receives_every_step_output(tmp_path):
    model = EpochEndModel()
    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=1, limit_val_batches=2,
                           num_sanity_val_steps=0)
    with expect_deprecation(match="validation_epoch_end"):
        trainer.fit(model, random_loader(length=6), random_loader(length=4))
    assert len(model.val_outputs) == 2
    for outputs in model.val_outputs:
        assert [o["val_idx"] for o in outputs] == [0, 1]
    model.val_outputs.clear()
    make_trainer(tmp_path).validate(model, random_loader(length=6))
    assert [o["val_idx"] for o in model.val_outputs[0]] == [0, 1, 2]


def test_test_epoch_end_receives_every_step_output(tmp_path):
    model = EpochEndModel()
    with expect_deprecation(match="test_epoch_end"):
        make_trainer(tmp_path).test(model, random_loader(length=8))
    assert model.test_outputs == [[0, 10, 20, 30]]


def test_training_epoch_end_with_tensor_outputs(tmp_path):
    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            return self.step(batch)

        def training_epoch_end(self, outputs):
            self.outputs = outputs

    model = Model()
    with expect_deprecation():
        make_trainer(tmp_path, limit_val_batches=0).fit(model, random_loader(length=6))
    assert len(model.outputs) == 3
    for o in model.outputs:
        loss = o["loss"] if isinstance(o, dict) else o
        assert isinstance(loss, torch.Tensor) and loss.ndim == 0 and not loss.requires_grad


def test_training_step_end_is_in_the_data_flow(tmp_path):
    """training_step -> training_step_end -> (its output is the loss and goes to training_epoch_end)."""

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            return {"loss": self.step(batch), "idx": batch_idx}

        def training_step_end(self, step_output):
            self.step_end_inputs = getattr(self, "step_end_inputs", []) + [step_output["idx"]]
            # the value returned here is what gets optimized: zero it, so nothing moves
            return {"loss": step_output["loss"] * 0, "idx": step_output["idx"], "seen_by_step_end": True}

        def training_epoch_end(self, outputs):
            self.outputs = outputs

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    model = Model()
    before = clone_params(model)
    with expect_deprecation(match="training_step_end"):
        make_trainer(tmp_path, limit_val_batches=0).fit(model, random_loader(length=6))
    assert model.step_end_inputs == [0, 1, 2]
    assert all(o["seen_by_step_end"] for o in model.outputs)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_validation_step_end(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            return batch_idx

        def validation_step_end(self, out):
            return out + 100

        def validation_epoch_end(self, outputs):
            self.outputs = outputs

    model = Model()
    with expect_deprecation(match="validation_step_end"):
        make_trainer(tmp_path).validate(model, random_loader(length=4))
    assert model.outputs == [100, 101]


def test_no_deprecation_warning_without_1_0_hooks(tmp_path):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=1).fit(BoringModel())
    dep = [str(w.message) for w in record if issubclass(w.category, (DeprecationWarning, FutureWarning))]
    assert dep == []


def test_epoch_end_can_log(tmp_path):
    class Model(EpochEndModel):
        def validation_epoch_end(self, outputs):
            self.log("val_mean", torch.stack([o["x"] for o in outputs]).mean())

    model = Model()
    with expect_deprecation():
        results = make_trainer(tmp_path).validate(model, random_loader(length=4))
    assert "val_mean" in results[0]


# ------------------------------------------------------------------ 1.0 Trainer flags
class ManualIn10Style(BoringModel):
    """Manual optimization written the 1.0 way: the switch is on the Trainer, not the module."""

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        loss = self.step(batch)
        self.manual_backward(loss)
        opt.step()
        opt.zero_grad()
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_trainer_automatic_optimization_false(tmp_path):
    model = ManualIn10Style()
    before = clone_params(model)
    with expect_deprecation(match="automatic_optimization"):
        trainer = pl.Trainer(automatic_optimization=False, limit_train_batches=3, limit_val_batches=0,
                             enable_checkpointing=False, **_quiet(tmp_path))
    trainer.fit(model)
    assert model.automatic_optimization is False
    assert trainer.global_step == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_trainer_checkpoint_callback_false(tmp_path):
    with expect_deprecation(match="checkpoint_callback"):
        trainer = pl.Trainer(checkpoint_callback=False, limit_train_batches=1, limit_val_batches=0,
                             **_quiet(tmp_path))
    assert trainer.checkpoint_callback is None
    trainer.fit(BoringModel())
    assert glob.glob(os.path.join(str(tmp_path), "**", "*.ckpt"), recursive=True) == []


def test_trainer_checkpoint_callback_true(tmp_path):
    with expect_deprecation(match="checkpoint_callback"):
        trainer = pl.Trainer(checkpoint_callback=True, limit_train_batches=1, limit_val_batches=0,
                             **_quiet(tmp_path))
    assert isinstance(trainer.checkpoint_callback, ModelCheckpoint)
    trainer.fit(BoringModel())
    assert len(glob.glob(os.path.join(str(tmp_path), "**", "*.ckpt"), recursive=True)) == 1


def test_trainer_checkpoint_callback_instance(tmp_path):
    class Model(BoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("val_loss", self.step(batch))

    ckpt = ModelCheckpoint(dirpath=str(tmp_path / "ckpts"), monitor="val_loss")
    with expect_deprecation(match="checkpoint_callback"):
        trainer = pl.Trainer(checkpoint_callback=ckpt, max_epochs=2, limit_train_batches=2, limit_val_batches=2,
                             default_root_dir=str(tmp_path), logger=False, enable_progress_bar=False,
                             enable_model_summary=False)
    assert trainer.checkpoint_callback is ckpt
    assert ckpt in trainer.callbacks
    trainer.fit(Model())
    assert ckpt.best_model_path.startswith(str(tmp_path / "ckpts"))
    assert os.path.isfile(ckpt.best_model_path)
    assert ckpt.best_model_score is not None


# ------------------------------------------------------------------ 1.0 manual optimization signatures
def test_training_step_with_optimizer_idx_in_manual_mode(tmp_path):
    class Model(BoringModel):
        def __init__(self):
            super().__init__()
            self.automatic_optimization = False
            self.idx_seen = []

        def training_step(self, batch, batch_idx, optimizer_idx):
            self.idx_seen.append(optimizer_idx)
            opt_a, opt_b = self.optimizers()
            loss = self.step(batch)
            self.manual_backward(loss)
            opt_a.step()
            opt_b.step()
            opt_a.zero_grad()
            opt_b.zero_grad()

        def configure_optimizers(self):
            return [torch.optim.SGD(self.parameters(), lr=0.1), torch.optim.SGD(self.parameters(), lr=0.1)]

    model = Model()
    with expect_deprecation(match="optimizer_idx"):
        trainer = make_trainer(tmp_path, limit_train_batches=3, limit_val_batches=0)
        trainer.fit(model)
    assert model.idx_seen == [0, 0, 0]  # called once per batch, not once per optimizer
    assert trainer.global_step == 6


def test_manual_backward_with_optimizer_argument(tmp_path):
    class Model(BoringModel):
        def __init__(self):
            super().__init__()
            self.automatic_optimization = False

        def training_step(self, batch, batch_idx):
            self.start = {k: v.clone() for k, v in self.state_dict().items()}
            self.batch = batch.clone()
            opt = self.optimizers()
            loss = self.step(batch)
            self.manual_backward(loss, opt, retain_graph=True)
            self.manual_backward(loss, opt)  # the graph was kept: a second backward works
            self.grad_after = self.layer.bias.grad.clone()
            opt.step()
            opt.zero_grad()

    model = Model()
    with expect_deprecation(match="manual_backward"):
        trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0)
        trainer.fit(model, random_loader(length=2, batch_size=2))
    assert trainer.global_step == 1
    # two backward passes of the same loss: twice the single gradient
    ref = BoringModel()
    ref.load_state_dict(model.start)
    ref.step(model.batch).backward()
    assert torch.allclose(model.grad_after, 2 * ref.layer.bias.grad)
