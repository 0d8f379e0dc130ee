"""Reading and checking what ``configure_optimizers`` returns, as Lightning 2.x does (its
``trainer/optimization/test_optimizers.py`` is the spec): unknown keys warn and are dropped, a scheduler
must drive a returned optimizer and be checkpointable, a non-PyTorch scheduler needs ``lr_scheduler_step``
in automatic optimization, and manual optimization ignores the stepping keys. Also when ReduceLROnPlateau
steps: every optimizer step for ``interval="step"``, only after a complete epoch for ``interval="epoch"``."""
import pytest
import torch

from runtime.core.optimizer import _init_optimizers_and_lr_schedulers
from runtime.demos.boring_classes import BoringModel
from runtime.utilities.exceptions import MisconfigurationException

from tests.runtime.helpers import make_trainer


class ConfModel(BoringModel):
    def __init__(self, conf, automatic=True):
        super().__init__()
        self.conf = conf
        self.automatic_optimization = automatic

    def configure_optimizers(self):
        return self.conf(self)


def _parse(conf, automatic=True):
    return _init_optimizers_and_lr_schedulers(ConfModel(conf, automatic))


def _sgd(m):
    return torch.optim.SGD(m.parameters(), lr=0.1)


def test_unknown_optimizer_dict_keys_warn_and_are_ignored():
    with pytest.warns(RuntimeWarning, match="unsupported keys in the optimizer configuration: {'foo'}"):
        opts, scheds = _parse(lambda m: {"optimizer": _sgd(m), "foo": 1})
    assert len(opts) == 1 and scheds == []


def test_unknown_scheduler_dict_keys_warn_and_are_dropped():
    def conf(m):
        opt = _sgd(m)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1), "bar": 2}}

    with pytest.warns(RuntimeWarning, match="unsupported keys in the lr scheduler dict: {'bar'}"):
        _, scheds = _parse(conf)
    assert scheds[0].interval == "epoch"


def test_optimizers_with_a_single_scheduler_not_in_a_list():
    def conf(m):
        opt = _sgd(m)
        return [opt], torch.optim.lr_scheduler.StepLR(opt, 1)

    opts, scheds = _parse(conf)
    assert len(opts) == len(scheds) == 1 and scheds[0].scheduler.optimizer is opts[0]


def test_unknown_shape_is_named():
    with pytest.raises(MisconfigurationException, match="Unknown configuration for model optimizers.*int"):
        _parse(lambda m: 1)


def test_scheduler_of_an_optimizer_not_returned():
    def conf(m):
        other = _sgd(m)
        return [_sgd(m)], [torch.optim.lr_scheduler.StepLR(other, 1)]

    with pytest.raises(MisconfigurationException, match="optimizer that wasn't returned"):
        _parse(conf)


class _NoState:
    def __init__(self, optimizer):
        self.optimizer = optimizer

    def step(self): ...


class _Custom(_NoState):
    def state_dict(self):
        return {}

    def load_state_dict(self, state): ...


def test_scheduler_without_state_dict_is_a_type_error():
    def conf(m):
        opt = _sgd(m)
        return {"optimizer": opt, "lr_scheduler": _NoState(opt)}

    with pytest.raises(TypeError, match="`_NoState` is invalid.*state_dict"):
        _parse(conf)


def test_non_pytorch_scheduler_needs_lr_scheduler_step_in_automatic_optimization():
    def conf(m):
        opt = _sgd(m)
        return [opt], [_Custom(opt)]

    with pytest.raises(MisconfigurationException, match="`_Custom` doesn't follow PyTorch's LRScheduler"):
        _parse(conf)
    _parse(conf, automatic=False)  # manual optimization: the user steps it

    model = ConfModel(conf)
    model.lr_scheduler_step = lambda scheduler, metric: None
    _init_optimizers_and_lr_schedulers(model)


def test_manual_optimization_ignores_the_stepping_keys():
    def conf(m):
        opt = _sgd(m)
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
        return [opt], [{"scheduler": plateau, "monitor": "loss", "interval": "step"}]

    with pytest.warns(RuntimeWarning, match=r"\['monitor'\], but the keys will be ignored"):
        _, scheds = _parse(conf, automatic=False)
    assert scheds[0].interval == "step" and scheds[0].monitor is None


def test_multiple_optimizers_and_optimizer_idx_need_manual_optimization(tmp_path):
    with pytest.raises(RuntimeError, match="multiple optimizers is only supported with manual optimization"):
        make_trainer(tmp_path, limit_train_batches=1).fit(ConfModel(lambda m: [_sgd(m), _sgd(m)]))

    class WithIdx(BoringModel):
        def training_step(self, batch, batch_idx, optimizer_idx):
            return super().training_step(batch, batch_idx)

    with pytest.raises(RuntimeError, match="Remove the `optimizer_idx` argument from `training_step`"):
        make_trainer(tmp_path, limit_train_batches=1).fit(WithIdx())


class PlateauModel(BoringModel):
    def __init__(self, interval, strict=True, monitor="foo"):
        super().__init__()
        self.interval, self.strict, self.monitor = interval, strict, monitor

    def training_step(self, batch, batch_idx):
        self.log("foo", float(batch_idx))
        return super().training_step(batch, batch_idx)

    def configure_optimizers(self):
        opt = _sgd(self)
        self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
        return [opt], [{"scheduler": self.plateau, "interval": self.interval, "monitor": self.monitor,
                        "strict": self.strict}]


def test_plateau_with_step_interval_steps_after_every_optimizer_step(tmp_path):
    model = PlateauModel("step")
    make_trainer(tmp_path, limit_train_batches=4, limit_val_batches=0).fit(model)
    assert model.plateau.last_epoch == 4


def test_plateau_with_epoch_interval_waits_for_a_complete_epoch(tmp_path):
    model = PlateauModel("epoch")
    make_trainer(tmp_path, max_epochs=2, limit_train_batches=3, limit_val_batches=0).fit(model)
    assert model.plateau.last_epoch == 2
    model = PlateauModel("epoch")
    make_trainer(tmp_path, max_epochs=None, max_steps=2, limit_train_batches=3, limit_val_batches=0).fit(model)
    assert model.plateau.last_epoch == 0  # the epoch was cut short by max_steps


def test_plateau_monitor_missing(tmp_path):
    with pytest.raises(MisconfigurationException, match="conditioned on metric giraffe which is not available"):
        make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=0).fit(PlateauModel("epoch", monitor="giraffe"))
    with pytest.warns(RuntimeWarning, match="strict is set to `False`"):
        make_trainer(tmp_path, limit_train_batches=2, limit_val_batches=0).fit(
            PlateauModel("epoch", strict=False, monitor="giraffe"))


def test_a_loader_hook_set_to_none_is_off(tmp_path):
    model = BoringModel()
    model.val_dataloader = None
    trainer = make_trainer(tmp_path, limit_train_batches=2)
    trainer.fit(model)
    assert trainer.num_val_batches == []


class _OwnOptimizer(BoringModel):
    """Manual optimization with an optimizer the module builds and steps itself (forward-forward's layers do this)."""

    def __init__(self):
        super().__init__()
        self.automatic_optimization = False
        self.own = torch.optim.SGD(self.parameters(), lr=0.1)

    def training_step(self, batch, batch_idx):
        loss = self.step(batch).sum()
        self.own.zero_grad()
        loss.backward()
        self.own.step()

    def configure_optimizers(self):
        return None


def test_no_optimizer_warning_says_nothing_is_updated_only_in_automatic_optimization(tmp_path):
    with pytest.warns(UserWarning, match=r"returned `None`, this fit will run with no optimizer: nothing is updated\."):
        make_trainer(tmp_path, max_steps=1).fit(ConfModel(lambda m: None))
    model = _OwnOptimizer()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.warns(UserWarning) as record:
        make_trainer(tmp_path, max_steps=2).fit(model)
    texts = [str(w.message) for w in record if "configure_optimizers" in str(w.message)]
    assert texts == ["`LightningModule.configure_optimizers` returned `None`, this fit will run with no optimizer"]
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))  # its own optimizer did update
