"""The Trainer: its constructor's signature, Lightning's properties and the entry points.

Everything else lives beside it: the flags (``flags.py``, resolved once), the hardware
(``hardware.py``), what one call carries (``run.py``), the loops and their rules (``loops.py``), where
data comes from and when validation runs (``data.py``), logging (``logging.py``), checkpoints
(``checkpointing.py``, ``preemption.py``), the hook dispatcher (``call.py``) and Lightning's views of its
internals: loop objects, connectors, result collections (``views.py``).
"""
import os
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import fields, replace
from operator import attrgetter
from datetime import timedelta
from typing import Any, Generator, Iterable

import torch

from runtime.callbacks.callback import Callback
from runtime.callbacks.checkpoint import Checkpoint
from runtime.callbacks.early_stopping import EarlyStopping
from runtime.checkpoint.plugins import CheckpointIO
from runtime.core.datamodule import LightningDataModule
from runtime.core.module import LightningModule
from runtime.loggers.logger import Logger
from runtime.loops import _EvaluationLoop
from runtime.profilers import Profiler
from runtime.strategies import Strategy
from runtime.trainer import checkpointing, hardware, loops, preemption, setup, summary
from runtime.trainer import data as data_utils
from runtime.trainer.call import HookDispatcher
from runtime.trainer.flags import Flags, apply_legacy, as_list, resolve_flags, set_torch_flags
from runtime.trainer.legacy import LegacyTrainerAPI
from runtime.trainer.views import LightningViews
from runtime.trainer.logging import log_value
from runtime.trainer.progress import Progress
from runtime.trainer.run import Run
from runtime.trainer.states import RunningStage, TrainerFn, TrainerState, TrainerStatus
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn


class Trainer(LightningViews, LegacyTrainerAPI):
    """Runs a LightningModule: ``Trainer(max_epochs=3).fit(model, datamodule=dm)``.

    Every flag is also an attribute (``trainer.max_epochs``), read from ``trainer.flags``; assigning one
    (``trainer.limit_val_batches = 0``) replaces ``trainer.flags`` with a copy holding the new value.
    """

    def __init__(
        self,
        *,
        accelerator: str = "auto",
        strategy: str | Strategy = "auto",
        devices: list[int] | str | int = "auto",
        num_nodes: int = 1,
        precision: int | str | None = None,
        logger: Logger | Iterable[Logger] | bool | None = None,
        callbacks: list[Callback] | Callback | None = None,
        fast_dev_run: int | bool = False,
        max_epochs: int | None = None,
        min_epochs: int | None = None,
        max_steps: int = -1,
        min_steps: int | None = None,
        max_time: str | timedelta | dict[str, int] | None = None,
        limit_train_batches: int | float | None = None,
        limit_val_batches: int | float | None = None,
        limit_test_batches: int | float | None = None,
        limit_predict_batches: int | float | None = None,
        overfit_batches: int | float = 0.0,
        val_check_interval: int | float | None = None,
        check_val_every_n_epoch: int | None = 1,
        num_sanity_val_steps: int | None = None,
        log_every_n_steps: int | None = None,
        enable_checkpointing: bool | None = None,
        enable_progress_bar: bool | None = None,
        enable_model_summary: bool | None = None,
        accumulate_grad_batches: int = 1,
        gradient_clip_val: int | float | None = None,
        gradient_clip_algorithm: str | None = None,
        deterministic: bool | str | None = None,
        benchmark: bool | None = None,
        inference_mode: bool = True,
        use_distributed_sampler: bool = True,
        profiler: Profiler | str | None = None,
        detect_anomaly: bool = False,
        barebones: bool = False,
        plugins: CheckpointIO | list[CheckpointIO] | None = None,
        sync_batchnorm: bool = False,
        reload_dataloaders_every_n_epochs: int = 0,
        default_root_dir: str | os.PathLike | None = None,
        **legacy: Any,
    ) -> None:
        args = apply_legacy({k: v for k, v in locals().items() if k not in ("self", "legacy", "__class__")}, legacy)
        self.accelerator, self.strategy, self.device_ids = hardware.connect(
            args["accelerator"], args["strategy"], args["devices"], num_nodes, precision, plugins)
        self.num_nodes, self.num_devices, self.plugins = num_nodes, len(self.device_ids), plugins
        self.flags: Flags = resolve_flags(args)
        set_torch_flags(self.flags)
        from runtime.profilers import select_profiler

        self.profiler = select_profiler(profiler)
        self.loggers = setup.make_loggers(self.flags.logger, self.default_root_dir)
        self.callbacks = setup.make_callbacks(as_list(args["callbacks"]), self.flags.enable_checkpointing,
                                              self.flags.enable_progress_bar, self.flags.enable_model_summary)
        # what outlives a call: the module and data attached, optimizers, metrics, the progress record
        self.state = TrainerState()
        self.should_stop = False
        self.callback_metrics: dict[str, torch.Tensor] = {}
        self.logged_metrics: dict[str, torch.Tensor] = {}
        self._progress_bar_metrics: dict[str, torch.Tensor] = {}  # read as numbers: progress_bar_metrics
        self._progress = Progress()
        self._hooks = HookDispatcher(self)
        self._lightning_module: LightningModule | None = None
        self.datamodule: LightningDataModule | None = None
        self.optimizers: list[torch.optim.Optimizer] = []
        self._lightning_optimizers: list = []
        self.lr_scheduler_configs: list = []
        self.ckpt_path: str | None = None
        self._run = Run()  # the current call's state (or the last call's, between calls)
        self._warned: set[str] = set()
        self.strategy.trainer = self

    # ================================================================== properties (Lightning's names)
    @property
    def lightning_module(self) -> LightningModule | None:
        return self._lightning_module

    @property
    def model(self) -> torch.nn.Module | None:
        """The module as the strategy runs it (wrapped in DistributedDataParallel under DDP)."""
        return self.strategy.model if self._lightning_module is not None and self.strategy.trainer is self else self._lightning_module

    @property
    def precision_plugin(self):
        return self.strategy.precision_plugin

    @property
    def precision(self) -> str:
        return self.strategy.precision_plugin.name

    @property
    def current_epoch(self) -> int:
        return self._progress.current_epoch

    @property
    def global_step(self) -> int:
        return self._progress.optimizer_steps

    @property
    def default_root_dir(self) -> str:
        return self.flags.default_root_dir if self.flags.default_root_dir is not None else os.getcwd()

    @property
    def logger(self):
        return self.loggers[0] if self.loggers else None

    @logger.setter
    def logger(self, logger) -> None:
        self.loggers = [logger] if logger else []

    @property
    def log_dir(self) -> str:
        if self.loggers:
            d = getattr(self.loggers[0], "log_dir", None) or getattr(self.loggers[0], "save_dir", None)
            if d is not None:
                return os.fspath(d)
        return self.default_root_dir

    @property
    def training(self) -> bool:
        return self.state.stage == RunningStage.TRAINING

    @property
    def validating(self) -> bool:
        return self.state.stage == RunningStage.VALIDATING

    @property
    def testing(self) -> bool:
        return self.state.stage == RunningStage.TESTING

    @property
    def predicting(self) -> bool:
        return self.state.stage == RunningStage.PREDICTING

    @property
    def sanity_checking(self) -> bool:
        return self.state.stage == RunningStage.SANITY_CHECKING

    @property
    def interrupted(self) -> bool:
        return self.state.status == TrainerStatus.INTERRUPTED

    @property
    def checkpoint_callbacks(self) -> list:
        return [cb for cb in self.callbacks if isinstance(cb, Checkpoint)]

    @property
    def checkpoint_callback(self):
        found = self.checkpoint_callbacks
        return found[0] if found else None

    @property
    def progress_bar_callback(self):
        from runtime.callbacks import ProgressBar

        return next((cb for cb in self.callbacks if isinstance(cb, ProgressBar)), None)

    @property
    def early_stopping_callbacks(self) -> list:
        return [cb for cb in self.callbacks if isinstance(cb, EarlyStopping)]

    @property
    def early_stopping_callback(self):
        return next((cb for cb in self.callbacks if isinstance(cb, EarlyStopping)), None)

    @property
    def estimated_stepping_batches(self) -> float:
        f, n = self.flags, self._run.num_training_batches
        if n == float("inf"):
            return float("inf") if f.max_steps == -1 else f.max_steps
        per_epoch = -(-int(n) // f.accumulate_grad_batches)
        total = float("inf") if f.max_epochs == -1 else per_epoch * f.max_epochs
        return min(total, f.max_steps) if f.max_steps != -1 else total

    @property
    def train_dataloader(self):
        loaders = self._run.loaders.get("train")
        return loaders[0] if loaders else None

    @property
    def val_dataloaders(self):
        return self._loaders("val")

    @property
    def test_dataloaders(self):
        return self._loaders("test")

    @property
    def predict_dataloaders(self):
        return self._loaders("predict")

    def _loaders(self, kind: str):
        loaders = self._run.loaders.get(kind)
        return (loaders[0] if len(loaders) == 1 else loaders) if loaders else None

    @property
    def is_last_batch(self) -> bool:
        """Whether the training batch running is the last of its epoch."""
        return self._run.is_last_batch

    # ================================================================== entry points
    def fit(self, model: LightningModule, train_dataloaders: Any = None, val_dataloaders: Any = None,
            datamodule: LightningDataModule | None = None, ckpt_path: str | None = None,
            weights_only: bool | None = None) -> None:
        """Train ``model``; loaders come from the arguments, ``datamodule``, or the model's own hooks.

        ``ckpt_path`` ("last", "best" or a path) resumes exactly where that checkpoint was taken;
        ``weights_only=False`` allows a trusted checkpoint that pickles more than tensors.
        """
        train_dataloaders, datamodule = data_utils.sources(train_dataloaders, datamodule, "train_dataloaders")
        ckpt_path = ckpt_path if ckpt_path is not None else self.flags.resume_from_checkpoint
        run = Run(TrainerFn.FITTING, {"train": train_dataloaders, "val": val_dataloaders}, weights_only)
        self._launch(run, model, datamodule, ckpt_path)

    def validate(self, model: LightningModule | None = None, dataloaders: Any = None, ckpt_path: str | None = None,
                 verbose: bool = True, datamodule: LightningDataModule | None = None,
                 weights_only: bool | None = None) -> list[dict[str, float]]:
        """Run one validation pass; returns the logged epoch metrics, one dict per dataloader."""
        return self._evaluate(TrainerFn.VALIDATING, "val", model, dataloaders, ckpt_path, verbose, datamodule, weights_only)

    def test(self, model: LightningModule | None = None, dataloaders: Any = None, ckpt_path: str | None = None,
             verbose: bool = True, datamodule: LightningDataModule | None = None,
             weights_only: bool | None = None) -> list[dict[str, float]]:
        """Run one test pass; returns the logged epoch metrics, one dict per dataloader."""
        return self._evaluate(TrainerFn.TESTING, "test", model, dataloaders, ckpt_path, verbose, datamodule, weights_only)

    def predict(self, model: LightningModule | None = None, dataloaders: Any = None, datamodule: LightningDataModule | None = None,
                return_predictions: bool | None = None, ckpt_path: str | None = None,
                weights_only: bool | None = None) -> list | None:
        """Run ``predict_step`` over the predict loaders and return the outputs (a list per dataloader)."""
        dataloaders, datamodule = data_utils.sources(dataloaders, datamodule, "dataloaders")
        run = Run(TrainerFn.PREDICTING, {"predict": dataloaders}, weights_only,
                  return_predictions=True if return_predictions is None else return_predictions)
        return self._launch(run, model, datamodule, ckpt_path)

    def _evaluate(self, fn: TrainerFn, kind: str, model, dataloaders, ckpt_path, verbose, datamodule, weights_only):
        dataloaders, datamodule = data_utils.sources(dataloaders, datamodule, "dataloaders")
        return self._launch(Run(fn, {kind: dataloaders}, weights_only, verbose=verbose), model, datamodule, ckpt_path)

    def _launch(self, run: Run, model: LightningModule | None, datamodule, ckpt_path) -> Any:
        launcher = self.strategy.launcher
        if launcher is not None:
            if model is not None:  # the results of spawned processes come back into this model
                self._lightning_module = model
            return launcher.launch(self._run_in_process, run, model, datamodule, ckpt_path)
        return self._run_in_process(run, model, datamodule, ckpt_path)

    def _run_in_process(self, run: Run, model: LightningModule | None, datamodule, ckpt_path) -> Any:
        fn = run.fn
        if model is None:
            model = self._lightning_module
            if model is None:
                raise MisconfigurationException(f"`Trainer.{fn.value}()` needs a model: pass the LightningModule.")
        if not isinstance(model, LightningModule):
            raise MisconfigurationException(f"`Trainer.{fn.value}()` expects a LightningModule, got {type(model).__name__}.")
        self.state = TrainerState(status=TrainerStatus.RUNNING, fn=fn, stage=None)
        self.should_stop = False
        self._attach(model, datamodule)
        self._run = run
        self.profiler.setup(stage=fn.value, local_rank=self.local_rank, log_dir=self.log_dir)
        if fn == TrainerFn.FITTING:
            # as in Lightning, a second fit on this trainer continues its loops: the epochs and steps done stay
            # done (raise max_epochs to train on); an epoch a failure cut short starts over
            self._progress.epoch_batch_idx = 0
            self._progress.epoch_done = False
        run.start_time = time.monotonic()
        try:
            result = self._run_stage(run, ckpt_path)
            self.state.status = TrainerStatus.FINISHED
            return result
        except BaseException as exc:
            self.state.status = TrainerStatus.INTERRUPTED
            setup.on_exception(self, exc)
            raise
        finally:
            self.state.stage = None
            setup.teardown(self, fn)
            if fn == TrainerFn.FITTING:
                summary.report_fit_end(self, run, sys.exc_info()[1])  # one line: why it stopped, where things are

    def _attach(self, model: LightningModule, datamodule) -> None:
        self._lightning_module = model
        model.trainer = self
        if datamodule is not None:
            self.datamodule = datamodule
            datamodule.trainer = self
        elif self.state.fn == TrainerFn.FITTING or self.datamodule is None:
            self.datamodule = None
        if self.flags.automatic_optimization is not None:
            model.automatic_optimization = self.flags.automatic_optimization
        self._hooks.reset()

    def _run_stage(self, run: Run, ckpt_path) -> Any:
        fn = run.fn
        checkpoint = setup.prepare(self, run, ckpt_path)
        if fn == TrainerFn.FITTING:
            self._hooks("on_fit_start")
            if checkpoint is not None:
                checkpointing.restore_training_state(self, run, checkpoint, self.ckpt_path)
        self.lightning_module.zero_grad()  # as Lightning, before any loop: no gradient left from before this call
        if fn == TrainerFn.FITTING:
            with preemption.preemption_signals(self, run), torch.autograd.set_detect_anomaly(True) if self.flags.detect_anomaly else nullcontext():
                loops.run_fit(self, run)
            self._hooks("on_fit_end")
            return None
        if fn == TrainerFn.PREDICTING:
            loaders, limits = data_utils.eval_loaders(self, run, "predict")
            return loops.run_predict(self, run, loaders, limits)
        kind = "val" if fn == TrainerFn.VALIDATING else "test"
        if getattr(self.flags, f"limit_{kind}_batches") == 0:
            return []  # as Lightning: no loader asked for, no evaluation hook
        loaders, limits = data_utils.eval_loaders(self, run, kind)
        stage = RunningStage.VALIDATING if kind == "val" else RunningStage.TESTING
        results = loops.run_evaluation(self, run, stage, loaders, limits)
        if run.verbose and self.is_global_zero and results:
            _EvaluationLoop._print_results(results, stage.value)
        return results

    # ================================================================== called by lower layers (module, strategy, precision)
    # LightningModule.log lands here (self is the trainer); see logging.log_value
    _results_log = log_value

    def _batch_hook(self, name: str, *args: Any) -> Any:
        return data_utils.batch_hook(self, name, *args)

    def _transfer_is_noop(self) -> bool:
        noop = self._run.transfer_noop  # found once per run
        return data_utils.transfer_is_noop(self, self._run) if noop is None else noop

    # the precision plugin calls it after backward, before the update (self is the trainer); see loops.after_closure
    _after_closure = loops.after_closure

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            rank_zero_warn(message)

    @contextmanager
    def init_module(self, empty_init: bool | None = None) -> Generator[None, None, None]:
        """Create the module inside this context: its tensors go straight to the device, in the dtype of a
        ``"*-true"`` precision. Under ``strategy="fsdp"``, ``empty_init=True`` allocates nothing until each
        process holds its shard (the modules' ``reset_parameters()`` then initialise them)."""
        dtype = self.precision_plugin.dtype
        previous = torch.get_default_dtype()
        with self.strategy.tensor_init_context(empty_init):
            if dtype is not None:
                torch.set_default_dtype(dtype)
            try:
                yield
            finally:
                torch.set_default_dtype(previous)

    # ================================================================== checkpoints
    def save_checkpoint(self, filepath: str | os.PathLike, weights_only: bool = False, storage_options: Any = None) -> None:
        """Write a checkpoint of the whole run (or only the weights) atomically to ``filepath``."""
        checkpoint = self._dump_checkpoint(weights_only)
        self.strategy.save_checkpoint(checkpoint, os.fspath(filepath), storage_options=storage_options)
        self.strategy.barrier("save_checkpoint")

    def _dump_checkpoint(self, weights_only: bool = False) -> dict[str, Any]:
        """The checkpoint dict of the run as it stands (``OnExceptionCheckpoint`` writes it without a barrier)."""
        if self._lightning_module is None:
            raise MisconfigurationException("save_checkpoint() needs a model: call it during or after fit/validate/test.")
        return checkpointing.dump_checkpoint(self, self._run, weights_only)


def _flag_property(name: str) -> property:
    def get(self):
        return getattr(self.flags, name)

    def set(self, value):
        self.flags = replace(self.flags, **{name: value})

    return property(get, set, doc=f"``Trainer({name}=...)``, resolved (see ``runtime.trainer.flags``).")


for _field in fields(Flags):
    if _field.name not in ("default_root_dir", "logger", "automatic_optimization", "resume_from_checkpoint") and not hasattr(Trainer, _field.name):
        setattr(Trainer, _field.name, _flag_property(_field.name))
# read-only views: the process facts are the strategy's, the batch counts the current (or last) run's
for _name in ("is_global_zero", "global_rank", "local_rank", "node_rank", "world_size"):
    setattr(Trainer, _name, property(attrgetter(f"strategy.{_name}"), doc=f"``trainer.strategy.{_name}``"))
for _name in ("num_training_batches", "num_val_batches", "num_test_batches", "num_predict_batches"):
    setattr(Trainer, _name, property(attrgetter(f"_run.{_name}"), doc="Batches per dataloader of the current or last run."))
