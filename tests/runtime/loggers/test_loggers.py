"""Loggers: TensorBoard event files and CSV read back with the real readers; lazy tensorboard import."""
import csv
import os
import subprocess
import sys
from argparse import Namespace

import pytest
import torch
import yaml

from runtime.loggers import CSVLogger, Logger, TensorBoardLogger
from runtime.loggers.logger import DummyExperiment, rank_zero_experiment
from runtime.utilities.rank_zero import rank_zero_only


def _scalars(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(log_dir)
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_import_runtime_loggers_does_not_import_tensorboard():
    code = (
        "import sys, runtime.loggers, runtime.callbacks;"
        "bad = [m for m in ('tensorboard', 'torch.utils.tensorboard', 'rich') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))))


def test_tensorboard_versions_are_lazy_and_count_up(tmp_path):
    logger = TensorBoardLogger(tmp_path)
    assert logger.name == "lightning_logs" and logger.version == 0
    assert logger.root_dir == str(tmp_path / "lightning_logs")
    assert logger.log_dir == str(tmp_path / "lightning_logs" / "version_0")
    assert os.listdir(logger.log_dir) == []  # the version is claimed (its folder made), nothing written yet
    logger.log_metrics({"a": 1.0}, 0)
    assert os.listdir(logger.log_dir)
    logger.finalize("success")
    assert TensorBoardLogger(tmp_path).version == 1
    assert TensorBoardLogger(tmp_path, version="run_x").log_dir.endswith("run_x")
    assert TensorBoardLogger(tmp_path, name="", version=3).log_dir == str(tmp_path / "version_3")
    assert TensorBoardLogger(tmp_path, sub_dir="sub").log_dir.endswith(os.path.join("version_2", "sub"))


def test_tensorboard_scalars_and_hparams_read_back(tmp_path):
    logger = TensorBoardLogger(tmp_path, prefix="fold1")
    logger.log_hyperparams(Namespace(lr=0.1, layers=[1, 2], opt={"name": "sgd"}))
    for step in range(3):
        logger.log_metrics({"loss": torch.tensor(1.0 / (step + 1)), "acc": 0.5 * step}, step)
    logger.save()
    logger.finalize("success")
    scalars = _scalars(logger.log_dir)
    assert scalars["fold1-loss"] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert [v for _, v in scalars["fold1-acc"]] == [0.0, 0.5, 1.0]
    assert scalars["fold1-hp_metric"] == [(0, -1.0)]  # the prefix applies to it too (as in Lightning)
    with open(os.path.join(logger.log_dir, "hparams.yaml")) as f:
        assert yaml.safe_load(f) == {"lr": 0.1, "layers": [1, 2], "opt": {"name": "sgd"}}
    # TensorBoard's HPARAMS plugin entry is there
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(logger.log_dir)
    acc.Reload()
    tags = acc.PluginTagToContent("hparams")
    assert {"_hparams_/experiment", "_hparams_/session_start_info"} <= set(tags)


def test_tensorboard_rejects_non_scalar(tmp_path):
    logger = TensorBoardLogger(tmp_path)
    with pytest.raises(ValueError, match="cannot log bad"):
        logger.log_metrics({"bad": "text"}, 0)


def test_csv_union_of_columns(tmp_path):
    logger = CSVLogger(tmp_path, flush_logs_every_n_steps=2)
    assert logger.log_dir == str(tmp_path / "lightning_logs" / "version_0")
    logger.log_hyperparams({"lr": 0.01, "hidden": 64})
    logger.log_metrics({"train_loss": torch.tensor(0.5)}, 0)
    logger.log_metrics({"train_loss": 0.25}, 1)  # (step + 1) % 2 == 0: flushed
    path = os.path.join(logger.log_dir, "metrics.csv")
    with open(path) as f:
        assert f.read().splitlines() == ["step,train_loss", "0,0.5", "1,0.25"]
    logger.log_metrics({"val_loss": torch.tensor(0.75), "epoch": 0}, 1)
    logger.finalize("success")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "step", "train_loss", "val_loss"]
    assert rows == [
        {"epoch": "", "step": "0", "train_loss": "0.5", "val_loss": ""},
        {"epoch": "", "step": "1", "train_loss": "0.25", "val_loss": ""},
        {"epoch": "0", "step": "1", "train_loss": "", "val_loss": "0.75"},
    ]
    with open(os.path.join(logger.log_dir, "hparams.yaml")) as f:
        assert yaml.safe_load(f) == {"lr": 0.01, "hidden": 64}
    assert CSVLogger(tmp_path).version == 1


def test_csv_to_a_url_goes_through_fsspec():
    import csv
    import io

    import fsspec

    root = "memory://h13c_csv_remote"
    fs, _ = fsspec.core.url_to_fs(root)
    logger = CSVLogger(save_dir=root)
    logger.log_hyperparams({"lr": 0.1})
    logger.log_metrics({"loss": 0.5}, step=0)
    logger.save()
    logger.log_metrics({"loss": 0.25, "acc": 1.0}, step=1)  # a new column: the file is written again, widened
    logger.save()
    assert logger.log_dir == f"{root}/lightning_logs/version_0"
    with fs.open(f"{logger.log_dir}/metrics.csv", "r") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert [(r["step"], r["loss"], r["acc"]) for r in rows] == [("0", "0.5", ""), ("1", "0.25", "1.0")]
    assert fs.isfile(f"{logger.log_dir}/hparams.yaml")
    assert CSVLogger(save_dir=root).version == 1  # the next run counts on


def test_csv_finalize_on_failure_flushes(tmp_path):
    logger = CSVLogger(tmp_path, name="exp", version="v")
    logger.log_metrics({"x": 1.0}, 0)
    assert not os.path.exists(os.path.join(logger.log_dir, "metrics.csv"))  # buffered
    logger.finalize("failed")
    assert os.path.exists(os.path.join(tmp_path, "exp", "v", "metrics.csv"))


def test_only_rank_zero_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(rank_zero_only, "rank", 1)
    tb, cv = TensorBoardLogger(tmp_path), CSVLogger(tmp_path, name="csv")
    for lg in (tb, cv):
        lg.log_hyperparams({"a": 1})
        lg.log_metrics({"a": 1.0}, 0)
        lg.finalize("success")
    assert isinstance(tb.experiment, DummyExperiment)
    assert os.listdir(tmp_path) == []


def test_custom_logger_subclass():
    class Recorder(Logger):
        def __init__(self):
            self.rows = []

        @property
        def name(self):
            return "rec"

        @property
        def version(self):
            return 0

        @property
        @rank_zero_experiment
        def experiment(self):
            return self.rows

        @rank_zero_only
        def log_metrics(self, metrics, step=None):
            self.rows.append((step, metrics))

        @rank_zero_only
        def log_hyperparams(self, params, *args, **kwargs):
            pass

    rec = Recorder()
    rec.log_metrics({"a": 1}, 3)
    rec.save()
    rec.finalize("success")
    rec.log_graph(torch.nn.Linear(1, 1))
    assert rec.rows == [(3, {"a": 1})] and rec.experiment is rec.rows
    assert rec.log_dir is None and rec.save_dir is None and rec.root_dir is None
    with pytest.raises(TypeError):
        Logger()


# ------------------------------------------------------------------------------------------ real fits


def _logging_model():
    from runtime.demos.boring_classes import BoringModel

    class LoggingModel(BoringModel):
        def __init__(self, lr=0.1, hidden=32):
            super().__init__()
            self.save_hyperparameters()

        def training_step(self, batch, batch_idx):
            out = super().training_step(batch, batch_idx)
            self.log("train_loss", out["loss"], on_step=True, on_epoch=True)
            return out

        def validation_step(self, batch, batch_idx):
            out = super().validation_step(batch, batch_idx)
            self.log("val_loss", out["x"])
            return out

    return LoggingModel()


def _fit(tmp_path, **kwargs):
    import runtime

    args = dict(
        max_epochs=2, default_root_dir=tmp_path, limit_train_batches=8, limit_val_batches=2, log_every_n_steps=2,
        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
    )
    args.update(kwargs)
    trainer = runtime.Trainer(**args)
    trainer.fit(_logging_model())
    return trainer


def test_fit_default_logger_is_tensorboard_and_read_back(tmp_path):
    trainer = _fit(tmp_path)
    logger = trainer.logger
    assert isinstance(logger, TensorBoardLogger)
    assert logger.log_dir == str(tmp_path / "lightning_logs" / "version_0") == trainer.log_dir
    scalars = _scalars(logger.log_dir)
    # step metrics every log_every_n_steps (Lightning's steps 1, 3, 5 ...), epoch metrics once per epoch
    assert [s for s, _ in scalars["train_loss_step"]] == [1, 3, 5, 7, 9, 11, 13, 15]
    assert [s for s, _ in scalars["train_loss_epoch"]] == [7, 15]
    assert [s for s, _ in scalars["val_loss"]] == [7, 15]
    # a second run counts the version up
    assert _fit(tmp_path).logger.log_dir.endswith("version_1")


def test_fit_csv_and_tensorboard_together(tmp_path):
    tb, cv = TensorBoardLogger(tmp_path), CSVLogger(tmp_path, name="csv")
    trainer = _fit(tmp_path, logger=[tb, cv])
    assert trainer.loggers == [tb, cv]
    with open(os.path.join(cv.log_dir, "metrics.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"epoch", "step", "train_loss_epoch", "train_loss_step", "val_loss"}
    val = [(r["epoch"], r["step"]) for r in rows if r["val_loss"]]
    assert val == [("0", "7"), ("1", "15")]
    epoch_means = [float(r["train_loss_epoch"]) for r in rows if r["train_loss_epoch"]]
    tb_means = [v for _, v in _scalars(tb.log_dir)["train_loss_epoch"]]
    assert epoch_means == pytest.approx(tb_means)
    assert len([r for r in rows if r["train_loss_step"]]) == 8


def test_fit_writes_module_hparams(tmp_path):
    tb, cv = TensorBoardLogger(tmp_path), CSVLogger(tmp_path, name="csv")
    _fit(tmp_path, logger=[tb, cv])
    for lg in (tb, cv):
        with open(os.path.join(lg.log_dir, "hparams.yaml")) as f:
            assert yaml.safe_load(f) == {"lr": 0.1, "hidden": 32}
