"""Print and warn from global rank zero only.

The rank is read from the environment (set by launchers) unless a strategy sets it explicitly.
"""
import functools
import logging
import os
import warnings
from typing import Any, Callable

log = logging.getLogger("runtime")
if not log.handlers:  # like Lightning: the runtime's own info lines show without configuring logging
    log.addHandler(logging.StreamHandler())
    log.setLevel(logging.INFO)
    log.propagate = False


def _rank_from_env() -> int:
    for key in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if key in os.environ:
            return int(os.environ[key])
    return 0


def rank_zero_only(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if rank_zero_only.rank == 0:
            return fn(*args, **kwargs)
        return None

    return wrapped


rank_zero_only.rank = _rank_from_env()


class LightningDeprecationWarning(DeprecationWarning):
    """A 1.0-era spelling that still runs; the message names the current one."""


# Python hides DeprecationWarning outside __main__; these are meant for the user's own code, so show them once each.
warnings.filterwarnings("default", category=LightningDeprecationWarning)


@rank_zero_only
def rank_zero_warn(message: str, category: type = UserWarning, stacklevel: int = 4) -> None:
    warnings.warn(message, category, stacklevel=stacklevel)


def rank_zero_deprecation(message: str, stacklevel: int = 5) -> None:
    rank_zero_warn(message, LightningDeprecationWarning, stacklevel=stacklevel)


@rank_zero_only
def rank_zero_info(message: str) -> None:
    log.info(message)
