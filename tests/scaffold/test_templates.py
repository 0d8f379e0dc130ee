"""Every template generates, passes black and its own tests, and trains with `python train.py fit`."""
import json

import pytest

from scaffold.generate import new_project
from tests.scaffold.helpers import ROOT, SHORT_FIT, TEMPLATES, run

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


# what each template shows after a run, under the run's folder (the minimal template shows no pictures)
PICTURES = {"autoencoder": "reconstructions/epoch=000.png", "classifier": "confusion/epoch=000.png",
            "gan": "samples/epoch=000.png", "language-model": "samples/epoch=000.txt"}


@pytest.mark.parametrize("kind", TEMPLATES)
def test_train_py_fit_writes_logs_checkpoint_pictures_and_says_where(projects, kind):
    path = projects[kind]
    proc = run(["train.py", "fit", *SHORT_FIT], cwd=path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    run_dir = path / "lightning_logs" / "version_0"
    assert list(run_dir.glob("events.out.tfevents.*")), "no TensorBoard log"
    assert list((run_dir / "checkpoints").glob("*.ckpt")), "no checkpoint"
    assert "best val_" in proc.stdout and "tensorboard --logdir lightning_logs" in proc.stdout, proc.stdout[-2000:]
    if kind in PICTURES:
        assert (run_dir / PICTURES[kind]).is_file(), sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*"))
        folder = PICTURES[kind].split("/")[0]
        assert f"{folder}: lightning_logs/version_0/{folder}" in proc.stdout, proc.stdout[-2000:]


def test_template_python_without_template_syntax_is_black_formatted():
    # `scaffold new` copies these files as they are and skips black on them (it is the slowest step)
    import black

    plain = [p for p in (ROOT / "templates").rglob("*.py") if not any(m in p.read_text() for m in ("{{", "{%", "{#"))]
    assert len(plain) >= 10  # the helpers (one copy each under _shared) and the modules without template syntax
    for path in plain:
        with pytest.raises(black.NothingChanged):
            black.format_file_contents(path.read_text(), fast=True, mode=black.Mode())


@pytest.mark.parametrize("kind", TEMPLATES)
def test_project_own_quick_tests_pass(projects, kind):
    proc = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "-m", "not slow"], cwd=projects[kind], timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the GAN's run takes about 3 minutes on a quiet 2-core machine, far more on a busy one
@pytest.mark.parametrize("kind", [kind for kind in TEMPLATES if kind != "minimal"])  # minimal's run is a quick test
def test_project_default_run_reaches_its_target(projects, kind):
    # each template's slow test: the default config trained to the target its README states (for the GAN,
    # about 2.5 CPU-minutes: 30 epochs, then the sample grids scored by a shape classifier; the others take
    # well under a minute)
    proc = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "-m", "slow", "-s"], cwd=projects[kind], timeout=1200)
    assert proc.returncode == 0 and " passed" in proc.stdout, proc.stdout[-4000:] + proc.stderr[-2000:]
