"""GradientAccumulationScheduler: change ``accumulate_grad_batches`` at chosen epochs."""
from runtime.callbacks.callback import Callback
from runtime.core.module import LightningModule
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn


class GradientAccumulationScheduler(Callback):
    r"""Accumulate gradients over ``scheduling[epoch]`` batches from that (0-based) epoch on.

    The loop reads ``trainer.accumulate_grad_batches`` at every batch; this callback sets it at the
    start of each training epoch. Epochs before the first key accumulate 1 batch.

    Example::

        # epochs 0-4: 1 batch per step, 5-9: 2 batches, 10 on: 4 batches
        GradientAccumulationScheduler(scheduling={5: 2, 10: 4})
    """

    def __init__(self, scheduling: dict[int, int]) -> None:
        super().__init__()
        if not scheduling:
            raise TypeError("Empty dict cannot be interpreted correct")
        if any(not isinstance(k, int) or isinstance(k, bool) or k < 0 for k in scheduling):
            raise MisconfigurationException(f"Epoch should be an int greater than or equal to 0. Got {list(scheduling.keys())}.")
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in scheduling.values()):
            raise MisconfigurationException(f"Accumulation factor should be an int greater than 0. Got {list(scheduling.values())}.")
        scheduling = dict(scheduling)  # the caller's dict stays as given
        scheduling.setdefault(0, 1)
        self.scheduling = scheduling
        self.epochs = sorted(scheduling)
        self._set_by_me: int | None = None  # the value this callback last set (a later fit may start with it)

    def going_to_accumulate_grad_batches(self) -> bool:
        return any(v > 1 for v in self.scheduling.values())

    def get_accumulate_grad_batches(self, epoch: int) -> int:
        for start in reversed(self.epochs):
            if epoch >= start:
                return self.scheduling[start]
        return 1

    def on_train_start(self, trainer, pl_module) -> None:
        if not pl_module.automatic_optimization:
            raise RuntimeError(
                "Automatic gradient accumulation and the `GradientAccumulationScheduler` is not supported for manual "
                "optimization. Please remove the callback or switch to automatic optimization."
            )
        overridden = any(
            getattr(type(pl_module), n, None) is not getattr(LightningModule, n) for n in ("optimizer_step", "optimizer_zero_grad")
        )
        if overridden and self.going_to_accumulate_grad_batches():
            rank_zero_warn(
                "When using `Trainer(accumulate_grad_batches != 1)` and overriding `LightningModule.optimizer_{step,zero_grad}`, "
                "the hooks will not be called on every batch (rather, they are called on every optimization step)."
            )
        from runtime.strategies.deepspeed import DeepSpeedStrategy  # the module imports deepspeed only when a run starts

        if isinstance(trainer.strategy, DeepSpeedStrategy):  # DeepSpeed fixes the accumulation in its engine config
            raise RuntimeError(
                f"The `{type(trainer.strategy).__name__}` does not support `accumulate_grad_batches` changing between "
                "epochs. Set a constant `Trainer(accumulate_grad_batches=...)` instead of the callback."
            )
        if trainer.accumulate_grad_batches != 1 and self._set_by_me != trainer.accumulate_grad_batches:
            raise ValueError(
                "You have set `accumulate_grad_batches` and are using the `GradientAccumulationScheduler` callback. "
                "Either remove `accumulate_grad_batches` from the Trainer or remove the callback."
            )

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._set_by_me = trainer.accumulate_grad_batches = self.get_accumulate_grad_batches(trainer.current_epoch)
