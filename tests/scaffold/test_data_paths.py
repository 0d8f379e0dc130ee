"""The user's own data given to `scaffold new --set data=PATH`: image folders, odd paths, and clear refusals."""
import pytest
import yaml

from scaffold.cli import run as cli
from tests.scaffold.helpers import ROOT, SHORT_FIT, run, tree


def write_pngs(folder, count, size=(24, 20), mode="RGB"):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new(mode, size, color=(i * 7 % 256, 40, 200) if mode == "RGB" else i * 7 % 256).save(folder / f"{i:03d}.png")
    return folder


def test_gan_on_a_folder_of_images_with_braces_in_its_path(tmp_path):
    # `{{` in the user's path is their text, not a template marker left unrendered
    folder = write_pngs(tmp_path / "my {{images}}", 140)
    assert cli(["new", "my-gan", "--no-input", "-o", str(tmp_path / "out"), "--set", f"data={folder}"]) == 0
    path = tmp_path / "out" / "my-gan"
    config = yaml.safe_load((path / "configs" / "default.yaml").read_text())
    assert config["data"]["data_path"] == str(folder) and config["model"]["channels"] == 3
    proc = run(["train.py", "fit", *SHORT_FIT], cwd=path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert list((path / "lightning_logs" / "version_0" / "samples").glob("epoch=000.png"))


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir() or p, "holds 0 .png/.jpg images"),
    (lambda p: write_pngs(p, 3), "holds 3 .png/.jpg images"),
    (lambda p: (p.with_suffix(".csv").write_text("1,2\n3,4\n"), p.with_suffix(".csv"))[1], "reads .npz, .pt files or a folder"),
    (lambda p: (p.with_suffix(".pt").write_bytes(b"junk"), p.with_suffix(".pt"))[1], "cannot read data file"),
])
def test_gan_refuses_unusable_data_before_writing_anything(tmp_path, capsys, make, message):
    data = make(tmp_path / "data")
    assert cli(["new", "my-gan", "--no-input", "-o", str(tmp_path / "out"), "--set", f"data={data}"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_very_long_name_gets_a_clear_error(tmp_path, capsys):
    assert cli(["new", "a" * 300, "--no-input", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "300 characters long; use at most 100" in err and "File name too long" not in err
    assert tree(tmp_path) == []


def test_readme_example_with_your_own_images_runs(tmp_path):
    # the README's `scaffold new ... --set data=PATH` line, with PATH a real folder of images
    text = (ROOT / "README.md").read_text()
    (line,) = [ln.strip() for ln in text.splitlines() if ln.startswith("scaffold new") and "--set data=" in ln]
    folder = write_pngs(tmp_path / "my_images", 12)
    argv = [a if not a.startswith("data=") else f"data={folder}" for a in line.split("#")[0].split()[2:]]
    assert cli(["new", *argv, "-o", str(tmp_path / "out")]) == 0
    config = yaml.safe_load((tmp_path / "out" / argv[0] / "configs" / "default.yaml").read_text())
    assert config["data"]["data_path"] == str(folder)
