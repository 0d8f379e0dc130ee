"""A generated project's train.py, run as a real process: `python train.py fit ...` from the project folder."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # a generated project's train.py run as real processes

ROOT = Path(__file__).resolve().parents[3]
TRAIN_PY = '''from runtime.cli import LightningCLI
from toyproj.datamodule import ToyData
from toyproj.module import ToyModel

if __name__ == "__main__":
    LightningCLI(ToyModel, ToyData, parser_kwargs={"default_config_files": ["configs/default.yaml"]})
'''
FAST = ["--trainer.limit_train_batches=2", "--trainer.limit_val_batches=1", "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false"]


@pytest.fixture
def project(tmp_path) -> Path:
    """The layout `scaffold new` writes: train.py, configs/default.yaml, the package."""
    pkg = tmp_path / "toyproj"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    shutil.copy(Path(__file__).with_name("toy.py"), pkg / "module.py")
    (pkg / "datamodule.py").write_text("from toyproj.module import ToyData\n")
    (tmp_path / "train.py").write_text(TRAIN_PY)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "default.yaml").write_text(yaml.safe_dump(
        {"seed_everything": 42, "trainer": {"max_epochs": 1, "num_sanity_val_steps": 0}, "model": {"hidden": 6, "lr": 0.05},
         "data": {"batch_size": 2}}))
    return tmp_path


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("PL_GLOBAL_SEED", None)
    train = cwd / "train.py" if (cwd / "train.py").exists() else cwd.parent / "train.py"
    return subprocess.run([sys.executable, str(train), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_train_py_fit_writes_logs_checkpoint_and_config(project):
    proc = run(project, "fit", *FAST, "--model.hidden=5")
    assert proc.returncode == 0, proc.stderr
    run_dir = project / "lightning_logs" / "version_0"
    assert list((run_dir / "checkpoints").glob("*.ckpt"))
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["seed_everything"] == 42 and saved["model"]["hidden"] == 5 and saved["model"]["lr"] == 0.05
    assert saved["data"]["batch_size"] == 2 and saved["trainer"]["limit_train_batches"] == 2



def test_train_py_errors_exit_2_with_one_message(project):
    proc = run(project, "fit", "--model.lrr=0.1")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "usage: train.py fit [-h] [-c CONFIG] [--print_config[=flags]] [--KEY VALUE ...]",
        "tip: For details of accepted options run: train.py fit --help",
        "error: unrecognized arguments: --model.lrr=0.1 (did you mean --model.lr?)",
    ]
    elsewhere = project / "toyproj"  # run from the wrong folder: the default config is relative to the current dir
    proc = run(elsewhere, "fit")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (f"error: default config file 'configs/default.yaml' does not exist (looked in {elsewhere}); "
            "run from the project folder") in proc.stderr
