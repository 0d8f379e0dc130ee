"""TextProgressBar, the default bar: epoch, batch / total, rate, ETA and the ``prog_bar=True`` metrics, in plain text.

On a terminal one line is redrawn in place, at most every ``_MIN_INTERVAL`` seconds (and metric
tensors are read to the host at most every ``_METRICS_INTERVAL`` seconds), so a step pays for a
counter update and, every ``refresh_rate`` batches, one clock read. When standard output is not a
terminal (CI, a log file, ``nohup``) nothing is drawn during an epoch: one plain line is printed per
training epoch and per validation run, and no carriage return is ever written. Needs neither tqdm nor
rich (``TQDMProgressBar`` and ``RichProgressBar`` draw with those).
"""
import math
import shutil
import sys
import time
from typing import Any

from runtime.callbacks.progress.progress_bar import _SwitchedBar

# seconds between two redraws of the terminal line, and between two reads of the metric tensors
_MIN_INTERVAL = 0.15
_METRICS_INTERVAL = 0.5


def _format_num(n: Any) -> str:
    """tqdm's number format: 3 significant digits unless the plain form is shorter."""
    if isinstance(n, bool) or not isinstance(n, (int, float)):
        return str(n)
    if isinstance(n, int):
        return str(n)
    f = f"{n:.3g}".replace("+0", "+").replace("-0", "-")
    s = str(n)
    return f if len(f) < len(s) else s


def _format_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _read(value: Any) -> Any:
    """A metric for display: 0-dim tensors read to the host (this is a device sync on CUDA)."""
    item = getattr(value, "item", None)
    if item is not None and callable(item) and getattr(value, "numel", lambda: 1)() == 1:
        return item()
    return value


class _Counter:
    """One bar's state: what it counts, how far, since when."""

    __slots__ = ("desc", "total", "n", "start", "end")

    def __init__(self, desc: str, total: int | float, n: int = 0) -> None:
        self.desc = desc
        self.total = total
        self.n = n
        self.start = time.perf_counter()
        self.end: float | None = None  # set when the counted work is over: freezes time and rate


class TextProgressBar(_SwitchedBar):
    r"""The default progress bar (plain text; one line per epoch when the output is not a terminal).

    Args:
        refresh_rate: consider redrawing every this many batches (0 disables the bar). Redraws are
            also limited in time, so 1 is cheap.
        process_position: accepted as TQDMProgressBar's; unused.
        leave: keep one finished line per epoch on a terminal instead of redrawing one line.

    Example::

        Trainer(callbacks=[TextProgressBar(refresh_rate=10)])
    """

    def __init__(self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False) -> None:
        super().__init__(refresh_rate, process_position)
        self._leave = leave
        self._tty: bool | None = None
        self._train: _Counter | None = None
        self._eval: _Counter | None = None
        self._eval_stage = ""
        self._epoch_pending = False  # a finished epoch whose line is not yet final
        self._last_draw = 0.0
        self._line_len = 0  # length of the line currently drawn on the terminal (0: none)
        self._metrics_cache: dict[str, Any] = {}
        self._metrics_time = -math.inf

    def disable(self) -> None:
        super().disable()
        self._train = self._eval = None  # the per-batch hooks test only these

    # ----------------------------------------------------------------------------------------------
    # output

    @staticmethod
    def _stream() -> Any:
        return sys.stdout  # looked up on every write, so redirected / captured stdout is honoured

    def _is_tty(self) -> bool:
        stream = self._stream()
        try:
            return bool(stream.isatty())
        except (AttributeError, ValueError):
            return False

    def _metrics_text(self, force: bool) -> str:
        now = time.perf_counter()
        if force or now - self._metrics_time >= _METRICS_INTERVAL:
            trainer = self.trainer
            raw = self.get_metrics(trainer, trainer.lightning_module)
            self._metrics_cache = {k: _read(v) for k, v in raw.items()}
            self._metrics_time = now
        return ", ".join(f"{k}={_format_num(v)}" for k, v in self._metrics_cache.items())

    @staticmethod
    def _rate_parts(c: _Counter) -> tuple[str, str, str]:
        elapsed = (c.end if c.end is not None else time.perf_counter()) - c.start
        rate = c.n / elapsed if elapsed > 0 and c.n else 0.0
        remaining = (c.total - c.n) / rate if rate and math.isfinite(c.total) else math.inf
        rate_s = f"{rate:.2f}it/s" if rate else "?it/s"
        return _format_time(elapsed), _format_time(remaining), rate_s

    def _bar_line(self, c: _Counter, metrics: str, width: int) -> str:
        elapsed, remaining, rate = self._rate_parts(c)
        total = c.total
        total_s = str(int(total)) if math.isfinite(total) else "?"
        counts = f"{c.n}/{total_s} [{elapsed}<{remaining}, {rate}" + (f", {metrics}]" if metrics else "]")
        if math.isfinite(total) and total > 0:
            frac = min(max(c.n / total, 0.0), 1.0)
            head = f"{c.desc}: {frac * 100:3.0f}%|"
            bar_w = max(min(width - 1 - len(head) - len(counts) - 2, 30), 0)  # fits in width - 1
            if bar_w >= 5:
                filled = int(frac * bar_w)
                block = "█" if (getattr(self._stream(), "encoding", "") or "").lower().startswith("utf") else "#"
                return f"{head}{block * filled}{' ' * (bar_w - filled)}| {counts}"
            return f"{head} {counts}"
        return f"{c.desc}: {counts}"

    def _plain_line(self, c: _Counter, metrics: str) -> str:
        elapsed, _, rate = self._rate_parts(c)
        total_s = str(int(c.total)) if math.isfinite(c.total) else "?"
        line = f"{c.desc}: {c.n}/{total_s} [{elapsed}, {rate}]"
        return f"{line} {metrics}" if metrics else line

    def _draw(self, force: bool = False) -> None:
        """Redraw the terminal line for the bar now active (evaluation over training)."""
        c = self._eval if self._eval is not None else self._train
        if c is None:
            return
        width = shutil.get_terminal_size((100, 20)).columns
        line = self._bar_line(c, self._metrics_text(force), width)[: max(width - 1, 10)]
        pad = " " * max(self._line_len - len(line), 0)
        stream = self._stream()
        stream.write("\r" + line + pad)
        stream.flush()
        self._line_len = len(line)
        self._last_draw = time.perf_counter()

    def _end_line(self) -> None:
        """Finish the terminal line so the next output starts on a fresh one."""
        if self._line_len:
            stream = self._stream()
            stream.write("\n")
            stream.flush()
            self._line_len = 0

    def _clear_line(self) -> None:
        if self._line_len:
            stream = self._stream()
            stream.write("\r" + " " * self._line_len + "\r")
            stream.flush()
            self._line_len = 0

    def _maybe_draw(self, n: int) -> None:
        if n % self._refresh_rate == 0 and time.perf_counter() - self._last_draw >= _MIN_INTERVAL:
            self._draw()

    def print(self, *args: Any, **kwargs: Any) -> None:
        if self._tty and self._line_len:
            self._clear_line()
            print(*args, **kwargs)
            self._draw(force=True)
        else:
            print(*args, **kwargs)

    # ----------------------------------------------------------------------------------------------
    # hooks

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        self._tty = self._is_tty()

    def on_sanity_check_start(self, trainer: Any, pl_module: Any) -> None:
        if self.is_disabled:
            return
        self._eval = _Counter(self.sanity_check_description, sum(self._eval_totals("val")))
        self._eval_stage = "sanity"

    def on_sanity_check_end(self, trainer: Any, pl_module: Any) -> None:
        if self.is_disabled:
            return
        self._eval = None
        if self._tty:
            self._clear_line()

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if self._tty is None:
            self._tty = self._is_tty()

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if self.is_disabled:
            return
        self._finish_epoch()
        self._train = _Counter(f"Epoch {trainer.current_epoch}", self.total_train_batches)
        if self._tty:
            self._draw(force=True)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        c = self._train  # None whenever the bar is disabled: the per-batch cost is this check
        if c is None:
            return
        c.n = batch_idx + 1
        if self._tty:
            self._maybe_draw(c.n)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        # The metrics logged for the whole epoch (``on_epoch=True``, ``on_train_epoch_end``) are
        # published after the callbacks' on_train_epoch_end (Lightning's order), so the epoch's final
        # line is written when the next epoch starts or training ends.
        c = self._train
        if c is None or self.is_disabled:
            return
        c.end = time.perf_counter()
        self._epoch_pending = True
        if self._tty:
            self._draw(force=True)

    def _finish_epoch(self) -> None:
        c = self._train
        if not self._epoch_pending or c is None:
            return
        self._epoch_pending = False
        if self._tty:
            self._eval = None
            self._draw(force=True)
            if self._leave:
                self._end_line()
        else:
            self._write_plain(self._plain_line(c, self._metrics_text(force=True)))

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self._finish_epoch()
        if self._tty:
            self._end_line()
        self._train = None

    def _eval_start(self, stage: str, desc: str) -> None:
        self._eval = _Counter(desc, sum(self._eval_totals(stage)))
        self._eval_stage = stage
        self.reset_dataloader_idx_tracker()
        if self._tty:
            self._draw(force=True)

    def _eval_batch_end(self) -> None:
        c = self._eval
        if c is None:
            return
        c.n += 1
        if self._tty:
            self._maybe_draw(c.n)

    def _eval_end(self) -> None:
        c = self._eval
        self._eval = None
        if c is None or self.is_disabled:
            return
        if self._tty:
            if self._train is not None:
                self._draw(force=True)  # back to the training line, now with validation metrics
            else:
                self._draw_finished(c)
        else:
            self._write_plain(self._plain_line(c, self._metrics_text(force=True)))

    def _draw_finished(self, c: _Counter) -> None:
        self._eval = c
        self._draw(force=True)
        self._eval = None
        self._end_line()

    def _write_plain(self, line: str) -> None:
        stream = self._stream()
        stream.write(line + "\n")
        stream.flush()

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        if self.is_disabled:
            return
        if trainer.sanity_checking:
            if self._eval is not None:  # the loaders are known now, not at on_sanity_check_start
                self._eval.total = sum(self._eval_totals("val"))
            return
        self._eval_start("val", self.validation_description)

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._eval_batch_end()

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self.is_disabled or trainer.sanity_checking:
            return
        self._eval_end()

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        if self.is_disabled:
            return
        self._eval_start("test", self.test_description)

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._eval_batch_end()

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        self._eval_end()

    def on_predict_start(self, trainer: Any, pl_module: Any) -> None:
        if self.is_disabled:
            return
        self._eval_start("predict", self.predict_description)

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._eval_batch_end()

    def on_predict_end(self, trainer: Any, pl_module: Any) -> None:
        self._eval_end()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        # leave the terminal on a fresh line so the traceback is readable
        self._epoch_pending = False
        if self._tty:
            self._end_line()
        self._train = self._eval = None

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if not self.is_disabled:
            self._finish_epoch()
        if self._tty:
            self._end_line()
        self._train = self._eval = None
        self._tty = None
