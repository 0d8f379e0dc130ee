"""val_check_interval as a duration: validate every N seconds of training; and the 1-vs-1.0 info messages."""
import logging
from datetime import timedelta

import pytest

import runtime as pl
from runtime.demos import BoringModel
from tests.runtime.helpers import make_trainer


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def monotonic(self) -> float:
        return self.now


@pytest.mark.parametrize("interval", ["00:00:00:01", timedelta(seconds=1), {"seconds": 1}])
def test_validates_when_the_time_has_passed(tmp_path, monkeypatch, interval):
    clock = FakeClock()
    monkeypatch.setattr("runtime.trainer.loops.time", clock)
    monkeypatch.setattr("runtime.trainer.data.time", clock)
    val_after = []

    class Model(BoringModel):  # each training step takes 0.3 s on the fake clock
        def training_step(self, batch, batch_idx):
            clock.now += 0.3
            return super().training_step(batch, batch_idx)

        def on_validation_start(self):
            if not self.trainer.sanity_checking:
                val_after.append(self.trainer.global_step)

    trainer = make_trainer(tmp_path, max_steps=10, limit_train_batches=10, limit_val_batches=1, val_check_interval=interval)
    assert trainer.val_check_interval == interval
    trainer.fit(Model())
    # 0.9 s after 3 steps is not yet 1 s; 1.2 s after 4 is; then again 4 steps later (not at the end: 0.6 s), as Lightning
    assert val_after == [4, 8]


def test_fast_dev_run_ignores_the_clock(tmp_path):
    assert make_trainer(tmp_path, fast_dev_run=True, val_check_interval="00:01:00:00").flags.val_check_time is None


def test_one_and_one_point_zero_are_explained(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    for name in ("runtime",):
        logging.getLogger(name).propagate = True
    try:
        pl.Trainer(default_root_dir=tmp_path, logger=False, limit_train_batches=1, limit_val_batches=1.0,
                   val_check_interval=1)
    finally:
        logging.getLogger("runtime").propagate = False
    assert "`Trainer(limit_train_batches=1)` was configured so 1 batch per epoch will be used." in caplog.text
    assert "`Trainer(limit_val_batches=1.0)` was configured so 100% of the batches will be used." in caplog.text
    assert "`Trainer(val_check_interval=1)` was configured so validation will run after every batch." in caplog.text


def test_interval_checks_as_lightning_raises_them(tmp_path):
    from runtime.utilities.exceptions import MisconfigurationException

    with pytest.raises(MisconfigurationException, match="should be an integer or a time-based duration"):
        pl.Trainer(val_check_interval=0.5, check_val_every_n_epoch=None, logger=False)
    trainer = make_trainer(tmp_path, val_check_interval=100, limit_train_batches=10)
    with pytest.raises(ValueError, match="must be less than or equal to the number of the training batches"):
        trainer.fit(BoringModel())


def test_the_default_bar_does_not_read_the_training_clock(tmp_path, monkeypatch):
    # a clock that moves one second per read: only the loop reads it (once per batch, once after validation),
    # so validation is due on the same batches as in Lightning; the bar measures its rates with perf_counter
    reads = []

    def clock():
        reads.append(1)
        return float(len(reads))

    monkeypatch.setattr("time.monotonic", clock)
    val_after = []

    class Model(BoringModel):
        def on_validation_start(self):
            if not self.trainer.sanity_checking:
                val_after.append(self.trainer.global_step)

    trainer = pl.Trainer(default_root_dir=tmp_path, logger=False, enable_checkpointing=False, enable_model_summary=False,
                         max_epochs=5, limit_train_batches=2, limit_val_batches=1, val_check_interval="00:00:00:04",
                         check_val_every_n_epoch=None)
    trainer.fit(Model())
    assert val_after == [4, 8]
