"""Lightning's progress counters (``epoch_progress.current.completed`` ...), read from the trainer's own record.

Nothing here is stored: each counter is computed from ``trainer._progress`` when it is read, so there is
one source of truth (the record checkpoints save) and these objects cannot drift from it.
"""
from dataclasses import asdict, dataclass

__all__ = ["_BatchProgress", "_Progress", "_ProcessedTracker", "_ReadyCompletedTracker", "_StartedTracker"]


@dataclass(frozen=True)
class _ReadyCompletedTracker:
    ready: int = 0
    completed: int = 0

    def state_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class _StartedTracker(_ReadyCompletedTracker):
    started: int = 0


@dataclass(frozen=True)
class _ProcessedTracker(_StartedTracker):
    processed: int = 0


@dataclass(frozen=True)
class _Progress:
    """``total`` counts over the whole run, ``current`` since the last reset (an epoch, for batches)."""

    total: _ProcessedTracker
    current: _ProcessedTracker

    def state_dict(self) -> dict[str, dict[str, int]]:
        return {"total": self.total.state_dict(), "current": self.current.state_dict()}


@dataclass(frozen=True)
class _BatchProgress(_Progress):
    is_last_batch: bool = False

    def state_dict(self) -> dict:
        return {**super().state_dict(), "is_last_batch": self.is_last_batch}


def _tracker(ready: int, completed: int, started: int | None = None, processed: int | None = None) -> _ProcessedTracker:
    return _ProcessedTracker(ready=ready, completed=completed, started=ready if started is None else started,
                             processed=completed if processed is None else processed)
