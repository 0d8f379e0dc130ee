"""ThroughputMonitor: batches, samples, items and FLOPs per second of training and evaluation, logged."""
import time
from typing import Any, Callable

import torch

from runtime.callbacks.callback import Callback
from runtime.callbacks.lr_monitor import _should_update_logs
from runtime.utilities.rank_zero import rank_zero_only, rank_zero_warn
from runtime.utilities.throughput import Throughput

__all__ = ["ThroughputMonitor"]


class ThroughputMonitor(Callback):
    r"""Log throughput as ``{stage}/device/samples_per_sec`` and friends (see ``runtime.utilities.throughput``).

    Args:
        batch_size_fn: the number of samples in a batch (``lambda batch: batch.size(0)``).
        length_fn: the number of items (e.g. tokens) in a batch, for ``items_per_sec``.
        kwargs: for ``Throughput``: ``window_size`` (updates the rates average over, default 100),
            ``separator``, ``available_flops`` (the device's peak, for ``device/mfu``).

    FLOPs are counted when the module has a ``flops_per_batch`` attribute (``utilities.throughput.measure_flops``
    computes it). Time is measured with a device synchronisation per batch on CUDA, so this callback costs
    what it measures: use it to measure, not in every run.

    Example::

        Trainer(callbacks=[ThroughputMonitor(batch_size_fn=lambda batch: batch.size(0))], log_every_n_steps=10)
    """

    def __init__(self, batch_size_fn: Callable[[Any], int], length_fn: Callable[[Any], int] | None = None,
                 **kwargs: Any) -> None:
        super().__init__()
        self.kwargs = kwargs
        self.batch_size_fn = batch_size_fn
        self.length_fn = length_fn
        self.available_flops: float | None = kwargs.pop("available_flops", None)
        self._throughputs: dict[str, Throughput] = {}
        self._t0s: dict[str, float] = {}
        self._lengths: dict[str, int] = {}
        self._samples: dict[str, int] = {}
        self._batches: dict[str, int] = {}
        self._module_has_flops: bool | None = None

    def _make(self, trainer) -> Throughput:
        return Throughput(available_flops=self.available_flops, world_size=trainer.world_size, **self.kwargs)

    def setup(self, trainer, pl_module, stage: str) -> None:
        stages = {"fit": ("train", "validate"), "validate": ("validate",), "test": ("test",), "predict": ("predict",)}
        for name in stages.get(stage, ()):
            self._throughputs[name] = self._make(trainer)

    @staticmethod
    def _stage(trainer) -> str:
        return trainer.state.stage.value

    def _start(self, trainer) -> None:
        stage = self._stage(trainer)
        fitting = getattr(trainer.state.fn, "value", trainer.state.fn) == "fit"
        if fitting or stage not in self._samples:
            self._throughputs.setdefault(stage, self._make(trainer)).reset()
            self._lengths[stage] = self._samples[stage] = self._batches[stage] = 0
        self._t0s[stage] = time.perf_counter()

    @torch.inference_mode()  # batch_size_fn / length_fn may compute on tensors
    def _update(self, trainer, pl_module, batch: Any) -> None:
        stage = self._stage(trainer)
        if trainer.strategy.root_device.type == "cuda":
            torch.cuda.synchronize()  # the time of work the device has not finished is not the time it took
        elapsed = time.perf_counter() - self._t0s[stage]
        if self.length_fn is not None:
            self._lengths[stage] += self.length_fn(batch)
        if self._module_has_flops is None:
            self._module_has_flops = hasattr(pl_module, "flops_per_batch")
            if not self._module_has_flops:
                rank_zero_warn(
                    "When using the `ThroughputMonitor`, you need to define a `flops_per_batch` attribute or property"
                    f" in {type(pl_module).__name__} to compute the FLOPs."
                )
        self._samples[stage] += self.batch_size_fn(batch)
        self._batches[stage] += 1
        self._throughputs[stage].update(
            time=elapsed, batches=self._batches[stage], samples=self._samples[stage],
            lengths=None if self.length_fn is None else self._lengths[stage],
            flops=pl_module.flops_per_batch if self._module_has_flops else None,
        )

    def _compute(self, trainer, step: int | None = None) -> None:
        if not _should_update_logs(trainer) or not trainer.loggers:
            return
        stage = self._stage(trainer)
        throughput = self._throughputs[stage]
        metrics = {f"{stage}{throughput.separator}{k}": v for k, v in throughput.compute().items()}
        step = trainer._progress.batches_that_stepped if step is None else step
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=step)

    @rank_zero_only
    def on_train_start(self, trainer, *_: Any) -> None:
        self._start(trainer)

    @rank_zero_only
    def on_train_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, batch_idx: int) -> None:
        self._update(trainer, pl_module, batch)
        accumulate = trainer.accumulate_grad_batches
        if (batch_idx + 1) % accumulate == 0 or accumulate == 1:  # only on batches that step the optimizer
            self._compute(trainer)

    @rank_zero_only
    def on_validation_start(self, trainer, *_: Any) -> None:
        if not trainer.sanity_checking:
            self._start(trainer)

    @rank_zero_only
    def on_validation_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, *_: Any, **__: Any) -> None:
        if trainer.sanity_checking:
            return
        self._update(trainer, pl_module, batch)
        self._compute(trainer, self._batches[self._stage(trainer)])

    @rank_zero_only
    def on_validation_end(self, trainer, *_: Any) -> None:
        if trainer.sanity_checking or getattr(trainer.state.fn, "value", trainer.state.fn) != "fit":
            return
        # validation inside fit is not training time: move the training clock's origin past it
        train_times = self._throughputs["train"]._time
        val_times = self._throughputs["validate"]._time
        train_finished = self._t0s["train"] + (train_times[-1] if train_times else 0.0)
        self._t0s["train"] += (self._t0s["validate"] - train_finished) + (val_times[-1] if val_times else 0.0)

    @rank_zero_only
    def on_test_start(self, trainer, *_: Any) -> None:
        self._start(trainer)

    @rank_zero_only
    def on_test_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, *_: Any, **__: Any) -> None:
        self._update(trainer, pl_module, batch)
        self._compute(trainer, self._batches["test"])

    @rank_zero_only
    def on_predict_start(self, trainer, *_: Any) -> None:
        self._start(trainer)

    @rank_zero_only
    def on_predict_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, *_: Any, **__: Any) -> None:
        self._update(trainer, pl_module, batch)
        self._compute(trainer, self._batches["predict"])
