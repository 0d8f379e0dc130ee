"""``SimpleProfiler``: number of calls, total and mean time per action."""
import os
import time
from typing import Any

from runtime.profilers.profiler import Profiler

__all__ = ["SimpleProfiler"]


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
