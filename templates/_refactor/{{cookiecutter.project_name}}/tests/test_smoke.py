"""The project's own test: one fast_dev_run fit through `train.py`, as `python train.py fit` runs it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_fast_dev_run(default_config):
    # a process of its own, from the project's folder: the script's code may read files by relative path
    # and set module globals, which the in-process `cli` fixture (conftest.py) would not give it
    cmd = [
        sys.executable,
        "train.py",
        "fit",
        "--trainer.fast_dev_run=true",
        "--trainer.accelerator=cpu",
    ]
    if default_config["trainer"].get("precision", "16-mixed") == "16-mixed":
        # the script's float16 autocast (unset: train.py picks 16-mixed where CUDA is available) needs a GPU
        cmd.append("--trainer.precision=bf16-mixed")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
