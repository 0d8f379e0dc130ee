"""Shared by the generator tests: run a command with the repository importable, and list a folder."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ["autoencoder", "classifier", "gan", "language-model", "minimal"]
SHORT_FIT = ["--trainer.max_epochs=1", "--trainer.limit_train_batches=3", "--trainer.limit_val_batches=2",
             "--trainer.enable_progress_bar=false"]


def env() -> dict:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(ROOT), out.get("PYTHONPATH", "")])
    out.pop("PL_GLOBAL_SEED", None)
    return out


def run(args, cwd, timeout=600, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=str(cwd), env=env(), capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []
