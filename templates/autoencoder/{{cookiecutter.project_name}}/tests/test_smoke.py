"""The project's own tests: shapes, your own images and tables, a fast_dev_run fit, and the default config's target."""
import pytest
import torch

from {{ cookiecutter.package_name }}.datamodule import AutoencoderDataModule
from {{ cookiecutter.package_name }}.images import DataError
from {{ cookiecutter.package_name }}.module import AutoencoderModule
from {{ cookiecutter.package_name }}.shapes import make_shapes

TARGET_REL_ERROR = 0.10  # reconstruction error under 10% of the data's variance


def write_pngs(folder, count, size=40):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, x in enumerate(make_shapes(count, 32, seed=4)[0]):
        array = ((x.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
        Image.fromarray(array).resize((size, size)).save(folder / f"{i:03d}.png")
    return folder


def test_shapes(default_config):
    if default_config["model"]["num_features"] is not None:
        pytest.skip("the config is for feature vectors")
    model = AutoencoderModule(**default_config["model"])
    data = AutoencoderDataModule(**{**default_config["data"], "num_samples": 300})
    data.setup("fit")
    (x,) = next(iter(data.train_dataloader()))
    assert x.shape == (data.hparams.batch_size, 3, data.hparams.image_size, data.hparams.image_size)
    assert model.encoder(x).shape == (len(x), model.hparams.latent_dim)
    assert model(x).shape == x.shape


def test_fast_dev_run_saves_reconstructions(cli, tmp_path):
    run = cli("fit", "--trainer.fast_dev_run=true")
    assert run.trainer.state.finished
    assert list(tmp_path.rglob("reconstructions/epoch=000.png")), "no reconstructions written"


def test_reads_a_folder_of_images(cli, tmp_path):
    folder = write_pngs(tmp_path / "mine", 40)
    run = cli("fit", "--trainer.fast_dev_run=true", f"--data.data_path={folder}", "--model.num_features=null")
    assert len(run.datamodule.train_set) + len(run.datamodule.val_set) == 40
    assert run.datamodule.train_set.tensors[0].shape[1:] == (3, 32, 32)  # resized from 40x40


def test_reads_a_table_of_feature_vectors(cli, tmp_path):
    torch.save({"x": torch.randn(100, 6)}, tmp_path / "x.pt")
    run = cli("fit", "--trainer.fast_dev_run=true", f"--data.data_path={tmp_path / 'x.pt'}",
              "--model.num_features=6", "--model.hidden_dim=32", "--model.latent_dim=3")
    assert run.trainer.state.finished


def text_file(folder):
    (folder.parent / "notes.txt").write_text("not data")
    return folder.parent / "notes.txt"


def empty_folder(folder):
    folder.mkdir()
    return folder


@pytest.mark.parametrize("make, message", [(lambda p: p / "missing", "no such file or folder"),
                                           (empty_folder, "no .png/.jpg images"),
                                           (text_file, "expected a folder of .png/.jpg images")])
def test_bad_data_path_fails_before_training_with_a_clear_message(tmp_path, make, message):
    data = AutoencoderDataModule(data_path=str(make(tmp_path / "data")))
    with pytest.raises(DataError, match=message):
        data.setup("fit")


@pytest.mark.slow
def test_default_config_reaches_target(cli, default_config):
    if default_config["data"].get("data_path"):
        pytest.skip("the target is stated for the drawn shapes")
    run = cli("fit")
    rel_error = float(run.trainer.callback_metrics["val_rel_error"])
    assert rel_error < TARGET_REL_ERROR, f"val_rel_error {rel_error:.3f} >= {TARGET_REL_ERROR}"
