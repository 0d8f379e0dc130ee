"""``Profiler``: the base class. Subclasses time named actions (hooks, steps) and report them at the end.

The trainer wraps each hook call in ``profiler.profile(name)`` only when a real profiler is set, so the
default costs nothing.
"""
import os
from abc import ABC, abstractmethod
from contextlib import contextmanager
from typing import Generator

__all__ = ["Profiler"]


class Profiler(ABC):
    """Base class: implement ``start(action_name)``, ``stop(action_name)`` and ``summary()``.

    Args:
        dirpath: folder for the report file; the trainer's log folder when the trainer calls ``setup``.
        filename: write the report to ``dirpath/<stage>-<filename>.txt`` instead of printing it.
    """

    def __init__(self, dirpath: str | os.PathLike | None = None, filename: str | None = None) -> None:
        self.dirpath = dirpath
        self.filename = filename
        self._stage: str | None = None
        self._local_rank: int | None = None

    @abstractmethod
    def start(self, action_name: str) -> None:
        """Start timing ``action_name``."""

    @abstractmethod
    def stop(self, action_name: str) -> None:
        """Stop timing ``action_name``."""

    def summary(self) -> str:
        """The report as text."""
        return ""

    @contextmanager
    def profile(self, action_name: str) -> Generator[str, None, None]:
        """``with profiler.profile("name"): ...`` times the block as one call of ``name``."""
        try:
            self.start(action_name)
            yield action_name
        finally:
            self.stop(action_name)

    def setup(self, stage: str, local_rank: int | None = None, log_dir: str | None = None) -> None:
        """Called by the trainer when a run starts: which stage, which rank, where logs go."""
        self._stage = getattr(stage, "value", stage)
        self._local_rank = local_rank
        self.dirpath = self.dirpath or log_dir

    def teardown(self, stage: str | None = None) -> None:
        """Called after ``describe``; release what the profiler holds."""

    @property
    def local_rank(self) -> int:
        return 0 if self._local_rank is None else self._local_rank

    def describe(self) -> None:
        """Print the summary on rank zero, or append it to the report file when ``filename`` is set."""
        summary = self.summary()
        if summary:
            if self.filename:
                dirpath = os.fspath(self.dirpath) if self.dirpath is not None else os.getcwd()
                os.makedirs(dirpath, exist_ok=True)
                with open(os.path.join(dirpath, self._prepare_filename()), "a", encoding="utf-8") as f:
                    f.write(summary)
            elif self.local_rank == 0 and _global_rank() == 0:
                print(summary, flush=True)
        self.teardown(self._stage)

    def _prepare_filename(self, action_name: str | None = None, extension: str = ".txt", split_token: str = "-") -> str:
        parts = []
        if self._stage is not None:
            parts.append(self._stage)
        if self.filename:
            parts.append(self.filename)
        if self._local_rank is not None:
            parts.append(str(self._local_rank))
        if action_name is not None:
            parts.append(action_name)
        return split_token.join(parts) + extension


def _global_rank() -> int:
    from runtime.utilities.rank_zero import rank_zero_only

    return getattr(rank_zero_only, "rank", 0)
