"""Profilers: time named actions (hooks, steps) during a run and report them at the end.

Example::

    trainer = Trainer(profiler="simple")   # or "advanced", "pytorch", or a Profiler instance
    trainer.fit(model)                     # prints the table when fit ends
"""
from typing import Any

from runtime.profilers.advanced import AdvancedProfiler
from runtime.profilers.base import PassThroughProfiler
from runtime.profilers.profiler import Profiler
from runtime.profilers.simple import SimpleProfiler
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import invalid_choice

__all__ = ["AdvancedProfiler", "PassThroughProfiler", "Profiler", "PyTorchProfiler", "SimpleProfiler",
           "is_active", "select_profiler"]


def __getattr__(name: str) -> Any:
    if name == "PyTorchProfiler":  # torch.profiler is imported only when asked for
        from runtime.profilers.pytorch import PyTorchProfiler

        return PyTorchProfiler
    raise AttributeError(f"module 'runtime.profilers' has no attribute {name!r}")


def _pytorch() -> Profiler:
    from runtime.profilers.pytorch import PyTorchProfiler

    return PyTorchProfiler()


_BY_NAME = {"simple": SimpleProfiler, "advanced": AdvancedProfiler, "pytorch": _pytorch, "pass": PassThroughProfiler}


def select_profiler(profiler: Any) -> Profiler:
    """``Trainer(profiler=...)``: None (no profiling), "simple", "advanced", "pytorch", "pass", or a ``Profiler`` instance.

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


