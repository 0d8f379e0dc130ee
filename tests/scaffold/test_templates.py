"""Every template generates, passes black and its own tests, and trains with `python train.py fit`."""
import json

import pytest

from scaffold.generate import new_project
from tests.scaffold.helpers import SHORT_FIT, TEMPLATES, run

pytestmark = pytest.mark.slow  # every template generated, formatted, trained and tested in real processes

NAMES = {"autoencoder": "ae-project", "classifier": "mnist-classifier", "gan": "gan-project",
         "language-model": "char-lm", "minimal": "my-project"}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    out = tmp_path_factory.mktemp("projects")
    return {kind: new_project(NAMES[kind], output_dir=out) for kind in TEMPLATES}


@pytest.mark.parametrize("kind", TEMPLATES)
def test_layout_answers_and_no_markers(projects, kind):
    path = projects[kind]
    package = path.name.replace("-", "_")
    for rel in ["train.py", "configs/default.yaml", f"{package}/module.py", f"{package}/datamodule.py",
                "tests/test_smoke.py", "README.md", "pyproject.toml", ".gitignore", ".scaffold.json"]:
        assert (path / rel).is_file(), rel
    record = json.loads((path / ".scaffold.json").read_text())
    assert record["template"] == kind and record["template_version"] and record["answers"]["data"] == "synthetic"
    for file in path.rglob("*"):
        if file.is_file() and file.suffix != ".txt":
            text = file.read_text()
            assert "{{" not in text and "{%" not in text and "cookiecutter" not in text, file
    train = (path / "train.py").read_text()
    assert 'parser_kwargs={"default_config_files": ["configs/default.yaml"]}' in train


@pytest.mark.parametrize("kind", TEMPLATES)
def test_black_check(projects, kind):
    proc = run(["-m", "black", "--check", "--quiet", "."], cwd=projects[kind])
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("kind", TEMPLATES)
def test_train_py_fit_writes_logs_and_checkpoint(projects, kind):
    path = projects[kind]
    proc = run(["train.py", "fit", *SHORT_FIT], cwd=path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    run_dir = path / "lightning_logs" / "version_0"
    assert list(run_dir.glob("events.out.tfevents.*")), "no TensorBoard log"
    assert list((run_dir / "checkpoints").glob("*.ckpt")), "no checkpoint"


@pytest.mark.parametrize("kind", TEMPLATES)
def test_project_own_tests_pass(projects, kind):
    # the full suite, the training run to the template's quality target included
    proc = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], cwd=projects[kind], timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
