"""What one call of fit / validate / test / predict carries, in one object made for that call.

The Trainer makes a ``Run`` at the start of each entry point and passes it to the loops; it keeps the
latest one only so that properties (``trainer.train_dataloader``, ``trainer.num_val_batches`` ...) and
callbacks calling ``trainer.save_checkpoint`` see the run in progress, or the one that just ended.
"""
import time
from dataclasses import dataclass, field
from typing import Any

from runtime.trainer.logging import Results
from runtime.trainer.states import TrainerFn


@dataclass(eq=False)
class Run:
    fn: TrainerFn | None = None  # None: the empty run a new Trainer starts with
    loader_args: dict[str, Any] = field(default_factory=dict)  # the loaders passed to the entry point, by kind
    weights_only: bool | None = True  # how a ckpt_path given to this call is loaded
    verbose: bool = True  # validate / test print their metrics
    return_predictions: bool = True
    start_time: float = field(default_factory=time.monotonic)  # max_time counts from here

    # data (trainer/data.py): the loaders asked for, the epoch they were asked for in, their batch counts
    loaders: dict[str, list] = field(default_factory=dict)
    loaders_epoch: dict[str, int] = field(default_factory=dict)
    num_training_batches: float = float("inf")
    num_val_batches: list = field(default_factory=list)
    num_test_batches: list = field(default_factory=list)
    num_predict_batches: list = field(default_factory=list)
    is_last_batch: bool = False  # the training batch running is its epoch's last
    predictions: Any = None  # what predict returned (``trainer.predict_loop.predictions``)
    # evaluation batches done, by stage ("validate", "test"): {"done": passes before, "seen": this pass, per loader}
    eval_counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    val_check_batch: float = float("inf")  # validate after every this many batches (inf: at the epoch's end)
    last_val_time: float = 0.0  # when validation last ran (or training started): the clock of a duration interval
    val_enabled: bool | None = None  # some validation batch will run (cached until loaders reload)
    transfer_noop: bool | None = None  # moving a batch changes nothing (cached on first use)

    # fit (trainer/checkpointing.py, trainer/preemption.py)
    restored_mid_fit: bool = False  # progress came from a checkpoint: no sanity check
    resume: dict[str, Any] | None = None  # random states and data position from a checkpoint
    epoch_start: Any = None  # EpochStart: the random states this epoch's data order was drawn from
    pending_step: bool = False  # inside on_train_batch_end of a batch that stepped the optimizer
    received_signal: int | None = None  # a stop signal (SIGTERM / SIGUSR1) arrived
    peer_signals: Any = None  # with several processes: agreeing on a stop signal
    has_step_end: bool = False  # the module overrides the 1.0 training_step_end
    legacy_optimizer_idx: bool = False  # training_step(batch, batch_idx, optimizer_idx), 1.0 manual style
    keep_step_outputs: bool = True  # some hook reads a training step's outputs (else they are not built)

    # logging (trainer/logging.py)
    train_results: Results = field(default_factory=lambda: Results(training=True))
    results: Results | None = None  # where self.log records now
    eval_log_steps: dict[str, tuple] = field(default_factory=dict)  # by stage: (loaders, next log step per loader)
