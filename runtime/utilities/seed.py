"""Seed every random number generator a training run touches."""
import os
import random
from contextlib import contextmanager
from typing import Any, Generator

import torch


def seed_everything(seed: int | None = None, workers: bool = False) -> int:
    """Seed python, numpy (when installed) and torch; returns the seed used.

    ``workers=True`` also makes dataloader worker processes derive distinct, reproducible seeds
    (through ``PL_SEED_WORKERS``, read by :func:`pl_worker_init_function`).
    """
    if seed is None:
        env = os.environ.get("PL_GLOBAL_SEED")
        seed = int(env) if env is not None else 0
    seed = int(seed)
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    os.environ["PL_SEED_WORKERS"] = str(int(workers))
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:
        pass
    torch.manual_seed(seed)
    return seed


def pl_worker_init_function(worker_id: int, rank: int | None = None) -> None:
    """Seed a dataloader worker from the torch seed the parent gave it, so workers differ but repeat."""
    base = torch.initial_seed() % 2**32
    random.seed(base)
    try:
        import numpy as np

        np.random.seed(base)
    except ImportError:
        pass


@contextmanager
def isolate_rng(include_cuda: bool = True) -> Generator[None, None, None]:
    """Run a block without changing the python, numpy, torch (and CUDA) random states outside it."""
    states = collect_rng_states(include_cuda)
    try:
        yield
    finally:
        restore_rng_states(states)


def collect_rng_states(include_cuda: bool = True) -> dict[str, Any]:
    states: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    try:
        import numpy as np

        states["numpy"] = np.random.get_state()
    except ImportError:
        pass
    if include_cuda and torch.cuda.is_available() and torch.cuda.is_initialized():
        states["torch.cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    random.setstate(states["python"])
    if "numpy" in states:
        import numpy as np

        np.random.set_state(states["numpy"])
    if "torch.cuda" in states:
        torch.cuda.set_rng_state_all(states["torch.cuda"])
