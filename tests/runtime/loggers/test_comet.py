"""CometLogger against the real comet_ml client in offline mode: the experiment's zip is read back."""
import json
import zipfile

import pytest

from tests.runtime.loggers.test_wandb import fit

comet_ml = pytest.importorskip("comet_ml")


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMET_API_KEY", raising=False)


def read_offline(folder):
    """experiment.json and the messages of the one offline experiment in ``folder``."""
    (path,) = folder.glob("*.zip")
    with zipfile.ZipFile(path) as z:
        experiment = json.loads(z.read("experiment.json"))
        messages = [json.loads(line) for line in z.read("messages.json").decode().splitlines() if line.strip()]
    return experiment, messages


@pytest.mark.slow  # comet_ml archives the offline experiment when it ends (a few seconds)
def test_hyperparameters_and_metrics_with_steps_in_the_offline_experiment(tmp_path):
    from runtime.loggers import CometLogger

    logger = CometLogger(project="proj", online=False, offline_directory=str(tmp_path / "comet"), prefix="fit")
    trainer = fit(tmp_path, logger)
    assert logger.name == "proj" and logger.version == logger.experiment.get_key() and logger.save_dir == str(tmp_path / "comet")
    logger.experiment.end()  # writes the zip

    experiment, messages = read_offline(tmp_path / "comet")
    assert experiment["project_name"] == "proj"
    params = {m["payload"]["param"]["paramName"]: m["payload"]["param"]["paramValue"]
              for m in messages if m["type"] == "parameter_msg"}
    assert params["lr"] == 0.05 and params["hidden"] == 8
    metrics = [m["payload"]["metric"] for m in messages if m["type"] == "metric_msg"]
    steps = [m["step"] for m in metrics if m["metricName"] == "fit_train_loss"]
    assert steps == list(range(trainer.global_step)) and trainer.global_step == 6
