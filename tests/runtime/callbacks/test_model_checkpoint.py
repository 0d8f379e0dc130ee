"""ModelCheckpoint in real fits: names, top-k, last, version counter, when it saves, its state."""
import os
from datetime import timedelta

import pytest
import torch

from runtime.callbacks import ModelCheckpoint
from runtime.loggers import CSVLogger
from runtime.utilities.exceptions import MisconfigurationException


def _model(val_losses=None, on_step=None):
    """BoringModel logging ``val_loss``: the given value per epoch, or the real validation loss;
    ``on_step()`` is called in every training step."""
    from runtime.demos.boring_classes import BoringModel

    class Model(BoringModel):
        def training_step(self, batch, batch_idx):
            if on_step is not None:
                on_step()
            return super().training_step(batch, batch_idx)

        def validation_step(self, batch, batch_idx):
            out = super().validation_step(batch, batch_idx)
            value = out["x"] if val_losses is None else torch.tensor(val_losses[self.current_epoch])
            self.log("val_loss", value)
            return out

    return Model()


def _trainer(tmp_path, **kwargs):
    import runtime

    args = dict(
        max_epochs=2, default_root_dir=tmp_path, limit_train_batches=4, limit_val_batches=2,
        enable_progress_bar=False, enable_model_summary=False,
    )
    args.update(kwargs)
    return runtime.Trainer(**args)


def _spy(trainer) -> list:
    """The names of the files ``trainer.save_checkpoint`` writes, in order (it still writes them)."""
    saved = []
    real_save = trainer.save_checkpoint

    def save(filepath, weights_only=False, storage_options=None):
        saved.append(os.path.basename(filepath))
        real_save(filepath, weights_only, storage_options)

    trainer.save_checkpoint = save
    return saved


def _fit(cb, root, val_losses, steps_per_epoch=2, validate=True, ckpt_path=None, **kwargs):
    """A real fit of one epoch per value in ``val_losses`` (logged as ``val_loss`` when ``validate``), with
    ``steps_per_epoch`` training batches; returns the trainer and the files it saved, in order."""
    args = dict(max_epochs=len(val_losses), limit_train_batches=steps_per_epoch, limit_val_batches=1 if validate else 0,
                num_sanity_val_steps=0, callbacks=[cb], logger=False)
    args.update(kwargs)
    trainer = _trainer(root, **args)
    saved = _spy(trainer)
    trainer.fit(_model(val_losses), ckpt_path=ckpt_path)
    return trainer, saved


def _files(d):
    return sorted(os.listdir(d))


def test_default_dir_and_names_without_logger(tmp_path):
    cb = ModelCheckpoint()
    _, saved = _fit(cb, tmp_path, [1.0, 2.0], validate=False)
    assert cb.dirpath == str(tmp_path / "checkpoints")
    assert _files(cb.dirpath) == ["epoch=1-step=4.ckpt"]  # save_top_k=1 without monitor: the latest
    assert cb.best_model_path == str(tmp_path / "checkpoints" / "epoch=1-step=4.ckpt")
    assert saved == ["epoch=0-step=2.ckpt", "epoch=1-step=4.ckpt"]


def test_dir_follows_first_logger(tmp_path):
    cb = ModelCheckpoint()
    logger = CSVLogger(save_dir=tmp_path / "logs", name="lightning_logs", version=3)
    cb.setup(_trainer(tmp_path, logger=logger), None, "fit")
    assert cb.dirpath == str(tmp_path / "logs" / "lightning_logs" / "version_3" / "checkpoints")
    cb = ModelCheckpoint()
    logger = CSVLogger(save_dir=tmp_path / "logs", name="lightning_logs", version="run_a")
    cb.setup(_trainer(tmp_path, logger=logger), None, "fit")
    assert cb.dirpath.endswith(os.path.join("lightning_logs", "run_a", "checkpoints"))


def test_monitor_top_k_and_last(tmp_path):
    cb = ModelCheckpoint(dirpath=tmp_path, filename="{epoch}-{val_loss:.2f}", monitor="val_loss", save_top_k=2, save_last=True)
    _fit(cb, tmp_path, [0.5, 0.3, 0.4, 0.6, 0.1])
    assert _files(tmp_path) == ["epoch=1-val_loss=0.30.ckpt", "epoch=4-val_loss=0.10.ckpt", "last.ckpt"]
    assert cb.best_model_path == str(tmp_path / "epoch=4-val_loss=0.10.ckpt")
    assert cb.best_model_score == pytest.approx(0.1)
    assert cb.kth_best_model_path == str(tmp_path / "epoch=1-val_loss=0.30.ckpt")
    assert set(cb.best_k_models) == {cb.best_model_path, cb.kth_best_model_path}
    assert cb.last_model_path == str(tmp_path / "last.ckpt")
    # the state written into the file already names the file itself as best
    state = torch.load(cb.best_model_path, weights_only=True)["callbacks"][cb.state_key]
    assert state["best_model_path"] == cb.best_model_path
    assert torch.load(tmp_path / "last.ckpt", weights_only=True)["global_step"] == 10


def test_mode_max_and_save_all(tmp_path):
    cb = ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", mode="max", save_top_k=-1, auto_insert_metric_name=False, filename="e{epoch}")
    _fit(cb, tmp_path, [0.5, 0.3, 0.9])
    assert _files(tmp_path) == ["e0.ckpt", "e1.ckpt", "e2.ckpt"]
    assert cb.best_model_path.endswith("e2.ckpt") and cb.best_model_score == pytest.approx(0.9)


def test_save_top_k_zero_still_writes_last(tmp_path):
    cb = ModelCheckpoint(dirpath=tmp_path, save_top_k=0, save_last=True)
    _fit(cb, tmp_path, [1.0, 2.0])
    assert _files(tmp_path) == ["last.ckpt"]
    assert cb.best_model_path == ""


def test_version_counter_on_clash(tmp_path):
    (tmp_path / "epoch=0-step=2.ckpt").write_bytes(b"old")
    (tmp_path / "last.ckpt").write_bytes(b"old")
    with pytest.warns(UserWarning, match="exists and is not empty"):
        cb = ModelCheckpoint(dirpath=tmp_path, save_last=True)
        _fit(cb, tmp_path, [1.0])
    assert _files(tmp_path) == ["epoch=0-step=2-v1.ckpt", "epoch=0-step=2.ckpt", "last-v1.ckpt", "last.ckpt"]
    assert (tmp_path / "epoch=0-step=2.ckpt").read_bytes() == b"old"  # never overwritten, never deleted
    cb = ModelCheckpoint(dirpath=tmp_path / "b", enable_version_counter=False)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "epoch=0-step=2.ckpt").write_bytes(b"old")
    with pytest.warns(UserWarning):
        _fit(cb, tmp_path, [1.0])
    assert _files(tmp_path / "b") == ["epoch=0-step=2.ckpt"]
    assert (tmp_path / "b" / "epoch=0-step=2.ckpt").read_bytes() != b"old"


def test_save_point_rule(tmp_path):
    # Lightning's rule: validation once per epoch runs before on_train_epoch_end, so save there ...
    trainer, _ = _fit(ModelCheckpoint(dirpath=tmp_path / "a"), tmp_path, [1.0])
    assert trainer.num_val_batches == [1]
    assert ModelCheckpoint()._should_save_on_train_epoch_end(trainer)
    no_val, _ = _fit(ModelCheckpoint(dirpath=tmp_path / "b"), tmp_path, [1.0], validate=False)
    assert ModelCheckpoint()._should_save_on_train_epoch_end(no_val)
    # ... validation several times an epoch, or every few epochs: save after each validation
    trainer.val_check_interval = 0.5
    assert not ModelCheckpoint()._should_save_on_train_epoch_end(trainer)
    trainer.val_check_interval, trainer.check_val_every_n_epoch = 1.0, 2
    assert not ModelCheckpoint()._should_save_on_train_epoch_end(trainer)
    assert ModelCheckpoint(save_on_train_epoch_end=True)._should_save_on_train_epoch_end(trainer)
    assert not ModelCheckpoint(save_on_train_epoch_end=False)._should_save_on_train_epoch_end(no_val)
    # mid-epoch validation saves at on_validation_end, once per step
    cb = ModelCheckpoint(dirpath=tmp_path / "c", save_top_k=-1)
    trainer, saved = _fit(cb, tmp_path, [1.0], val_check_interval=0.5)
    assert saved == ["epoch=0-step=1.ckpt", "epoch=0-step=2.ckpt"]
    cb.on_validation_end(trainer, trainer.lightning_module)  # same step again: not saved twice
    assert saved == ["epoch=0-step=1.ckpt", "epoch=0-step=2.ckpt"]


def test_skips_sanity_check_fast_dev_run_and_non_fit(tmp_path):
    # the sanity check's validation saves nothing
    cb = ModelCheckpoint(dirpath=tmp_path / "s", save_last=True, save_top_k=-1)
    trainer = _trainer(tmp_path, max_epochs=1, limit_train_batches=2, callbacks=[cb], logger=False, num_sanity_val_steps=1)
    during_sanity = []
    real_save = trainer.save_checkpoint
    trainer.save_checkpoint = lambda path, weights_only=False: (during_sanity.append(trainer.sanity_checking), real_save(path, weights_only))
    trainer.fit(_model([1.0]))
    assert during_sanity and not any(during_sanity)
    # a smoke run writes no files
    cb = ModelCheckpoint(dirpath=tmp_path / "f", save_last=True, every_n_train_steps=1)
    _, saved = _fit(cb, tmp_path, [1.0], fast_dev_run=1)
    assert saved == [] and not os.path.exists(tmp_path / "f")
    # validate / test never save
    cb = ModelCheckpoint(dirpath=tmp_path / "v", save_last=True)
    trainer = _trainer(tmp_path, callbacks=[cb], logger=False)
    saved = _spy(trainer)
    trainer.validate(_model([1.0]), verbose=False)
    assert saved == []
    # no step taken: nothing to save
    _, saved = _fit(ModelCheckpoint(dirpath=tmp_path / "n"), tmp_path, [1.0], steps_per_epoch=0)
    assert saved == []


def test_every_n_train_steps(tmp_path):
    cb = ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=3, save_top_k=-1)
    _fit(cb, tmp_path, [1.0, 1.0, 1.0], steps_per_epoch=2)
    assert _files(tmp_path) == ["epoch=1-step=3.ckpt", "epoch=2-step=6.ckpt"]


def test_every_n_epochs_and_time_interval(tmp_path, monkeypatch):
    cb = ModelCheckpoint(dirpath=tmp_path / "e", every_n_epochs=2, save_top_k=-1)
    _fit(cb, tmp_path, [1.0] * 5)
    assert _files(tmp_path / "e") == ["epoch=1-step=4.ckpt", "epoch=3-step=8.ckpt"]

    clock = [100.0]
    monkeypatch.setattr("runtime.callbacks.model_checkpoint.time.monotonic", lambda: clock[0])

    def tick():
        clock[0] += 4.0  # 4 s per step: a save at steps 3 and 6 (12 s, 24 s)

    cb = ModelCheckpoint(dirpath=tmp_path / "t", train_time_interval=timedelta(seconds=10), save_top_k=-1)
    trainer = _trainer(tmp_path, max_epochs=1, limit_train_batches=6, limit_val_batches=0, callbacks=[cb], logger=False)
    trainer.fit(_model(on_step=tick))
    assert _files(tmp_path / "t") == ["epoch=0-step=3.ckpt", "epoch=0-step=6.ckpt"]


def test_format_checkpoint_name():
    cb = ModelCheckpoint(dirpath="/ck", filename="{epoch}-{val/loss:.2f}-{epoch_test}")
    name = cb.format_checkpoint_name({"epoch": torch.tensor(3), "val/loss": torch.tensor(0.12345), "epoch_test": 7})
    assert name == os.path.join(os.path.realpath("/ck"), "epoch=3-val/loss=0.12-epoch_test=7.ckpt")
    assert ModelCheckpoint(filename="x").format_checkpoint_name({}, ver=2) == "x-v2.ckpt"
    assert ModelCheckpoint().format_checkpoint_name({"epoch": 1, "step": 9}) == "epoch=1-step=9.ckpt"
    assert ModelCheckpoint(filename="{missing}").format_checkpoint_name({}) == "missing=0.ckpt"


@pytest.mark.filterwarnings("ignore:Checkpoint directory.*exists and is not empty")
def test_state_dict_round_trip_continues_top_k(tmp_path):
    cb = ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", save_top_k=2, filename="{epoch}")
    _fit(cb, tmp_path, [0.5, 0.3])
    state = torch.load(tmp_path / "epoch=1.ckpt", weights_only=True)["callbacks"][cb.state_key]

    resumed = ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", save_top_k=2, filename="{epoch}")
    resumed.load_state_dict(state)
    assert resumed.best_model_path == cb.best_model_path and set(resumed.best_k_models) == set(cb.best_k_models)
    # the resumed fit restores the same state from the file and ranks its third epoch (0.4) among the two kept
    _fit(resumed, tmp_path, [0.5, 0.3, 0.4], ckpt_path=str(tmp_path / "epoch=1.ckpt"))
    assert _files(tmp_path) == ["epoch=1.ckpt", "epoch=2.ckpt"]  # 0.5 dropped, 0.3 still best
    assert resumed.best_model_path.endswith("epoch=1.ckpt")

    moved = ModelCheckpoint(dirpath=tmp_path / "elsewhere", monitor="val_loss")
    with pytest.warns(UserWarning, match="dirpath has changed"):
        moved.load_state_dict(state)
    assert moved.best_k_models == {} and moved.best_model_path == cb.best_model_path


def test_missing_monitor_warns_then_raises_after_validation(tmp_path):
    with pytest.warns(UserWarning, match="could not find the monitored key"):
        _fit(ModelCheckpoint(dirpath=tmp_path / "a", monitor="val_los"), tmp_path, [1.0], validate=False)
    with pytest.raises(MisconfigurationException, match="Did you mean 'val_loss'"):
        _fit(ModelCheckpoint(dirpath=tmp_path / "b", monitor="val_los"), tmp_path, [1.0])


def test_bad_arguments():
    with pytest.raises(MisconfigurationException, match="Did you mean 'max'"):
        ModelCheckpoint(mode="maxx")
    with pytest.raises(MisconfigurationException, match="save_top_k"):
        ModelCheckpoint(save_top_k=-2)
    with pytest.raises(MisconfigurationException, match="No quantity for top_k"):
        ModelCheckpoint(save_top_k=3)
    with pytest.raises(MisconfigurationException, match="mutually exclusive"):
        ModelCheckpoint(every_n_train_steps=2, every_n_epochs=1)


@pytest.mark.filterwarnings("ignore:Checkpoint directory.*exists and is not empty")
def test_state_key_and_resume_file_is_kept(tmp_path):
    assert ModelCheckpoint(monitor="a").state_key != ModelCheckpoint(monitor="b").state_key
    assert ModelCheckpoint().state_key.startswith("ModelCheckpoint{")
    # the file a run resumed from is never deleted by top-k (save_top_k=1 keeps only the newest otherwise)
    _fit(ModelCheckpoint(dirpath=tmp_path), tmp_path, [1.0])
    assert _files(tmp_path) == ["epoch=0-step=2.ckpt"]
    cb = ModelCheckpoint(dirpath=tmp_path)
    _fit(cb, tmp_path, [1.0, 1.0], ckpt_path=str(tmp_path / "epoch=0-step=2.ckpt"))
    assert _files(tmp_path) == ["epoch=0-step=2.ckpt", "epoch=1-step=4.ckpt"]
    assert cb.best_model_path == str(tmp_path / "epoch=1-step=4.ckpt")


def test_save_last_link(tmp_path):
    cb = ModelCheckpoint(dirpath=tmp_path, save_last="link")
    _fit(cb, tmp_path, [1.0, 1.0])
    assert os.path.islink(tmp_path / "last.ckpt")
    assert os.readlink(tmp_path / "last.ckpt") == "epoch=1-step=4.ckpt"
    assert _files(tmp_path) == ["epoch=1-step=4.ckpt", "last.ckpt"]


# ------------------------------------------------------------------------------------------ real fits


def test_fit_default_checkpoint_in_logger_folder(tmp_path):
    trainer = _trainer(tmp_path)
    trainer.fit(_model())
    ckpt_dir = tmp_path / "lightning_logs" / "version_0" / "checkpoints"
    assert _files(ckpt_dir) == ["epoch=1-step=8.ckpt"]
    assert trainer.checkpoint_callback.best_model_path == str(ckpt_dir / "epoch=1-step=8.ckpt")
    ckpt = torch.load(ckpt_dir / "epoch=1-step=8.ckpt", weights_only=True)
    assert ckpt["epoch"] == 1 and ckpt["global_step"] == 8
    state = ckpt["callbacks"][trainer.checkpoint_callback.state_key]
    assert state["best_model_path"] == str(ckpt_dir / "epoch=1-step=8.ckpt")


def test_fit_without_logger_writes_to_root_checkpoints(tmp_path):
    _trainer(tmp_path, logger=False, max_epochs=1).fit(_model())
    assert _files(tmp_path) == ["checkpoints"]
    assert _files(tmp_path / "checkpoints") == ["epoch=0-step=4.ckpt"]


def test_fit_monitor_top_k_last(tmp_path):
    losses = [0.5, 0.2, 0.4, 0.1, 0.3]
    cb = ModelCheckpoint(dirpath=tmp_path / "ck", monitor="val_loss", filename="{epoch}-{val_loss:.2f}", save_top_k=2, save_last=True)
    trainer = _trainer(tmp_path, max_epochs=5, callbacks=[cb], logger=False)
    trainer.fit(_model(losses))
    assert _files(tmp_path / "ck") == ["epoch=1-val_loss=0.20.ckpt", "epoch=3-val_loss=0.10.ckpt", "last.ckpt"]
    assert cb.best_model_path == str(tmp_path / "ck" / "epoch=3-val_loss=0.10.ckpt")
    assert float(cb.best_model_score) == pytest.approx(0.1)
    assert torch.load(cb.last_model_path, weights_only=True)["global_step"] == 20
    assert trainer.checkpoint_callback is cb


def test_fit_every_n_train_steps_and_fast_dev_run(tmp_path):
    cb = ModelCheckpoint(dirpath=tmp_path / "ck", every_n_train_steps=3, save_top_k=-1)
    _trainer(tmp_path, callbacks=[cb], logger=False).fit(_model())
    assert _files(tmp_path / "ck") == ["epoch=0-step=3.ckpt", "epoch=1-step=6.ckpt"]
    cb = ModelCheckpoint(dirpath=tmp_path / "fdr")
    _trainer(tmp_path, callbacks=[cb], fast_dev_run=True).fit(_model())
    assert not os.path.exists(tmp_path / "fdr")


@pytest.mark.filterwarnings("ignore:Checkpoint directory.*exists and is not empty")
@pytest.mark.filterwarnings("ignore:.*could not find the monitored key")  # see the xfail test below
def test_fit_resume_continues_top_k(tmp_path):
    losses = [0.5, 0.2, 0.4, 0.1]

    def cb():
        return ModelCheckpoint(dirpath=tmp_path / "ck", monitor="val_loss", filename="{epoch}", save_top_k=2, save_last=True)

    first = cb()
    _trainer(tmp_path, max_epochs=2, callbacks=[first], logger=False).fit(_model(losses))
    assert _files(tmp_path / "ck") == ["epoch=0.ckpt", "epoch=1.ckpt", "last.ckpt"]
    resumed = cb()
    _trainer(tmp_path, max_epochs=4, callbacks=[resumed], logger=False).fit(_model(losses), ckpt_path=str(tmp_path / "ck" / "last.ckpt"))
    # epoch 0 (0.5) leaves the top 2 once epoch 2 (0.4) arrives: the ranking went on across the restart
    assert _files(tmp_path / "ck") == ["epoch=1.ckpt", "epoch=3.ckpt", "last.ckpt"]
    assert resumed.best_model_path.endswith("epoch=3.ckpt") and float(resumed.kth_value) == pytest.approx(0.2)


def test_fit_resume_from_epoch_end_checkpoint_saves_nothing_twice(tmp_path, recwarn):
    cb = ModelCheckpoint(dirpath=tmp_path / "ck", monitor="val_loss", save_last=True)
    _trainer(tmp_path, max_epochs=1, callbacks=[cb], logger=False).fit(_model([0.5, 0.4]))
    resumed = ModelCheckpoint(dirpath=tmp_path / "ck", monitor="val_loss", save_last=True)
    saved = []
    trainer = _trainer(tmp_path, max_epochs=2, callbacks=[resumed], logger=False)
    real_save = trainer.save_checkpoint
    trainer.save_checkpoint = lambda path, weights_only=False: (saved.append(os.path.basename(path)), real_save(path, weights_only))
    trainer.fit(_model([0.5, 0.4]), ckpt_path=str(tmp_path / "ck" / "last.ckpt"))
    assert saved == ["epoch=1-step=8.ckpt", "last.ckpt"]
    assert not [w for w in recwarn if "could not find the monitored key" in str(w.message)]


def test_names_without_a_folder_and_with_a_prefix(tmp_path):
    assert ModelCheckpoint(dirpath="").format_checkpoint_name({"epoch": 5, "step": 4}) == "epoch=5-step=4.ckpt"
    named = ModelCheckpoint(dirpath=tmp_path, filename="name")
    assert named.format_checkpoint_name({}, prefix="test") == str(tmp_path / "test-name.ckpt")


def test_a_remote_dirpath_is_refused_with_the_reason(tmp_path, monkeypatch):
    import runtime

    monkeypatch.chdir(tmp_path)
    link = ModelCheckpoint(dirpath="memory://bucket/ck", save_last="link")
    assert link.dirpath == "memory://bucket/ck"  # not turned into a local folder named "memory:"
    with pytest.raises(ValueError, match="save_last='link'.* is only supported for local file paths"):
        link.setup(runtime.Trainer(logger=False), _model(), "fit")
    with pytest.raises(MisconfigurationException, match="local folders only"):
        ModelCheckpoint(dirpath="s3://bucket/ck").setup(runtime.Trainer(logger=False), _model(), "fit")
    assert os.listdir(tmp_path) == []


def test_save_last_writes_last_at_train_end_when_no_save_was_due(tmp_path):
    # saves after validation, and there is none: last.ckpt still comes at the end of training
    model = _model()
    model.validation_step = None
    cb = ModelCheckpoint(dirpath=tmp_path / "ck", save_last=True, save_on_train_epoch_end=False)
    trainer = _trainer(tmp_path, callbacks=[cb], logger=False)
    saved = _spy(trainer)
    trainer.fit(model)
    assert saved == ["last.ckpt"]
    assert torch.load(tmp_path / "ck" / "last.ckpt", weights_only=False)["global_step"] == 8


@pytest.mark.filterwarnings("ignore:Checkpoint directory.*exists and is not empty")
def test_a_second_fit_on_the_same_trainer_continues(tmp_path):
    cb = ModelCheckpoint(dirpath=tmp_path / "ck", save_top_k=-1, monitor="epoch", mode="max", filename="{epoch}")
    trainer = _trainer(tmp_path, callbacks=[cb], logger=False)
    trainer.fit(_model())
    trainer.fit(_model())  # max_epochs reached: nothing trains, nothing is saved again
    assert (trainer.current_epoch, trainer.global_step) == (2, 8)
    trainer.fit_loop.max_epochs = 3
    trainer.fit(_model())
    assert (trainer.current_epoch, trainer.global_step) == (3, 12)
    assert _files(tmp_path / "ck") == ["epoch=0.ckpt", "epoch=1.ckpt", "epoch=2.ckpt"]
