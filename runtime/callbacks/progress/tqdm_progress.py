"""TQDMProgressBar: Lightning's tqdm bars (one for training, one for each evaluation), drawn by tqdm."""
import sys
from typing import Any

from runtime.callbacks.progress.progress_bar import _SwitchedBar
from runtime.callbacks.progress.text import _format_num, _read


def _tqdm_class() -> type:
    from tqdm import tqdm  # imported when a bar is drawn, so `import runtime` stays light

    class Tqdm(tqdm):
        @staticmethod
        def format_num(n: Any) -> str:
            return _format_num(n)

    return Tqdm


class TQDMProgressBar(_SwitchedBar):
    r"""Lightning's ``TQDMProgressBar``: a tqdm bar per stage, the ``prog_bar=True`` metrics as its postfix.

    Args:
        refresh_rate: update the bars every this many batches (0 disables them).
        process_position: stack the bars this many rows down (several trainers in one terminal).
        leave: keep one finished bar per epoch instead of reusing one.

    Example::

        Trainer(callbacks=[TQDMProgressBar(refresh_rate=10)])
    """

    BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_noinv_fmt}{postfix}]"

    def __init__(self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False) -> None:
        super().__init__(refresh_rate, process_position)
        self._leave = leave
        self._train_progress_bar: Any = None
        self._val_progress_bar: Any = None
        self._test_progress_bar: Any = None
        self._predict_progress_bar: Any = None

    @property
    def train_progress_bar(self) -> Any:
        if self._train_progress_bar is None:
            raise TypeError(f"The `{type(self).__name__}._train_progress_bar` reference has not been set yet.")
        return self._train_progress_bar

    @property
    def val_progress_bar(self) -> Any:
        if self._val_progress_bar is None:
            raise TypeError(f"The `{type(self).__name__}._val_progress_bar` reference has not been set yet.")
        return self._val_progress_bar

    def _bar(self, desc: str, position: int, leave: bool, total: Any = None) -> Any:
        return _tqdm_class()(desc=desc, position=2 * self.process_position + position, disable=self.is_disabled,
                             leave=leave, dynamic_ncols=True, file=sys.stdout, smoothing=0,
                             bar_format=self.BAR_FORMAT, total=_total(total))

    def init_sanity_tqdm(self) -> Any:
        """The bar of the sanity check; override to customise it."""
        return self._bar(self.sanity_check_description, 0, leave=False)

    def init_train_tqdm(self) -> Any:
        """The training bar; override to customise it."""
        return self._bar(self.train_description, 0, leave=True)

    def init_validation_tqdm(self) -> Any:
        """The validation bar (below the training bar during fit)."""
        has_main_bar = self.trainer.state.fn != "validate"
        return self._bar(self.validation_description, int(has_main_bar), leave=not has_main_bar)

    def init_test_tqdm(self) -> Any:
        return self._bar(self.test_description, 0, leave=True)

    def init_predict_tqdm(self) -> Any:
        return self._bar(self.predict_description, 0, leave=True)

    def _postfix(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
        return {k: _read(v) for k, v in self.get_metrics(trainer, pl_module).items()}

    def _should_update(self, current: int, total: Any) -> bool:
        return self.is_enabled and (current % self.refresh_rate == 0 or current == total)

    # -- sanity check and training
    def on_sanity_check_start(self, trainer: Any, pl_module: Any) -> None:
        self._val_progress_bar = self.init_sanity_tqdm()
        self._train_progress_bar = self._bar("", 0, leave=False)  # a placeholder, so the rows do not jump

    def on_sanity_check_end(self, trainer: Any, pl_module: Any) -> None:
        self._train_progress_bar.close()
        self._val_progress_bar.close()

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._train_progress_bar = self.init_train_tqdm()

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if self._leave:
            self._train_progress_bar = self.init_train_tqdm()
        self.train_progress_bar.reset(_total(self.total_train_batches))
        self.train_progress_bar.initial = 0
        self.train_progress_bar.set_description(f"Epoch {trainer.current_epoch}")

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        n = batch_idx + 1
        if self._should_update(n, self.train_progress_bar.total):
            _update_n(self.train_progress_bar, n)
            self.train_progress_bar.set_postfix(self._postfix(trainer, pl_module))

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self.train_progress_bar.disable:
            self.train_progress_bar.set_postfix(self._postfix(trainer, pl_module))
        if self._leave:
            self.train_progress_bar.close()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self.train_progress_bar.close()

    # -- evaluation
    def on_validation_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        if not self.has_dataloader_changed(dataloader_idx):
            return
        if trainer.sanity_checking:
            self.val_progress_bar.reset(_total(self.total_val_batches_current_dataloader))
        else:
            if self._val_progress_bar is not None:
                self._val_progress_bar.close()
            self._val_progress_bar = self.init_validation_tqdm()
            self.val_progress_bar.reset(_total(self.total_val_batches_current_dataloader))
        self.val_progress_bar.initial = 0
        desc = self.sanity_check_description if trainer.sanity_checking else self.validation_description
        self.val_progress_bar.set_description(f"{desc} DataLoader {dataloader_idx}" if len(self._eval_totals("val")) > 1 else desc)

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        n = batch_idx + 1
        if self._should_update(n, self.val_progress_bar.total):
            _update_n(self.val_progress_bar, n)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self._train_progress_bar is not None and trainer.state.fn == "fit":
            self.train_progress_bar.set_postfix(self._postfix(trainer, pl_module))
        if self._val_progress_bar is not None:
            self._val_progress_bar.close()
        self.reset_dataloader_idx_tracker()

    def _eval_bar_start(self, attr: str, init: Any, total: Any, desc: str, dataloader_idx: int) -> None:
        if not self.has_dataloader_changed(dataloader_idx):
            return
        bar = getattr(self, attr)
        if bar is not None:
            bar.close()
        bar = init()
        bar.reset(_total(total))
        bar.initial = 0
        bar.set_description(desc)
        setattr(self, attr, bar)

    def on_test_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._eval_bar_start("_test_progress_bar", self.init_test_tqdm, self.total_test_batches_current_dataloader,
                             self.test_description, dataloader_idx)

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self._should_update(batch_idx + 1, self._test_progress_bar.total):
            _update_n(self._test_progress_bar, batch_idx + 1)

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        if self._test_progress_bar is not None:
            self._test_progress_bar.close()
        self.reset_dataloader_idx_tracker()

    def on_predict_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._eval_bar_start("_predict_progress_bar", self.init_predict_tqdm, self.total_predict_batches_current_dataloader,
                             self.predict_description, dataloader_idx)

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self._should_update(batch_idx + 1, self._predict_progress_bar.total):
            _update_n(self._predict_progress_bar, batch_idx + 1)

    def on_predict_end(self, trainer: Any, pl_module: Any) -> None:
        if self._predict_progress_bar is not None:
            self._predict_progress_bar.close()
        self.reset_dataloader_idx_tracker()

    def print(self, *args: Any, sep: str = " ", **kwargs: Any) -> None:
        """Print above the bars (``tqdm.write``), so they are not torn."""
        active = next((b for b in (self._train_progress_bar, self._val_progress_bar, self._test_progress_bar,
                                   self._predict_progress_bar) if b is not None), None)
        if active is None:
            print(*args, sep=sep, **kwargs)
        else:
            active.write(sep.join(map(str, args)), **kwargs)


def _total(total: Any) -> Any:
    return None if total is None or total == float("inf") else int(total)  # tqdm takes None for "unknown"


def _update_n(bar: Any, value: int) -> None:
    if not bar.disable:
        bar.n = value
        bar.refresh()
