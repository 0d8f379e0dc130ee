"""A refactored project's fixed files come from the same templates as `scaffold new`'s: only the modules lifted from
the script (module.py, datamodule.py, models.py), the config and REFACTOR.md are written by the refactor itself."""
import copy
import dataclasses
import tomllib

import pytest

from scaffold.generate import new_project
from scaffold.refactor import refactor_script
from tests.scaffold.refactor.helpers import SCRIPTS

SHAPES = SCRIPTS.parent / "shapes"


def _neutral(text, package, module, data):
    return text.replace(module, "MODULE").replace(data, "DATAMODULE").replace(package, "PACKAGE")


def test_refactored_project_renders_the_files_scaffold_new_renders(tmp_path):
    new = new_project("my-project", template="minimal", output_dir=tmp_path / "new")
    result = refactor_script(SCRIPTS / "p2_module_level.py", output=tmp_path / "ref")
    ref = result.path
    assert (ref / ".gitignore").read_text() == (new / ".gitignore").read_text()  # `.venv/` was missing
    for rel in ["train.py", "tests/conftest.py"]:  # the docstring had drifted; conftest.py was missing
        theirs = _neutral((new / rel).read_text(), "my_project", "MinimalModule", "MinimalDataModule")
        ours = _neutral((ref / rel).read_text(), result.package, "P2ModuleLevelModule", "P2ModuleLevelDataModule")
        assert ours == theirs, rel
    theirs, ours = (tomllib.loads((p / "pyproject.toml").read_text()) for p in (new, ref))
    assert ours["tool"]["pytest"] == {"ini_options": {k: v for k, v in theirs["tool"]["pytest"]["ini_options"].items()
                                                      if k != "markers"}}
    assert ours["project"]["dependencies"] == theirs["project"]["dependencies"]
    assert ours["project"]["optional-dependencies"] == theirs["project"]["optional-dependencies"]
    assert "refactored from p2_module_level.py" in ours["project"]["description"]
    assert ours["tool"]["setuptools"]["packages"] == [result.package]
    readme = (ref / "README.md").read_text()
    assert readme.startswith("# p2-module-level\n") and "automatic optimization" in readme and "## Test" in readme
    assert (ref / result.package / "__init__.py").read_text() == (
        '"""p2-module-level: refactored from p2_module_level.py by `scaffold refactor`."""\n')


@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.py")) + [SHAPES / "loss_rebound.py", SHAPES / "full_batch.py"],
                         ids=lambda p: p.stem)
def test_emitting_leaves_the_plan_as_it_was(script):
    """The plan is final before emitting: emitting and the report read it; what they find is in the plain result."""
    from scaffold.refactor.analyze import analyze
    from scaffold.refactor.emit import Emitter
    from scaffold.refactor.plan import make_plan
    from scaffold.refactor.report import report
    from scaffold.refactor.source import load_script

    plan = make_plan(analyze(load_script(script)), [])
    def state():  # the containers copied (what emitting could append to), the rest compared as the same objects
        return {f.name: copy.copy(v) if isinstance(v := getattr(plan, f.name), (list, dict, set)) else v
                for f in dataclasses.fields(plan)}

    before = state()
    emitted = Emitter(plan, "pkg", "Pkg").build()
    text = report(plan, emitted)
    assert state() == before
    assert len(emitted.notes) >= len(plan.notes) and "## Where each part of the script went" in text
    with pytest.raises(RuntimeError, match="final"):
        plan.note(1, "a note added while emitting")
    with pytest.raises(AttributeError):
        plan.unplaced.append(None)
