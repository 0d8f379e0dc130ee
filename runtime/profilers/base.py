"""``PassThroughProfiler``: the profiler that records nothing (no profiling)."""
from runtime.profilers.profiler import Profiler

__all__ = ["PassThroughProfiler"]


class PassThroughProfiler(Profiler):
    """Records nothing (the profiler used when none is asked for)."""

    def start(self, action_name: str) -> None: ...

    def stop(self, action_name: str) -> None: ...
