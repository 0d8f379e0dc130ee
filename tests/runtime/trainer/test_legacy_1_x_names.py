"""1.x spellings public code still calls: they run (with a deprecation warning) and do what they did."""
import argparse

import pytest
import torch

import runtime as pl
from runtime.demos import BoringModel
from runtime.loggers import CSVLogger, LoggerCollection
from runtime.utilities.exceptions import MisconfigurationException
from tests.runtime.helpers import QUIET, make_trainer


def test_argparse_round_trip(tmp_path):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    with pytest.deprecated_call():
        parser = pl.Trainer.add_argparse_args(parser)
    args = parser.parse_args(["--max_epochs", "2", "--devices", "1", "--accelerator", "cpu",
                              "--enable_progress_bar", "false", "--limit_train_batches", "0.5", "--lr", "0.3"])
    assert (args.max_epochs, args.devices, args.enable_progress_bar, args.limit_train_batches) == (2, 1, False, 0.5)
    with pytest.deprecated_call():
        trainer = pl.Trainer.from_argparse_args(args, default_root_dir=tmp_path, logger=False)
    assert trainer.max_epochs == 2 and trainer.limit_train_batches == 0.5 and args.lr == 0.3


def test_epoch_hooks_of_1_x_run_around_every_epoch(tmp_path):
    calls = []

    class Model(BoringModel):
        def on_epoch_start(self):
            calls.append(("start", self.trainer.state.stage.value))

        def on_epoch_end(self):
            calls.append(("end", self.trainer.state.stage.value))

    class CB(pl.Callback):
        def on_epoch_end(self, trainer, pl_module):
            calls.append(("cb-end", trainer.state.stage.value))

    with pytest.deprecated_call(match="on_epoch_start"):
        make_trainer(tmp_path, max_epochs=1, limit_train_batches=1, limit_val_batches=1, num_sanity_val_steps=0,
                     callbacks=[CB()]).fit(Model())
    assert calls == [("start", "train"), ("start", "validate"), ("cb-end", "validate"), ("end", "validate"),
                     ("cb-end", "train"), ("end", "train")]


def test_trainer_attributes_of_1_x(tmp_path):
    class Model(BoringModel):
        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            return [opt], [torch.optim.lr_scheduler.StepLR(opt, 1)]

    trainer = make_trainer(tmp_path, max_steps=2, limit_val_batches=0)
    trainer.fit(Model())
    (config,) = trainer.lr_schedulers
    assert isinstance(config["scheduler"], torch.optim.lr_scheduler.StepLR) and config["interval"] == "epoch"
    assert trainer.training_type_plugin is trainer.strategy and trainer.received_sigterm is False
    trainer.reset_train_dataloader()
    assert trainer.num_training_batches == 64 and trainer.train_dataloader is not None


def test_logger_collection_and_amp_backend(tmp_path):
    with pytest.deprecated_call():
        loggers = LoggerCollection([CSVLogger(tmp_path, name="a"), CSVLogger(tmp_path, name="b")])
    assert len(loggers) == 2 and loggers.name == "a_b"
    opts = {**QUIET, "logger": loggers}
    with pytest.deprecated_call(match="amp_backend"):
        trainer = pl.Trainer(default_root_dir=tmp_path, max_steps=2, amp_backend="native", **opts)
    trainer.fit(BoringModel())
    assert (tmp_path / "a" / "version_0").is_dir() and (tmp_path / "b" / "version_0").is_dir()  # both wrote
    with pytest.raises(MisconfigurationException, match="amp_backend"):
        pl.Trainer(amp_backend="apex", logger=False)
