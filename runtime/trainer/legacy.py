"""The Trainer's 1.x spellings that public code still calls; each still runs (see ``Trainer``)."""
import signal
from typing import Any

from runtime.core.module import LightningModule


class LegacyTrainerAPI:
    """Methods and properties of the 1.x Trainer, kept beside the 2.x ones they map to; ``Trainer`` inherits them."""

    @classmethod
    def add_argparse_args(cls, parent_parser, **kwargs: Any):
        """1.x: ``--max_epochs``-style options for every Trainer argument (see ``trainer/argparse_compat.py``)."""
        from runtime.trainer.argparse_compat import add_argparse_args

        return add_argparse_args(cls, parent_parser, **kwargs)

    @classmethod
    def from_argparse_args(cls, args, **kwargs: Any) -> Any:
        """1.x: a Trainer from parsed arguments (names it does not take are left out), ``kwargs`` winning."""
        from runtime.trainer.argparse_compat import from_argparse_args

        return from_argparse_args(cls, args, **kwargs)

    @classmethod
    def parse_argparser(cls, arg_parser):
        from runtime.trainer.argparse_compat import parse_argparser

        return parse_argparser(cls, arg_parser)

    @property
    def lr_schedulers(self) -> list[dict[str, Any]]:
        """1.x: the schedulers as dicts (``scheduler``, ``interval``, ``frequency``, ...); 2.x: ``lr_scheduler_configs``."""
        return [dict(vars(cfg)) for cfg in self.lr_scheduler_configs]

    @property
    def training_type_plugin(self):
        """1.x name of ``trainer.strategy``."""
        return self.strategy

    def reset_train_dataloader(self, model: LightningModule | None = None) -> None:
        """1.x: build the training dataloader again now (2.x: ``trainer.fit_loop.setup_data()``)."""
        self._run.loaders.pop("train", None)
        self.fit_loop.setup_data()

    def reset_val_dataloader(self, model: LightningModule | None = None) -> None:
        """1.x: build the validation dataloaders again now (2.x: ``trainer.validate_loop.setup_data()``)."""
        self._run.loaders.pop("val", None)
        self.fit_loop.epoch_loop.val_loop.setup_data()

    @property
    def received_sigterm(self) -> bool:
        """Whether a SIGTERM arrived during the current run (the run then stops at the next batch)."""
        return self._run.received_signal == signal.SIGTERM
