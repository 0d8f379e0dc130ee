"""Bad input: a clear message, a non-zero exit code, and nothing written."""
import pytest

from scaffold.cli import run as scaffold
from tests.scaffold.helpers import tree
from tests.scaffold.refactor.helpers import SCRIPTS

NO_LOOP = "import torch\n\nmodel = torch.nn.Linear(2, 1)\nprint(model(torch.zeros(1, 2)))\n"
REQUIRED = '''import argparse
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True, help="a data file")
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()
model = torch.nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=args.lr)
for x in torch.randn(4, 3, 2):
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
'''


def _refactor(tmp_path, capsys, *args):
    code = scaffold(["refactor", *args])
    err = capsys.readouterr().err
    return code, err


def test_missing_file(tmp_path, capsys):
    code, err = _refactor(tmp_path, capsys, str(tmp_path / "nope.py"), "--output", str(tmp_path / "out"))
    assert code != 0 and "no such file" in err
    assert tree(tmp_path) == []


@pytest.mark.parametrize("text, where", [("def f(:\n    pass\n", "line 1, column 7"),
                                         ("import torch\nfor x in y\n    x.backward()\n", "line 2, column 11"),
                                         ("This is a README, not a script.\nIt has prose.\n", "line 1")])
def test_unparsable_file_names_line_and_column(tmp_path, capsys, text, where):
    script = tmp_path / "train.txt"
    script.write_text(text)
    code, err = _refactor(tmp_path, capsys, str(script), "--output", str(tmp_path / "out"))
    assert code != 0 and "does not parse" in err and where in err, err
    assert tree(tmp_path) == ["train.txt"]


def test_binary_file(tmp_path, capsys):
    script = tmp_path / "weights.py"
    script.write_bytes(b"\x80\x02\x00binary pickle")
    code, err = _refactor(tmp_path, capsys, str(script), "--output", str(tmp_path / "out"))
    assert code != 0 and "not a Python script" in err
    assert not (tmp_path / "out").exists()


def test_no_training_loop_says_what_was_looked_for(tmp_path, capsys):
    script = tmp_path / "infer.py"
    script.write_text(NO_LOOP)
    code, err = _refactor(tmp_path, capsys, str(script), "--output", str(tmp_path / "out"))
    assert code != 0 and "no training loop found" in err and ".backward()" in err and "looked for" in err
    assert not (tmp_path / "out").exists()


def test_existing_output_needs_force(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, err = _refactor(tmp_path, capsys, str(SCRIPTS / "p2_module_level.py"), "--output", str(out))
    assert code != 0 and "not empty" in err and "--force" in err
    assert tree(out) == ["notes.txt"]
    assert scaffold(["refactor", str(SCRIPTS / "p2_module_level.py"), "--output", str(out), "--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "train.py").is_file()


def test_required_script_argument_missing(tmp_path, capsys):
    script = tmp_path / "needs_data.py"
    script.write_text(REQUIRED)
    code, err = _refactor(tmp_path, capsys, str(script), "--output", str(tmp_path / "out"))
    assert code != 0 and "required" in err and "--data" in err, err
    assert not (tmp_path / "out").exists()
    # given after `--`, it is accepted and lands in the config
    assert scaffold(["refactor", str(script), "--output", str(tmp_path / "out"), "--", "--data", "x.csv"]) == 0


def test_script_argument_rejected_by_the_scripts_parser(tmp_path, capsys):
    code, err = _refactor(tmp_path, capsys, str(SCRIPTS / "p1_functions.py"), "--output", str(tmp_path / "out"), "--",
                          "--lr", "fast")
    assert code != 0 and "--lr" in err and "invalid float value" in err
    assert tree(tmp_path) == []


def test_arguments_for_a_script_without_a_parser(tmp_path, capsys):
    code, err = _refactor(tmp_path, capsys, str(SCRIPTS / "p4_manual_sgd.py"), "--output", str(tmp_path / "out"), "--", "--lr", "1")
    assert code != 0 and "no argparse parser" in err
    assert tree(tmp_path) == []


def test_latin1_declared_script_is_read_in_its_encoding(tmp_path, capsys):
    # PEP 263: a script may declare its encoding; a latin-1 script is not "not a Python script".
    text = ("# -*- coding: latin-1 -*-\n# entraînement\nimport torch\n\nmodel = torch.nn.Linear(2, 1)\n"
            "opt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor epoch in range(2):\n"
            "    for x in torch.randn(4, 3, 2):\n        opt.zero_grad()\n        loss = model(x).sum()\n"
            "        loss.backward()\n        opt.step()\n    print(\"époque\", epoch, loss.item())\n")
    script = tmp_path / "train.py"
    script.write_bytes(text.encode("latin-1"))
    code, err = _refactor(tmp_path, capsys, str(script), "--output", str(tmp_path / "out"))
    assert code == 0, err
    written = {p.name: p.read_bytes().decode("utf-8") for p in (tmp_path / "out").rglob("*.py")}  # UTF-8 ...
    for name, source in written.items():
        assert "coding: latin-1" not in source, name  # ... so the declaration does not travel with the code
        compile(source, name, "exec")
    assert any('"époque"' in source for source in written.values())


def test_undecodable_script_says_how_to_fix_it(tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_bytes(b"import torch\nx = '\xe9'\n")  # latin-1 bytes, no declaration
    code, err = _refactor(tmp_path, capsys, str(script), "--output", str(tmp_path / "out"))
    assert code != 0 and "not a Python script" in err and "declare its encoding" in err
    assert not (tmp_path / "out").exists()
