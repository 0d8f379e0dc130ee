"""WandbLogger against the real wandb client in offline mode: the run's .wandb file is read back record by record."""
import glob
import struct
import subprocess
import sys
import time

import pytest

import runtime as pl
from runtime.callbacks import ModelCheckpoint
from runtime.demos.boring_classes import BoringModel
from tests.runtime.helpers import random_loader

wandb = pytest.importorskip("wandb")
from wandb.proto import wandb_internal_pb2  # noqa: E402


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "offline")  # no network, ever
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield
    wandb.finish()


def read_run(save_dir, run_id) -> list:
    """The records of an offline run, up to its final ``exit`` record (wandb-core may still be writing the log when
    ``wandb.finish()`` returns; waits 30 s at most)."""
    for _ in range(300):
        records = _read_log(save_dir, run_id)
        if of_kind(records, "exit"):
            return records
        time.sleep(0.1)
    raise AssertionError(f"run {run_id}: no exit record in its log")


def _read_log(save_dir, run_id) -> list:
    """A run's transaction log: a LevelDB-style log of wandb's own protobuf Records."""
    (path,) = glob.glob(f"{save_dir}/wandb/offline-run-*-{run_id}/run-{run_id}.wandb")
    raw, block, pos, chunk, records = open(path, "rb").read(), 32768, 7, b"", []
    assert raw[:4] == b":W&B"
    while pos + 7 <= len(raw):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", raw[pos:pos + 7])
        chunk += raw[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunk)
            records.append(record)
            chunk = b""
    return records


def of_kind(records, kind):
    return [getattr(r, kind) for r in records if r.WhichOneof("record_type") == kind]


class HParamsModel(BoringModel):
    def __init__(self, lr: float = 0.1, hidden: int = 8, act=None):
        super().__init__()
        self.save_hyperparameters()

    def training_step(self, batch, batch_idx):
        out = super().training_step(batch, batch_idx)
        self.log("train_loss", out["loss"])
        return out


def fit(tmp_path, logger, **kwargs):
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=2, logger=logger, log_every_n_steps=1,
                         enable_progress_bar=False, enable_model_summary=False, **kwargs)
    trainer.fit(HParamsModel(lr=0.05, act=sys.modules[__name__].HParamsModel), random_loader(length=6, batch_size=2))
    return trainer


def test_hyperparameters_and_metrics_with_steps_land_in_the_run(tmp_path):
    from runtime.loggers import WandbLogger

    logger = WandbLogger(save_dir=tmp_path, offline=True, project="proj", name="first", prefix="fit")
    trainer = fit(tmp_path, logger)
    run_id = logger.version
    assert logger.name == "proj" and logger.experiment.name == "first" and logger.save_dir == str(tmp_path)
    wandb.finish()

    records = read_run(tmp_path, run_id)
    (run,) = of_kind(records, "run")
    assert run.run_id == run_id and run.project == "proj"
    config = {u.key: u.value_json for c in of_kind(records, "config") for u in c.update}
    assert config["lr"] == "0.05" and config["hidden"] == "8" and config["act"] == '"HParamsModel"'
    history = [{i.nested_key[0]: i.value_json for i in h.item} for h in of_kind(records, "history")]
    steps = [int(h["trainer/global_step"]) for h in history if "fit-train_loss" in h]
    assert steps == list(range(trainer.global_step)) and trainer.global_step == 6
    metrics = {m.name or m.glob_name: m.step_metric for m in of_kind(records, "metric")}
    assert metrics["*"] == "trainer/global_step"  # plotted against the trainer's step


def test_checkpoints_are_logged_as_artifacts_and_a_run_resumes_by_version(tmp_path):
    from runtime.loggers import WandbLogger

    # offline=False with WANDB_MODE=offline: artifacts are recorded in the run, to be uploaded by `wandb sync`
    logger = WandbLogger(save_dir=tmp_path, log_model=True, project="proj")
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpts", save_top_k=-1, every_n_epochs=1)
    fit(tmp_path, logger, callbacks=[ckpt])
    run_id = logger.version
    wandb.finish()
    artifacts = of_kind(read_run(tmp_path, run_id), "artifact")
    assert len(artifacts) == 2  # save_top_k=-1: each checkpoint as it is written
    assert {a.name for a in artifacts} == {f"model-{run_id}"} and all(a.type == "model" for a in artifacts)
    assert "best" in artifacts[-1].aliases and "latest" in artifacts[-1].aliases
    assert [m.path for m in artifacts[-1].manifest.contents] == ["model.ckpt"]
    assert '"original_filename":"epoch=1-step=6.ckpt"' in artifacts[-1].metadata.replace(" ", "")

    again = WandbLogger(save_dir=tmp_path, version=run_id, project="proj")
    assert again.version == run_id and again.experiment.id == run_id  # the same run continues
    again.log_metrics({"extra": 1.0}, step=7)
    wandb.finish()


def test_offline_with_log_model_is_refused():
    from runtime.loggers import WandbLogger

    with pytest.raises(Exception, match="cannot be uploaded in offline mode"):
        WandbLogger(offline=True, log_model=True)


def test_the_cli_names_it_by_its_short_name(tmp_path, monkeypatch):
    from runtime.cli import LightningCLI

    monkeypatch.setattr("sys.argv", ["train.py"])
    from runtime.loggers import WandbLogger

    cli = LightningCLI(BoringModel, run=False, args=[
        "--trainer.logger={class_path: WandbLogger, init_args: {offline: true, project: p, save_dir: wb}}"])
    assert isinstance(cli.trainer.logger, WandbLogger) and cli.trainer.logger.name == "p"
