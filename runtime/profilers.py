"""Profilers: time named actions (hooks, steps) during a run and report them at the end.

The trainer wraps each hook call in ``profiler.profile(name)`` only when a real profiler is set, so
the default costs nothing. ``SimpleProfiler.profile`` is a small context object (two
``time.perf_counter()`` calls and a list append), not a generator, to keep it cheap per step.

Example::

    trainer = Trainer(profiler="simple")   # or Trainer(profiler=SimpleProfiler(filename="perf"))
    trainer.fit(model)                     # prints the table when fit ends
"""
import cProfile
import io
import os
import pstats
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from typing import Any, Generator

from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import invalid_choice

__all__ = ["AdvancedProfiler", "PassThroughProfiler", "Profiler", "SimpleProfiler", "is_active", "select_profiler"]


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


class PassThroughProfiler(Profiler):
    """Records nothing (the profiler used when none is asked for)."""

    def start(self, action_name: str) -> None: ...

    def stop(self, action_name: str) -> None: ...


class _Timing:
    """One action's running count and total time; also the context object ``SimpleProfiler.profile`` returns.

    Totals instead of a list of durations, so a long run's profile costs constant memory.
    """

    __slots__ = ("count", "total", "_start")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self._start: list[float] = []  # a stack: an action may run inside itself

    def __enter__(self) -> "_Timing":
        self._start.append(time.perf_counter())
        return self

    def __exit__(self, *exc: Any) -> None:
        self.total += time.perf_counter() - self._start.pop()
        self.count += 1


class SimpleProfiler(Profiler):
    """Total and mean time, and number of calls, per action; the table is sorted by total time.

    Args:
        dirpath, filename: see ``Profiler``.
        extended: also show the number of calls, the total time and the share of the run's time.
    """

    def __init__(self, dirpath: str | os.PathLike | None = None, filename: str | None = None, extended: bool = True) -> None:
        super().__init__(dirpath=dirpath, filename=filename)
        self.extended = extended
        self._timings: dict[str, _Timing] = {}
        self.start_time = time.perf_counter()

    def _timing(self, action_name: str) -> _Timing:
        timing = self._timings.get(action_name)
        if timing is None:
            timing = self._timings[action_name] = _Timing()
        return timing

    def start(self, action_name: str) -> None:
        self._timing(action_name).__enter__()

    def stop(self, action_name: str) -> None:
        timing = self._timings.get(action_name)
        if timing is None or not timing._start:
            raise ValueError(f"Attempting to stop recording an action ({action_name}) which was never started.")
        timing.__exit__()

    def profile(self, action_name: str) -> _Timing:  # type: ignore[override]
        return self._timing(action_name)

    def stats(self) -> dict[str, tuple[int, float]]:
        """``{action: (number of calls, total seconds)}`` for every action that finished at least once."""
        return {name: (t.count, t.total) for name, t in self._timings.items() if t.count}

    def _make_report(self) -> tuple[list[tuple[str, float, int, float, float]], int, float]:
        total_duration = time.perf_counter() - self.start_time
        report = [(name, total / count, count, total, 100.0 * total / total_duration) for name, (count, total) in self.stats().items()]
        report.sort(key=lambda row: row[3], reverse=True)
        return report, sum(row[2] for row in report), total_duration

    def summary(self) -> str:
        report, total_calls, total_duration = self._make_report()
        title = (f"{self._stage.upper()} " if self._stage else "") + "Profiler Report"
        if not report:
            return ""
        width = max(len("Action"), len("Total"), *(len(row[0]) for row in report))
        if self.extended:
            header = f"|  {'Action':<{width}}  |  {'Mean duration (s)':>17}  |  {'Num calls':>9}  |  {'Total time (s)':>14}  |  {'Percentage %':>12}  |"
            line = "-" * len(header)
            rows = [f"|  {'Total':<{width}}  |  {'-':>17}  |  {total_calls:>9}  |  {total_duration:>14.5f}  |  {'100 %':>12}  |", line]
            rows += [f"|  {a:<{width}}  |  {mean:>17.5g}  |  {n:>9}  |  {tot:>14.5f}  |  {pct:>12.3f}  |" for a, mean, n, tot, pct in report]
        else:
            header = f"|  {'Action':<{width}}  |  {'Mean duration (s)':>17}  |  {'Total time (s)':>14}  |"
            line = "-" * len(header)
            rows = [f"|  {a:<{width}}  |  {mean:>17.5g}  |  {tot:>14.5f}  |" for a, mean, _, tot, _ in report]
        return "\n".join([title, line, header, line, *rows, line]) + "\n"

    def teardown(self, stage: str | None = None) -> None:
        for timing in self._timings.values():
            timing._start.clear()

    def reset(self) -> None:
        """Forget everything recorded (a new run)."""
        self._timings.clear()
        self.start_time = time.perf_counter()


class AdvancedProfiler(Profiler):
    """cProfile statistics per action (much slower than ``SimpleProfiler``; for finding hot functions).

    Args:
        dirpath, filename: see ``Profiler``.
        line_count_restriction: how many lines of each action's statistics to show (int, or a fraction).
    """

    def __init__(self, dirpath: str | os.PathLike | None = None, filename: str | None = None,
                 line_count_restriction: float = 1.0) -> None:
        super().__init__(dirpath=dirpath, filename=filename)
        self.profiled_actions: dict[str, cProfile.Profile] = {}
        self.line_count_restriction = line_count_restriction

    def start(self, action_name: str) -> None:
        profiler = self.profiled_actions.get(action_name)
        if profiler is None:
            profiler = self.profiled_actions[action_name] = cProfile.Profile()
        try:
            profiler.enable()
        except ValueError:  # another profiler (a nested action) is active: count this time in it
            pass

    def stop(self, action_name: str) -> None:
        profiler = self.profiled_actions.get(action_name)
        if profiler is None:
            raise ValueError(f"Attempting to stop recording an action ({action_name}) which was never started.")
        profiler.disable()

    def summary(self) -> str:
        parts = []
        for action, profiler in self.profiled_actions.items():
            stream = io.StringIO()
            try:
                stats = pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats("cumulative")
            except TypeError:  # nothing was recorded for this action
                continue
            stats.print_stats(self.line_count_restriction)
            parts.append(f"Profile stats for: {action}\n{stream.getvalue()}")
        if not parts:
            return ""
        title = (f"{self._stage.upper()} " if self._stage else "") + "Profiler Report"
        return title + "\n\n" + "\n".join(parts)

    def teardown(self, stage: str | None = None) -> None:
        self.profiled_actions.clear()


_BY_NAME = {"simple": SimpleProfiler, "advanced": AdvancedProfiler, "pass": PassThroughProfiler}


def select_profiler(profiler: Any) -> Profiler:
    """``Trainer(profiler=...)``: None (no profiling), "simple", "advanced", "pass", or a ``Profiler`` instance.

    Always returns a Profiler; ``PassThroughProfiler`` stands for "no profiling" (see ``is_active``).
    """
    if profiler is None or profiler is False:
        return PassThroughProfiler()
    if isinstance(profiler, Profiler):
        return profiler
    if isinstance(profiler, str):
        key = profiler.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        raise MisconfigurationException(invalid_choice("Trainer(profiler)", profiler, tuple(_BY_NAME)))
    raise MisconfigurationException(
        f"Trainer(profiler={profiler!r}): pass None, one of {', '.join(repr(k) for k in _BY_NAME)}, or a `Profiler` instance."
    )


def is_active(profiler: Any) -> bool:
    """Whether hook calls should be wrapped in ``profiler.profile``: a profiler that records something."""
    return isinstance(profiler, Profiler) and not isinstance(profiler, PassThroughProfiler)


def _global_rank() -> int:
    from runtime.utilities.rank_zero import rank_zero_only

    return getattr(rank_zero_only, "rank", 0)
