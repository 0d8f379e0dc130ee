"""`--verify` on the shapes where the script and a correct project drew random numbers from different states
(found on bench/refactor_corpus.py): the comparison must start and keep both sides' generators alike, the way the
project's trainer does, and still tell a real difference apart."""
from pathlib import Path

import shutil

import pytest

from scaffold.refactor import refactor_script
from scaffold.refactor.analyze import analyze
from scaffold.refactor.source import load_script
from scaffold.refactor.verify import compare, evaluation_lines

pytestmark = pytest.mark.slow  # each test runs the script and the project (two short processes each)

SHAPES = Path(__file__).resolve().parent / "shapes"


@pytest.mark.parametrize("name", ["verify_numpy_noise", "verify_python_random", "verify_eval_draws", "verify_eval_in_step",
                                  "verify_string_set", "seed_none", "self_training", "fit_method",
                                  "raw_tensor_weights", "model_read_by_helper", "epoch_function_result", "phase_unrolled"])
def test_verify_matches(tmp_path, name):
    result = refactor_script(SHAPES / f"{name}.py", output=tmp_path / "project", verify=True, verify_steps=12)
    assert result.verify.match, result.verify.text
    assert len(result.verify.script_losses) >= 3  # every epoch (at least 3 steps; a DataLoader's passes cut to 2)


def test_evaluation_that_draws_is_isolated_only_where_the_script_evaluates(tmp_path):
    """Without the evaluation loop's lines the script's test pass shifts its training stream: DIFFER, right after it
    (with them, MATCH: test_verify_matches)."""
    script = SHAPES / "verify_eval_draws.py"
    result = refactor_script(script, output=tmp_path / "project")
    lines = evaluation_lines(analyze(load_script(script)))  # the refactor's own analysis
    assert lines and all("for data, target in loader" in script.read_text().splitlines()[n - 1] for n in lines)
    plain = compare(script, result.path, [], steps=12, seed=None, script_seed=1)
    assert not plain.match and "the first step after the script evaluated" in plain.text
    assert plain.script_losses[:2] == plain.project_losses[:2]  # the first epoch (2 batches) agrees



def test_eval_toggles_inside_the_training_step_stay(tmp_path):
    result = refactor_script(SHAPES / "verify_eval_in_step.py", output=tmp_path / "project")
    step = (result.path / result.package / "module.py").read_text().split("def training_step")[1]
    assert step.index("net.eval()") < step.index("net(test_x)") < step.index("net.train()")


def test_script_reading_the_folder_above(tmp_path):
    """The script and the project sit side by side under one folder, with the data: `../data` works for both."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "values.txt").write_text("0.5 1.0 1.5 2.0")
    (tmp_path / "src").mkdir()
    script = shutil.copy(SHAPES / "verify_parent_data.py", tmp_path / "src" / "main.py")
    result = refactor_script(script, output=tmp_path / "project", verify=True, verify_steps=12)
    assert result.verify.match, result.verify.text
    assert not (tmp_path / "src" / "lightning_logs").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "data", "project", "src"]  # nothing written beside the user's files


def test_code_after_training_runs_on_both_sides(tmp_path):
    """The script's accuracy check after its 30 epochs fails (a forgotten reshape): past the compared losses both sides
    run to their end, so --verify fails and names the script, not MATCH on the first 12 losses."""
    from scaffold.refactor.errors import VerifyError

    with pytest.raises(VerifyError) as err:
        refactor_script(SHAPES / "verify_fails_after_training.py", output=tmp_path / "project", verify=True,
                        verify_steps=12)
    text = str(err.value)
    assert "--verify: the script failed (the project ran to its end)" in text and "mat1 and mat2 shapes" in text
    assert "the project failed" not in text and "MATCH" not in text
