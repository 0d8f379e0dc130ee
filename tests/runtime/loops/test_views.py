"""trainer.fit_loop / validate_loop / test_loop / predict_loop: Lightning's attributes over our progress record."""
import torch

import runtime as pl
from runtime.demos import BoringModel
from tests.runtime.helpers import make_trainer


def test_fit_loop_counts_follow_the_run(tmp_path):
    seen = []

    class Record(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            loop = trainer.fit_loop
            seen.append((loop.epoch_progress.current.started, loop.epoch_progress.current.completed,
                         loop.epoch_loop.batch_progress.current.ready, loop.batch_idx, trainer.is_last_batch,
                         loop.epoch_loop._batches_that_stepped))

    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=2, limit_val_batches=1, callbacks=[Record()])
    trainer.fit(BoringModel())
    assert seen == [(1, 0, 1, 0, False, 0), (1, 0, 2, 1, True, 1), (2, 1, 1, 0, False, 2), (2, 1, 2, 1, True, 3)]
    loop = trainer.fit_loop
    assert loop.epoch_progress.current.completed == trainer.current_epoch == 2
    assert loop.done and loop.max_batches == 2 and loop.epoch_loop.val_loop.max_batches == [1]
    assert loop.epoch_loop.global_step == trainer.global_step == 4
    assert loop.state_dict()["epoch_progress"]["current"]["completed"] == 2


def test_max_epochs_assignment_extends_a_resumed_fit(tmp_path):
    trainer = make_trainer(tmp_path, max_epochs=1, limit_train_batches=2, limit_val_batches=0)
    model = BoringModel()
    trainer.fit(model)
    ckpt = tmp_path / "one.ckpt"
    trainer.save_checkpoint(ckpt)
    trainer.fit_loop.max_epochs = 3
    assert trainer.max_epochs == 3 and not trainer.fit_loop.done
    trainer.fit(model, ckpt_path=ckpt)
    assert trainer.current_epoch == 3 and trainer.global_step == 6


def test_eval_and_predict_views(tmp_path):
    trainer = make_trainer(tmp_path, limit_predict_batches=3, limit_test_batches=2)
    model = BoringModel()
    out = trainer.predict(model)
    assert trainer.predict_loop.predictions is not None and len(trainer.predict_loop.predictions) == len(out) == 3
    assert trainer.predict_loop.max_batches == [3]
    trainer.test(model)
    assert trainer.test_loop.max_batches == [2] and trainer.test_loop.dataloaders is not None


def test_steps_without_batch_idx(tmp_path):
    """Lightning passes a step only the arguments it declares."""
    calls = []

    class Short(BoringModel):
        def training_step(self, batch):
            calls.append("train")
            return self.step(batch)

        def validation_step(self, batch):
            calls.append("val")
            self.log("v", self.step(batch))

        def test_step(self, batch, batch_idx):  # two loaders pass a dataloader_idx too: not declared, not passed
            calls.append(("test", batch_idx))

        def predict_step(self, batch):
            return self(batch)

    model = Short()
    trainer = make_trainer(tmp_path, max_steps=2, limit_val_batches=1, limit_test_batches=1, limit_predict_batches=1)
    trainer.fit(model)
    trainer.test(model, dataloaders=[model.test_dataloader(), model.test_dataloader()])
    assert isinstance(trainer.predict(model)[0], torch.Tensor)
    assert calls.count("train") == 2 and "val" in calls and calls.count(("test", 0)) == 2


def test_validation_batch_progress_counts_passes(tmp_path):
    seen = []

    class Record(pl.Callback):
        def on_validation_epoch_end(self, trainer, pl_module):
            if not trainer.sanity_checking:
                progress = trainer.fit_loop.epoch_loop.val_loop.batch_progress
                seen.append((progress.current.completed, progress.total.completed))

    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=4, limit_val_batches=2, val_check_interval=2,
                           callbacks=[Record()])
    trainer.fit(BoringModel())
    # twice per epoch; the total restarts with each training epoch; the sanity check's batches are not counted
    assert seen == [(2, 2), (2, 4), (2, 2), (2, 4)]
    assert trainer.fit_loop.epoch_loop.val_loop.batch_progress.total.completed == 4
    trainer.test(BoringModel())
    assert trainer.test_loop.batch_progress.total.completed == 64


def test_the_plateau_metric_is_read_through_the_epoch_loop(tmp_path):
    class Plateau(BoringModel):
        def training_step(self, batch, batch_idx):
            out = super().training_step(batch, batch_idx)
            self.log("train_metric", float(self.current_epoch), on_epoch=True, on_step=False)
            return out

        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            return [opt], [{"scheduler": torch.optim.lr_scheduler.ReduceLROnPlateau(opt), "monitor": "train_metric"}]

    trainer = make_trainer(tmp_path, max_epochs=2, limit_train_batches=2, limit_val_batches=0)
    assert trainer.fit_loop is trainer.fit_loop  # one loop object: what is set on it stays
    asked = []
    real = trainer.fit_loop.epoch_loop._get_monitor_value
    trainer.fit_loop.epoch_loop._get_monitor_value = lambda key: asked.append((trainer.current_epoch, key)) or real(key)
    trainer.fit(Plateau())
    assert asked == [(0, "train_metric"), (1, "train_metric")]


def test_val_loop_max_batches_is_the_runs_count(tmp_path):
    trainer = make_trainer(tmp_path, val_check_interval=0.5, enable_checkpointing=True)
    trainer.fit_loop.epoch_loop.val_loop._max_batches = [0]
    assert trainer.num_val_batches == [0] and trainer.checkpoint_callback._should_save_on_train_epoch_end(trainer)
    trainer.fit_loop.epoch_loop.val_loop._max_batches = [1]
    assert not trainer.checkpoint_callback._should_save_on_train_epoch_end(trainer)
