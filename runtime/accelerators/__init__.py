"""Accelerators answer three questions: is it available, how many devices, which torch.device."""
from typing import Any

import torch

from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import invalid_choice


class Accelerator:
    name = ""
    device_type = ""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def auto_device_count() -> int:
        return 1

    def parse_devices(self, devices) -> list[int]:
        """Device indexes from ``devices`` ("auto", an int, "N", "0,1," or a list)."""
        count = self.auto_device_count()
        if devices == "auto":
            return [0]
        if isinstance(devices, str):
            text = devices.strip()
            if "," in text:
                indexes = [int(p) for p in text.split(",") if p.strip()]
                return self._check_indexes(indexes, count, devices)
            try:
                devices = int(text)
            except ValueError:
                raise MisconfigurationException(
                    f"devices={devices!r} is not understood: pass 'auto', a number such as 1, or a list of indexes such as '0,1'."
                ) from None
        if isinstance(devices, bool):
            raise MisconfigurationException(f"devices={devices!r}: pass 'auto' or a number of devices, not a bool.")
        if isinstance(devices, int):
            if devices == -1:
                return list(range(count))
            if devices <= 0:
                raise MisconfigurationException(
                    f"devices={devices} is not valid: pass a positive number of devices, -1 for all, or 'auto'."
                )
            if devices > count:
                raise MisconfigurationException(
                    f"devices={devices} asks for more {self.name} devices than the {count} available."
                )
            return list(range(devices))
        if isinstance(devices, (list, tuple)):
            return self._check_indexes([int(d) for d in devices], count, devices)
        raise MisconfigurationException(f"devices={devices!r} is not understood: pass 'auto', an int, or a list of indexes.")

    def _check_indexes(self, indexes: list[int], count: int, raw) -> list[int]:
        if not indexes:
            raise MisconfigurationException(f"devices={raw!r} selects no device.")
        bad = [i for i in indexes if i < 0 or i >= count]
        if bad:
            raise MisconfigurationException(
                f"devices={raw!r} names {self.name} device index {bad[0]}, but only indexes 0..{count - 1} exist."
            )
        return indexes

    def device(self, index: int) -> torch.device:
        return torch.device(self.device_type, index) if self.device_type != "cpu" else torch.device("cpu")

    def setup_device(self, device: torch.device) -> None: ...

    def get_device_stats(self, device: torch.device) -> dict[str, Any]:
        """Memory and utilisation figures of ``device`` (what ``DeviceStatsMonitor`` logs)."""
        return {}


class CPUAccelerator(Accelerator):
    """The CPU; ``devices=N`` starts N processes. More processes than cores are refused (each would get a
    fraction of a core, and a typo such as ``devices=999`` would start 999) unless ``oversubscribe=True``:
    ``Trainer(accelerator=CPUAccelerator(oversubscribe=True), devices=4)`` on two cores, e.g. to test
    multi-process code."""

    name = device_type = "cpu"

    def __init__(self, oversubscribe: bool = False) -> None:
        self.oversubscribe = oversubscribe

    def get_device_stats(self, device: torch.device) -> dict[str, Any]:
        return get_cpu_stats()

    @staticmethod
    def is_available() -> bool:
        return True


    def parse_devices(self, devices) -> list[int]:
        if isinstance(devices, (list, tuple)) or (isinstance(devices, str) and "," in devices):
            raise MisconfigurationException(f"devices={devices!r}: on the CPU pass a number of processes (an int), not indexes.")
        if devices == "auto":
            return [0]
        count = int(devices) if not isinstance(devices, bool) and str(devices).lstrip("-").isdigit() else None
        if count is None or count == 0 or count < -1:
            raise MisconfigurationException(
                f"devices={devices!r} is not valid for the CPU: pass a positive number of processes, or 'auto'."
            )
        cores = cpu_cores()
        if count > cores and not self.oversubscribe and not _launched_externally():
            raise MisconfigurationException(
                f"devices={devices!r} would start {count} processes on the CPU, but this machine gives this process "
                f"{cores} core{'s' if cores != 1 else ''}: every process would get a fraction of a core, and training "
                f"would be slower than with {cores}. Pass devices={cores} or fewer, or, if you mean it (e.g. to test "
                "multi-process code), ask explicitly: `accelerator=CPUAccelerator(oversubscribe=True)` "
                "(from runtime.accelerators import CPUAccelerator)."
            )
        return list(range(max(count, 1)))


def cpu_cores() -> int:
    """The cores this process may run on (its affinity mask, as a container or ``taskset`` sets it)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _launched_externally() -> bool:
    """torchrun, SLURM or another launcher started the processes already: the Trainer starts none."""
    import os

    return "LOCAL_RANK" in os.environ or "WORLD_SIZE" in os.environ


class CUDAAccelerator(Accelerator):
    name = device_type = "cuda"

    def get_device_stats(self, device: torch.device) -> dict[str, Any]:
        """``torch.cuda.memory_stats`` (allocated / reserved / active bytes, allocator events)."""
        return torch.cuda.memory_stats(device)

    @staticmethod
    def is_available() -> bool:
        return torch.cuda.is_available()

    @staticmethod
    def auto_device_count() -> int:
        return torch.cuda.device_count()

    def setup_device(self, device: torch.device) -> None:
        torch.cuda.set_device(device)


class MPSAccelerator(Accelerator):
    name = device_type = "mps"

    @staticmethod
    def is_available() -> bool:
        mps = getattr(torch.backends, "mps", None)
        return bool(mps and mps.is_available())


ACCELERATORS = {"cpu": CPUAccelerator, "cuda": CUDAAccelerator, "gpu": CUDAAccelerator, "mps": MPSAccelerator}


def select_accelerator(accelerator) -> Accelerator:
    """An Accelerator from a name ("cpu", "cuda", "gpu", "mps", "auto") or an instance."""
    if isinstance(accelerator, Accelerator):
        return accelerator
    if not isinstance(accelerator, str) or accelerator.lower() not in (*ACCELERATORS, "auto"):
        raise MisconfigurationException(invalid_choice("accelerator", accelerator, (*ACCELERATORS, "auto")))
    name = accelerator.lower()
    if name == "auto":
        for cls in (CUDAAccelerator, MPSAccelerator):
            if cls.is_available():
                return cls()
        return CPUAccelerator()
    cls = ACCELERATORS[name]
    if not cls.is_available():
        raise MisconfigurationException(
            f"accelerator={accelerator!r} was asked for, but no {cls.name} device is available on this machine. "
            "Use accelerator='cpu' or 'auto'."
        )
    return cls()


def get_cpu_stats() -> dict[str, float]:
    """System-wide CPU, memory and swap use in percent (needs ``psutil``)."""
    try:
        import psutil
    except ImportError:
        raise ModuleNotFoundError("CPU stats need psutil: `pip install psutil`") from None
    return {
        "cpu_percent": psutil.cpu_percent(),
        "cpu_vm_percent": psutil.virtual_memory().percent,
        "cpu_swap_percent": psutil.swap_memory().percent,
    }


def find_usable_cuda_devices(num_devices: int = -1) -> list[int]:
    """Indexes of ``num_devices`` CUDA devices that accept work now (-1: all of them).

    A device in exclusive-process mode that another process holds refuses an allocation; it is skipped.
    Useful on shared machines: ``Trainer(accelerator="cuda", devices=find_usable_cuda_devices(2))``.
    """
    if num_devices == 0:
        return []
    visible = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    if not visible:
        raise ValueError(
            f"You requested to find {num_devices} devices but there are no visible CUDA devices on this machine."
        )
    if num_devices > len(visible):
        raise ValueError(
            f"You requested to find {num_devices} devices but this machine only has {len(visible)} GPUs."
        )
    usable, busy = [], []
    for index in visible:
        try:
            torch.tensor(0, device=torch.device("cuda", index))
        except RuntimeError:
            busy.append(index)
            continue
        usable.append(index)
        if len(usable) == num_devices:
            break
    if num_devices != -1 and len(usable) != num_devices:
        raise RuntimeError(
            f"You requested to find {num_devices} devices but only {len(usable)} are currently available."
            f" The following devices are unavailable: {busy}. If you are on a shared machine, another process may"
            " hold them in exclusive mode: ask for fewer, or wait."
        )
    return usable
