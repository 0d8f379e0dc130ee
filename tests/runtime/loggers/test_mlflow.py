"""MLFlowLogger against the real mlflow client and a local store, read back through mlflow's own client."""
import pytest
import yaml

from runtime.callbacks import ModelCheckpoint
from tests.runtime.loggers.test_wandb import HParamsModel, fit  # noqa: F401  (the shared tiny run)

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402


@pytest.fixture(autouse=True)
def _local(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)


def test_hyperparameters_metrics_with_steps_and_checkpoints_in_a_file_store(tmp_path):
    from runtime.loggers import MLFlowLogger

    logger = MLFlowLogger(experiment_name="exp", run_name="first", save_dir=str(tmp_path / "mlruns"), log_model=True,
                          tags={"team": "a"})
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpts", monitor="train_loss", save_top_k=1)
    trainer = fit(tmp_path, logger, callbacks=[ckpt])

    client = MlflowClient(f"file:{tmp_path / 'mlruns'}")
    run = client.get_run(logger.run_id)
    assert run.info.status == "FINISHED" and run.info.experiment_id == logger.name
    assert client.get_experiment(logger.name).name == "exp"
    assert run.data.tags["mlflow.runName"] == "first" and run.data.tags["team"] == "a"
    assert run.data.params["lr"] == "0.05" and run.data.params["hidden"] == "8"
    history = client.get_metric_history(logger.run_id, "train_loss")
    assert [m.step for m in history] == list(range(trainer.global_step)) and trainer.global_step == 6
    assert history[-1].value == pytest.approx(float(trainer.callback_metrics["train_loss"]))
    # log_model=True: the best checkpoint uploaded at the end, with its score and aliases beside it
    best = ckpt.best_model_path
    folder = best.rsplit("/", 1)[1][:-len(".ckpt")]
    names = sorted(a.path for a in client.list_artifacts(logger.run_id, folder))
    assert names == [f"{folder}/aliases.txt", f"{folder}/{folder}.ckpt", f"{folder}/metadata.yaml"]
    local = client.download_artifacts(logger.run_id, f"{folder}/metadata.yaml", str(tmp_path / "dl"))
    meta = yaml.safe_load(open(local).read())
    assert meta["score"] == pytest.approx(float(ckpt.best_model_score)) and meta["original_filename"] == folder + ".ckpt"


def test_a_run_resumes_by_run_id(tmp_path):
    from runtime.loggers import MLFlowLogger

    first = MLFlowLogger(save_dir=str(tmp_path / "mlruns"))
    first.log_metrics({"a": 1.0}, step=1)
    first.finalize("success")
    again = MLFlowLogger(save_dir=str(tmp_path / "mlruns"), run_id=first.run_id)
    again.log_metrics({"a": 2.0}, step=2)
    assert again.name == first.name
    history = MlflowClient(f"file:{tmp_path / 'mlruns'}").get_metric_history(first.run_id, "a")
    assert [(m.step, m.value) for m in history] == [(1, 1.0), (2, 2.0)]


def test_a_failed_run_is_marked_failed(tmp_path):
    from runtime.loggers import MLFlowLogger

    logger = MLFlowLogger(save_dir=str(tmp_path / "mlruns"))
    logger.log_hyperparams({"nested": {"depth": 2}})
    logger.finalize("failed")
    run = MlflowClient(f"file:{tmp_path / 'mlruns'}").get_run(logger.run_id)
    assert run.info.status == "FAILED" and run.data.params == {"nested/depth": "2"}


@pytest.mark.slow  # mlflow creates its tables on first use (~15 s)
def test_a_sqlite_store(tmp_path):
    pytest.importorskip("sqlalchemy")  # mlflow's database stores need it (the full `mlflow` brings it)
    pytest.importorskip("alembic")
    from runtime.loggers import MLFlowLogger

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    logger = MLFlowLogger(tracking_uri=uri, artifact_location=str(tmp_path / "artifacts"))
    trainer = fit(tmp_path, logger)
    assert logger.save_dir is None  # not a file store
    client = MlflowClient(uri)
    assert client.get_run(logger.run_id).data.params["lr"] == "0.05"
    assert [m.step for m in client.get_metric_history(logger.run_id, "train_loss")] == list(range(trainer.global_step))
