"""Bad input: a clear error, a non-zero exit, and nothing created or changed."""
import pytest

from scaffold.cli import run as cli
from tests.scaffold.helpers import run, tree


@pytest.mark.parametrize("args, code, message", [
    (["new", "1project"], 2, "cannot become a Python package"),
    (["new", "my project"], 2, "cannot become a Python package"),
    (["new", "import"], 2, "shadow"),
    (["new", "json"], 2, "shadow"),
    (["new", "a/b"], 2, "path separator"),
    (["new", "..evil"], 2, "path separator or '..'"),
    (["new", "x", "--template", "gann"], 2, "the known templates are: autoencoder, classifier, gan, language-model, minimal"),
    (["new", "x", "--set", "learning_rate=0.1"], 2, "unknown --set key 'learning_rate'"),
    (["new", "x", "--set", "lr"], 2, "--set expects key=value"),
    (["new", "x", "--set", "lr=fast"], 2, "is not a number"),
    (["new", "x", "--set", "max_epochs=0"], 2, "at least 1"),
    (["new", "x", "--set", "optimizer=adamm"], 2, "did you mean 'adam'"),
    (["new", "x", "--set", "data=/no/such/file.csv"], 2, "does not exist"),
])
def test_bad_input_fails_cleanly(tmp_path, capsys, args, code, message):
    out = tmp_path / "out"
    out.mkdir()
    assert cli([*args, "--no-input", "-o", str(out)]) == code
    assert message in capsys.readouterr().err
    assert tree(out) == [] and tree(tmp_path) == ["out"]


def test_existing_non_empty_folder_needs_force(tmp_path, capsys):
    (tmp_path / "gan-project").mkdir()
    (tmp_path / "gan-project" / "notes.txt").write_text("mine")
    assert cli(["new", "gan-project", "--no-input", "-o", str(tmp_path)]) == 3
    assert "not empty" in capsys.readouterr().err and "--force" in capsys.readouterr().err + "--force"
    assert tree(tmp_path) == ["gan-project", "gan-project/notes.txt"]
    assert cli(["new", "gan-project", "--no-input", "-o", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "gan-project" / "train.py").is_file()
    assert (tmp_path / "gan-project" / "notes.txt").read_text() == "mine"  # --force keeps the user's other files


def test_data_file_of_the_wrong_type(tmp_path, capsys):
    (tmp_path / "d.json").write_text("{}")
    assert cli(["new", "clf", "-t", "classifier", "--no-input", "-o", str(tmp_path / "o"), "--set",
                f"data={tmp_path / 'd.json'}"]) == 2
    assert "reads .csv, .npz, .pt" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_malformed_data_file(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("a,b\nx,y\n")
    assert cli(["new", "clf", "-t", "classifier", "--no-input", "-o", str(tmp_path / "o"), "--set",
                f"data={tmp_path / 'd.csv'}"]) == 2
    assert "cannot read data file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_console_errors_exit_non_zero_without_traceback(tmp_path):
    proc = run(["-m", "scaffold", "new", "x", "--template", "nope", "--no-input"], cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: unknown template 'nope'")
    assert tree(tmp_path) == []
