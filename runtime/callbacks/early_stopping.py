"""EarlyStopping: stop training when a monitored metric stops improving (Lightning 2.x behaviour).

The check runs once per epoch: at the end of the training epoch when validation runs every epoch (the
trainer calls monitoring callbacks after the module's ``on_train_epoch_end``, so epoch-end logs exist),
otherwise after each validation. Reading the metric is one host read per check, never per step.
"""
import logging
from enum import Enum
from typing import Any

import torch

from runtime.callbacks.callback import Callback
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn
from runtime.utilities.suggest import nearest

log = logging.getLogger(__name__)


class EarlyStoppingReason(Enum):
    """Why ``EarlyStopping`` stopped the run (``early_stopping.stopping_reason``)."""

    NOT_STOPPED = 0
    STOPPING_THRESHOLD = 1
    DIVERGENCE_THRESHOLD = 2
    PATIENCE_EXHAUSTED = 3
    NON_FINITE_METRIC = 4


class EarlyStopping(Callback):
    r"""Stop training when ``monitor`` has not improved for ``patience`` checks.

    Args:
        monitor: name of a logged metric (``trainer.callback_metrics``).
        min_delta: smallest change that counts as an improvement.
        patience: number of checks without improvement before stopping.
        verbose: log each decision.
        mode: "min" (lower is better) or "max".
        strict: raise when ``monitor`` was not logged (else warn, when verbose, and skip).
        check_finite: stop when the metric becomes NaN or infinite.
        stopping_threshold: stop as soon as the metric is better than this.
        divergence_threshold: stop as soon as the metric is worse than this.
        check_on_train_epoch_end: check at the end of the training epoch (True) or after validation
            (False); None picks the training epoch end when validation runs once per epoch.
        log_rank_zero_only: only rank zero logs the decisions.

    Example::

        Trainer(callbacks=[EarlyStopping(monitor="val_loss", patience=3)]).fit(model)
    """

    mode_dict = {"min": torch.lt, "max": torch.gt}
    order_dict = {"min": "<", "max": ">"}

    def __init__(
        self,
        monitor: str,
        min_delta: float = 0.0,
        patience: int = 3,
        verbose: bool = False,
        mode: str = "min",
        strict: bool = True,
        check_finite: bool = True,
        stopping_threshold: float | None = None,
        divergence_threshold: float | None = None,
        check_on_train_epoch_end: bool | None = None,
        log_rank_zero_only: bool = False,
    ) -> None:
        super().__init__()
        if mode not in self.mode_dict:
            guess = nearest(mode, self.mode_dict) if isinstance(mode, str) else None
            hint = f" Did you mean {guess!r}?" if guess else ""
            raise MisconfigurationException(f"EarlyStopping(mode={mode!r}): `mode` can be 'min' or 'max', got {mode}.{hint}")
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise MisconfigurationException(f"EarlyStopping(patience={patience!r}) must be a non-negative integer.")
        self.monitor = monitor
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.strict = strict
        self.check_finite = check_finite
        self.stopping_threshold = stopping_threshold
        self.divergence_threshold = divergence_threshold
        self.wait_count = 0
        self.stopped_epoch = 0
        self.stopping_reason = EarlyStoppingReason.NOT_STOPPED
        self.stopping_reason_message: str | None = None
        self._check_on_train_epoch_end = check_on_train_epoch_end
        self.log_rank_zero_only = log_rank_zero_only
        # stored signed, as Lightning does: ``current - min_delta`` must beat the best score
        self.min_delta *= 1 if self.monitor_op == torch.gt else -1
        inf = torch.tensor(torch.inf)
        self.best_score = inf if self.monitor_op == torch.lt else -inf

    @property
    def state_key(self) -> str:
        return self._generate_state_key(monitor=self.monitor, mode=self.mode)

    @property
    def monitor_op(self):
        return self.mode_dict[self.mode]

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self._check_on_train_epoch_end is None:
            # validation more than once per epoch, or not every epoch: check after validation instead
            self._check_on_train_epoch_end = trainer.val_check_interval == 1.0 and trainer.check_val_every_n_epoch == 1

    def state_dict(self) -> dict[str, Any]:
        return {"wait_count": self.wait_count, "stopped_epoch": self.stopped_epoch, "best_score": self.best_score,
                "patience": self.patience, "stopping_reason": self.stopping_reason.value,
                "stopping_reason_message": self.stopping_reason_message}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.wait_count = state_dict["wait_count"]
        self.stopped_epoch = state_dict["stopped_epoch"]
        self.best_score = state_dict["best_score"]
        self.patience = state_dict["patience"]
        self.stopping_reason = EarlyStoppingReason(state_dict.get("stopping_reason", EarlyStoppingReason.NOT_STOPPED.value))
        self.stopping_reason_message = state_dict.get("stopping_reason_message")

    # -- hooks
    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not self._check_on_train_epoch_end or self._should_skip_check(trainer):
            return
        self._run_early_stopping_check(trainer)

    def on_validation_end(self, trainer, pl_module) -> None:
        if self._check_on_train_epoch_end or self._should_skip_check(trainer):
            return
        self._run_early_stopping_check(trainer)

    # -- the check
    @staticmethod
    def _should_skip_check(trainer) -> bool:
        fn = getattr(trainer.state.fn, "value", trainer.state.fn)
        return fn != "fit" or trainer.sanity_checking

    def _validate_condition_metric(self, logs: dict[str, Any]) -> bool:
        if logs.get(self.monitor) is not None:
            return True
        available = list(logs)
        guess = nearest(self.monitor, available) if available else None
        message = (
            f"Early stopping conditioned on metric `{self.monitor}` which is not available. Pass in or modify your "
            f"`EarlyStopping` callback to use any of the following: `{'`, `'.join(available)}`"
            + (f" (did you mean `{guess}`?)" if guess else "")
        )
        if self.strict:
            raise RuntimeError(message)
        if self.verbose:
            rank_zero_warn(message, category=RuntimeWarning)
        return False

    def _run_early_stopping_check(self, trainer) -> None:
        logs = trainer.callback_metrics
        if trainer.fast_dev_run or not self._validate_condition_metric(logs):
            return
        current = logs[self.monitor]
        if not isinstance(current, torch.Tensor):
            current = torch.tensor(float(current))
        current = current.detach().squeeze().to("cpu", torch.float32)  # the one host read of this check
        should_stop, reason = self._evaluate_stopping_criteria(current)
        reduce = getattr(trainer.strategy, "reduce_boolean_decision", None)
        if reduce is not None:  # any rank stopping stops all of them
            should_stop = bool(reduce(should_stop, all=False))
        trainer.should_stop = trainer.should_stop or should_stop
        if should_stop:
            self.stopped_epoch = trainer.current_epoch
            self.stopping_reason_message = reason
        if reason and self.verbose:
            self._log_info(trainer, reason, self.log_rank_zero_only)

    def _evaluate_stopping_criteria(self, current: torch.Tensor) -> tuple[bool, str | None]:
        should_stop = False
        reason = None
        best = self.best_score if isinstance(self.best_score, torch.Tensor) else torch.tensor(float(self.best_score))
        if self.check_finite and not torch.isfinite(current):
            should_stop = True
            self.stopping_reason = EarlyStoppingReason.NON_FINITE_METRIC
            reason = (f"Monitored metric {self.monitor} = {current} is not finite. Previous best value was "
                      f"{best:.3f}. Signaling Trainer to stop.")
        elif self.stopping_threshold is not None and self.monitor_op(current, self.stopping_threshold):
            should_stop = True
            self.stopping_reason = EarlyStoppingReason.STOPPING_THRESHOLD
            reason = (f"Stopping threshold reached: {self.monitor} = {current} {self.order_dict[self.mode]} "
                      f"{self.stopping_threshold}. Signaling Trainer to stop.")
        elif self.divergence_threshold is not None and self.monitor_op(-current, -self.divergence_threshold):
            should_stop = True
            self.stopping_reason = EarlyStoppingReason.DIVERGENCE_THRESHOLD
            reason = (f"Divergence threshold reached: {self.monitor} = {current} {self.order_dict[self.mode]} "
                      f"{self.divergence_threshold}. Signaling Trainer to stop.")
        elif self.monitor_op(current - self.min_delta, best.to(current.device)):
            reason = self._improvement_message(current, best)
            self.best_score = current
            self.wait_count = 0
        else:
            self.wait_count += 1
            if self.wait_count >= self.patience:
                should_stop = True
                self.stopping_reason = EarlyStoppingReason.PATIENCE_EXHAUSTED
                reason = (f"Monitored metric {self.monitor} did not improve in the last {self.wait_count} records. "
                          f"Best score: {best:.3f}. Signaling Trainer to stop.")
        return should_stop, reason

    def _improvement_message(self, current: torch.Tensor, best: torch.Tensor) -> str:
        if torch.isfinite(best):
            return (f"Metric {self.monitor} improved by {abs(best - current):.3f} >= min_delta = {abs(self.min_delta)}. "
                    f"New best score: {current:.3f}")
        return f"Metric {self.monitor} improved. New best score: {current:.3f}"

    @staticmethod
    def _log_info(trainer, message: str, log_rank_zero_only: bool) -> None:
        rank = trainer.global_rank if trainer.world_size > 1 else None
        if rank is not None:
            message = f"[rank: {rank}] {message}"
        if rank is None or not log_rank_zero_only or rank == 0:
            log.info(message)
