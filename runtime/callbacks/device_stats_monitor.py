"""DeviceStatsMonitor: log the device's memory (and the host's CPU) figures around each training batch."""
from typing import Any

from runtime.callbacks.callback import Callback
from runtime.callbacks.lr_monitor import _should_update_logs
from runtime.utilities.exceptions import MisconfigurationException

__all__ = ["DeviceStatsMonitor"]


class DeviceStatsMonitor(Callback):
    r"""Log ``trainer.accelerator.get_device_stats`` at the start and end of training, validation and test
    batches, every ``log_every_n_steps``, as ``DeviceStatsMonitor.{hook}/{stat}``.

    CUDA: ``torch.cuda.memory_stats`` (allocated / reserved / active bytes, OOM counts). CPU (needs
    ``psutil``): ``cpu_percent``, ``cpu_vm_percent``, ``cpu_swap_percent``.

    Args:
        cpu_stats: also log CPU stats on a GPU run (True), never (False), or only when the device is the CPU (None).

    Example::

        Trainer(callbacks=[DeviceStatsMonitor()], logger=CSVLogger("logs"))
    """

    def __init__(self, cpu_stats: bool | None = None) -> None:
        self._cpu_stats = cpu_stats

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit":
            return
        if not trainer.loggers:
            raise MisconfigurationException("Cannot use `DeviceStatsMonitor` callback with `Trainer(logger=False)`.")
        if self._cpu_stats is not False and (self._cpu_stats or trainer.strategy.root_device.type == "cpu"):
            from runtime.utilities.imports import _PSUTIL_AVAILABLE

            if not _PSUTIL_AVAILABLE:
                raise ModuleNotFoundError(
                    "`DeviceStatsMonitor` cannot log CPU stats as `psutil` is not installed: `pip install psutil`, "
                    "or pass `DeviceStatsMonitor(cpu_stats=False)`."
                )

    def _get_and_log_device_stats(self, trainer, key: str) -> None:
        if not _should_update_logs(trainer):
            return
        from runtime.accelerators import get_cpu_stats

        device = trainer.strategy.root_device
        if self._cpu_stats is False and device.type == "cpu":
            return
        stats = dict(trainer.accelerator.get_device_stats(device))
        if self._cpu_stats and device.type != "cpu":
            stats.update(get_cpu_stats())
        for logger in trainer.loggers:
            sep = logger.group_separator
            prefixed = {f"{type(self).__qualname__}.{key}{sep}{k}": v for k, v in stats.items()}
            logger.log_metrics(prefixed, step=trainer._progress.batches_that_stepped)

    def on_train_batch_start(self, trainer, pl_module, batch: Any, batch_idx: int) -> None:
        self._get_and_log_device_stats(trainer, "on_train_batch_start")

    def on_train_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, batch_idx: int) -> None:
        self._get_and_log_device_stats(trainer, "on_train_batch_end")

    def on_validation_batch_start(self, trainer, pl_module, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._get_and_log_device_stats(trainer, "on_validation_batch_start")

    def on_validation_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, batch_idx: int,
                                dataloader_idx: int = 0) -> None:
        self._get_and_log_device_stats(trainer, "on_validation_batch_end")

    def on_test_batch_start(self, trainer, pl_module, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._get_and_log_device_stats(trainer, "on_test_batch_start")

    def on_test_batch_end(self, trainer, pl_module, outputs: Any, batch: Any, batch_idx: int,
                          dataloader_idx: int = 0) -> None:
        self._get_and_log_device_stats(trainer, "on_test_batch_end")
