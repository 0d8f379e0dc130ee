"""Answer combinations: a user's data file, other loggers and optimizers, model sizes, interactive prompts."""
import json
import subprocess

import numpy as np
import pytest
import torch
import yaml

from scaffold.answers import guess_kind
from scaffold.cli import run as cli
from tests.scaffold.helpers import SHORT_FIT, run, tree


@pytest.mark.parametrize("name, kind", [("gan-project", "gan"), ("mnist-classifier", "classifier"),
                                        ("my_autoencoder", "autoencoder"), ("char-lm", "language-model"),
                                        ("tiny-gpt", "language-model"), ("something", "minimal")])
def test_kind_guessed_from_name(name, kind):
    assert guess_kind(name) == kind


def _fit(path, *extra):
    proc = run(["train.py", "fit", *SHORT_FIT, *extra], cwd=path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


@pytest.mark.slow  # generates a project and trains it in a real process
def test_classifier_on_a_csv_with_csv_logger_and_sgd(tmp_path):
    x = np.random.default_rng(0).normal(size=(200, 5))
    table = np.column_stack([x, (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0)])
    np.savetxt(tmp_path / "data.csv", table, delimiter=",", header="a,b,c,d,e,label", comments="")
    code = cli(["new", "clf", "--template", "classifier", "--no-input", "-o", str(tmp_path / "out"),
                "--set", f"data={tmp_path / 'data.csv'}", "--set", "logger=csv", "--set", "optimizer=sgd",
                "--set", "model_size=large", "--set", "lr=0.01", "--set", "max_epochs=2"])
    assert code == 0
    path = tmp_path / "out" / "clf"
    config = yaml.safe_load((path / "configs" / "default.yaml").read_text())
    assert config["data"]["data_path"] == str(tmp_path / "data.csv")
    assert config["model"]["num_features"] == 5 and config["model"]["num_classes"] == 4
    assert config["model"]["hidden_dim"] == 256 and config["model"]["optimizer"] == "sgd"
    assert config["trainer"]["max_epochs"] == 2 and config["trainer"]["logger"]["class_path"].endswith("CSVLogger")
    _fit(path)
    assert list((path / "lightning_logs").rglob("metrics.csv"))
    answers = json.loads((path / ".scaffold.json").read_text())["answers"]
    assert answers["logger"] == "csv" and answers["data"] == str(tmp_path / "data.csv")


@pytest.mark.slow  # generates a project and trains it in a real process
def test_gan_on_an_npz_of_grey_images_without_logger(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(300, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "digits.npz", x=images)
    path = tmp_path / "my-gan"
    assert cli(["new", "my-gan", "--no-input", "-o", str(tmp_path), "--set", f"data={tmp_path / 'digits.npz'}",
                "--set", "logger=none", "--set", "optimizer=adamw"]) == 0
    config = yaml.safe_load((path / "configs" / "default.yaml").read_text())
    assert config["model"]["channels"] == config["data"]["channels"] == 1 and config["trainer"]["logger"] is False
    _fit(path)
    assert list(path.rglob("samples/epoch=000.png"))  # without a logger the grids go under the root folder


@pytest.mark.slow  # generates a project and trains it in a real process
def test_autoencoder_on_a_pt_file(tmp_path):
    torch.save({"x": torch.randn(100, 6)}, tmp_path / "x.pt")
    path = tmp_path / "ae"
    assert cli(["new", "ae", "-t", "autoencoder", "--no-input", "-o", str(tmp_path),
                "--set", f"data={tmp_path / 'x.pt'}", "--set", "model_size=medium"]) == 0
    assert yaml.safe_load((path / "configs" / "default.yaml").read_text())["model"]["num_features"] == 6
    _fit(path)


@pytest.mark.slow  # generates a project and trains it in a real process
def test_language_model_on_a_text_file(tmp_path):
    (tmp_path / "poem.txt").write_text("the quick brown fox jumps over the lazy dog. " * 60)
    path = tmp_path / "poem-lm"
    assert cli(["new", "poem-lm", "--no-input", "-o", str(tmp_path), "--set", f"data={tmp_path / 'poem.txt'}"]) == 0
    _fit(path)


def test_non_tty_stdin_never_prompts(tmp_path):
    # no --no-input: stdin is not a terminal, so the defaults are used and nothing waits
    proc = run(["-m", "scaffold", "new", "gan-project", "-o", str(tmp_path)], cwd=tmp_path, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "gan-project" / ".scaffold.json").read_text())["template"] == "gan"


def test_prompts_use_the_answers(tmp_path, monkeypatch):
    from scaffold.generate import new_project

    given = {"lr": "0.01", "max_epochs": "3", "logger": "none"}
    path = new_project("x-project", output_dir=tmp_path, ask=lambda q, default: given.get(q.key, default),
                       ask_kind=lambda known, default: "classifier")
    config = yaml.safe_load((path / "configs" / "default.yaml").read_text())
    assert config["model"]["lr"] == 0.01 and config["trainer"]["max_epochs"] == 3 and config["trainer"]["logger"] is False
    assert "x_project" in tree(path)
