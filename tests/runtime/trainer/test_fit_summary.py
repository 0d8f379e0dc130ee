"""The line at the end of fit: why it stopped, where the logs and the best checkpoint are; ckpt_path="best" names its file."""
import logging
import os

import pytest

import runtime as pl
from runtime.callbacks import EarlyStopping
from runtime.demos.boring_classes import BoringModel
from runtime.loggers import CSVLogger


@pytest.fixture
def info(monkeypatch):
    """The runtime's info lines (the logger prints them to stderr; collected here)."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect()
    logging.getLogger("runtime").addHandler(handler)
    yield lines
    logging.getLogger("runtime").removeHandler(handler)


class Model(BoringModel):
    def validation_step(self, batch, batch_idx):
        self.log("v", 1.0)  # never improves


def fit(tmp_path, model=None, **kwargs):
    opts = dict(default_root_dir=tmp_path, limit_train_batches=2, limit_val_batches=1, enable_progress_bar=False,
                enable_model_summary=False, max_epochs=3)
    trainer = pl.Trainer(**{**opts, **kwargs})
    trainer.fit(model or Model())
    return trainer


def ended(lines):
    found = [line for line in lines if line.startswith("`Trainer.fit` stopped: ")]
    assert len(found) == 1, lines
    return found[0]


def test_max_epochs_with_logs_and_best_checkpoint(tmp_path, info, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = fit(tmp_path, logger=CSVLogger(tmp_path / "logs"))
    best = os.path.relpath(trainer.checkpoint_callback.best_model_path)
    assert ended(info) == (f"`Trainer.fit` stopped: max_epochs=3 reached (epoch 3, step 6). Logs: "
                           f"{os.path.relpath(trainer.log_dir)}; best checkpoint: {best}")
    info.clear()
    trainer.validate(ckpt_path="best", verbose=False)
    assert f'ckpt_path="best": restoring {trainer.checkpoint_callback.best_model_path}' in info


def test_max_steps_early_stopping_and_a_stop_asked_by_the_module(tmp_path, info):
    trainer = fit(tmp_path, max_steps=3, logger=False, enable_checkpointing=False)
    assert ended(info) == f"`Trainer.fit` stopped: max_steps=3 reached (epoch {trainer.current_epoch}, step 3)."
    info.clear()
    fit(tmp_path, max_epochs=30, logger=False, enable_checkpointing=False, callbacks=[EarlyStopping("v", patience=1)])
    assert ended(info).startswith("`Trainer.fit` stopped: early stopping: Monitored metric v did not improve in the "
                                  "last 1 records. Best score: 1.000 (epoch 2, step 4).")

    class Stops(Model):
        def on_train_epoch_end(self):
            self.trainer.should_stop = True

    info.clear()
    fit(tmp_path, model=Stops(), logger=False, enable_checkpointing=False)
    assert ended(info) == "`Trainer.fit` stopped: trainer.should_stop was set (epoch 1, step 2)."


def test_time_limit_and_interrupt(tmp_path, info):
    fit(tmp_path, max_time={"seconds": 0}, max_epochs=30, logger=False, enable_checkpointing=False)
    assert ended(info).startswith("`Trainer.fit` stopped: time limit reached (max_time=0s) (epoch 0, step 0).")

    class Interrupted(Model):
        def training_step(self, batch, batch_idx):
            if batch_idx == 1:
                raise KeyboardInterrupt
            return super().training_step(batch, batch_idx)

    info.clear()
    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path, model=Interrupted(), logger=False, enable_checkpointing=False)
    assert ended(info) == "`Trainer.fit` stopped: interrupted (Ctrl+C) (epoch 0, step 1)."

    class Crashes(Model):
        def training_step(self, batch, batch_idx):
            raise ValueError("boom")

    info.clear()
    with pytest.raises(ValueError):
        fit(tmp_path, model=Crashes(), logger=False, enable_checkpointing=False)
    assert not any(line.startswith("`Trainer.fit` stopped") for line in info)  # the traceback says why
