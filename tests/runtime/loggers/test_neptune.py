"""NeptuneLogger against the real neptune client in offline mode: the run's operation log is read back."""
import json

import pytest

from runtime.callbacks import ModelCheckpoint
from tests.runtime.loggers.test_wandb import fit

neptune = pytest.importorskip("neptune")


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # offline runs go to ./.neptune
    monkeypatch.delenv("NEPTUNE_API_TOKEN", raising=False)


def read_operations(tmp_path) -> list[dict]:
    (folder,) = (tmp_path / ".neptune" / "offline").iterdir()
    return [json.loads(line)["obj"] for line in (folder / "data-1.log").read_text().splitlines() if line.strip()]


@pytest.mark.slow  # neptune's background threads take a few seconds to stop
def test_hyperparameters_metrics_with_steps_and_checkpoints_in_the_offline_run(tmp_path):
    from runtime.loggers import NeptuneLogger

    logger = NeptuneLogger(project="ws/proj", name="first", mode="offline")
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpts", monitor="train_loss", save_top_k=1)
    trainer = fit(tmp_path, logger, callbacks=[ckpt])
    assert logger.name == "first" and logger.version and logger.experiment is logger.run
    logger.run.stop()

    ops = read_operations(tmp_path)
    assigned = {"/".join(o["path"]): o.get("value") for o in ops if o["type"].startswith("Assign")}
    assert assigned["sys/name"] == "first"
    assert assigned["training/hyperparams/lr"] == 0.05 and assigned["training/hyperparams/hidden"] == 8
    assert assigned["training/status"] == "success"
    assert assigned["training/model/best_model_path"] == ckpt.best_model_path
    assert assigned["training/model/best_model_score"] == pytest.approx(float(ckpt.best_model_score))
    steps = [v["step"] for o in ops if o["type"] == "LogFloats" and o["path"] == ["training", "train_loss"] for v in o["values"]]
    assert steps == list(range(trainer.global_step)) and trainer.global_step == 6
    uploads = ["/".join(o["path"]) for o in ops if o["type"] == "UploadFile"]
    assert any(u.startswith("training/model/checkpoints/epoch=") for u in uploads), uploads
