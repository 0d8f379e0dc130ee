"""``AdvancedProfiler``: cProfile statistics per action."""
import cProfile
import io
import os
import pstats

from runtime.profilers.profiler import Profiler

__all__ = ["AdvancedProfiler"]


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
