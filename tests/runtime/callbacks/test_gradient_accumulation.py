"""GradientAccumulationScheduler: the accumulation factor changes at the scheduled epochs of a real fit."""
import pytest

from runtime.callbacks import GradientAccumulationScheduler
from runtime.demos.boring_classes import BoringModel, ManualOptimBoringModel
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer, random_loader


class Model(BoringModel):
    def train_dataloader(self):
        return random_loader(16, 2)  # 8 batches


def test_factor_changes_per_epoch(tmp_path):
    factors = []

    class Recorder(Model):
        def on_train_epoch_start(self):
            factors.append(self.trainer.accumulate_grad_batches)

    sched = GradientAccumulationScheduler(scheduling={1: 2, 2: 4})
    trainer = make_trainer(tmp_path, max_epochs=3, callbacks=[sched], limit_val_batches=0)
    trainer.fit(Recorder())
    assert factors == [1, 2, 4]
    assert trainer.global_step == 8 + 4 + 2
    assert sched.get_accumulate_grad_batches(0) == 1 and sched.get_accumulate_grad_batches(7) == 4


def test_clash_with_trainer_flag(tmp_path):
    trainer = make_trainer(tmp_path, accumulate_grad_batches=2, callbacks=[GradientAccumulationScheduler({0: 2})])
    with pytest.raises(ValueError, match="accumulate_grad_batches"):
        trainer.fit(Model())


def test_second_fit_on_the_same_trainer(tmp_path):
    sched = GradientAccumulationScheduler({0: 2})
    trainer = make_trainer(tmp_path, callbacks=[sched], limit_val_batches=0)
    trainer.fit(Model())
    trainer.fit(Model())  # the factor it set itself is not a clash
    assert trainer.global_step == 4


def test_manual_optimization_is_refused(tmp_path):
    trainer = make_trainer(tmp_path, callbacks=[GradientAccumulationScheduler({1: 2})])
    with pytest.raises(RuntimeError, match="manual optimization"):
        trainer.fit(ManualOptimBoringModel())


def test_deepspeed_is_refused():
    from unittest.mock import Mock

    from runtime.strategies import DeepSpeedStrategy

    trainer = make_trainer(".")
    trainer.strategy = Mock(spec=DeepSpeedStrategy)  # the check needs only the type, not deepspeed itself
    with pytest.raises(RuntimeError, match="does not support `accumulate_grad_batches` changing between epochs"):
        GradientAccumulationScheduler({1: 2}).on_train_start(trainer, Model())


def test_bad_schedules():
    with pytest.raises(TypeError):
        GradientAccumulationScheduler({})
    with pytest.raises(MisconfigurationException, match="Epoch"):
        GradientAccumulationScheduler({-1: 2})
    with pytest.raises(MisconfigurationException, match="Accumulation factor"):
        GradientAccumulationScheduler({1: 0})
    given = {2: 3}
    assert GradientAccumulationScheduler(given).scheduling == {2: 3, 0: 1} and given == {2: 3}
