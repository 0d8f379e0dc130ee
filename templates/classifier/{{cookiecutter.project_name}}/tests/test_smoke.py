"""The project's own tests: shapes, your own folders and tables, a fast_dev_run fit, and the default config's target."""
import pytest
import torch

from {{ cookiecutter.package_name }}.datamodule import ClassifierDataModule
from {{ cookiecutter.package_name }}.images import DataError
from {{ cookiecutter.package_name }}.module import ClassifierModule
from {{ cookiecutter.package_name }}.shapes import SHAPES, make_shapes

TARGET_VAL_ACC = 0.95


def write_class_folders(root, per_class=30, size=24):
    from PIL import Image

    images, labels = make_shapes(per_class * 8, 32, seed=5)
    for name in ("circle", "square"):
        (root / name).mkdir(parents=True, exist_ok=True)
    for i, (x, y) in enumerate(zip(images, labels)):
        if SHAPES[y] in ("circle", "square"):
            array = ((x.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
            Image.fromarray(array).resize((size, size)).save(root / SHAPES[y] / f"{i:03d}.jpg")
    return root


def test_shapes(default_config):
    if default_config["model"]["num_features"] is not None:
        pytest.skip("the config is for a table of features")
    model = ClassifierModule(**default_config["model"])
    data = ClassifierDataModule(**{**default_config["data"], "num_samples": 300})
    data.setup("fit")
    x, y = next(iter(data.train_dataloader()))
    assert x.shape == (data.hparams.batch_size, 3, data.hparams.image_size, data.hparams.image_size)
    assert model(x).shape == (len(x), model.hparams.num_classes)
    assert y.dtype == torch.long and int(y.max()) < model.hparams.num_classes
    assert data.class_names == list(SHAPES)


def test_fast_dev_run_saves_a_confusion_matrix(cli, tmp_path):
    run = cli("fit", "--trainer.fast_dev_run=true")
    assert run.trainer.state.finished
    assert list(tmp_path.rglob("confusion/epoch=000.png")), "no confusion matrix written"


def test_reads_a_folder_with_one_sub_folder_per_class(cli, tmp_path):
    folder = write_class_folders(tmp_path / "pictures")
    run = cli("fit", "--trainer.fast_dev_run=true", f"--data.data_path={folder}", "--model.num_classes=2",
              "--model.num_features=null")
    assert run.datamodule.class_names == ["circle", "square"]
    assert run.datamodule.train_set.tensors[0].shape[1:] == (3, 32, 32)  # resized from 24x24


def test_reads_a_csv_with_a_label_column(cli, tmp_path):
    g = torch.Generator().manual_seed(0)
    rows = ["label,height,weight,age"]
    for i in range(60):
        kind = ("cat", "dog", "fox")[i % 3]
        rows.append(",".join([kind, *(f"{float(v):.3f}" for v in torch.randn(3, generator=g) + i % 3)]))
    (tmp_path / "animals.csv").write_text("\n".join(rows) + "\n")
    run = cli("fit", "--trainer.fast_dev_run=true", f"--data.data_path={tmp_path / 'animals.csv'}",
              "--model.num_features=3", "--model.num_classes=3", "--model.hidden_dim=32", "--model.num_layers=2")
    assert run.datamodule.class_names == ["cat", "dog", "fox"]
    assert run.datamodule.train_set.tensors[0].shape[1] == 3


def one_class(folder):
    (folder / "only").mkdir(parents=True)
    (folder / "only" / "a.png").write_bytes(b"")
    return folder


def text_file(folder):
    (folder.parent / "notes.txt").write_text("not data")
    return folder.parent / "notes.txt"


@pytest.mark.parametrize("make, message", [(lambda p: p / "missing", "no such file or folder"),
                                           (one_class, "one sub-folder of .png/.jpg images per class"),
                                           (text_file, "expected a folder with one sub-folder of images per class")])
def test_bad_data_path_fails_before_training_with_a_clear_message(tmp_path, make, message):
    data = ClassifierDataModule(data_path=str(make(tmp_path / "data")))
    with pytest.raises(DataError, match=message):
        data.setup("fit")


@pytest.mark.slow
def test_default_config_reaches_target(cli, default_config):
    if default_config["data"].get("data_path"):
        pytest.skip("the accuracy target is stated for the drawn shapes")
    run = cli("fit")
    val_acc = float(run.trainer.callback_metrics["val_acc"])
    assert val_acc >= TARGET_VAL_ACC, f"val_acc {val_acc:.3f} < {TARGET_VAL_ACC}"
