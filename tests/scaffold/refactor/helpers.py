"""Shared by the refactor tests: the pattern scripts, and running a generated project."""
from pathlib import Path

from tests.scaffold.helpers import ROOT, run  # noqa: F401  (one way to run a command with the repository importable)

SCRIPTS = Path(__file__).resolve().parent / "scripts"
# the project's files, whatever the script
LAYOUT = ["train.py", "configs/default.yaml", "REFACTOR.md", "README.md", "pyproject.toml", ".gitignore", ".scaffold.json",
          "tests/test_smoke.py", "{package}/__init__.py", "{package}/module.py", "{package}/datamodule.py", "{package}/models.py"]
FIT = ["train.py", "fit", "--trainer.max_steps=3", "--trainer.limit_val_batches=2", "--trainer.accelerator=cpu",
       "--trainer.enable_progress_bar=false"]


def python_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*.py") if "lightning_logs" not in p.parts)
