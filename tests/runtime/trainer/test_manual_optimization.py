"""Manual optimization: self.automatic_optimization = False, self.optimizers(), self.lr_schedulers(),
manual_backward, toggle_optimizer, and global_step counting optimizer steps."""
import pytest
import torch
from torch import nn

import runtime as pl
from runtime.demos.boring_classes import BoringModel, ManualOptimBoringModel
from runtime.utilities.exceptions import MisconfigurationException

from tests.runtime.helpers import clone_params, make_trainer


def _changed(before, params):
    return any(not torch.equal(a, b) for a, b in zip(before, params))


def test_manual_optim_boring_model_trains(tmp_path):
    model = ManualOptimBoringModel()
    assert model.automatic_optimization is False
    before = clone_params(model)
    trainer = make_trainer(tmp_path, limit_train_batches=3, limit_val_batches=1)
    trainer.fit(model)
    assert _changed(before, model.parameters())
    assert trainer.global_step == 3


def test_optimizers_single_returns_a_wrapper(tmp_path):
    seen = {}

    class Model(ManualOptimBoringModel):
        def training_step(self, batch, batch_idx):
            opt = self.optimizers()
            seen["opt"] = opt
            seen["raw"] = self.optimizers(use_pl_optimizer=False)
            return super().training_step(batch, batch_idx)

    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0)
    trainer.fit(Model())
    opt = seen["opt"]
    assert not isinstance(opt, list)
    assert opt.optimizer is trainer.optimizers[0]
    assert seen["raw"] is trainer.optimizers[0]
    assert callable(opt.step) and callable(opt.zero_grad)
    assert opt.param_groups is trainer.optimizers[0].param_groups


class TwoOptModel(BoringModel):
    """Two layers, one optimizer each, both stepped every batch."""

    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.layer_b = nn.Linear(2, 2)
        self.log_ = {}

    def forward(self, x):
        return self.layer_b(self.layer(x))

    def configure_optimizers(self):
        opt_a = torch.optim.SGD(self.layer.parameters(), lr=0.1)
        opt_b = torch.optim.SGD(self.layer_b.parameters(), lr=0.1)
        sched_a = torch.optim.lr_scheduler.StepLR(opt_a, step_size=1, gamma=0.5)
        sched_b = torch.optim.lr_scheduler.StepLR(opt_b, step_size=1, gamma=0.1)
        return [opt_a, opt_b], [sched_a, sched_b]

    def training_step(self, batch, batch_idx):
        opts = self.optimizers()
        self.log_["opts"] = opts
        self.log_["scheds"] = self.lr_schedulers()
        opt_a, opt_b = opts
        steps = [self.trainer.global_step]

        self.toggle_optimizer(opt_a)
        self.log_["b_frozen"] = all(not p.requires_grad for p in self.layer_b.parameters())
        self.log_["a_free"] = all(p.requires_grad for p in self.layer.parameters())
        loss_a = self(batch).sum()
        opt_a.zero_grad()
        self.manual_backward(loss_a)
        opt_a.step()
        self.untoggle_optimizer(opt_a)
        self.log_["restored"] = all(p.requires_grad for p in self.parameters())
        steps.append(self.trainer.global_step)

        loss_b = self(batch).pow(2).mean()
        opt_b.zero_grad()
        self.manual_backward(loss_b)
        opt_b.step()
        steps.append(self.trainer.global_step)
        self.log_.setdefault("steps", []).append(steps)
        return loss_a + loss_b


def test_several_optimizers_manual(tmp_path):
    model = TwoOptModel()
    before_a = clone_params(model.layer)
    before_b = clone_params(model.layer_b)
    trainer = make_trainer(tmp_path, limit_train_batches=3, limit_val_batches=0)
    trainer.fit(model)
    opts = model.log_["opts"]
    assert isinstance(opts, list) and len(opts) == 2
    assert [o.optimizer for o in opts] == trainer.optimizers
    assert _changed(before_a, model.layer.parameters())
    assert _changed(before_b, model.layer_b.parameters())
    # global_step counts optimizer steps: two per batch
    assert trainer.global_step == 6
    assert model.log_["steps"] == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]


def test_toggle_and_untoggle_optimizer(tmp_path):
    model = TwoOptModel()
    make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(model)
    assert model.log_["b_frozen"] and model.log_["a_free"] and model.log_["restored"]


def test_lr_schedulers_are_returned_and_not_stepped_for_you(tmp_path):
    model = TwoOptModel()
    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(model)
    scheds = model.log_["scheds"]
    assert isinstance(scheds, list) and len(scheds) == 2
    assert [c.scheduler for c in trainer.lr_scheduler_configs] == scheds
    assert [o.param_groups[0]["lr"] for o in trainer.optimizers] == [0.1, 0.1]


def test_lr_schedulers_single_and_none(tmp_path):
    seen = {}

    class One(ManualOptimBoringModel):
        def training_step(self, batch, batch_idx):
            seen["one"] = self.lr_schedulers()
            sch = self.lr_schedulers()
            out = super().training_step(batch, batch_idx)
            if batch_idx == self.trainer.num_training_batches - 1:
                sch.step()
            return out

    class NoSched(ManualOptimBoringModel):
        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

        def training_step(self, batch, batch_idx):
            seen["none"] = self.lr_schedulers()
            return super().training_step(batch, batch_idx)

    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(One())
    assert isinstance(seen["one"], torch.optim.lr_scheduler.StepLR)
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.001)  # stepped twice by hand
    make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(NoSched())
    assert seen["none"] is None


def test_manual_backward_runs_backward_hooks(tmp_path):
    calls = []

    class Model(ManualOptimBoringModel):
        def on_before_backward(self, loss):
            calls.append("on_before_backward")

        def backward(self, loss, *args, **kwargs):
            calls.append("backward")
            super().backward(loss, *args, **kwargs)

        def on_after_backward(self):
            calls.append("on_after_backward")
            assert self.layer.weight.grad is not None

    make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(Model())
    assert calls == ["on_before_backward", "backward", "on_after_backward"]


def test_manual_step_with_closure(tmp_path):
    class Model(ManualOptimBoringModel):
        closures = 0

        def training_step(self, batch, batch_idx):
            opt = self.optimizers()

            def closure():
                self.closures += 1
                loss = self.step(batch)
                opt.zero_grad()
                self.manual_backward(loss)
                return loss

            opt.step(closure=closure)

    model = Model()
    before = clone_params(model)
    trainer = make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(model)
    assert model.closures == 2
    assert trainer.global_step == 2
    assert _changed(before, model.parameters())


def test_no_step_means_no_global_step(tmp_path):
    class Model(ManualOptimBoringModel):
        def training_step(self, batch, batch_idx):
            self.manual_backward(self.step(batch))

    model = Model()
    before = clone_params(model)
    trainer = make_trainer(tmp_path, limit_train_batches=3, limit_val_batches=0)
    trainer.fit(model)
    assert trainer.global_step == 0
    assert not _changed(before, model.parameters())


def test_clip_gradients_by_hand(tmp_path):
    class Model(ManualOptimBoringModel):
        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=1.0)

        def training_step(self, batch, batch_idx):
            opt = self.optimizers()
            opt.zero_grad()
            self.manual_backward(self(batch).sum() * 1000)
            self.clip_gradients(opt, gradient_clip_val=0.01, gradient_clip_algorithm="value")
            opt.step()

    model = Model()
    before = clone_params(model)
    make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0).fit(model)
    delta = torch.cat([(a - b.detach()).flatten() for a, b in zip(before, model.parameters())]).abs()
    assert delta.max().item() == pytest.approx(0.01, abs=1e-6)


def test_list_of_dicts_in_manual_mode(tmp_path):
    class Model(TwoOptModel):
        def configure_optimizers(self):
            opt_a = torch.optim.SGD(self.layer.parameters(), lr=0.1)
            opt_b = torch.optim.Adam(self.layer_b.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt_a, step_size=1)
            return [{"optimizer": opt_a, "lr_scheduler": sched}, {"optimizer": opt_b}]

    model = Model()
    trainer = make_trainer(tmp_path, limit_train_batches=1, limit_val_batches=0)
    trainer.fit(model)
    assert len(model.log_["opts"]) == 2
    assert isinstance(trainer.optimizers[1], torch.optim.Adam)
    assert isinstance(model.log_["scheds"], torch.optim.lr_scheduler.StepLR)


def test_gradient_clipping_flag_not_supported_in_manual_mode(tmp_path):
    with pytest.raises(MisconfigurationException, match="gradient_clip_val"):
        make_trainer(tmp_path, gradient_clip_val=1.0, limit_train_batches=1).fit(ManualOptimBoringModel())


def test_accumulate_grad_batches_not_supported_in_manual_mode(tmp_path):
    with pytest.raises(MisconfigurationException, match="accumulate_grad_batches"):
        make_trainer(tmp_path, accumulate_grad_batches=2, limit_train_batches=2).fit(ManualOptimBoringModel())


def test_manual_mode_runs_validation(tmp_path):
    class Model(ManualOptimBoringModel):
        def validation_step(self, batch, batch_idx):
            self.log("val", self.step(batch))

    trainer = make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=2)
    trainer.fit(Model())
    assert "val" in trainer.callback_metrics
