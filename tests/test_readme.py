"""Every ```python block of README.md runs (in a fresh process, from an empty directory)."""
import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each README block in a fresh process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")


def python_blocks():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"^```python[^\n]*\n(.*?)^```", text, flags=re.S | re.M)


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_readme_exists_and_has_python_examples():
    assert os.path.isfile(README), "README.md is missing"
    assert python_blocks(), "README.md has no ```python example"


@pytest.mark.parametrize("index", range(len(python_blocks())) if os.path.isfile(README) else [])
def test_readme_python_block_runs(tmp_path, index):
    code = python_blocks()[index]
    script = tmp_path / f"readme_block_{index}.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=str(tmp_path), env=_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"README block {index} failed:\n{code}\n--- stderr ---\n{proc.stderr[-4000:]}"


def test_readme_main_job_runs(tmp_path):
    """The README's first command generates the GAN project and trains it: the same, with a shortened fit."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    assert "scaffold new gan-project --no-input" in text and "cd gan-project && python train.py fit" in text
    proc = subprocess.run([sys.executable, "-m", "scaffold", "new", "gan-project", "--no-input"], cwd=str(tmp_path),
                          env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    proc = subprocess.run([sys.executable, "train.py", "fit", "--trainer.max_epochs=1", "--trainer.limit_train_batches=3"],
                          cwd=str(tmp_path / "gan-project"), env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]


def test_readme_command_line_block_runs(tmp_path):
    """Each line of the README's "Command line" block runs (non-interactively) and succeeds."""
    text = open(README, encoding="utf-8").read()
    section = text.split("## Command line", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    commands = [c for c in commands if c]
    assert commands and all(c.startswith("scaffold ") for c in commands)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for command in commands:
        argv = [sys.executable, "-m", "scaffold", *command.split()[1:]]
        proc = subprocess.run(argv, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert (tmp_path / "mnist-classifier" / "train.py").is_file() and (tmp_path / "my-gan" / ".scaffold.json").is_file()
