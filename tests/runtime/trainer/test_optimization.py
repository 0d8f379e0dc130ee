"""Automatic optimization: what training_step may return, the overridable optimizer hooks, gradient
accumulation and clipping, every return shape of configure_optimizers, and when schedulers step."""
import copy

import pytest
import torch

from runtime.demos.boring_classes import BoringModel
from runtime.utilities.exceptions import MisconfigurationException

from tests.runtime.helpers import ConfModel, clone_params, make_trainer, random_loader


def _fit(tmp_path, model, batches=1, **kwargs):
    """Fit ``model`` on ``batches`` training batches without validation; return how far each parameter moved."""
    before = clone_params(model)
    make_trainer(tmp_path, limit_train_batches=batches, limit_val_batches=0, **kwargs).fit(model)
    return [b - a.detach() for a, b in zip(model.parameters(), before)]


def _moved(deltas):
    return any(d.any() for d in deltas)


class SGDModel(BoringModel):
    """BoringModel with plain SGD(lr) and no scheduler."""

    lr = 0.1

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


class KeepsOutputs(SGDModel):
    """Keeps what on_train_batch_end receives as ``outputs``."""

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.outputs = outputs


class CountsBackward(SGDModel):
    backwards = 0

    def backward(self, loss, *args, **kwargs):
        self.backwards += 1
        super().backward(loss, *args, **kwargs)


# ------------------------------------------------------------------ training_step return values
def test_training_step_returning_a_tensor(tmp_path):
    class Model(KeepsOutputs):
        def training_step(self, batch, batch_idx):
            return self.step(batch)

    model = Model()
    deltas = _fit(tmp_path, model, 2)
    assert set(model.outputs) == {"loss"}
    assert not model.outputs["loss"].requires_grad
    assert _moved(deltas)


def test_training_step_returning_a_dict(tmp_path):
    class Model(KeepsOutputs):
        def training_step(self, batch, batch_idx):
            loss = self.step(batch)
            return {"loss": loss, "extra": batch_idx * 10, "t": loss * 2}

    model = Model()
    deltas = _fit(tmp_path, model, 2)
    assert model.outputs["extra"] == 10
    assert torch.allclose(model.outputs["t"], model.outputs["loss"] * 2)
    assert not model.outputs["loss"].requires_grad
    assert _moved(deltas)


def test_training_step_returning_none_skips_the_batch(tmp_path):
    class Model(CountsBackward):
        steps = 0

        def training_step(self, batch, batch_idx):
            self.steps += 1
            return None

    model = Model()
    deltas = _fit(tmp_path, model, 3)
    assert model.steps == 3
    assert model.backwards == 0
    assert not _moved(deltas)


def test_training_step_returning_none_for_some_batches(tmp_path):
    class Model(CountsBackward):
        def training_step(self, batch, batch_idx):
            return None if batch_idx % 2 else self.step(batch)

    model = Model()
    _fit(tmp_path, model, 4)
    assert model.backwards == 2


# ------------------------------------------------------------------ overridable hooks
def test_override_optimizer_step(tmp_path):
    class Model(SGDModel):
        calls = []

        def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
            self.calls.append((epoch, batch_idx))
            assert callable(optimizer_closure)
            # learning-rate warm-up, the classic reason to override this hook
            for pg in optimizer.param_groups:
                pg["lr"] = 0.01 * (batch_idx + 1)
            optimizer.step(closure=optimizer_closure)

    model = Model()
    _fit(tmp_path, model, 2, max_epochs=2)
    assert model.calls == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert model.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.02)


def test_optimizer_step_runs_training_step_through_the_closure(tmp_path):
    """An override that calls the closure but never steps: training_step and backward run, weights stay."""

    class Model(SGDModel):
        steps = 0
        backwards = 0

        def training_step(self, batch, batch_idx):
            self.steps += 1
            return super().training_step(batch, batch_idx)

        def on_after_backward(self):
            self.backwards += 1

        def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
            optimizer_closure()

    model = Model()
    deltas = _fit(tmp_path, model, 3)
    assert model.steps == 3 and model.backwards == 3
    assert not _moved(deltas)


def test_optimizer_step_that_skips_the_closure_is_an_error(tmp_path):
    class Model(SGDModel):
        def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
            pass

    with pytest.raises(MisconfigurationException, match="closure"):
        _fit(tmp_path, Model(), 1)


def test_override_optimizer_zero_grad(tmp_path):
    seen = []

    class Model(SGDModel):
        calls = []

        def optimizer_zero_grad(self, epoch, batch_idx, optimizer):
            self.calls.append((epoch, batch_idx))
            optimizer.zero_grad(set_to_none=False)

        def on_before_backward(self, loss):
            g = self.layer.weight.grad
            seen.append(None if g is None else g.clone())

    model = Model()
    _fit(tmp_path, model, 3)
    assert model.calls == [(0, 0), (0, 1), (0, 2)]
    # from the second batch on, grads were zeroed in place (not set to None)
    assert seen[0] is None
    assert all(g is not None and torch.count_nonzero(g) == 0 for g in seen[1:])


def test_default_zero_grad_sets_grads_to_none(tmp_path):
    seen = []

    class Model(SGDModel):
        def on_before_backward(self, loss):
            seen.append(self.layer.weight.grad)

    _fit(tmp_path, Model(), 3)
    assert seen == [None, None, None]


def test_noop_zero_grad_accumulates_gradients(tmp_path):
    grads = []

    class Model(SGDModel):
        lr = 0.0  # weights never move, so each batch's own gradient is easy to recompute

        def optimizer_zero_grad(self, epoch, batch_idx, optimizer):
            pass

        def on_after_backward(self):
            grads.append(self.layer.bias.grad.clone())

    model = Model()
    ref = copy.deepcopy(model)
    dl = random_loader(length=2, batch_size=1)
    make_trainer(tmp_path, limit_val_batches=0).fit(model, dl)
    own = []
    for batch in dl:
        ref.zero_grad()
        ref.step(batch).backward()
        own.append(ref.layer.bias.grad.clone())
    assert torch.allclose(grads[0], own[0])
    assert torch.allclose(grads[1], own[0] + own[1])


def test_override_backward(tmp_path):
    class Model(SGDModel):
        calls = 0

        def backward(self, loss, *args, **kwargs):
            self.calls += 1
            (loss * 0).backward()

    model = Model()
    deltas = _fit(tmp_path, model, 3)
    assert model.calls == 3
    assert not _moved(deltas)


# ------------------------------------------------------------------ accumulation
def test_accumulate_grad_batches_steps_at_window_end_and_epoch_end(tmp_path):
    class Model(SGDModel):
        stepped = []
        losses = []

        def backward(self, loss, *args, **kwargs):
            self.losses.append(loss.detach().clone())
            super().backward(loss, *args, **kwargs)

        def training_step(self, batch, batch_idx):
            loss = self.step(batch)
            self.raw = getattr(self, "raw", []) + [loss.detach().clone()]
            return loss

        def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
            self.stepped.append(batch_idx)
            super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)

    model = Model()
    trainer = make_trainer(tmp_path, limit_train_batches=5, limit_val_batches=0, accumulate_grad_batches=2)
    trainer.fit(model)
    assert model.stepped == [1, 3, 4]
    assert trainer.global_step == 3
    # the loss handed to backward is scaled by 1/accumulate_grad_batches, also in the last, short window
    assert len(model.losses) == 5
    for scaled, raw in zip(model.losses, model.raw):
        assert torch.allclose(scaled, raw / 2)


# ------------------------------------------------------------------ gradient clipping
class BigGradModel(BoringModel):
    def training_step(self, batch, batch_idx):
        return self(batch).sum() * 1000

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=1.0)


def test_no_clipping_by_default(tmp_path):
    deltas = _fit(tmp_path, BigGradModel())
    assert torch.linalg.vector_norm(torch.cat([d.flatten() for d in deltas])) > 10


@pytest.mark.parametrize("algorithm", [{}, {"gradient_clip_algorithm": "norm"}], ids=["default", "norm"])
def test_gradient_clip_by_norm(tmp_path, algorithm):
    deltas = _fit(tmp_path, BigGradModel(), gradient_clip_val=0.5, **algorithm)  # "norm" is the default
    total = torch.linalg.vector_norm(torch.cat([d.flatten() for d in deltas]))
    assert total == pytest.approx(0.5, abs=1e-4)


def test_gradient_clip_by_value(tmp_path):
    deltas = _fit(tmp_path, BigGradModel(), gradient_clip_val=0.01, gradient_clip_algorithm="value")
    flat = torch.cat([d.flatten() for d in deltas]).abs()
    assert flat.max().item() == pytest.approx(0.01, abs=1e-6)
    assert (flat <= 0.01 + 1e-6).all()


def test_configure_gradient_clipping_receives_trainer_settings_and_can_clip(tmp_path):
    class Model(BigGradModel):
        received = []

        def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
            self.received.append((gradient_clip_val, gradient_clip_algorithm))
            self.clip_gradients(optimizer, gradient_clip_val=0.02, gradient_clip_algorithm="value")

    model = Model()
    deltas = _fit(tmp_path, model, gradient_clip_val=0.5, gradient_clip_algorithm="value")
    assert model.received == [(0.5, "value")]
    flat = torch.cat([d.flatten() for d in deltas]).abs()
    assert flat.max().item() == pytest.approx(0.02, abs=1e-6)


def test_configure_gradient_clipping_defaults_are_none(tmp_path):
    class Model(BoringModel):
        received = []

        def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
            self.received.append((gradient_clip_val, gradient_clip_algorithm))

    model = Model()
    _fit(tmp_path, model, 2)
    assert model.received == [(None, None), (None, None)]


# ------------------------------------------------------------------ configure_optimizers shapes
def _sgd(m, lr=1.0):
    return torch.optim.SGD(m.parameters(), lr=lr)


def _step_lr(opt):
    return torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)


def _fit_conf(tmp_path, conf, **kwargs):
    model = ConfModel(conf)
    opts = dict(limit_train_batches=2, limit_val_batches=0)
    opts.update(kwargs)
    trainer = make_trainer(tmp_path, **opts)
    trainer.fit(model)
    return trainer, model


def _with_step_lr(shape):
    """A configure_optimizers function: SGD(lr=1) and a halving StepLR on it, returned as ``shape(opt, sched)``."""

    def conf(m):
        opt = _sgd(m)
        return shape(opt, _step_lr(opt))

    return conf


SHAPES = {
    "optimizer": (lambda m: _sgd(m), 0),
    "list": (lambda m: [_sgd(m)], 0),
    "tuple": (lambda m: (_sgd(m),), 0),
    "lists": (_with_step_lr(lambda o, s: ([o], [s])), 1),
    "dict": (lambda m: {"optimizer": _sgd(m)}, 0),
    "dict_scheduler": (_with_step_lr(lambda o, s: {"optimizer": o, "lr_scheduler": s}), 1),
    "dict_scheduler_config": (
        _with_step_lr(lambda o, s: {"optimizer": o, "lr_scheduler": {"scheduler": s, "interval": "epoch"}}), 1
    ),
    "lists_with_config": (_with_step_lr(lambda o, s: ([o], [{"scheduler": s}])), 1),
    "list_of_one_dict": (_with_step_lr(lambda o, s: [{"optimizer": o, "lr_scheduler": s}]), 1),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_configure_optimizers_shapes(tmp_path, shape):
    conf, n_sched = SHAPES[shape]
    trainer, model = _fit_conf(tmp_path, conf)
    assert len(trainer.optimizers) == 1
    assert isinstance(trainer.optimizers[0], torch.optim.SGD)
    assert len(trainer.lr_scheduler_configs) == n_sched
    lr = trainer.optimizers[0].param_groups[0]["lr"]
    if n_sched:
        cfg = trainer.lr_scheduler_configs[0]
        assert isinstance(cfg.scheduler, torch.optim.lr_scheduler.StepLR)
        assert cfg.interval == "epoch" and cfg.frequency == 1
        assert lr == 0.5  # stepped once, at the end of the epoch
    else:
        assert lr == 1.0
    assert trainer.global_step == 2


def test_configure_optimizers_returning_none_trains_without_stepping(tmp_path):
    class Model(BoringModel):
        def configure_optimizers(self):
            return None

    model = Model()
    with pytest.warns(UserWarning, match="configure_optimizers"):
        deltas = _fit(tmp_path, model, 2)
    assert not _moved(deltas)


def test_scheduler_config_fields(tmp_path):
    def conf(m):
        opt = _sgd(m)
        return {
            "optimizer": opt,
            "lr_scheduler": {"scheduler": _step_lr(opt), "interval": "step", "frequency": 2, "name": "my_lr"},
        }

    trainer, _ = _fit_conf(tmp_path, conf, limit_train_batches=4)
    cfg = trainer.lr_scheduler_configs[0]
    assert (cfg.interval, cfg.frequency, cfg.name) == ("step", 2, "my_lr")
    assert trainer.optimizers[0].param_groups[0]["lr"] == 0.25  # stepped after batches 1 and 3


class LRRecorder(ConfModel):
    def __init__(self, conf):
        super().__init__(conf)
        self.lrs = []  # (epoch, batch_idx, lr) seen at each training_step

    def training_step(self, batch, batch_idx):
        self.lrs.append((self.current_epoch, batch_idx, self.trainer.optimizers[0].param_groups[0]["lr"]))
        return super().training_step(batch, batch_idx)


@pytest.mark.parametrize(
    ("shape", "trainer_kwargs", "lrs"),
    [
        pytest.param(lambda o, s: ([o], [s]), dict(max_epochs=3, limit_train_batches=2),
                     [1.0, 1.0, 0.5, 0.5, 0.25, 0.25], id="interval_epoch_steps_once_per_epoch"),
        pytest.param(lambda o, s: ([o], [{"scheduler": s, "interval": "step"}]),
                     dict(max_epochs=2, limit_train_batches=2), [1.0, 0.5, 0.25, 0.125], id="interval_step"),
        pytest.param(
            lambda o, s: {"optimizer": o, "lr_scheduler": {"scheduler": s, "interval": "step", "frequency": 2}},
            dict(max_epochs=1, limit_train_batches=6), [1.0, 1.0, 0.5, 0.5, 0.25, 0.25],
            id="step_interval_with_frequency",
        ),
        pytest.param(
            lambda o, s: {"optimizer": o, "lr_scheduler": {"scheduler": s, "interval": "epoch", "frequency": 2}},
            dict(max_epochs=5, limit_train_batches=1), [1.0, 1.0, 0.5, 0.5, 0.25],
            id="epoch_interval_with_frequency",
        ),
        pytest.param(lambda o, s: ([o], [{"scheduler": s, "interval": "step"}]),
                     dict(limit_train_batches=4, accumulate_grad_batches=2), [1.0, 1.0, 0.5, 0.5],
                     id="with_accumulation_count_optimizer_steps"),
    ],
)
def test_scheduler_steps(tmp_path, shape, trainer_kwargs, lrs):
    """The lr each training_step sees, for a halving StepLR on SGD(lr=1)."""
    model = LRRecorder(_with_step_lr(shape))
    make_trainer(tmp_path, limit_val_batches=0, **trainer_kwargs).fit(model)
    assert [lr for _, _, lr in model.lrs] == lrs


def test_reduce_lr_on_plateau_with_monitor(tmp_path):
    class Model(LRRecorder):
        def validation_step(self, batch, batch_idx):
            self.log("val_loss", torch.tensor(1.0))

    def conf(m):
        opt = _sgd(m)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_loss"}}

    model = Model(conf)
    trainer = make_trainer(tmp_path, max_epochs=3, limit_train_batches=1, limit_val_batches=1,
                           num_sanity_val_steps=0)
    trainer.fit(model)
    # epoch 0 sets the best value; epochs 1 and 2 do not improve -> halve each time
    assert [lr for _, _, lr in model.lrs] == [1.0, 1.0, 0.5]
    assert trainer.optimizers[0].param_groups[0]["lr"] == 0.25
    cfg = trainer.lr_scheduler_configs[0]
    assert cfg.monitor == "val_loss" and cfg.reduce_on_plateau


def test_reduce_lr_on_plateau_monitor_in_training(tmp_path):
    """monitor can name a training metric logged on epoch; the loss going up triggers the reduction."""

    class Model(LRRecorder):
        def training_step(self, batch, batch_idx):
            out = super().training_step(batch, batch_idx)
            self.log("train_metric", float(self.current_epoch), on_step=False, on_epoch=True)
            return out

    def conf(m):
        opt = _sgd(m)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=0)
        return [opt], [{"scheduler": sched, "monitor": "train_metric"}]

    model = Model(conf)
    _fit(tmp_path, model, 1, max_epochs=3)
    assert [lr for _, _, lr in model.lrs] == pytest.approx([1.0, 1.0, 0.1])


def test_override_lr_scheduler_step(tmp_path):
    class Model(LRRecorder):
        calls = []

        def lr_scheduler_step(self, scheduler, metric):
            self.calls.append(metric)
            scheduler.step()
            scheduler.step()

    model = Model(_with_step_lr(lambda o, s: ([o], [s])))
    _fit(tmp_path, model, 1, max_epochs=2)
    assert model.calls == [None, None]
    assert [lr for _, _, lr in model.lrs] == [1.0, 0.25]


# ------------------------------------------------------------------ several optimizers
@pytest.mark.parametrize(
    "conf",
    [
        lambda m: [_sgd(m), _sgd(m)],
        lambda m: ([_sgd(m), _sgd(m)], []),
        lambda m: [{"optimizer": _sgd(m)}, {"optimizer": _sgd(m)}],
    ],
    ids=["list", "lists", "dicts"],
)
def test_several_optimizers_in_automatic_mode_point_to_manual_optimization(tmp_path, conf):
    with pytest.raises((MisconfigurationException, RuntimeError), match=r"(?i)manual"):
        _fit_conf(tmp_path, conf)
