"""save_hyperparameters / load_from_checkpoint with Lightning's rules for names, objects and composition."""
import enum
from argparse import Namespace

import pytest
import yaml

import runtime as pl
from runtime.core.saving import load_hparams_from_yaml, save_hparams_to_yaml
from runtime.demos import BoringDataModule, BoringModel
from tests.runtime.helpers import make_trainer


class ObjectModel(BoringModel):
    def __init__(self, hparams, other=1):
        super().__init__()
        self.save_hyperparameters(hparams)


class KwModel(BoringModel):
    def __init__(self, lr=0.1, hidden=4):
        super().__init__()
        self.save_hyperparameters()


def _fit_and_save(tmp_path, model, datamodule=None):
    trainer = make_trainer(tmp_path, max_steps=1, limit_val_batches=0)
    trainer.fit(model, datamodule=datamodule)
    path = tmp_path / "m.ckpt"
    trainer.save_checkpoint(path)
    return path


def test_object_saved_under_its_argument_name_comes_back_the_same_way(tmp_path):
    model = ObjectModel({"lr": 0.5, "depth": 3})
    assert model.hparams == {"lr": 0.5, "depth": 3} and model._hparams_name == "hparams"
    path = _fit_and_save(tmp_path, model)
    loaded = ObjectModel.load_from_checkpoint(path)
    assert loaded.hparams == {"lr": 0.5, "depth": 3}


def test_edits_after_init_are_what_the_checkpoint_keeps(tmp_path):
    model = KwModel(lr=0.2)
    model.hparams.hidden = 9
    loaded = KwModel.load_from_checkpoint(_fit_and_save(tmp_path, model), lr=0.3)
    assert loaded.hparams == {"lr": 0.3, "hidden": 9}  # overrides win, the edit survived


def test_unknown_saved_names_are_dropped_and_hparams_file_wins(tmp_path):
    path = _fit_and_save(tmp_path, KwModel())
    save_hparams_to_yaml(tmp_path / "h.yaml", {"hidden": 7, "not_an_arg": 1})
    assert KwModel.load_from_checkpoint(path, hparams_file=tmp_path / "h.yaml").hparams.hidden == 7


def test_calls_add_up_and_composition_collects_parent_args():
    class Child(pl.LightningModule):
        def __init__(self, dropout, width):
            super().__init__()
            self.save_hyperparameters(ignore=["dropout"])

    class Parent(pl.LightningModule):
        def __init__(self, batch_size):
            super().__init__()
            self.child = Child(dropout=0.1, width=8)

    class Plain:  # not a hyperparameter holder: its arguments are not collected
        def __init__(self, seed=3):
            self.parent = Parent(batch_size=64)

    assert Plain().parent.child.hparams == {"width": 8, "batch_size": 64}

    model = KwModel()
    model.save_hyperparameters({"extra": True})
    assert model.hparams == {"lr": 0.1, "hidden": 4, "extra": True}


def test_bad_hparams_say_what_is_allowed():
    class Bad(pl.LightningModule):
        def __init__(self, x=3):
            super().__init__()
            self.save_hyperparameters(3.5)

    with pytest.raises(ValueError, match="Primitives"):
        Bad()


def test_datamodule_keys(tmp_path):
    class DM(BoringDataModule):
        def __init__(self, batch_size=2):
            super().__init__()
            self.save_hyperparameters()

    path = _fit_and_save(tmp_path, BoringModel(), DM(batch_size=5))
    import torch

    raw = torch.load(path, weights_only=False)
    assert raw[DM.CHECKPOINT_HYPER_PARAMS_KEY] == {"batch_size": 5} and DM.CHECKPOINT_HYPER_PARAMS_KEY != "hyper_parameters"
    assert DM.load_from_checkpoint(path).hparams.batch_size == 5


def test_yaml_enums_and_unwritable_values(tmp_path):
    class Mode(str, enum.Enum):
        fast = "f"

    with pytest.warns(UserWarning, match="Skipping 'fn' parameter"):
        save_hparams_to_yaml(tmp_path / "h.yaml", Namespace(mode=Mode.fast, n=1, fn=object()))
    assert load_hparams_from_yaml(tmp_path / "h.yaml") == {"mode": "fast", "n": 1}
    assert yaml.safe_load((tmp_path / "h.yaml").read_text()) == {"mode": "fast", "n": 1}


def test_an_unpicklable_hparam_is_dropped_with_a_warning(tmp_path, recwarn):
    class Model(BoringModel):
        def __init__(self, foo="bar", fn=lambda x: x + 1, ignore=False):
            super().__init__()
            self.save_hyperparameters(ignore=["fn"] if ignore else None)

    model = Model()
    trainer = make_trainer(tmp_path, max_steps=1, enable_checkpointing=True)
    with pytest.warns(UserWarning, match="Attribute 'fn' removed from hparams because it cannot be pickled"):
        trainer.fit(model)
    assert dict(model.hparams) == {"foo": "bar", "ignore": False}
    assert trainer.checkpoint_callback.best_model_path  # the checkpoint saved: nothing unpicklable in it
    recwarn.clear()
    make_trainer(tmp_path, max_steps=1).fit(Model(ignore=True))
    assert not [w for w in recwarn if "cannot be pickled" in str(w.message)]


def test_module_and_datamodule_hparams_that_disagree_stop_the_run(tmp_path):
    class Model(BoringModel):
        def __init__(self, data_dir="abc"):
            super().__init__()
            self.save_hyperparameters()

    class DM(BoringDataModule):
        def __init__(self, data_dir="foo"):
            super().__init__()
            self.save_hyperparameters()

    from runtime.loggers import CSVLogger

    trainer = make_trainer(tmp_path, logger=CSVLogger(tmp_path))
    with pytest.raises(RuntimeError, match=r"Error while merging hparams: the keys \['data_dir'\]"):
        trainer.fit(Model(), datamodule=DM())
