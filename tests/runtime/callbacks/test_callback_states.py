"""Callbacks as the trainer sees them: resuming without a callback whose state the checkpoint holds warns; a
``Mock(spec=Callback)`` receives every hook a callback has (tests written for Lightning check calls that way)."""
from unittest.mock import Mock

import pytest

import runtime as pl
from runtime.callbacks import ModelCheckpoint
from runtime.demos.boring_classes import BoringModel


def _trainer(tmp_path, callbacks):
    return pl.Trainer(default_root_dir=tmp_path, max_steps=1, callbacks=callbacks, logger=False,
                      enable_progress_bar=False, enable_model_summary=False)


@pytest.mark.filterwarnings("ignore:Checkpoint directory.*exists and is not empty")
def test_resuming_without_a_saved_callback_names_it(tmp_path, recwarn):
    by_epoch = ModelCheckpoint(dirpath=tmp_path / "a", monitor="epoch")
    by_step = ModelCheckpoint(dirpath=tmp_path / "b", monitor="step")
    trainer = _trainer(tmp_path, [by_epoch, by_step])
    trainer.fit(BoringModel())
    ckpt = trainer.checkpoint_callback.best_model_path
    with pytest.warns(UserWarning, match=r"Please add the following callbacks: \[\"ModelCheckpoint\{'monitor': 'epoch'"):
        _trainer(tmp_path, [ModelCheckpoint(dirpath=tmp_path / "b", monitor="step")]).fit(BoringModel(), ckpt_path=ckpt)
    recwarn.clear()
    both = [ModelCheckpoint(dirpath=tmp_path / "b", monitor="step"), ModelCheckpoint(dirpath=tmp_path / "a", monitor="epoch")]
    _trainer(tmp_path, both).fit(BoringModel(), ckpt_path=ckpt)
    assert not [w for w in recwarn if "Please add the following callbacks" in str(w.message)]


def test_a_mock_callback_receives_the_hooks(tmp_path):
    mock = Mock(spec=pl.Callback)
    pl.Trainer(default_root_dir=tmp_path, fast_dev_run=True, enable_progress_bar=False, callbacks=[mock]).fit(BoringModel())
    called = [c[0] for c in mock.method_calls]
    assert called[:2] == ["setup", "on_fit_start"]
    assert {"on_train_batch_start", "on_train_batch_end", "on_validation_epoch_end", "on_fit_end", "teardown"} <= set(called)
