"""Each pattern of issue 8 has a script under scripts/: refactor it, check the layout and the formatting, train the
project a few steps, and check that its first losses equal the script's (`--verify`).

Patterns 10 (`model.zero_grad()`, train/eval toggles) and 11 (SummaryWriter, prints) live in p2, p1, p7 and p8.
"""
import ast
import io
import json
import tokenize

import black
import pytest
import yaml

from scaffold.refactor import refactor_script
from tests.scaffold.refactor.helpers import FIT, LAYOUT, SCRIPTS, python_files, run

pytestmark = pytest.mark.slow  # each pattern refactored, trained and verified against the script

# script -> (optimization mode, what REFACTOR.md / the config must show)
PATTERNS = {
    "p1_functions": ("automatic", ["training_step", "validation_step", "configure_optimizers", "scheduler.step()"]),
    "p2_module_level": ("automatic", ["training_step", "zero_grad()"]),
    "p3_gan": ("manual", ["self.manual_backward", "2 optimizers"]),
    "p4_manual_sgd": ("manual", ["no optimizer object"]),
    "p5_lbfgs": ("automatic", ["closure"]),
    "p6_amp": ("automatic", ["picks 16-mixed where CUDA is available and 32-true on a CPU", "GradScaler",
                             'precision = "16-mixed" if torch.cuda.is_available() else "32-true"']),
    "p7_clipping": ("automatic", ["gradient_clip_val: 0.25", "SummaryWriter"]),
    "p8_eval_accuracy": ("automatic", ["validation_step", "on_validation_epoch_end"]),
    "p9_tbptt": ("manual", ["self.hidden = hidden", "hidden = self.hidden", "self.lr = lr"]),
    "p12_reserved_names": ("automatic", ["self.trainer_", "self.global_step_", "model.log(loss.item())"]),
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Every pattern refactored once (the refactoring itself takes well under a second)."""
    root = tmp_path_factory.mktemp("refactored")
    return {name: refactor_script(SCRIPTS / f"{name}.py", output=root / name) for name in PATTERNS}


@pytest.mark.parametrize("name", list(PATTERNS))
def test_layout_formatting_and_report(projects, name):
    result = projects[name]
    mode, mentions = PATTERNS[name]
    assert result.mode == mode
    for rel in LAYOUT:
        assert (result.path / rel.format(package=result.package)).is_file(), rel
    for path in python_files(result.path):
        src = path.read_text()
        with pytest.raises(black.NothingChanged):
            black.format_file_contents(src, fast=False, mode=black.Mode())
    report = (result.path / "REFACTOR.md").read_text()
    module = (result.path / result.package / "module.py").read_text()
    config = (result.path / "configs" / "default.yaml").read_text()
    for text in mentions:
        assert text in report + module + config + (result.path / "train.py").read_text(), text
    assert "## Names to check" not in report, report  # every name the moved code reads was found
    assert json.loads((result.path / ".scaffold.json").read_text())["refactored_from"] == f"{name}.py"
    # the user's own classes and functions are kept as written (black may re-space them; the code and comments stay)
    models = (result.path / result.package / "models.py").read_text()
    script = (SCRIPTS / f"{name}.py").read_text()
    kept = {n.name: ast.dump(n) for n in ast.parse(models).body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    for node in ast.parse(script).body:
        if isinstance(node, ast.ClassDef) or (isinstance(node, ast.FunctionDef) and node.name in kept):
            assert kept.get(node.name) == ast.dump(node), node.name
    everything = report + module + models + (result.path / result.package / "datamodule.py").read_text()
    for token in tokenize.generate_tokens(io.StringIO(script).readline):
        if token.type == tokenize.COMMENT:
            assert token.string in everything, f"comment lost: line {token.start[0]}: {token.string}"


@pytest.mark.parametrize("name", list(PATTERNS))
def test_project_trains(projects, name):
    result = projects[name]
    proc = run(list(FIT), cwd=result.path, timeout=300)  # p6_amp too: its train.py picks 32-true on a CPU, as the script's AMP
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list(result.path.rglob("*.ckpt")), "no checkpoint written"


@pytest.mark.parametrize("name", [n for n in PATTERNS if n != "p1_functions"])
def test_verify_losses_match(projects, name, tmp_path):
    """The losses of the script and of the project are equal on the CPU with the same seed, through the whole short run
    (every DataLoader pass cut to 2 batches: all epochs, their ends, validation and the end of training)."""
    from scaffold.refactor.verify import compare

    result = projects[name]
    precision = yaml.safe_load((result.path / "configs" / "default.yaml").read_text())["trainer"].get("precision", "16-mixed")
    comparison = compare(SCRIPTS / f"{name}.py", result.path, [], steps=12, precision=precision)
    assert comparison.match, comparison.text
    assert len(comparison.script_losses) >= 4  # at least two epochs of two batches
    assert comparison.script_status == comparison.project_status


def test_cli_verify_with_script_arguments(tmp_path):
    """The command line end to end: options after `--` reach the config, --verify prints both sequences and MATCH."""
    out = tmp_path / "mnist-like"
    proc = run(["-m", "scaffold", "refactor", str(SCRIPTS / "p1_functions.py"), "--output", str(out), "--verify", "--",
                "--lr", "0.5", "--batch-size", "16"], cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    config = yaml.safe_load((out / "configs" / "default.yaml").read_text())
    assert config["model"]["lr"] == 0.5 and config["data"]["batch_size"] == 16
    assert config["trainer"]["max_epochs"] == 2 and config["seed_everything"] == 3
    assert "Where each part of the script went" in proc.stdout
    assert "step  script" in proc.stdout and "MATCH" in proc.stdout


def test_project_own_tests_pass(projects):
    """The project's own tests (tests/test_smoke.py, with the conftest.py every project shares) pass where it stands;
    p6's float16 config is run in bf16 on the CPU by the test itself."""
    proc = run(["-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=projects["p6_amp"].path, timeout=600)
    assert proc.returncode == 0 and " passed" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]
