"""Timer in real fits: it measures stages and stops training when the duration is spent."""
import time
from datetime import timedelta

import pytest

from runtime.callbacks import Timer
from runtime.callbacks import timer as timer_module
from runtime.demos.boring_classes import BoringModel
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import make_trainer, random_loader


class SlowModel(BoringModel):
    def train_dataloader(self):
        return random_loader(40, 2)  # 20 batches

    def training_step(self, batch, batch_idx):
        time.sleep(0.01)
        return super().training_step(batch, batch_idx)


class FakeClock:
    """Stands in for the Timer's ``time`` module: the clock moves only when a step says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_stops_after_duration_per_step(tmp_path, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(timer_module, "time", clock)

    class TickingModel(BoringModel):  # each step takes 0.125 s on the fake clock (exact in binary)
        def train_dataloader(self):
            return random_loader(40, 2)  # 20 batches

        def training_step(self, batch, batch_idx):
            clock.now += 0.125
            return super().training_step(batch, batch_idx)

    timer = Timer(duration=dict(seconds=1), verbose=False)
    trainer = make_trainer(tmp_path, max_epochs=5, callbacks=[timer], limit_val_batches=0)
    trainer.fit(TickingModel())
    assert trainer.should_stop
    assert trainer.global_step == 8  # stopped mid-epoch, at the step whose end spent the second
    assert timer.time_elapsed("train") == 1.0
    assert timer.time_remaining() == 0
    assert timer.state_dict()["time_elapsed"]["train"] == timer.time_elapsed()


def test_epoch_interval_finishes_the_epoch(tmp_path):
    timer = Timer(duration=timedelta(seconds=0.05), interval="epoch", verbose=False)
    trainer = make_trainer(tmp_path, max_epochs=5, callbacks=[timer], limit_val_batches=0)
    trainer.fit(SlowModel())
    assert trainer.current_epoch == 1 and trainer.global_step == 20


def test_measures_validation_and_test_without_duration(tmp_path):
    timer = Timer()
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[timer], limit_train_batches=2, limit_val_batches=2)
    trainer.fit(BoringModel())
    trainer.test(BoringModel(), verbose=False)
    assert timer.time_remaining() is None
    assert timer.time_elapsed("train") > 0 and timer.time_elapsed("validate") > 0 and timer.time_elapsed("test") > 0
    assert timer.start_time("train") < timer.end_time("train")


def test_restored_elapsed_time_counts_toward_the_budget(tmp_path):
    timer = Timer(duration="00:00:00:01", verbose=False)
    timer.load_state_dict({"time_elapsed": {"train": 5.0}})
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[timer])
    trainer.fit(BoringModel())
    assert trainer.global_step == 0  # already spent: stops at fit start


def test_bad_arguments():
    with pytest.raises(MisconfigurationException, match="DD:HH:MM:SS"):
        Timer(duration="1 hour")
    with pytest.raises(MisconfigurationException, match="interval"):
        Timer(interval="batch")
