"""Throughput over a sliding window (batches, samples, items, FLOPs per second) and ``measure_flops``."""
from collections import deque
from typing import Callable

import torch

__all__ = ["Throughput", "measure_flops"]


class Throughput:
    """Rates over the last ``window_size`` updates, from cumulative counters.

    ``update(time=, batches=, samples=, lengths=, flops=)`` takes totals so far on this device (``flops``: of
    the last batch); ``compute()`` returns the totals and, once the window is full, ``device/batches_per_sec``,
    ``device/samples_per_sec``, ``device/items_per_sec``, ``device/flops_per_sec``, ``device/mfu`` (with
    ``available_flops``) and, on several devices, the same rates for all of them.

    Example::

        tp = Throughput(window_size=10)
        for i in range(1, 20):
            tp.update(time=i * 0.5, batches=i, samples=i * 32)
        tp.compute()["device/samples_per_sec"]   # 64.0
    """

    def __init__(self, available_flops: float | None = None, world_size: int = 1, window_size: int = 100,
                 separator: str = "/") -> None:
        if world_size < 1:
            raise ValueError(f"Throughput(world_size={world_size}) must be >= 1")
        if window_size < 2:
            raise ValueError(f"Throughput(window_size={window_size}) must be >= 2: rates need two points")
        self.available_flops = available_flops
        self.world_size = world_size
        self.separator = separator
        self._time: deque[float] = deque(maxlen=window_size)
        self._batches: deque[int] = deque(maxlen=window_size)
        self._samples: deque[int] = deque(maxlen=window_size)
        self._lengths: deque[int] = deque(maxlen=window_size)
        self._flops: deque[float] = deque(maxlen=window_size)

    def update(self, *, time: float, batches: int, samples: int, lengths: int | None = None,
               flops: float | None = None) -> None:
        for name, window, value in (("time", self._time, time), ("batches", self._batches, batches),
                                    ("samples", self._samples, samples)):
            if window and value < window[-1]:
                raise ValueError(f"Expected the value for {name} ({value}) to be larger than the last one ({window[-1]})")
        if samples < batches:
            raise ValueError(f"Expected samples ({samples}) to be greater or equal than batches ({batches})")
        self._time.append(time)
        self._batches.append(batches)
        self._samples.append(samples)
        if lengths is not None:
            if lengths < samples:
                raise ValueError(f"Expected lengths ({lengths}) to be greater or equal than samples ({samples})")
            self._lengths.append(lengths)
            if len(self._samples) != len(self._lengths):
                raise RuntimeError(f"If lengths are passed ({len(self._lengths)}), there needs to be the same number"
                                   f" of samples ({len(self._samples)})")
        if flops is not None:
            self._flops.append(flops * self.world_size)

    def compute(self) -> dict[str, int | float]:
        sep = self.separator
        metrics: dict[str, int | float] = {"time": self._time[-1], "batches": self._batches[-1],
                                           "samples": self._samples[-1]}
        if self._lengths:
            metrics["lengths"] = self._lengths[-1]
        several = self.world_size > 1
        full = len(self._time) == self._time.maxlen
        elapsed = self._time[-1] - self._time[0]
        if full and elapsed > 0:
            batches = (self._batches[-1] - self._batches[0]) / elapsed
            samples = (self._samples[-1] - self._samples[0]) / elapsed
            metrics[f"device{sep}batches_per_sec"] = batches
            metrics[f"device{sep}samples_per_sec"] = samples
            if several:
                metrics["batches_per_sec"] = batches * self.world_size
                metrics["samples_per_sec"] = samples * self.world_size
            if len(self._lengths) == self._lengths.maxlen:
                items = (self._lengths[-1] - self._lengths[0]) / elapsed
                metrics[f"device{sep}items_per_sec"] = items
                if several:
                    metrics["items_per_sec"] = items * self.world_size
        if len(self._flops) == self._flops.maxlen and elapsed > 0:
            flops_per_sec = (sum(self._flops) - self._flops[0]) / elapsed  # the first batch ended before the window
            if several:
                metrics["flops_per_sec"] = flops_per_sec
            metrics[f"device{sep}flops_per_sec"] = flops_per_sec / self.world_size
            if self.available_flops:
                metrics[f"device{sep}mfu"] = flops_per_sec / self.world_size / self.available_flops
        return metrics

    def reset(self) -> None:
        for window in (self._time, self._batches, self._samples, self._lengths, self._flops):
            window.clear()


def measure_flops(model: torch.nn.Module, forward_fn: Callable[[], torch.Tensor],
                  loss_fn: Callable[[torch.Tensor], torch.Tensor] | None = None) -> int:
    """FLOPs of one ``forward_fn()`` (and of the backward of ``loss_fn(output)``, when given), counted by
    ``torch.utils.flop_counter``. Run it on the meta device to count without computing.

    Example::

        with torch.device("meta"):
            model = Net(); x = torch.randn(8, 32)
        flops = measure_flops(model, lambda: model(x), lambda y: y.sum())
    """
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        if loss_fn is None:
            forward_fn()
        else:
            loss_fn(forward_fn()).backward()
    return counter.get_total_flops()
