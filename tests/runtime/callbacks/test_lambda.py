"""LambdaCallback: plain functions as hooks, called with the hook's arguments in a real fit/test/predict."""
import pytest

from runtime.callbacks import LambdaCallback
from runtime.demos.boring_classes import BoringModel
from tests.runtime.helpers import make_trainer


def test_functions_run_as_hooks(tmp_path):
    calls = []
    cb = LambdaCallback(
        setup=lambda trainer, module, stage: calls.append(f"setup:{stage}"),
        on_fit_start=lambda trainer, module: calls.append("on_fit_start"),
        on_train_batch_end=lambda trainer, module, outputs, batch, batch_idx: calls.append(("batch", batch_idx, "loss" in outputs)),
        on_train_epoch_end=lambda trainer, module: calls.append(("epoch", trainer.current_epoch)),
        on_test_end=lambda trainer, module: calls.append("on_test_end"),
        on_predict_batch_end=lambda trainer, module, outputs, batch, batch_idx, dataloader_idx=0: calls.append(("pred", batch_idx)),
        on_exception=lambda trainer, module, exc: calls.append(("exc", type(exc).__name__)),
    )
    trainer = make_trainer(tmp_path, max_epochs=1, callbacks=[cb], limit_train_batches=2, limit_val_batches=1,
                           limit_test_batches=1, limit_predict_batches=2)
    model = BoringModel()
    trainer.fit(model)
    trainer.test(model, verbose=False)
    trainer.predict(model)
    assert calls == [
        "setup:fit", "on_fit_start", ("batch", 0, True), ("batch", 1, True), ("epoch", 0),
        "setup:test", "on_test_end", "setup:predict", ("pred", 0), ("pred", 1),
    ]


def test_on_exception(tmp_path):
    seen = []

    class Broken(BoringModel):
        def training_step(self, batch, batch_idx):
            raise ValueError("boom")

    trainer = make_trainer(tmp_path, callbacks=[LambdaCallback(on_exception=lambda t, m, e: seen.append(str(e)))])
    with pytest.raises(ValueError, match="boom"):
        trainer.fit(Broken())
    assert seen == ["boom"]


def test_rejects_non_callables():
    with pytest.raises(TypeError, match="on_fit_start"):
        LambdaCallback(on_fit_start=3)
