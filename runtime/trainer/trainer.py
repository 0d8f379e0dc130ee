"""The Trainer: resolves its flags once, attaches the module, and runs the loops in ``loops.py``."""
import inspect
import os
import time
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from typing import Any, Generator, Iterable

import torch

from runtime.accelerators import select_accelerator
from runtime.checkpoint import connector
from runtime.checkpoint.plugins import CheckpointIO
from runtime.callbacks.callback import Callback
from runtime.callbacks.checkpoint import Checkpoint
from runtime.core.datamodule import LightningDataModule
from runtime.core.module import LightningModule
from runtime.core.optimizer import LightningOptimizer, parse_optimizers
from runtime.precision import select_precision
from runtime.strategies import SingleDeviceStrategy, Strategy
from runtime.trainer import data as data_utils
from runtime.trainer import loops
from runtime.trainer.call import HookDispatcher, is_overridden
from runtime.trainer.logging import LOG_RULES, Results
from runtime.trainer.progress import Progress
from runtime.trainer.states import RunningStage, TrainerFn, TrainerState, TrainerStatus
from runtime.utilities.duration import parse_duration
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_deprecation, rank_zero_warn
from runtime.utilities.suggest import invalid_choice, nearest


# 1.0-era Trainer arguments that still run (with a deprecation warning)
_LEGACY_ARGS = ("automatic_optimization", "checkpoint_callback", "gpus", "resume_from_checkpoint",
                "progress_bar_refresh_rate", "weights_summary")
# name -> (launch start method, find_unused_parameters); "auto" picks single_device or ddp
_DDP_STRATEGIES = {
    "ddp": ("popen", False), "ddp_find_unused_parameters_true": ("popen", True),
    "ddp_spawn": ("spawn", False), "ddp_spawn_find_unused_parameters_true": ("spawn", True),
    "ddp_fork": ("fork", False), "ddp_notebook": ("fork", False),
}
_STRATEGIES = ("auto", "single_device", *_DDP_STRATEGIES, "fsdp")


class Trainer:
    """Runs a LightningModule: ``Trainer(max_epochs=3).fit(model, datamodule=dm)``."""

    def __init__(
        self,
        *,
        accelerator: str = "auto",
        strategy: str | Strategy = "auto",
        devices: Any = "auto",
        num_nodes: int = 1,
        precision: Any = None,
        logger: Any = None,
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
        profiler: Any = None,
        detect_anomaly: bool = False,
        barebones: bool = False,
        plugins: Any = None,
        sync_batchnorm: bool = False,
        reload_dataloaders_every_n_epochs: int = 0,
        default_root_dir: str | os.PathLike | None = None,
        **legacy: Any,
    ) -> None:
        legacy = self._legacy_args(legacy)
        if "gpus" in legacy and legacy["gpus"]:
            accelerator, devices = "gpu", legacy["gpus"]
        if "checkpoint_callback" in legacy:
            cc = legacy["checkpoint_callback"]
            if isinstance(cc, Callback):
                callbacks = [*(_as_list(callbacks)), cc]
            else:
                enable_checkpointing = bool(cc)
        if legacy.get("progress_bar_refresh_rate") == 0:
            enable_progress_bar = False
        if "weights_summary" in legacy and legacy["weights_summary"] is None:
            enable_model_summary = False
        self._legacy_automatic_optimization = legacy.get("automatic_optimization")
        self._legacy_resume = legacy.get("resume_from_checkpoint")

        # -- hardware
        self.accelerator = select_accelerator(accelerator)
        device_ids = self.accelerator.parse_devices(devices)
        _check_int("num_nodes", num_nodes, minimum=1)
        plugin = select_precision("32-true" if precision is None else precision, self.accelerator.device_type)
        if isinstance(strategy, Strategy):
            own = strategy.precision_plugin
            if strategy.precision_given and precision is not None and own.name != plugin.name:
                raise MisconfigurationException(
                    f"precision={precision!r}, but the strategy passed in brings its own precision plugin ({own.name}); "
                    "set precision in one place only."
                )
        else:
            strategy = _select_strategy(strategy, device_ids, num_nodes)
        strategy.connect(self.accelerator, device_ids, num_nodes, plugin)  # the hardware, precision and launcher
        self.strategy = strategy
        for plugin in _as_list(plugins):
            if isinstance(plugin, CheckpointIO):
                self.strategy.checkpoint_io = plugin
            else:
                raise MisconfigurationException(
                    f"plugins: {type(plugin).__name__} is not supported; pass checkpoint IO plugins such as "
                    "`runtime.plugins.AsyncCheckpointIO()` (precision is chosen with `precision=`)."
                )
        self.num_nodes = num_nodes
        self.num_devices = len(device_ids)
        self.device_ids = device_ids

        # -- flags
        if barebones:
            on = [n for n, v in (("logger", logger), ("enable_checkpointing", enable_checkpointing),
                                 ("enable_progress_bar", enable_progress_bar), ("enable_model_summary", enable_model_summary))
                  if v not in (None, False)]
            if on:
                raise MisconfigurationException(f"barebones=True turns off {', '.join(on)}; drop those arguments or set barebones=False.")
            if num_sanity_val_steps:
                raise MisconfigurationException("barebones=True turns off the sanity check; drop num_sanity_val_steps or set barebones=False.")
            logger = enable_checkpointing = enable_progress_bar = enable_model_summary = False
            num_sanity_val_steps = 0
        self.barebones = barebones
        for name, value in (("limit_train_batches", limit_train_batches), ("limit_val_batches", limit_val_batches),
                            ("limit_test_batches", limit_test_batches), ("limit_predict_batches", limit_predict_batches),
                            ("overfit_batches", overfit_batches)):
            data_utils.check_limit(name, value)
        _check_int("max_steps", max_steps, minimum=-1)
        _check_int("max_epochs", max_epochs, minimum=-1, optional=True)
        _check_int("min_epochs", min_epochs, minimum=0, optional=True)
        _check_int("min_steps", min_steps, minimum=0, optional=True)
        _check_int("accumulate_grad_batches", accumulate_grad_batches, minimum=1)
        _check_int("check_val_every_n_epoch", check_val_every_n_epoch, minimum=1, optional=True)
        _check_int("reload_dataloaders_every_n_epochs", reload_dataloaders_every_n_epochs, minimum=0)
        if gradient_clip_algorithm is not None and gradient_clip_algorithm not in ("norm", "value"):
            raise MisconfigurationException(invalid_choice("gradient_clip_algorithm", gradient_clip_algorithm, ("norm", "value")))
        if gradient_clip_val is not None and (isinstance(gradient_clip_val, bool) or not isinstance(gradient_clip_val, (int, float)) or gradient_clip_val < 0):
            raise MisconfigurationException(f"gradient_clip_val={gradient_clip_val!r} must be a non-negative number.")
        if val_check_interval is not None:
            if isinstance(val_check_interval, bool) or not isinstance(val_check_interval, (int, float)) or val_check_interval <= 0:
                raise MisconfigurationException(f"val_check_interval={val_check_interval!r} must be a positive int (batches) or a float fraction in (0.0, 1.0].")
            if isinstance(val_check_interval, float) and val_check_interval > 1.0:
                raise MisconfigurationException(
                    f"val_check_interval={val_check_interval} is a float above 1.0; a float is a fraction of an epoch (0.0, 1.0]. "
                    f"To validate every {int(val_check_interval)} batches pass an int."
                )
        if fast_dev_run is not False and (isinstance(fast_dev_run, bool) is False and (not isinstance(fast_dev_run, int) or fast_dev_run < 0)):
            raise MisconfigurationException(f"fast_dev_run={fast_dev_run!r} must be a bool or a non-negative int number of batches.")

        self.fast_dev_run = fast_dev_run
        if fast_dev_run:
            n = 1 if fast_dev_run is True else int(fast_dev_run)
            limit_train_batches = limit_val_batches = limit_test_batches = limit_predict_batches = n
            max_steps, max_epochs, num_sanity_val_steps, val_check_interval = n, 1, 0, 1.0
            check_val_every_n_epoch = 1
            logger = False
        if overfit_batches:
            limit_train_batches = limit_val_batches = overfit_batches
        self.overfit_batches = overfit_batches
        self.limit_train_batches = 1.0 if limit_train_batches is None else limit_train_batches
        self.limit_val_batches = 1.0 if limit_val_batches is None else limit_val_batches
        self.limit_test_batches = 1.0 if limit_test_batches is None else limit_test_batches
        self.limit_predict_batches = 1.0 if limit_predict_batches is None else limit_predict_batches
        if max_epochs is None:
            max_epochs = 1000 if max_steps == -1 and max_time is None else -1
        self.max_epochs, self.min_epochs, self.max_steps, self.min_steps = max_epochs, min_epochs, max_steps, min_steps
        self.max_time = parse_duration(max_time, "max_time")
        self.val_check_interval = 1.0 if val_check_interval is None else val_check_interval
        self.check_val_every_n_epoch = check_val_every_n_epoch
        self.num_sanity_val_steps = 2 if num_sanity_val_steps is None else num_sanity_val_steps
        _check_int("num_sanity_val_steps", self.num_sanity_val_steps, minimum=-1)
        self.log_every_n_steps = 50 if log_every_n_steps is None else log_every_n_steps
        _check_int("log_every_n_steps", self.log_every_n_steps, minimum=0)
        self.accumulate_grad_batches = accumulate_grad_batches
        self.gradient_clip_val = gradient_clip_val
        self.gradient_clip_algorithm = gradient_clip_algorithm
        if deterministic not in (None, True, False, "warn"):
            raise MisconfigurationException(invalid_choice("deterministic", deterministic, (True, False, "warn")))
        self.deterministic, self.benchmark = deterministic, benchmark
        _set_torch_flags(deterministic, benchmark)
        self.inference_mode = inference_mode
        self.use_distributed_sampler = use_distributed_sampler
        self.detect_anomaly = detect_anomaly
        self.sync_batchnorm = sync_batchnorm
        self.plugins = plugins
        from runtime.profilers import select_profiler

        self.profiler = select_profiler(profiler)
        self.reload_dataloaders_every_n_epochs = reload_dataloaders_every_n_epochs
        self._default_root_dir = os.fspath(default_root_dir) if default_root_dir is not None else None

        # -- loggers and callbacks
        self.loggers = self._make_loggers(logger)
        self._enable_checkpointing = enable_checkpointing is not False
        self.callbacks = self._make_callbacks(
            _as_list(callbacks), enable_checkpointing, enable_progress_bar is not False, enable_model_summary is not False
        )

        # -- run state
        self.state = TrainerState()
        self.should_stop = False
        self.callback_metrics: dict[str, torch.Tensor] = {}
        self.logged_metrics: dict[str, torch.Tensor] = {}
        self.progress_bar_metrics: dict[str, torch.Tensor] = {}
        self._progress = Progress()
        self._hooks = HookDispatcher(self)
        self._lightning_module: LightningModule | None = None
        self.datamodule: LightningDataModule | None = None
        self.optimizers: list[torch.optim.Optimizer] = []
        self._lightning_optimizers: list[LightningOptimizer] = []
        self.lr_scheduler_configs: list = []
        self._train_results = Results(training=True)
        self._results: Results | None = None
        self._current_batch: Any = None
        self._dataloader_idx: int | None = None
        self._loader_args: dict[str, Any] = {}
        self._loaders: dict[str, list] = {}
        self._loaders_epoch: dict[str, int] = {}
        self.num_training_batches: float = float("inf")
        self.num_val_batches: list = []
        self.num_test_batches: list = []
        self.num_predict_batches: list = []
        self._val_check_batch: float = float("inf")
        self._start_time: float | None = None
        self._warned: set[str] = set()
        self._has_step_end = False
        self._legacy_optimizer_idx = False
        self._restored_mid_fit = False
        self.ckpt_path: str | None = None
        self._resume: dict[str, Any] | None = None  # random states and data position from a checkpoint
        self._epoch_start = None  # random states the current epoch's data order was drawn from
        self._pending_step = False  # inside on_train_batch_end of a batch that stepped the optimizer
        self._received_signal: int | None = None
        self._peer_signals = None  # with several processes: agreeing on a stop signal (checkpoint/connector.py)
        self._weights_only: bool | None = True
        self._transfer_noop: bool | None = None
        self._val_enabled_cache: bool | None = None
        self._epoch_end_logging = False
        self.strategy.trainer = self

    # ================================================================== construction helpers
    @staticmethod
    def _legacy_args(extra: dict[str, Any]) -> dict[str, Any]:
        allowed = [n for n in inspect.signature(Trainer.__init__).parameters if n not in ("self", "legacy")]
        for name in extra:
            if name not in _LEGACY_ARGS:
                guess = nearest(name, allowed + list(_LEGACY_ARGS))
                hint = f" Did you mean {guess!r}?" if guess else ""
                raise TypeError(f"Trainer() got an unexpected argument {name!r}.{hint}")
        for name in extra:
            rank_zero_deprecation(f"Trainer({name}=...) is the 1.0 spelling; it still runs but see the Lightning 2.x docs for its replacement.")
        return extra

    def _make_loggers(self, logger: Any) -> list:
        if logger is False or logger is None and self.fast_dev_run:
            return []
        if logger is True or logger is None:
            import importlib.util

            from runtime.loggers import CSVLogger, TensorBoardLogger

            if importlib.util.find_spec("tensorboard") is not None:
                return [TensorBoardLogger(save_dir=self.default_root_dir)]
            rank_zero_warn("tensorboard is not installed: logging to CSV instead (`pip install tensorboard` for TensorBoard).")
            return [CSVLogger(save_dir=self.default_root_dir)]
        return list(logger) if isinstance(logger, Iterable) else [logger]

    def _make_callbacks(self, callbacks: list, enable_checkpointing, progress: bool, summary: bool) -> list:
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise MisconfigurationException(f"callbacks must be Callback instances; got {type(cb).__name__}: {cb!r:.60}")
        has_ckpt = any(isinstance(cb, Checkpoint) for cb in callbacks)
        if enable_checkpointing is False and has_ckpt:
            raise MisconfigurationException(
                "Trainer was configured with enable_checkpointing=False but a checkpoint callback was passed in callbacks; "
                "remove one of the two."
            )
        from runtime import callbacks as cbs

        extra = []
        if progress and not any(isinstance(cb, cbs.ProgressBar) for cb in callbacks):
            extra.append(cbs.TQDMProgressBar())
        if summary and not any(isinstance(cb, cbs.ModelSummary) for cb in callbacks):
            extra.append(cbs.ModelSummary())
        if enable_checkpointing is not False and not has_ckpt:
            extra.append(cbs.ModelCheckpoint())
        return _checkpoints_last([*callbacks, *extra])

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
        return self._default_root_dir if self._default_root_dir is not None else os.getcwd()

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
    def is_global_zero(self) -> bool:
        return self.strategy.is_global_zero

    @property
    def global_rank(self) -> int:
        return self.strategy.global_rank

    @property
    def local_rank(self) -> int:
        return self.strategy.local_rank

    @property
    def node_rank(self) -> int:
        return self.strategy.node_rank

    @property
    def world_size(self) -> int:
        return self.strategy.world_size

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
    def early_stopping_callback(self):
        return next((cb for cb in self.callbacks if type(cb).__name__ == "EarlyStopping"), None)

    @property
    def estimated_stepping_batches(self) -> float:
        if self.num_training_batches == float("inf"):
            return float("inf") if self.max_steps == -1 else self.max_steps
        per_epoch = -(-int(self.num_training_batches) // self.accumulate_grad_batches)
        total = float("inf") if self.max_epochs == -1 else per_epoch * self.max_epochs
        return min(total, self.max_steps) if self.max_steps != -1 else total

    @property
    def train_dataloader(self):
        loaders = self._loaders.get("train")
        return loaders[0] if loaders else None

    @property
    def val_dataloaders(self):
        loaders = self._loaders.get("val")
        return (loaders[0] if len(loaders) == 1 else loaders) if loaders else None

    @property
    def predict_dataloaders(self):
        loaders = self._loaders.get("predict")
        return (loaders[0] if len(loaders) == 1 else loaders) if loaders else None

    @property
    def tuner(self):
        """``trainer.tuner.lr_find(model)``: the learning-rate search over this trainer's settings."""
        from runtime.tuner import Tuner

        return Tuner(self)

    @property
    def test_dataloaders(self):
        loaders = self._loaders.get("test")
        return (loaders[0] if len(loaders) == 1 else loaders) if loaders else None

    # ================================================================== entry points
    def fit(self, model: LightningModule, train_dataloaders: Any = None, val_dataloaders: Any = None,
            datamodule: LightningDataModule | None = None, ckpt_path: str | None = None,
            weights_only: bool | None = None) -> None:
        """Train ``model``; loaders come from the arguments, ``datamodule``, or the model's own hooks.

        ``ckpt_path`` ("last", "best" or a path) resumes exactly where that checkpoint was taken;
        ``weights_only=False`` allows a trusted checkpoint that pickles more than tensors.
        """
        self._weights_only = weights_only
        if isinstance(train_dataloaders, LightningDataModule):
            datamodule, train_dataloaders = train_dataloaders, None
        self._check_sources(train_dataloaders, datamodule, "train_dataloaders")
        self._loader_args = {"train": train_dataloaders, "val": val_dataloaders}
        ckpt_path = ckpt_path if ckpt_path is not None else self._legacy_resume
        self._run(model, datamodule, TrainerFn.FITTING, ckpt_path)

    def validate(self, model: LightningModule | None = None, dataloaders: Any = None, ckpt_path: str | None = None,
                 verbose: bool = True, datamodule: LightningDataModule | None = None,
                 weights_only: bool | None = None) -> list[dict[str, float]]:
        """Run one validation pass; returns the logged epoch metrics, one dict per dataloader."""
        self._weights_only = weights_only
        return self._evaluate(model, dataloaders, ckpt_path, verbose, datamodule, TrainerFn.VALIDATING)

    def test(self, model: LightningModule | None = None, dataloaders: Any = None, ckpt_path: str | None = None,
             verbose: bool = True, datamodule: LightningDataModule | None = None,
             weights_only: bool | None = None) -> list[dict[str, float]]:
        """Run one test pass; returns the logged epoch metrics, one dict per dataloader."""
        self._weights_only = weights_only
        return self._evaluate(model, dataloaders, ckpt_path, verbose, datamodule, TrainerFn.TESTING)

    def predict(self, model: LightningModule | None = None, dataloaders: Any = None, datamodule: LightningDataModule | None = None,
                return_predictions: bool | None = None, ckpt_path: str | None = None,
                weights_only: bool | None = None) -> list | None:
        """Run ``predict_step`` over the predict loaders and return the outputs (a list per dataloader)."""
        self._weights_only = weights_only
        if isinstance(dataloaders, LightningDataModule):
            datamodule, dataloaders = dataloaders, None
        self._check_sources(dataloaders, datamodule, "dataloaders")
        self._loader_args = {"predict": dataloaders}
        self._return_predictions = True if return_predictions is None else return_predictions
        return self._run(model, datamodule, TrainerFn.PREDICTING, ckpt_path)

    def _evaluate(self, model, dataloaders, ckpt_path, verbose, datamodule, fn: TrainerFn):
        if isinstance(dataloaders, LightningDataModule):
            datamodule, dataloaders = dataloaders, None
        self._check_sources(dataloaders, datamodule, "dataloaders")
        self._loader_args = {"val" if fn == TrainerFn.VALIDATING else "test": dataloaders}
        self._verbose = verbose
        return self._run(model, datamodule, fn, ckpt_path)

    @staticmethod
    def _check_sources(loaders: Any, datamodule: Any, name: str) -> None:
        if loaders is not None and datamodule is not None:
            raise MisconfigurationException(f"Pass either `{name}` or `datamodule`, not both.")
        if datamodule is not None and not isinstance(datamodule, LightningDataModule):
            raise MisconfigurationException(f"datamodule must be a LightningDataModule, got {type(datamodule).__name__}.")

    # ================================================================== the run
    def _run(self, model: LightningModule | None, datamodule, fn: TrainerFn, ckpt_path) -> Any:
        launcher = self.strategy.launcher
        if launcher is not None:
            if model is not None:  # the results of spawned processes come back into this model
                self._lightning_module = model
            return launcher.launch(self._run_in_process, model, datamodule, fn, ckpt_path)
        return self._run_in_process(model, datamodule, fn, ckpt_path)

    def _run_in_process(self, model: LightningModule | None, datamodule, fn: TrainerFn, ckpt_path) -> Any:
        if model is None:
            model = self._lightning_module
            if model is None:
                raise MisconfigurationException(f"`Trainer.{fn.value}()` needs a model: pass the LightningModule.")
        if not isinstance(model, LightningModule):
            raise MisconfigurationException(f"`Trainer.{fn.value}()` expects a LightningModule, got {type(model).__name__}.")
        self.state = TrainerState(status=TrainerStatus.RUNNING, fn=fn, stage=None)
        self.should_stop = False
        self._attach(model, datamodule)
        self.profiler.setup(stage=fn.value, local_rank=self.local_rank, log_dir=self.log_dir)
        if fn == TrainerFn.FITTING:
            self._progress = Progress()
            self._restored_mid_fit = False
        self._start_time = time.monotonic()
        try:
            result = self._run_stage(fn, ckpt_path)
            self.state.status = TrainerStatus.FINISHED
            return result
        except BaseException as exc:
            self.state.status = TrainerStatus.INTERRUPTED
            self._on_exception(exc)
            raise
        finally:
            self.state.stage = None
            self._teardown_run(fn)

    def _attach(self, model: LightningModule, datamodule) -> None:
        self._lightning_module = model
        model.trainer = self
        if datamodule is not None:
            self.datamodule = datamodule
            datamodule.trainer = self
        elif self.state.fn == TrainerFn.FITTING or self.datamodule is None:
            self.datamodule = None
        if self._legacy_automatic_optimization is not None:
            model.automatic_optimization = self._legacy_automatic_optimization
        self._loaders.clear()
        self._hooks.reset()
        self._transfer_noop = None
        self._val_enabled_cache = None

    def _run_stage(self, fn: TrainerFn, ckpt_path) -> Any:
        if fn == TrainerFn.FITTING and ckpt_path is None:
            ckpt_path = connector.preempted_checkpoint(self) or connector.elastic_checkpoint(self)
        hooks = self._hooks
        model = self._lightning_module
        stage = fn.value
        # model-provided callbacks join (replacing trainer callbacks of the same type)
        extra = hooks.module("configure_callbacks")
        if extra:
            extra = _as_list(extra)
            types = {type(cb) for cb in extra}
            self.callbacks = _checkpoints_last([cb for cb in self.callbacks if type(cb) not in types] + extra)
            hooks.reset()
        if self.local_rank == 0:  # downloads and writes to disk happen once per machine
            hooks.datamodule("prepare_data")
            hooks.module("prepare_data")
        hooks.datamodule("setup", stage)
        hooks.callbacks("setup", stage=stage)
        hooks.module("setup", stage)
        with self.init_module():  # layers made here go straight to the device, in the precision's dtype
            hooks.module("configure_sharded_model")
            hooks.module("configure_model")
        self.strategy.setup(self)
        self._warn_legacy_hooks(fn)
        if fn == TrainerFn.FITTING:
            self._setup_optimizers()
            self._check_fit_requirements()
        self.ckpt_path = None
        if ckpt_path is not None:
            self.ckpt_path = connector.resolve_ckpt_path(self, ckpt_path)
            connector.restore(self, self.ckpt_path, fn, self._weights_only)
        self._log_hyperparams()

        if fn == TrainerFn.FITTING:
            hooks("on_fit_start")
            with connector.preemption_signals(self), torch.autograd.set_detect_anomaly(True) if self.detect_anomaly else nullcontext():
                loops.run_fit(self)
            hooks("on_fit_end")
            return None
        if fn == TrainerFn.PREDICTING:
            loaders = self._request_loaders("predict")
            if not loaders:
                raise MisconfigurationException("`Trainer.predict` found no predict data: pass `dataloaders`, a datamodule with `predict_dataloader()`, or define `predict_dataloader()` on the model.")
            limits = [data_utils.num_batches(dl, self.limit_predict_batches, "limit_predict_batches") for dl in loaders]
            self.num_predict_batches = limits
            return loops.run_predict(self, loaders, limits, self._return_predictions)
        kind = "val" if fn == TrainerFn.VALIDATING else "test"
        step = "validation_step" if kind == "val" else "test_step"
        if not hooks.module_overrides(step):
            raise MisconfigurationException(f"`Trainer.{fn.value}` needs `{step}` defined on {type(model).__name__}.")
        loaders = self._request_loaders(kind)
        if not loaders:
            raise MisconfigurationException(
                f"`Trainer.{fn.value}` found no data: pass `dataloaders`, a datamodule with `{kind}_dataloader()`, "
                f"or define `{kind}_dataloader()` on the model."
            )
        limit = self.limit_val_batches if kind == "val" else self.limit_test_batches
        limits = [data_utils.num_batches(dl, limit, f"limit_{kind}_batches") for dl in loaders]
        if kind == "val":
            self.num_val_batches = limits
        else:
            self.num_test_batches = limits
        stage_enum = RunningStage.VALIDATING if kind == "val" else RunningStage.TESTING
        results = loops.run_evaluation(self, stage_enum, loaders, limits)
        if getattr(self, "_verbose", True) and self.is_global_zero and results:
            _print_results(results, stage_enum.value)
        return results

    def _teardown_run(self, fn: TrainerFn) -> None:
        hooks = self._hooks
        stage = fn.value
        self.strategy.teardown()
        try:
            hooks.datamodule("teardown", stage)
            hooks.callbacks("teardown", stage=stage)
            hooks.module("teardown", stage)
        finally:
            status = "success" if self.state.status == TrainerStatus.FINISHED else "failed"
            for lg in self.loggers:
                lg.finalize(status)
            self._current_batch = None
            self.profiler.describe()

    def _on_exception(self, exc: BaseException) -> None:
        try:
            self._hooks.callbacks("on_exception", exc)
            self._hooks.module("on_exception", exc) if hasattr(self._lightning_module, "on_exception") else None
            if self.datamodule is not None and is_overridden("on_exception", self.datamodule, LightningDataModule):
                self.datamodule.on_exception(exc)
        except Exception:  # the original error is the one to show
            pass

    # ================================================================== setup of a fit
    def _setup_optimizers(self) -> None:
        model = self._lightning_module
        got = self._hooks.module("configure_optimizers")
        setup = parse_optimizers(got)
        if not setup.optimizers:
            rank_zero_warn("`configure_optimizers` returned None: this fit runs with no optimizer, so nothing is updated.")
            setup.optimizers = [_NoOptimizer()]
        if model.automatic_optimization and len(setup.optimizers) > 1:
            raise MisconfigurationException(
                f"`configure_optimizers` returned {len(setup.optimizers)} optimizers, but automatic optimization steps "
                "exactly one. Use manual optimization: set `self.automatic_optimization = False` in `__init__` and, in "
                "`training_step`, call `opt1, opt2 = self.optimizers()`, `self.manual_backward(loss)` and `opt.step()`."
            )
        self.optimizers = setup.optimizers
        self._lightning_optimizers = [LightningOptimizer(o, self) for o in setup.optimizers]
        self.lr_scheduler_configs = setup.lr_schedulers

    def _warn_legacy_hooks(self, fn: TrainerFn) -> None:
        names = {
            TrainerFn.FITTING: ("training_step_end", "training_epoch_end", "validation_step_end", "validation_epoch_end"),
            TrainerFn.VALIDATING: ("validation_step_end", "validation_epoch_end"),
            TrainerFn.TESTING: ("test_step_end", "test_epoch_end"),
        }.get(fn, ())
        for legacy in names:
            if self._hooks.module_overrides(legacy):
                rank_zero_deprecation(f"`{legacy}` is the 1.0 data flow; it still runs. In 2.x keep outputs yourself in `on_*_epoch_end`.")

    def _check_fit_requirements(self) -> None:
        model = self._lightning_module
        hooks = self._hooks
        if not hooks.module_overrides("training_step"):
            raise MisconfigurationException(f"`Trainer.fit` needs `training_step` defined on {type(model).__name__}.")
        if not model.automatic_optimization:
            if self.gradient_clip_val:
                raise MisconfigurationException(
                    f"gradient_clip_val={self.gradient_clip_val} clips automatically, which manual optimization does not do. "
                    "Remove it and call `self.clip_gradients(opt, gradient_clip_val=...)` in `training_step`, or use automatic optimization."
                )
            if self.accumulate_grad_batches != 1:
                raise MisconfigurationException(
                    f"accumulate_grad_batches={self.accumulate_grad_batches} accumulates automatically, which manual optimization "
                    "does not do. Remove it and step your optimizers every N batches in `training_step`, or use automatic optimization."
                )
        params = list(inspect.signature(model.training_step).parameters.values())
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self._legacy_optimizer_idx = len(positional) >= 3 and positional[2].name in ("optimizer_idx", "opt_idx", "optimizer_i")
        if self._legacy_optimizer_idx:
            if model.automatic_optimization:
                raise MisconfigurationException(
                    "`training_step` takes an `optimizer_idx` argument, which automatic optimization no longer passes. "
                    "Remove it, or switch to manual optimization (`self.automatic_optimization = False`) and read the "
                    "optimizers with `self.optimizers()`."
                )
            rank_zero_deprecation("`training_step(batch, batch_idx, optimizer_idx)` is the 1.0 spelling; drop `optimizer_idx`.")
        self._has_step_end = hooks.module_overrides("training_step_end")

    # ================================================================== data
    def _request_loaders(self, kind: str) -> list:
        """Loaders for ``kind`` from the call's arguments, else the datamodule, else the module."""
        given = self._loader_args.get(kind)
        if given is not None:
            loaders = data_utils.as_list(given)
        else:
            hook = data_utils._HOOK[kind]
            source = None
            if self.datamodule is not None and is_overridden(hook, self.datamodule, LightningDataModule):
                source = self.datamodule
            elif is_overridden(hook, self._lightning_module, LightningModule):
                source = self._lightning_module
            if source is None:
                loaders = []
            else:
                prev = self._hooks.current_fx
                self._hooks.current_fx = hook
                try:
                    loaders = data_utils.as_list(getattr(source, hook)())
                finally:
                    self._hooks.current_fx = prev
        for dl in loaders:
            if not hasattr(dl, "__iter__"):
                raise MisconfigurationException(
                    f"The {kind} dataloader is a {type(dl).__name__} ({dl!r:.40}); pass a torch DataLoader or any iterable of batches."
                )
        if kind == "train" and self.overfit_batches:
            loaders = [data_utils.without_shuffle(dl) for dl in loaders]
        if self.world_size > 1 and self.use_distributed_sampler and kind != "predict":
            loaders = [data_utils.with_distributed_sampler(dl, self.world_size, self.global_rank, kind == "train") for dl in loaders]
        self._loaders[kind] = loaders
        self._loaders_epoch[kind] = self.current_epoch
        return loaders

    def _setup_train_data(self):
        loaders = self._request_loaders("train")
        if not loaders:
            raise MisconfigurationException(
                "`Trainer.fit` found no training data: pass `train_dataloaders=`, a datamodule with `train_dataloader()`, "
                "or define `train_dataloader()` on the model."
            )
        if len(loaders) > 1:
            raise MisconfigurationException("Training takes one dataloader; combine several into one dataset or loader.")
        loader = loaders[0]
        self.num_training_batches = data_utils.num_batches(loader, self.limit_train_batches, "limit_train_batches")
        if self.num_training_batches == 0 and self.limit_train_batches != 0:
            rank_zero_warn("The training dataloader has no batches; nothing is trained.")
        vci = self.val_check_interval
        if isinstance(vci, int) and not isinstance(vci, bool):
            if self.num_training_batches != float("inf") and vci > self.num_training_batches and self.check_val_every_n_epoch is not None:
                raise MisconfigurationException(
                    f"val_check_interval={vci} is more than the {int(self.num_training_batches)} training batches of an epoch. "
                    "Pass a smaller value, or check_val_every_n_epoch=None to count batches across epochs."
                )
            self._val_check_batch = vci
        elif self.num_training_batches == float("inf"):
            if vci != 1.0:
                raise MisconfigurationException(
                    f"val_check_interval={vci} is a fraction of an epoch, but the training dataloader has no length; pass an int."
                )
            self._val_check_batch = float("inf")
        else:
            self._val_check_batch = max(1, int(self.num_training_batches * vci))
        return loader

    def _should_reload_train(self) -> bool:
        n = self.reload_dataloaders_every_n_epochs
        return bool(n) and self.current_epoch - self._loaders_epoch.get("train", 0) >= n

    def _val_loaders(self) -> list:
        n = self.reload_dataloaders_every_n_epochs
        if "val" not in self._loaders or (n and self.current_epoch - self._loaders_epoch.get("val", 0) >= n):
            loaders = self._request_loaders("val")
            self.num_val_batches = [data_utils.num_batches(dl, self.limit_val_batches, "limit_val_batches") for dl in loaders]
        return self._loaders["val"]

    def _val_defined(self) -> bool:
        """Validation is configured (without asking for the loaders yet): Lightning's ``enable_validation``."""
        if not self._hooks.module_overrides("validation_step") or self.limit_val_batches == 0:
            return False
        if self._loader_args.get("val") is not None:
            return True
        dm = self.datamodule
        return (dm is not None and is_overridden("val_dataloader", dm, LightningDataModule)) or self._hooks.module_overrides("val_dataloader")

    def _val_enabled(self) -> bool:
        if not self._hooks.module_overrides("validation_step") or self.limit_val_batches == 0:
            return False
        if self._val_enabled_cache is None or self.reload_dataloaders_every_n_epochs:
            self._val_enabled_cache = any(n > 0 for n in self.num_val_batches) if self._val_loaders() else False
        return self._val_enabled_cache

    def _val_epoch_due(self) -> bool:
        n = self.check_val_every_n_epoch
        return n is None or (self.current_epoch + 1) % n == 0

    def _should_validate(self, batch_idx: int, is_last: bool) -> bool:
        """Whether validation runs after this batch (the caller checked ``_val_epoch_due`` and ``_val_enabled``)."""
        vcb = self._val_check_batch
        if vcb == float("inf"):
            return is_last
        if self.should_stop and self._can_stop_early():
            return True
        if isinstance(self.limit_train_batches, int) and self.num_training_batches == float("inf"):
            return (batch_idx + 1) % self.limit_train_batches == 0
        index = self._progress.total_batch_idx - 1 if self.check_val_every_n_epoch is None else batch_idx
        return (index + 1) % vcb == 0

    # ================================================================== step helpers (called by the loops)
    def _step(self, name: str, *args: Any) -> Any:
        if self.strategy.precision_plugin.autocasts:
            with self.strategy.precision_plugin.forward_context():
                return self.strategy.step(name, *args)
        return self.strategy.step(name, *args)

    def _batch_hook(self, name: str, *args: Any) -> Any:
        """A batch-transfer hook: the datamodule's when it overrides it, else the module's."""
        dm = self.datamodule
        if dm is not None and is_overridden(name, dm, LightningDataModule):
            return self._hooks.datamodule(name, *args)
        return self._hooks.module(name, *args)

    def _transfer_is_noop(self) -> bool:
        """True when moving a batch would change nothing: CPU, no transfer hook overridden, no dtype cast."""
        found = getattr(self, "_transfer_noop", None)
        if found is None:
            names = ("on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer")
            dm = self.datamodule
            found = (
                self.strategy.root_device.type == "cpu"
                and self.precision_plugin.dtype is None
                and not any(self._hooks.module_overrides(n) for n in names)
                and not (dm is not None and any(is_overridden(n, dm, LightningDataModule) for n in names))
            )
            self._transfer_noop = found
        return found

    def _after_closure(self, optimizer) -> None:
        """After backward, before the update: the before-step hooks and gradient clipping."""
        hooks = self._hooks
        hooks("on_before_optimizer_step", optimizer)
        module = self._lightning_module
        if not module.automatic_optimization:
            return
        if hooks.module_overrides("configure_gradient_clipping"):
            hooks.module("configure_gradient_clipping", optimizer, self.gradient_clip_val, self.gradient_clip_algorithm)
        elif self.gradient_clip_val:
            self.strategy.precision_plugin.clip_gradients(optimizer, self.gradient_clip_val, self.gradient_clip_algorithm or "norm")

    def _eval_grad_context(self):
        # validation inside fit uses no_grad: inference tensors it creates could not be used by training later
        if self.inference_mode and self.state.fn != TrainerFn.FITTING and self.strategy.supports_inference_mode:
            return torch.inference_mode()
        return torch.no_grad()

    def _can_stop_early(self) -> bool:
        p = self._progress
        ok_epochs = self.min_epochs is None or p.current_epoch >= self.min_epochs
        ok_steps = self.min_steps is None or p.optimizer_steps >= self.min_steps
        return ok_epochs and ok_steps

    def _max_time_reached(self) -> bool:
        return self.max_time is not None and self._start_time is not None and time.monotonic() - self._start_time >= self.max_time

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            rank_zero_warn(message)

    # ================================================================== logging
    def _results_log(self, module, name, value, prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph,
                     sync_dist, sync_dist_group, add_dataloader_idx, batch_size, rank_zero_only) -> None:
        if self.barebones:
            self._warn_once("self.log() does nothing under `Trainer(barebones=True)`: logging costs speed, so barebones turns it off.")
            return
        fx = self._hooks.current_fx
        if fx is None:
            raise MisconfigurationException(
                f"self.log({name!r}, ...) was called outside the Trainer's hooks; log from `training_step`, "
                "`validation_step`, `on_train_epoch_end` and the other step and epoch hooks."
            )
        if fx not in LOG_RULES:
            raise MisconfigurationException(
                f"self.log({name!r}, ...) is not allowed in `{fx}`: nothing is recorded there. Log from the step hooks "
                "(`training_step`, `validation_step`, `test_step`), the batch hooks or the epoch hooks instead."
            )
        results = self._results
        if results is None:
            raise MisconfigurationException(f"self.log({name!r}, ...) in `{fx}` ran while no loop is active.")
        if not isinstance(name, str) or not name:
            raise MisconfigurationException(f"self.log() needs a non-empty string name, got {name!r}.")
        if add_dataloader_idx and self._dataloader_idx is not None:
            name = f"{name}/dataloader_idx_{self._dataloader_idx}"
        results.log(self, fx, name, value, prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph, sync_dist,
                    add_dataloader_idx, batch_size)

    def _log_step_metrics(self) -> None:
        """Send this batch's logger-bound step values to the loggers, every ``log_every_n_steps``."""
        step_logged = self._train_results.step_logged
        if not step_logged:
            return
        if self.log_every_n_steps and ((self._progress.batches_that_stepped + 1) % self.log_every_n_steps == 0 or self.should_stop):
            self._send_to_loggers(step_logged)
        step_logged.clear()

    def _log_epoch_metrics(self, results: Results) -> None:
        self._epoch_end_logging = True
        try:
            self._send_to_loggers(results.epoch_end(self))
        finally:
            self._epoch_end_logging = False

    def _send_to_loggers(self, metrics: dict[str, torch.Tensor], step: int | None = None) -> None:
        """Record ``metrics`` as logged and write them (read to the host here, only here) to every logger."""
        if not metrics:
            return
        self.logged_metrics.update(metrics)
        if not self.loggers:
            return
        if step is None:
            step = self._progress.batches_that_stepped
            if self.state.stage == RunningStage.TRAINING and self._epoch_end_logging:
                step = max(step - 1, 0)
        scalars = {k: (v.item() if isinstance(v, torch.Tensor) else float(v)) for k, v in metrics.items()}
        scalars.setdefault("epoch", self.current_epoch)
        for lg in self.loggers:
            lg.log_metrics(scalars, step=step)

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
        if self._lightning_module is None:
            raise MisconfigurationException("save_checkpoint() needs a model: call it during or after fit/validate/test.")
        checkpoint = connector.dump_checkpoint(self, weights_only)
        self.strategy.save_checkpoint(checkpoint, os.fspath(filepath), storage_options=storage_options)
        self.strategy.barrier("save_checkpoint")

    def _log_hyperparams(self) -> None:
        """Hand the module's (and datamodule's) saved hyperparameters to every logger, once per run."""
        if not self.loggers:
            return
        model, dm = self._lightning_module, self.datamodule
        hparams: dict[str, Any] = {}
        if getattr(model, "_log_hyperparams", True):
            hparams.update(model.hparams_initial)
        if dm is not None and getattr(dm, "_log_hyperparams", True):
            clash = [k for k, v in dm.hparams_initial.items() if k in hparams and hparams[k] != v]
            if clash:
                raise MisconfigurationException(
                    f"The module and the datamodule both save hyperparameter(s) {clash} with different values; "
                    "rename one, or pass `logger=False` to one of the `save_hyperparameters` calls."
                )
            hparams.update(dm.hparams_initial)
        for lg in self.loggers:
            if self.is_global_zero:  # create the writer and its folder now, not at the first write inside the loop
                getattr(lg, "experiment", None)
            if hparams:
                lg.log_hyperparams(hparams)
            lg.log_graph(model)
            lg.save()

# ====================================================================== module-level helpers
def _select_strategy(name: Any, device_ids: list[int], num_nodes: int) -> Strategy:
    """The strategy a name stands for; ``Strategy.connect`` then gives it the Trainer's hardware."""
    from runtime.strategies.environments import select_environment

    if name not in _STRATEGIES:
        raise MisconfigurationException(invalid_choice("strategy", name, _STRATEGIES))
    environment = select_environment(len(device_ids), num_nodes)
    external_world = environment.world_size() if environment.creates_processes_externally else 1
    if name == "single_device" or (name == "auto" and len(device_ids) * num_nodes == 1 and external_world == 1):
        return SingleDeviceStrategy(device=None)
    if name == "fsdp":
        from runtime.strategies.fsdp import FSDPStrategy

        return FSDPStrategy(cluster_environment=environment)
    from runtime.strategies.ddp import DDPStrategy

    start_method, find_unused = _DDP_STRATEGIES.get(name, ("popen", False))
    return DDPStrategy(cluster_environment=environment, start_method=start_method, find_unused_parameters=find_unused)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _checkpoints_last(callbacks: list) -> list:
    return [cb for cb in callbacks if not isinstance(cb, Checkpoint)] + [cb for cb in callbacks if isinstance(cb, Checkpoint)]


def _set_torch_flags(deterministic: bool | str | None, benchmark: bool | None) -> None:
    """Process-wide torch switches, set when the Trainer is built (as Lightning does)."""
    if deterministic is not None:
        if deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(bool(deterministic), warn_only=deterministic == "warn")
    if benchmark is not None:
        torch.backends.cudnn.benchmark = bool(benchmark)
    elif deterministic:
        torch.backends.cudnn.benchmark = False


class _NoOptimizer(torch.optim.Optimizer):
    """Stands in when ``configure_optimizers`` returns None: runs the closure, updates nothing."""

    def __init__(self) -> None:
        super().__init__([torch.zeros(1)], {})

    def step(self, closure=None):
        return closure() if closure is not None else None

    def zero_grad(self, set_to_none: bool = True) -> None: ...


def _check_int(name: str, value: Any, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MisconfigurationException(f"{name}={value!r} must be an integer >= {minimum}.")


def _print_results(results: list[dict[str, float]], stage: str) -> None:
    for i, metrics in enumerate(results):
        if not metrics:
            continue
        title = f"{stage.capitalize()} metric" + (f" (dataloader {i})" if len(results) > 1 else "")
        width = max(len(title), *(len(k) for k in metrics))
        print("-" * (width + 16))
        print(f"{title:<{width}}  {'value':>12}")
        for k, v in sorted(metrics.items()):
            print(f"{k:<{width}}  {v:>12.6g}")
        print("-" * (width + 16))
