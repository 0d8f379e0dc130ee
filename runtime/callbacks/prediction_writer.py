"""BasePredictionWriter: write predictions to storage after every batch, at the end, or both."""
from typing import Any, Sequence

from torch.utils.data import SequentialSampler

from runtime.callbacks.callback import Callback
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import nearest

_INTERVALS = ("batch", "epoch", "batch_and_epoch")


class BasePredictionWriter(Callback):
    r"""Subclass and implement ``write_on_batch_end`` and/or ``write_on_epoch_end``.

    ``batch_indices`` are the dataset indices of the samples in a batch when the predict loader reads
    its dataset in order (no shuffling, the default for prediction), and None otherwise.

    Example::

        class TorchWriter(BasePredictionWriter):
            def __init__(self, out_dir):
                super().__init__(write_interval="epoch")
                self.out_dir = out_dir

            def write_on_epoch_end(self, trainer, pl_module, predictions, batch_indices):
                torch.save(predictions, os.path.join(self.out_dir, "predictions.pt"))

        trainer = Trainer(callbacks=[TorchWriter("out")])
        trainer.predict(model, return_predictions=False)
    """

    def __init__(self, write_interval: str = "batch") -> None:
        write_interval = getattr(write_interval, "value", write_interval)
        if write_interval not in _INTERVALS:
            guess = nearest(write_interval, _INTERVALS) if isinstance(write_interval, str) else None
            raise MisconfigurationException(
                f"BasePredictionWriter: `write_interval` should be one of {list(_INTERVALS)}, got {write_interval!r}."
                + (f" Did you mean {guess!r}?" if guess else "")
            )
        self.interval = write_interval
        self._predictions: list[list[Any]] = []
        self._batch_indices: list[list[Any]] = []
        self._loader_indices: list[list[list[int]] | None] = []

    @property
    def _on_batch(self) -> bool:
        return self.interval in ("batch", "batch_and_epoch")

    @property
    def _on_epoch(self) -> bool:
        return self.interval in ("epoch", "batch_and_epoch")

    def write_on_batch_end(self, trainer, pl_module, prediction: Any, batch_indices: Sequence[int] | None, batch: Any,
                           batch_idx: int, dataloader_idx: int) -> None:
        """Write one batch's ``prediction``; called after ``predict_step`` when ``write_interval`` includes "batch"."""
        raise NotImplementedError(f"{type(self).__name__} has write_interval={self.interval!r} but does not implement `write_on_batch_end`.")

    def write_on_epoch_end(self, trainer, pl_module, predictions: Sequence[Any], batch_indices: Sequence[Any]) -> None:
        """Write all predictions once prediction ends (when ``write_interval`` includes "epoch").

        ``predictions`` is the list of batch outputs (a list of such lists with several dataloaders);
        ``batch_indices`` is always one list per dataloader, one entry per batch.
        """
        raise NotImplementedError(f"{type(self).__name__} has write_interval={self.interval!r} but does not implement `write_on_epoch_end`.")

    # -- hooks
    def on_predict_start(self, trainer, pl_module) -> None:
        loaders = trainer.predict_dataloaders
        if loaders is None:
            loaders = []
        elif not isinstance(loaders, (list, tuple)):
            loaders = [loaders]
        self._loader_indices = [_ordered_batch_indices(dl) for dl in loaders]
        self._predictions = [[] for _ in loaders]
        self._batch_indices = [[] for _ in loaders]

    def on_predict_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        indices = self._indices(batch_idx, dataloader_idx)
        if self._on_epoch:  # kept here, so writing works with `return_predictions=False`
            while len(self._predictions) <= dataloader_idx:
                self._predictions.append([])
                self._batch_indices.append([])
            self._predictions[dataloader_idx].append(outputs)
            self._batch_indices[dataloader_idx].append(indices)
        if self._on_batch:
            self.write_on_batch_end(trainer, pl_module, outputs, indices, batch, batch_idx, dataloader_idx)

    def on_predict_epoch_end(self, trainer, pl_module) -> None:
        if not self._on_epoch:
            return
        predictions, indices = self._predictions, self._batch_indices
        if len(predictions) == 1:  # as Lightning's predict loop: flat for one loader, indices always per loader
            predictions = predictions[0]
        self.write_on_epoch_end(trainer, pl_module, predictions, indices)

    def on_predict_end(self, trainer, pl_module) -> None:
        # kept until here: ``trainer.predict_loop.epoch_batch_indices`` reads them in the epoch-end hooks
        self._predictions, self._batch_indices = [], []

    def _indices(self, batch_idx: int, dataloader_idx: int) -> list[int] | None:
        if dataloader_idx >= len(self._loader_indices):
            return None
        known = self._loader_indices[dataloader_idx]
        if known is None or batch_idx >= len(known):
            return None
        return known[batch_idx]


def _ordered_batch_indices(loader: Any) -> list[list[int]] | None:
    """Dataset indices of each batch, when the loader reads its dataset in order (else None: unknown)."""
    sampler = getattr(loader, "sampler", None)
    batch_sampler = getattr(loader, "batch_sampler", None)
    if not isinstance(sampler, SequentialSampler) or batch_sampler is None:
        return None
    if getattr(batch_sampler, "sampler", None) is not sampler:
        return None  # a custom batch sampler: its order is its own
    return [list(b) for b in batch_sampler]  # index lists only; no data is loaded
