"""RichProgressBar: Lightning's rich bars (a task per stage, metrics under them), drawn by ``rich.progress``.

rich is imported when the bar starts drawing, not with ``runtime.callbacks``.
"""
from dataclasses import dataclass
from typing import Any

from runtime.callbacks.progress.progress_bar import _SwitchedBar
from runtime.callbacks.progress.text import _read


@dataclass
class RichProgressBarTheme:
    """Styles (rich style strings) of the bar's parts; ``metrics_format`` formats float metrics."""

    description: Any = ""
    progress_bar: Any = "#6206E0"
    progress_bar_finished: Any = "#6206E0"
    progress_bar_pulse: Any = "#6206E0"
    batch_progress: Any = ""
    time: Any = "dim"
    processing_speed: Any = "dim underline"
    metrics: Any = "italic"
    metrics_text_delimiter: str = " "
    metrics_format: str = ".3f"


class RichProgressBar(_SwitchedBar):
    """Lightning's ``RichProgressBar``: progress drawn with `rich <https://github.com/Textualize/rich>`_.

    Args:
        refresh_rate: redraws per second (0 disables the bar).
        leave: keep each finished epoch's bar instead of reusing one.
        theme: the styles of the parts (:class:`RichProgressBarTheme`).
        console_kwargs: arguments of the ``rich.console.Console`` it draws on.

    Example::

        Trainer(callbacks=[RichProgressBar(leave=True, theme=RichProgressBarTheme(metrics="green"))])
    """

    def __init__(self, refresh_rate: int = 100, leave: bool = False, theme: RichProgressBarTheme | None = None,
                 console_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(refresh_rate)
        self._leave = leave
        self.theme = theme or RichProgressBarTheme()
        self._console_kwargs = console_kwargs or {}
        self.progress: Any = None
        self._tasks: dict[str, Any] = {}  # stage -> rich TaskID
        self._metrics: dict[str, Any] = {}

    @property
    def train_progress_bar(self) -> Any:
        return self._task("train")

    @property
    def val_progress_bar(self) -> Any:
        return self._task("val")

    def _task(self, stage: str) -> Any:
        if self.progress is None or stage not in self._tasks:
            raise TypeError(f"The `{type(self).__name__}` {stage} bar has not been created yet.")
        return _find(self.progress, self._tasks[stage])

    def _start(self) -> None:
        if self.progress is not None or self.is_disabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        theme = self.theme
        self.progress = Progress(
            TextColumn("[progress.description]{task.description}", style=theme.description),
            BarColumn(complete_style=theme.progress_bar, finished_style=theme.progress_bar_finished,
                      pulse_style=theme.progress_bar_pulse),
            MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[speed]}", style=theme.processing_speed),
            TextColumn("{task.fields[metrics]}", style=theme.metrics),
            console=Console(**self._console_kwargs), refresh_per_second=self.refresh_rate, transient=False,
        )
        self.progress.start()

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
        self.progress = None
        self._tasks = {}

    def _add(self, stage: str, description: str, total: Any) -> None:
        self._start()
        if self.progress is None:
            return
        old = self._tasks.get(stage)
        if old is not None and not (stage == "train" and self._leave):
            self.progress.remove_task(old)  # reused: one line per stage, unless leave=True keeps each epoch
        total = None if total in (None, float("inf")) else int(total)
        self._tasks[stage] = self.progress.add_task(f"[{self.theme.description}]{description}" if self.theme.description
                                                    else description, total=total, speed="", metrics="")

    def _advance(self, stage: str, completed: int) -> None:
        if self.progress is None or stage not in self._tasks:
            return
        task = _find(self.progress, self._tasks[stage])
        speed = f"{task.speed:.2f}it/s" if task.speed else ""
        self.progress.update(self._tasks[stage], completed=completed, speed=speed)

    def _show_metrics(self, trainer: Any, pl_module: Any) -> None:
        if self.progress is None or "train" not in self._tasks:
            return
        fmt, delim = self.theme.metrics_format, self.theme.metrics_text_delimiter
        items = {k: _read(v) for k, v in self.get_metrics(trainer, pl_module).items()}
        text = delim.join(f"{k}: {format(v, fmt) if isinstance(v, float) else v}" for k, v in items.items())
        self.progress.update(self._tasks["train"], metrics=text)

    # -- hooks
    def on_sanity_check_start(self, trainer: Any, pl_module: Any) -> None:
        self._add("sanity", self.sanity_check_description, self.total_val_batches)

    def on_sanity_check_end(self, trainer: Any, pl_module: Any) -> None:
        if self.progress is not None and "sanity" in self._tasks:
            self.progress.remove_task(self._tasks.pop("sanity"))

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._add("train", f"Epoch {trainer.current_epoch}", self.total_train_batches)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        self._advance("train", batch_idx + 1)
        if (batch_idx + 1) % max(self.refresh_rate, 1) == 0:
            self._show_metrics(trainer, pl_module)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self._show_metrics(trainer, pl_module)

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        stage = "sanity" if trainer.sanity_checking else "val"
        if self.has_dataloader_changed(dataloader_idx):
            if stage == "val":
                self._add("val", self.validation_description, self.total_val_batches_current_dataloader)
            elif self.progress is not None and "sanity" in self._tasks:  # loaders unknown at on_sanity_check_start
                self.progress.update(self._tasks["sanity"], total=sum(self._eval_totals("val")))
        self._advance(stage, batch_idx + 1)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self.progress is not None and "val" in self._tasks and trainer.state.fn == "fit":
            self.progress.remove_task(self._tasks.pop("val"))  # during fit the validation line goes away
        self._show_metrics(trainer, pl_module)
        self.reset_dataloader_idx_tracker()

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self.has_dataloader_changed(dataloader_idx):
            self._add("test", self.test_description, self.total_test_batches_current_dataloader)
        self._advance("test", batch_idx + 1)

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self.has_dataloader_changed(dataloader_idx):
            self._add("predict", self.predict_description, self.total_predict_batches_current_dataloader)
        self._advance("predict", batch_idx + 1)

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        self.reset_dataloader_idx_tracker()

    def on_predict_end(self, trainer: Any, pl_module: Any) -> None:
        self.reset_dataloader_idx_tracker()

    def print(self, *args: Any, **kwargs: Any) -> None:
        if self.progress is not None:
            self.progress.console.print(*args, **kwargs)  # above the live bars
        else:
            print(*args, **kwargs)

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        self._stop()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self._stop()


def _find(progress: Any, task_id: Any) -> Any:
    return next(t for t in progress.tasks if t.id == task_id)  # ``tasks`` is a list: positions shift on removal
