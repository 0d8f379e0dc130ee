"""``trainer._data_connector`` / ``trainer._checkpoint_connector``: the two Lightning internals that tests written
for Lightning (and some user code) reach for, over our own data sourcing and checkpoint dump."""
import pytest
from argparse import Namespace

import runtime as pl
from runtime.demos.boring_classes import BoringModel
from tests.runtime.helpers import make_trainer, random_loader


@pytest.mark.parametrize("kind", ["val", "test", "predict"])
def test_attached_loaders_are_what_setup_data_reads(tmp_path, kind):
    model = BoringModel()
    trainer = pl.Trainer(default_root_dir=tmp_path, logger=False, **{f"limit_{kind}_batches": 0.25})
    trainer.strategy.connect(model)
    trainer._data_connector.attach_dataloaders(model)  # from the module's own *_dataloader hooks
    getattr(trainer, {"val": "validate_loop", "test": "test_loop", "predict": "predict_loop"}[kind]).setup_data()
    assert getattr(trainer, f"num_{kind}_batches") == [16]  # a quarter of BoringModel's 64 batches
    mine = random_loader(8, 2)
    trainer._data_connector.attach_dataloaders(model, **{f"{kind}_dataloaders": mine})
    getattr(trainer, {"val": "validate_loop", "test": "test_loop", "predict": "predict_loop"}[kind]).setup_data()
    assert getattr(trainer, f"num_{kind}_batches") == [1] and getattr(trainer, f"{kind}_dataloaders") is mine


def test_dump_checkpoint_is_what_save_checkpoint_writes(tmp_path):
    class Model(BoringModel):
        def __init__(self, hparams):
            super().__init__()
            self.save_hyperparameters(hparams)

    trainer = make_trainer(tmp_path, max_steps=1)
    model = Model(Namespace(a=1, b=2))
    trainer.fit(model)
    ckpt = trainer._checkpoint_connector.dump_checkpoint()
    assert type(ckpt[model.CHECKPOINT_HYPER_PARAMS_KEY]) is dict and ckpt["global_step"] == 1
    assert "optimizer_states" in ckpt and "optimizer_states" not in trainer._checkpoint_connector.dump_checkpoint(True)
