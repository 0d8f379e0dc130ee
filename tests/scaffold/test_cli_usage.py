"""Usage errors are a short message and exit code 2, never a traceback; answers piped into `scaffold new` are read."""
import json
import subprocess

import pytest

from tests.scaffold.helpers import run


@pytest.mark.parametrize("args, message", [
    (["--bogus"], "Error: No such option: --bogus"),
    (["frob"], "Error: No such command 'frob'."),
    (["new"], "Error: Missing argument 'NAME'."),
    (["new", "x", "--tempate", "gan"], "Error: No such option: --tempate (Possible options: --template)"),
    (["refactor"], "Error: Missing argument 'SCRIPT.py'."),
    (["templates", "extra"], "Error: Got unexpected extra argument(s) (extra)"),
])
def test_usage_errors_exit_2_with_a_short_message(tmp_path, args, message):
    proc = run(["-m", "scaffold", *args], cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("Usage: scaffold") and lines[-1] == message and len(lines) == 3, proc.stderr


def test_piped_answers_are_read_in_order(tmp_path):
    # kind, data, model size, optimizer (an invalid answer is asked again, from the next line), lr
    answers = "minimal\n\nsmall\nadamm\nsgd\n0.05\n"
    proc = run(["-m", "scaffold", "new", "piped"], cwd=tmp_path, timeout=300, input=answers)
    assert proc.returncode == 0, proc.stderr
    saved = json.loads((tmp_path / "piped" / ".scaffold.json").read_text())
    assert saved["template"] == "minimal"
    assert saved["answers"]["optimizer"] == "sgd" and saved["answers"]["lr"] == "0.05"
    assert saved["answers"]["data"] == "synthetic"  # an empty line takes the default
    assert "not one of" in proc.stderr
    # the project says how to get its test dependency before `pytest`
    readme = (tmp_path / "piped" / "README.md").read_text()
    assert readme.index("pip install pytest") < readme.index("\npytest ")


def test_no_terminal_and_nothing_piped_says_it_uses_the_defaults(tmp_path):
    proc = run(["-m", "scaffold", "new", "quiet"], cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "Standard input is not a terminal, so nothing is asked: using the defaults" in proc.stderr
    proc = run(["-m", "scaffold", "new", "quieter", "--no-input"], cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and "not a terminal" not in proc.stderr
