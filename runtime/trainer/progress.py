"""The loop's progress record: small, serialisable, and all a restart needs to know about the loop."""
from dataclasses import dataclass


@dataclass
class Progress:
    """Everything the loops need to continue a run: saved in checkpoints under ``loops``."""

    current_epoch: int = 0
    epoch_batch_idx: int = 0  # batches finished in the current epoch
    total_batch_idx: int = 0
    batches_that_stepped: int = 0  # batches that ended an accumulation window (the logging step)
    optimizer_steps: int = 0  # ``global_step``
    epoch_done: bool = False  # every batch of ``current_epoch`` ran; only its end-of-epoch hooks remain
