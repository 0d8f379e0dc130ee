"""ModelCheckpoint: save the model periodically, keep the top-k by a monitored metric, and ``last.ckpt``.

Behaviour follows Lightning 2.x: when it saves, what the files are called, which files it deletes,
and the bookkeeping it stores in the checkpoint so a resumed run continues the top-k ranking.
Files are written by ``trainer.save_checkpoint`` (atomic); an old file is deleted only after its
replacement and ``last.ckpt`` are in place, so a kill at any point leaves at most the replaced files
untracked and never a checkpoint that tracks a deleted file.
"""
import logging
import os
import re
import time
import warnings
import weakref
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import torch

from runtime.callbacks.checkpoint import Checkpoint
from runtime.checkpoint.io import check_writable_folder, remove_path, remove_stale_temporaries
from runtime.utilities.cloud_io import is_remote
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_info, rank_zero_warn
from runtime.utilities.suggest import nearest

log = logging.getLogger(__name__)


class ModelCheckpoint(Checkpoint):
    r"""Save checkpoints during ``fit``.

    Args:
        dirpath: folder of the checkpoints; by default ``<logger.save_dir>/<name>/<version>/checkpoints``
            of the first logger, or ``<default_root_dir>/checkpoints`` without a logger.
        filename: a template such as ``"{epoch}-{val_loss:.2f}"``; metrics in braces are taken from
            ``trainer.callback_metrics`` (``epoch`` and ``step`` always exist). Default ``"{epoch}-{step}"``.
        monitor: metric ranking the checkpoints; None keeps the latest.
        verbose: log every decision.
        save_last: also write ``last.ckpt`` whenever a checkpoint is due; ``"link"`` makes it a
            symbolic link to the newest checkpoint instead of a copy.
        save_top_k: keep the best k (by ``monitor``); 0 saves none, -1 keeps all.
        save_weights_only: save only the model weights (no optimizer, loops or callbacks).
        mode: "min" or "max": which direction of ``monitor`` is better.
        auto_insert_metric_name: ``"{epoch}"`` becomes ``epoch=3`` instead of ``3``.
        every_n_train_steps: save every this many optimizer steps (in ``on_train_batch_end``).
        train_time_interval: save when this much time (a ``datetime.timedelta``) has passed.
        every_n_epochs: save every this many epochs (the default, 1, when no other trigger is set).
        save_on_train_epoch_end: save at the end of the training epoch (True) or after validation
            (False); None picks: after validation when a validation loop runs each epoch.
        enable_version_counter: add ``-v1``, ``-v2``... when a file of that name already exists.
        save_on_exception: when the run fails with an exception, save a checkpoint of the state it failed in.

    Example::

        ckpt = ModelCheckpoint(monitor="val_loss", filename="{epoch}-{val_loss:.2f}", save_top_k=2, save_last=True)
        Trainer(callbacks=[ckpt]).fit(model)
        ckpt.best_model_path  # ".../checkpoints/epoch=3-val_loss=0.12.ckpt"
    """

    CHECKPOINT_JOIN_CHAR = "-"
    CHECKPOINT_EQUALS_CHAR = "="
    CHECKPOINT_NAME_LAST = "last"
    FILE_EXTENSION = ".ckpt"
    STARTING_VERSION = 1

    def __init__(
        self,
        dirpath: str | os.PathLike | None = None,
        filename: str | None = None,
        monitor: str | None = None,
        verbose: bool = False,
        save_last: bool | Literal["link"] | None = None,
        save_top_k: int = 1,
        save_weights_only: bool = False,
        mode: str = "min",
        auto_insert_metric_name: bool = True,
        every_n_train_steps: int | None = None,
        train_time_interval: timedelta | None = None,
        every_n_epochs: int | None = None,
        save_on_train_epoch_end: bool | None = None,
        enable_version_counter: bool = True,
        save_on_exception: bool = False,
    ) -> None:
        super().__init__()
        self.save_on_exception = save_on_exception
        self.monitor = monitor
        self.verbose = verbose
        self.save_last = save_last
        self.save_top_k = save_top_k
        self.save_weights_only = save_weights_only
        self.auto_insert_metric_name = auto_insert_metric_name
        self._save_on_train_epoch_end = save_on_train_epoch_end
        self._enable_version_counter = enable_version_counter
        self._last_global_step_saved = 0  # no checkpoint before the first optimizer step
        self._last_time_checked: float | None = None
        self._last_checkpoint_saved = ""
        self._val_has_run = False
        self.current_score: torch.Tensor | None = None
        self.best_k_models: dict[str, torch.Tensor] = {}
        self.kth_best_model_path = ""
        self.best_model_score: torch.Tensor | None = None
        self.best_model_path = ""
        self.last_model_path = ""

        if save_last not in (None, True, False, "link"):
            raise MisconfigurationException(f"ModelCheckpoint(save_last={save_last!r}): allowed values are None, True, False and 'link'.")
        modes = {"min": torch.tensor(float("inf")), "max": torch.tensor(float("-inf"))}
        if mode not in modes:
            guess = nearest(mode, modes)
            hint = f" Did you mean {guess!r}?" if guess else ""
            raise MisconfigurationException(f"ModelCheckpoint(mode={mode!r}): `mode` can be 'min' or 'max', but got {mode}.{hint}")
        self.mode = mode
        self.kth_value = modes[mode]

        if dirpath and not is_remote(dirpath):  # "" stays "": names without a folder
            dirpath = os.path.realpath(os.path.expanduser(os.fspath(dirpath)))
        self.dirpath: str | None = dirpath
        self.filename = filename

        if every_n_train_steps is None and every_n_epochs is None and train_time_interval is None:
            every_n_epochs, every_n_train_steps = 1, 0
        else:
            every_n_epochs = every_n_epochs or 0
            every_n_train_steps = every_n_train_steps or 0
        self._train_time_interval = train_time_interval
        self._every_n_epochs = every_n_epochs
        self._every_n_train_steps = every_n_train_steps
        self._validate_init_configuration()
        self._saved_bookkeeping = self._bookkeeping()
        self._pending_removals: list[str] = []

    def _validate_init_configuration(self) -> None:
        if not isinstance(self.save_top_k, int) or self.save_top_k < -1:
            raise MisconfigurationException(f"Invalid value for save_top_k={self.save_top_k!r}. Must be >= -1 (-1 keeps every checkpoint, 0 none).")
        if self._every_n_train_steps < 0:
            raise MisconfigurationException(f"Invalid value for every_n_train_steps={self._every_n_train_steps}. Must be >= 0")
        if self._every_n_epochs < 0:
            raise MisconfigurationException(f"Invalid value for every_n_epochs={self._every_n_epochs}. Must be >= 0")
        if self._train_time_interval is not None and not isinstance(self._train_time_interval, timedelta):
            raise MisconfigurationException(f"train_time_interval={self._train_time_interval!r} must be a datetime.timedelta, e.g. timedelta(minutes=30).")
        triggers = (self._every_n_train_steps >= 1) + (self._every_n_epochs >= 1) + (self._train_time_interval is not None)
        if triggers > 1:
            raise MisconfigurationException(
                f"Combination of parameters every_n_train_steps={self._every_n_train_steps}, "
                f"every_n_epochs={self._every_n_epochs} and train_time_interval={self._train_time_interval} "
                "should be mutually exclusive."
            )
        if self.monitor is None and self.save_top_k not in (-1, 0, 1):
            # -1: save all epochs, 0: nothing is saved, 1: save last epoch
            raise MisconfigurationException(
                f"ModelCheckpoint(save_top_k={self.save_top_k}, monitor=None) is not a valid configuration. "
                "No quantity for top_k to track: set `monitor`."
            )
        if self.save_top_k == -1 and self.save_last:
            rank_zero_info("ModelCheckpoint(save_last=True, save_top_k=-1, monitor=None) will duplicate the last checkpoint saved.")

    @property
    def state_key(self) -> str:
        return self._generate_state_key(
            monitor=self.monitor,
            mode=self.mode,
            every_n_train_steps=self._every_n_train_steps,
            every_n_epochs=self._every_n_epochs,
            train_time_interval=self._train_time_interval,
        )

    @property
    def every_n_epochs(self) -> int:
        return self._every_n_epochs

    # ----------------------------------------------------------------------------------------------
    # hooks

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        dirpath = trainer.strategy.broadcast(self._resolve_ckpt_dir(trainer))
        self.dirpath = dirpath
        if is_remote(dirpath):
            if self.save_last == "link":
                raise ValueError(
                    f"`ModelCheckpoint(save_last='link')` is only supported for local file paths, got `dirpath={dirpath}`."
                )
            raise MisconfigurationException(
                f"ModelCheckpoint(dirpath={dirpath!r}): checkpoints are written to local folders only; pass a local "
                "path (and copy the files to remote storage after the run)."
            )
        if trainer.is_global_zero and stage == "fit":
            if (self.save_top_k != 0 or self.save_last) and not trainer.fast_dev_run:
                check_writable_folder(dirpath)  # now, not when the first epoch's save fails
            for stale in remove_stale_temporaries(dirpath):  # a killed save's partial file (one listdir per fit)
                log.info(f"Removed {stale}, left by a checkpoint write that was interrupted.")
            self._warn_if_dir_not_empty(dirpath)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._last_time_checked = time.monotonic()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        # save_last promises a last checkpoint even when no save was due during the run (no validation to save
        # after, every_n_epochs never reached)
        if self.save_last and not self._last_checkpoint_saved and not trainer.fast_dev_run:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._every_n_train_steps < 1 and not self._train_time_interval:
            return  # saving by steps and by time are both off: nothing to check on this hot path
        if self._should_skip_saving_checkpoint(trainer):
            return
        skip_batch = self._every_n_train_steps < 1 or (trainer.global_step % self._every_n_train_steps != 0)
        skip_time = True
        now = time.monotonic()
        if self._train_time_interval:
            prev = self._last_time_checked
            skip_time = prev is None or (now - prev) < self._train_time_interval.total_seconds()
            # clocks differ across ranks: rank zero decides, or the ranks could disagree and hang
            skip_time = trainer.strategy.broadcast(skip_time)
        if skip_batch and skip_time:
            return
        if not skip_time:
            self._last_time_checked = now
        candidates = self._monitor_candidates(trainer)
        self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)
        self._remove_replaced(trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self._should_skip_saving_checkpoint(trainer) and self._should_save_on_train_epoch_end(trainer):
            self._save_epoch_checkpoints(trainer)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        self._val_has_run = True
        if not self._should_skip_saving_checkpoint(trainer) and not self._should_save_on_train_epoch_end(trainer):
            self._save_epoch_checkpoints(trainer)

    def _save_epoch_checkpoints(self, trainer: Any) -> None:
        candidates = self._monitor_candidates(trainer)
        if self._every_n_epochs >= 1 and (trainer.current_epoch + 1) % self._every_n_epochs == 0:
            self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)
        self._remove_replaced(trainer)

    def _remove_replaced(self, trainer: Any) -> None:
        """Remove the top-k files this save replaced, only now that every file of this save (``last.ckpt``
        included) records the new state: a kill before this line leaves at most those files untracked, and
        no checkpoint ever tracks a file that is already gone."""
        pending, self._pending_removals = self._pending_removals, []
        for filepath in pending:
            self._remove_checkpoint(trainer, filepath)

    def state_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "best_model_score": self.best_model_score,
            "best_model_path": self.best_model_path,
            "current_score": self.current_score,
            "dirpath": self.dirpath,
            "best_k_models": dict(self.best_k_models),
            "kth_best_model_path": self.kth_best_model_path,
            "kth_value": self.kth_value,
            "last_model_path": self.last_model_path,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        dirpath_from_ckpt = state_dict.get("dirpath", self.dirpath)
        if self.dirpath == dirpath_from_ckpt:
            self.best_model_score = state_dict["best_model_score"]
            self.kth_best_model_path = state_dict.get("kth_best_model_path", self.kth_best_model_path)
            self.kth_value = state_dict.get("kth_value", self.kth_value)
            self.best_k_models = dict(state_dict.get("best_k_models", self.best_k_models))
            self.last_model_path = state_dict.get("last_model_path", self.last_model_path)
            self.current_score = state_dict.get("current_score", self.current_score)
        else:
            warnings.warn(
                f"The dirpath has changed from {dirpath_from_ckpt!r} to {self.dirpath!r}, therefore "
                "`best_model_score`, `kth_best_model_path`, `kth_value`, `last_model_path` and "
                "`best_k_models` won't be reloaded. Only `best_model_path` will be reloaded."
            )
        self.best_model_path = state_dict["best_model_path"]
        self._saved_bookkeeping = self._bookkeeping()

    # ----------------------------------------------------------------------------------------------
    # when

    def _should_skip_saving_checkpoint(self, trainer: Any) -> bool:
        return (
            bool(trainer.fast_dev_run)  # no files from a smoke run
            or trainer.state.fn != "fit"  # validate / test / predict never save (TrainerFn is a str enum)
            or trainer.sanity_checking
            or self._last_global_step_saved == trainer.global_step  # already saved at this step
        )

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        """With ``save_on_exception=True``: a checkpoint of the state when the run failed (and ``last``)."""
        if (not self.save_on_exception or bool(trainer.fast_dev_run) or trainer.sanity_checking
                or self._last_global_step_saved == trainer.global_step):
            return
        candidates = self._monitor_candidates(trainer)
        filepath = self.format_checkpoint_name(metrics=candidates)
        self._save_checkpoint(trainer, filepath)
        self._save_last_checkpoint(trainer, candidates)
        rank_zero_info(f"An {type(exception).__name__} was raised with message: {exception}, saved checkpoint to {filepath}")

    def _should_save_on_train_epoch_end(self, trainer: Any) -> bool:
        if self._save_on_train_epoch_end is not None:
            return self._save_on_train_epoch_end
        # validation by elapsed time: it runs whenever the time is up, so save after it
        if getattr(getattr(trainer, "flags", None), "val_check_time", None) is not None:
            return False
        # with validation every few epochs we cannot tell when it runs: save after it
        if trainer.check_val_every_n_epoch != 1:
            return False
        if sum(trainer.num_val_batches) == 0:
            return True  # no validation: save at the end of the training epoch
        # validation several times per epoch: save after each validation instead
        return trainer.val_check_interval == 1.0

    # ----------------------------------------------------------------------------------------------
    # what

    def _monitor_candidates(self, trainer: Any) -> dict[str, Any]:
        candidates = dict(trainer.callback_metrics)
        # `self.log("epoch", 3)` arrives as a float tensor; anything else is replaced by the truth
        epoch = candidates.get("epoch")
        candidates["epoch"] = epoch.int() if isinstance(epoch, torch.Tensor) else torch.tensor(trainer.current_epoch)
        step = candidates.get("step")
        candidates["step"] = step.int() if isinstance(step, torch.Tensor) else torch.tensor(trainer.global_step)
        return candidates

    def _save_topk_checkpoint(self, trainer: Any, candidates: dict[str, Any]) -> None:
        if self.save_top_k == 0:
            return
        if self.monitor is None:
            self._save_none_monitor_checkpoint(trainer, candidates)
            return
        if self.monitor not in candidates:
            keys = sorted(k for k in candidates if k not in ("epoch", "step")) + ["epoch", "step"]
            guess = nearest(self.monitor, keys)
            msg = (
                f"`ModelCheckpoint(monitor={self.monitor!r})` could not find the monitored key in the returned "
                f"metrics: {keys}. HINT: Did you call `log({self.monitor!r}, value)` in the `LightningModule`?"
            )
            if guess:
                msg += f" Did you mean {guess!r}?"
            if self._val_has_run:
                raise MisconfigurationException(msg)
            rank_zero_warn(msg)
        self._save_monitor_checkpoint(trainer, candidates)

    def check_monitor_top_k(self, trainer: Any, current: torch.Tensor | None = None) -> bool:
        """Whether ``current`` makes it into the top k."""
        if current is None:
            return False
        if self.save_top_k == -1:
            return True
        if len(self.best_k_models) < self.save_top_k:
            return True
        monitor_op = {"min": torch.lt, "max": torch.gt}[self.mode]
        kth = self.best_k_models[self.kth_best_model_path]
        better = monitor_op(torch.as_tensor(current).cpu(), torch.as_tensor(kth).cpu())
        return bool(trainer.strategy.reduce_boolean_decision(bool(better)))

    def _save_monitor_checkpoint(self, trainer: Any, candidates: dict[str, Any]) -> None:
        current = candidates.get(self.monitor)
        if self.check_monitor_top_k(trainer, current):
            self._update_best_and_save(current, trainer, candidates)
        elif self.verbose:
            rank_zero_info(
                f"Epoch {int(candidates['epoch'])}, global step {int(candidates['step'])}: "
                f"{self.monitor!r} was not in top {self.save_top_k}"
            )

    def _save_none_monitor_checkpoint(self, trainer: Any, candidates: dict[str, Any]) -> None:
        filepath = self._get_metric_interpolated_filepath_name(candidates, trainer, self.best_model_path)
        # set before saving: the path is part of the state written into the file
        previous, self.best_model_path = self.best_model_path, filepath
        self._save_checkpoint(trainer, filepath)
        if self.save_top_k == 1 and previous and self._should_remove_checkpoint(trainer, previous, filepath):
            self._pending_removals.append(previous)

    def _update_best_and_save(self, current: torch.Tensor, trainer: Any, candidates: dict[str, Any]) -> None:
        k = len(self.best_k_models) + 1 if self.save_top_k == -1 else self.save_top_k
        del_filepath = None
        if len(self.best_k_models) == k and k > 0:
            del_filepath = self.kth_best_model_path
            self.best_k_models.pop(del_filepath)

        current = torch.as_tensor(current).detach()
        if torch.isnan(current):  # a NaN never ranks as best
            current = torch.tensor(float("inf" if self.mode == "min" else "-inf"), device=current.device)

        filepath = self._get_metric_interpolated_filepath_name(candidates, trainer, del_filepath)
        self.current_score = current
        self.best_k_models[filepath] = current
        if len(self.best_k_models) == k:
            worst = max if self.mode == "min" else min
            self.kth_best_model_path = worst(self.best_k_models, key=lambda p: float(self.best_k_models[p]))
            self.kth_value = self.best_k_models[self.kth_best_model_path]
        best = min if self.mode == "min" else max
        self.best_model_path = best(self.best_k_models, key=lambda p: float(self.best_k_models[p]))
        self.best_model_score = self.best_k_models[self.best_model_path]

        if self.verbose:
            rank_zero_info(
                f"Epoch {int(candidates['epoch'])}, global step {int(candidates['step'])}: {self.monitor!r} reached "
                f"{float(current):0.5f} (best {float(self.best_model_score):0.5f}), saving model to {filepath!r} as top {k}"
            )
        self._save_checkpoint(trainer, filepath)
        if del_filepath and self._should_remove_checkpoint(trainer, del_filepath, filepath):
            self._pending_removals.append(del_filepath)

    def _save_last_checkpoint(self, trainer: Any, candidates: dict[str, Any]) -> None:
        if not self.save_last:
            return
        filepath = self.format_checkpoint_name(candidates, self.CHECKPOINT_NAME_LAST)
        if self._enable_version_counter:
            version = self.STARTING_VERSION
            while self.file_exists(filepath, trainer) and filepath != self.last_model_path:
                filepath = self.format_checkpoint_name(candidates, self.CHECKPOINT_NAME_LAST, ver=version)
                version += 1
        # set before saving: the path is part of the state written into the file
        previous, self.last_model_path = self.last_model_path, filepath
        if self.save_last == "link" and self._last_checkpoint_saved and self.save_top_k != 0:
            self._link_checkpoint(trainer, self._last_checkpoint_saved, filepath)
        else:
            self._save_checkpoint(trainer, filepath)
        if previous and self._should_remove_checkpoint(trainer, previous, filepath):
            self._remove_checkpoint(trainer, previous)

    # what a save changes; put back when the write fails, so best_model_path never names an unwritten file
    _BOOKKEEPING = ("best_k_models", "kth_best_model_path", "kth_value", "best_model_path", "best_model_score",
                    "current_score", "last_model_path")

    def _save_checkpoint(self, trainer: Any, filepath: str) -> None:
        # the bookkeeping was updated before this call (it is part of the state written into the file): on a
        # failed write it goes back to what it was at the last successful one
        try:
            trainer.save_checkpoint(filepath, self.save_weights_only)
        except BaseException:
            for name, value in self._saved_bookkeeping.items():
                setattr(self, name, dict(value) if isinstance(value, dict) else value)
            raise
        self._saved_bookkeeping = self._bookkeeping()
        self._last_global_step_saved = trainer.global_step
        self._last_checkpoint_saved = filepath
        if trainer.is_global_zero:
            for logger in trainer.loggers:
                logger.after_save_checkpoint(weakref.proxy(self))

    def _bookkeeping(self) -> dict[str, Any]:
        return {name: dict(v) if isinstance(v := getattr(self, name), dict) else v for name in self._BOOKKEEPING}

    @staticmethod
    def _link_checkpoint(trainer: Any, filepath: str, linkpath: str) -> None:
        """Point ``linkpath`` at ``filepath`` (relative link; a copy where links are not allowed)."""
        if trainer.is_global_zero:
            remove_path(linkpath)
            try:
                os.symlink(os.path.relpath(filepath, os.path.dirname(linkpath)), linkpath)
            except OSError:
                import shutil

                if os.path.isdir(filepath):  # a sharded checkpoint folder
                    shutil.copytree(filepath, linkpath)
                else:
                    shutil.copy(filepath, linkpath)
        trainer.strategy.barrier()

    def _should_remove_checkpoint(self, trainer: Any, previous: str, current: str) -> bool:
        """Remove ``previous`` only when it is ours: in ``dirpath`` and not the file we resumed from."""
        if previous == current:
            return False
        previous_path = Path(previous).absolute()
        ckpt_path = trainer.ckpt_path
        if ckpt_path is not None and str(ckpt_path) not in ("last", "best", "hpc", "registry"):
            if previous_path == Path(ckpt_path).absolute():
                return False
        if self.dirpath is None:
            return False
        return Path(self.dirpath).absolute() in previous_path.parents

    @staticmethod
    def _remove_checkpoint(trainer: Any, filepath: str) -> None:
        trainer.strategy.remove_checkpoint(filepath)

    # ----------------------------------------------------------------------------------------------
    # names

    def _format_checkpoint_name(
        self, filename: str | None, metrics: dict[str, Any], prefix: str = "", auto_insert_metric_name: bool = True
    ) -> str:
        if not filename:
            filename = "{epoch}" + self.CHECKPOINT_JOIN_CHAR + "{step}"
        metrics = dict(metrics)
        # the names in braces: "{epoch}-{val/loss:.2f}" -> ["{epoch", "{val/loss"]
        groups = re.findall(r"(\{.*?)[:\}]", filename)
        # longest first so "{epoch" does not eat part of "{epoch_test"
        for group in sorted(groups, key=len, reverse=True):
            name = group[1:]
            if auto_insert_metric_name:
                filename = filename.replace(group, name + self.CHECKPOINT_EQUALS_CHAR + "{" + name)
            # index by key so names with dots or slashes format
            filename = filename.replace(group, f"{{0[{name}]")
            if name not in metrics:
                metrics[name] = torch.tensor(0)
        filename = filename.format({k: _plain(v) for k, v in metrics.items()})
        if prefix:
            filename = self.CHECKPOINT_JOIN_CHAR.join([prefix, filename])
        return filename

    def format_checkpoint_name(self, metrics: dict[str, Any], filename: str | None = None, ver: int | None = None,
                               prefix: str | None = None) -> str:
        """The path a checkpoint with these metrics gets.

        Example::

            ModelCheckpoint(dirpath="ck", filename="{epoch}-{val_loss:.2f}").format_checkpoint_name(
                {"epoch": 2, "val_loss": torch.tensor(0.1234)})  # 'ck/epoch=2-val_loss=0.12.ckpt'
            ModelCheckpoint(dirpath="ck", filename="name").format_checkpoint_name({}, prefix="test")  # 'ck/test-name.ckpt'
        """
        filename = filename or self.filename
        filename = self._format_checkpoint_name(filename, metrics, prefix=prefix or "",
                                                auto_insert_metric_name=self.auto_insert_metric_name)
        if ver is not None:
            filename = self.CHECKPOINT_JOIN_CHAR.join((filename, f"v{ver}"))
        name = f"{filename}{self.FILE_EXTENSION}"
        return os.path.join(self.dirpath, name) if self.dirpath else name

    def _get_metric_interpolated_filepath_name(self, candidates: dict[str, Any], trainer: Any, del_filepath: str | None = None) -> str:
        filepath = self.format_checkpoint_name(candidates)
        if self._enable_version_counter:
            version = self.STARTING_VERSION
            while self.file_exists(filepath, trainer) and filepath != del_filepath:
                filepath = self.format_checkpoint_name(candidates, ver=version)
                version += 1
        return filepath

    def file_exists(self, filepath: str, trainer: Any) -> bool:
        return bool(trainer.strategy.broadcast(os.path.exists(filepath)))

    def _resolve_ckpt_dir(self, trainer: Any) -> str:
        if self.dirpath is not None:
            return self.dirpath
        loggers = trainer.loggers
        if loggers:
            logger = loggers[0]
            save_dir = logger.save_dir if logger.save_dir is not None else trainer.default_root_dir
            version = logger.version
            version = version if isinstance(version, str) else f"version_{version}"
            name = logger.name
            parts = [save_dir] + ([str(name)] if name else []) + [version, "checkpoints"]
            return os.path.join(*parts)
        return os.path.join(trainer.default_root_dir, "checkpoints")

    def _warn_if_dir_not_empty(self, dirpath: str) -> None:
        if self.save_top_k != 0 and os.path.isdir(dirpath) and os.listdir(dirpath):
            rank_zero_warn(f"Checkpoint directory {dirpath} exists and is not empty.")

    def _find_last_checkpoints(self, trainer: Any) -> set[str]:
        """The ``last*.ckpt`` files in ``dirpath`` (for ``fit(ckpt_path="last")``)."""
        if self.dirpath is None or not os.path.isdir(self.dirpath):
            return set()
        return {
            os.path.normpath(os.path.join(self.dirpath, f))
            for f in os.listdir(self.dirpath)
            if f.startswith(self.CHECKPOINT_NAME_LAST) and f.endswith(self.FILE_EXTENSION)
        }

    def to_yaml(self, filepath: str | os.PathLike | None = None) -> None:
        """Write ``best_k_models`` (path -> score) to ``best_k_models.yaml`` in ``dirpath``."""
        import yaml

        best_k = {k: float(v) for k, v in self.best_k_models.items()}
        if filepath is None:
            assert self.dirpath
            filepath = os.path.join(self.dirpath, "best_k_models.yaml")
        with open(filepath, "w") as fp:
            yaml.safe_dump(best_k, fp)

    def __repr__(self) -> str:
        return (
            f"ModelCheckpoint(dirpath={self.dirpath!r}, filename={self.filename!r}, monitor={self.monitor!r}, "
            f"mode={self.mode!r}, save_top_k={self.save_top_k}, save_last={self.save_last!r})"
        )


def _plain(v: Any) -> Any:
    """A metric for a file name: tensors as python numbers (``{val_loss:.2f}`` needs a float)."""
    if isinstance(v, torch.Tensor) and v.numel() == 1:
        return v.item()
    return v
