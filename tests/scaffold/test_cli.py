"""The command line itself: help without torch, templates listing, version."""
import sys

from tests.scaffold.helpers import TEMPLATES, run


def test_help_does_not_import_torch(tmp_path):
    code = "import sys; from scaffold.cli import run; code = run(['--help']); assert 'torch' not in sys.modules; sys.exit(code)"
    proc = run(["-c", code], cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "new" in proc.stdout and "templates" in proc.stdout


def test_templates_lists_every_kind(tmp_path):
    proc = run(["-m", "scaffold", "templates"], cwd=tmp_path, timeout=60)
    assert proc.returncode == 0
    listed = [line.split()[0] for line in proc.stdout.splitlines()]
    assert listed == TEMPLATES
    assert all(len(line.split(None, 1)) == 2 for line in proc.stdout.splitlines()), "a template has no description"


def test_version(tmp_path):
    proc = run(["-m", "scaffold", "--version"], cwd=tmp_path, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("scaffold ")
