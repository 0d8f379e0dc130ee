"""DeepSpeed ZeRO on the ``deepspeed`` library: ``Trainer(strategy="deepspeed_stage_2")`` or
``Trainer(strategy=DeepSpeedStrategy(stage=3, offload_optimizer=True))``.

The Trainer's flags become a DeepSpeed config (``build_config`` / ``finish_config``: pure functions, no
deepspeed needed): ZeRO stage and offload, precision ("16-mixed" -> ``fp16``, "bf16-mixed" -> ``bf16``),
``accumulate_grad_batches`` -> ``gradient_accumulation_steps``, ``gradient_clip_val`` ->
``gradient_clipping``. ``deepspeed.initialize`` wraps the LightningModule once the optimizer exists (at
the first step or restore) and the engine owns backward, step and clipping: the loop's accumulation
windows set the engine's boundary, so only the step that ends a window reduces and updates.

Processes start as for DDP (one per device); the process group is torch's, which DeepSpeed adopts.
On a machine without a GPU DeepSpeed runs on its CPU accelerator with gloo (``DS_ACCELERATOR=cpu``
is set when the Trainer runs on the CPU and deepspeed was not imported yet).

Checkpoints are the engine's: a folder (named like the file, ``epoch=0-step=3.ckpt/``) with DeepSpeed's
per-rank model and ZeRO optimizer files under ``checkpoint/``, the Trainer's other keys (progress,
callbacks, schedulers, hyperparameters) stored in it as DeepSpeed's client state. It is written under
``NAME.partial`` and renamed when complete. Reading it runs no code: every file DeepSpeed reads goes
through ``torch.load(weights_only=True)`` with only DeepSpeed's plain data classes allowed.

``deepspeed`` is imported only when a run starts; ``import runtime`` never imports it.
"""
import argparse
import importlib.util
import json
import logging
import os
import sys
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, Generator

import torch

from runtime.precision import Precision
from runtime.strategies.ddp import DDPStrategy
from runtime.utilities.deepspeed import ENGINE_KEYS, deepspeed_data_classes
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_info, rank_zero_warn

__all__ = ["DeepSpeedPrecision", "DeepSpeedStrategy", "build_config", "finish_config", "load_config"]

CONFIG_ENV_VAR = "PL_DEEPSPEED_CONFIG_PATH"  # Lightning's: a JSON config used when none is passed
_TAG = "checkpoint"  # the engine's tag: the subfolder holding the files (Lightning's layout)
_CLIENT_KEY = "deepspeed_checkpoint"  # in the client state: what the folder holds
_NOT_INSTALLED = (
    "DeepSpeedStrategy needs the `deepspeed` package, which is not installed. Install it with "
    "`pip install deepspeed` (on a GPU machine its CUDA ops build on first use), or shard with torch alone: "
    "strategy='fsdp' (ZeRO-3-like: parameters, gradients and optimizer state; cpu_offload=True to offload)."
)

# Lightning's registered names: name -> constructor arguments
STRATEGY_NAMES: dict[str, dict[str, Any]] = {
    "deepspeed": {},
    "deepspeed_stage_1": {"stage": 1},
    "deepspeed_stage_2": {"stage": 2},
    "deepspeed_stage_2_offload": {"stage": 2, "offload_optimizer": True},
    "deepspeed_stage_3": {"stage": 3},
    "deepspeed_stage_3_offload": {"stage": 3, "offload_optimizer": True, "offload_parameters": True},
    "deepspeed_stage_3_offload_nvme": {"stage": 3, "offload_optimizer": True, "offload_parameters": True,
                                       "remote_device": "nvme", "offload_params_device": "nvme",
                                       "offload_optimizer_device": "nvme"},
}


def deepspeed_installed() -> bool:
    return importlib.util.find_spec("deepspeed") is not None


# ---------------------------------------------------------------- the config: flags -> DeepSpeed's dict
def load_config(config: Any) -> dict[str, Any] | None:
    """A config dict from a dict, a JSON file path, or (when None) the file ``PL_DEEPSPEED_CONFIG_PATH`` names."""
    if config is None and os.environ.get(CONFIG_ENV_VAR):
        rank_zero_info(f"DeepSpeed config from ${CONFIG_ENV_VAR}: {os.environ[CONFIG_ENV_VAR]}")
        config = os.environ[CONFIG_ENV_VAR]
    if config is None or isinstance(config, dict):
        return None if config is None else dict(config)
    if not isinstance(config, (str, os.PathLike)):
        raise MisconfigurationException(
            f"DeepSpeedStrategy(config={config!r}): pass a DeepSpeed config dict or the path of a JSON config file."
        )
    if not os.path.isfile(config):
        raise MisconfigurationException(f"DeepSpeedStrategy(config=...): the DeepSpeed config file {os.fspath(config)} does not exist.")
    try:
        with open(config, encoding="utf-8") as f:
            loaded = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise MisconfigurationException(
            f"DeepSpeed config {os.fspath(config)} is not valid JSON ({err}); write it as DeepSpeed's JSON config."
        ) from None
    if not isinstance(loaded, dict):
        raise MisconfigurationException(f"DeepSpeed config {os.fspath(config)} holds a {type(loaded).__name__}, not a JSON object.")
    return loaded


def build_config(stage: int = 2, zero_optimization: bool = True, offload_optimizer: bool = False,
                 offload_parameters: bool = False, offload_params_device: str = "cpu", offload_optimizer_device: str = "cpu",
                 nvme_path: str = "/local_nvme", params_buffer_count: int = 5, params_buffer_size: int = 100_000_000,
                 max_in_cpu: int = 1_000_000_000, optimizer_buffer_count: int = 4, pin_memory: bool = False,
                 block_size: int = 1048576, queue_depth: int = 8, single_submit: bool = False, overlap_events: bool = True,
                 thread_count: int = 1, sub_group_size: int = 1_000_000_000_000, contiguous_gradients: bool = True,
                 overlap_comm: bool = True, allgather_partitions: bool = True, reduce_scatter: bool = True,
                 allgather_bucket_size: int = 200_000_000, reduce_bucket_size: int = 200_000_000,
                 zero_allow_untested_optimizer: bool = True, logging_batch_size_per_gpu: str | int = "auto",
                 partition_activations: bool = False, cpu_checkpointing: bool = False,
                 contiguous_memory_optimization: bool = False, synchronize_checkpoint_boundary: bool = False) -> dict[str, Any]:
    """The DeepSpeed config the strategy's arguments stand for (before the Trainer's flags are added)."""
    if stage not in (0, 1, 2, 3):
        raise MisconfigurationException(f"DeepSpeedStrategy(stage={stage!r}): ZeRO stages are 0 (off), 1, 2 and 3.")
    for name, device in (("offload_params_device", offload_params_device), ("offload_optimizer_device", offload_optimizer_device)):
        if device not in ("cpu", "nvme"):
            raise MisconfigurationException(f"DeepSpeedStrategy({name}={device!r}): offload to 'cpu' or 'nvme'.")
    if offload_parameters and zero_optimization and stage != 3:
        raise MisconfigurationException(
            f"DeepSpeedStrategy(offload_parameters=True) needs ZeRO stage 3 (parameters are partitioned only there); "
            f"stage={stage}. Use stage=3, or offload_optimizer=True alone with stage 1 or 2."
        )
    config: dict[str, Any] = {}
    if logging_batch_size_per_gpu != "auto":
        config["train_micro_batch_size_per_gpu"] = logging_batch_size_per_gpu
    if zero_optimization:
        zero: dict[str, Any] = {
            "stage": stage, "contiguous_gradients": contiguous_gradients, "overlap_comm": overlap_comm,
            "allgather_partitions": allgather_partitions, "reduce_scatter": reduce_scatter,
            "allgather_bucket_size": allgather_bucket_size, "reduce_bucket_size": reduce_bucket_size,
            "sub_group_size": sub_group_size,
        }
        if offload_optimizer:
            zero["offload_optimizer"] = {"device": offload_optimizer_device, "nvme_path": nvme_path,
                                         "buffer_count": optimizer_buffer_count, "pin_memory": pin_memory}
        if offload_parameters:
            zero["offload_param"] = {"device": offload_params_device, "nvme_path": nvme_path,
                                     "buffer_count": params_buffer_count, "buffer_size": params_buffer_size,
                                     "max_in_cpu": max_in_cpu, "pin_memory": pin_memory}
        config["zero_allow_untested_optimizer"] = zero_allow_untested_optimizer
        config["zero_optimization"] = zero
    config["activation_checkpointing"] = {
        "partition_activations": partition_activations, "cpu_checkpointing": cpu_checkpointing,
        "contiguous_memory_optimization": contiguous_memory_optimization,
        "synchronize_checkpoint_boundary": synchronize_checkpoint_boundary,
    }
    config["aio"] = {"block_size": block_size, "queue_depth": queue_depth, "single_submit": single_submit,
                     "overlap_events": overlap_events, "thread_count": thread_count}
    return config


def finish_config(config: dict[str, Any], precision: str, accumulate_grad_batches: int = 1,
                  gradient_clip_val: float | int | None = None, gradient_clip_algorithm: str | None = None,
                  batch_size: int = 1, loss_scale: float = 0, initial_scale_power: int = 16, loss_scale_window: int = 1000,
                  hysteresis: int = 2, min_loss_scale: int = 1) -> dict[str, Any]:
    """``config`` plus what the Trainer's flags decide: a new dict (the given one is left as it was)."""
    config = json.loads(json.dumps(config))  # a deep copy of plain JSON data
    if "gradient_accumulation_steps" in config:
        raise MisconfigurationException(
            "Do not set `gradient_accumulation_steps` in the DeepSpeed config: the Trainer's accumulate_grad_batches "
            f"sets it (here {accumulate_grad_batches}). Remove it from the config and pass "
            f"Trainer(accumulate_grad_batches={config['gradient_accumulation_steps']})."
        )
    config["gradient_accumulation_steps"] = int(accumulate_grad_batches)
    config.setdefault("train_micro_batch_size_per_gpu", int(batch_size))
    if gradient_clip_algorithm not in (None, "norm") and gradient_clip_val:
        raise MisconfigurationException(
            f"gradient_clip_algorithm={gradient_clip_algorithm!r}: DeepSpeed clips by the global norm only; "
            "use gradient_clip_algorithm='norm'."
        )
    config.setdefault("gradient_clipping", float(gradient_clip_val or 0.0))
    if precision in ("16-mixed", "16-true") and "fp16" not in config:
        config["fp16"] = {"enabled": True, "loss_scale": loss_scale, "initial_scale_power": initial_scale_power,
                          "loss_scale_window": loss_scale_window, "hysteresis": hysteresis, "min_loss_scale": min_loss_scale}
    elif precision in ("bf16-mixed", "bf16-true") and "bf16" not in config:
        config["bf16"] = {"enabled": True}
    elif precision == "64-true":
        raise MisconfigurationException("DeepSpeed trains in float32, float16 or bfloat16; precision='64-true' is not supported.")
    return config


def _inference_config(config: dict[str, Any]) -> dict[str, Any]:
    """What an engine that only runs forward needs (validate / test / predict without fit)."""
    out: dict[str, Any] = {"train_micro_batch_size_per_gpu": 1}
    for key in ("fp16", "bf16"):
        if key in config:
            out[key] = config[key]
    zero = config.get("zero_optimization") or {}
    if zero.get("stage") == 3:
        out["zero_optimization"] = zero
        out["zero_allow_untested_optimizer"] = config.get("zero_allow_untested_optimizer", True)
    return out


# ---------------------------------------------------------------- precision: the engine converts and scales
class DeepSpeedPrecision(Precision):
    """The engine holds the module in float16 / bfloat16 (with float32 master weights) and scales the loss:
    no autocast here, inputs cast to the engine's dtype, clipping left to the config."""

    _DTYPES = {"16-mixed": torch.float16, "16-true": torch.float16, "bf16-mixed": torch.bfloat16, "bf16-true": torch.bfloat16}

    def __init__(self, precision: str = "32-true", device_type: str = "cpu") -> None:
        super().__init__(device_type)
        if precision == "64-true":
            raise MisconfigurationException("DeepSpeed trains in float32, float16 or bfloat16; precision='64-true' is not supported.")
        self.name = precision
        self.input_dtype = self._DTYPES.get(precision)
        self.dtype = self.input_dtype if precision.endswith("-true") else None  # Trainer.init_module's default dtype

    def convert_module(self, module: torch.nn.Module) -> torch.nn.Module:
        return module  # deepspeed.initialize converts it

    @property
    def casts_inputs(self) -> bool:
        return self.input_dtype is not None

    def convert_input(self, data: Any) -> Any:
        if self.input_dtype is None:
            return data
        from runtime.utilities.apply_func import apply_to_collection

        return apply_to_collection(data, torch.Tensor, lambda t: t.to(self.input_dtype) if t.is_floating_point() else t)

    def clip_gradients(self, optimizer, clip_val: float | int, algorithm: str) -> None:
        """DeepSpeed clips inside ``engine.step()`` (``gradient_clipping`` in its config)."""


# ---------------------------------------------------------------- the strategy
class DeepSpeedStrategy(DDPStrategy):
    """ZeRO stages 1-3 with optional CPU / NVMe offload, on the ``deepspeed`` library.

    The arguments are Lightning's (``stage``, ``offload_optimizer``, ``offload_parameters``, ``config`` as a
    dict or a JSON path, ``logging_batch_size_per_gpu``, the loss-scaling and bucket settings, ...); with
    ``config`` given, the ZeRO arguments are ignored and the config is used as it is, plus the Trainer's flags.
    """

    strategy_name = "deepspeed"
    DEEPSPEED_ENV_VAR = CONFIG_ENV_VAR
    supports_inference_mode = False  # gathered ZeRO-3 parameters made under inference_mode could not train later
    checkpoint_needs_all_ranks = True  # every rank writes its own partition

    def __init__(self, accelerator=None, zero_optimization: bool = True, stage: int = 2, remote_device: str | None = None,
                 offload_optimizer: bool = False, offload_parameters: bool = False, offload_params_device: str = "cpu",
                 nvme_path: str = "/local_nvme", params_buffer_count: int = 5, params_buffer_size: int = 100_000_000,
                 max_in_cpu: int = 1_000_000_000, offload_optimizer_device: str = "cpu", optimizer_buffer_count: int = 4,
                 block_size: int = 1048576, queue_depth: int = 8, single_submit: bool = False, overlap_events: bool = True,
                 thread_count: int = 1, pin_memory: bool = False, sub_group_size: int = 1_000_000_000_000,
                 contiguous_gradients: bool = True, overlap_comm: bool = True, allgather_partitions: bool = True,
                 reduce_scatter: bool = True, allgather_bucket_size: int = 200_000_000, reduce_bucket_size: int = 200_000_000,
                 zero_allow_untested_optimizer: bool = True, logging_batch_size_per_gpu: str | int = "auto",
                 config: str | os.PathLike | dict[str, Any] | None = None, logging_level: int = logging.WARN,
                 parallel_devices: list[torch.device] | None = None, cluster_environment=None, loss_scale: float = 0,
                 initial_scale_power: int = 16, loss_scale_window: int = 1000, hysteresis: int = 2, min_loss_scale: int = 1,
                 partition_activations: bool = False, cpu_checkpointing: bool = False,
                 contiguous_memory_optimization: bool = False, synchronize_checkpoint_boundary: bool = False,
                 load_full_weights: bool = False, precision_plugin: Precision | None = None,
                 process_group_backend: str | None = None, timeout: Any = None, exclude_frozen_parameters: bool = False) -> None:
        if not deepspeed_installed():
            raise MisconfigurationException(_NOT_INSTALLED)
        ddp_kwargs = {} if timeout is None else {"timeout": timeout}
        super().__init__(accelerator, parallel_devices, cluster_environment, None, precision_plugin,
                         process_group_backend=process_group_backend, **ddp_kwargs)
        self.config = load_config(config)
        if self.config is None:
            self.config = build_config(
                stage, zero_optimization, offload_optimizer, offload_parameters, offload_params_device,
                offload_optimizer_device, nvme_path, params_buffer_count, params_buffer_size, max_in_cpu,
                optimizer_buffer_count, pin_memory, block_size, queue_depth, single_submit, overlap_events, thread_count,
                sub_group_size, contiguous_gradients, overlap_comm, allgather_partitions, reduce_scatter,
                allgather_bucket_size, reduce_bucket_size, zero_allow_untested_optimizer, logging_batch_size_per_gpu,
                partition_activations, cpu_checkpointing, contiguous_memory_optimization, synchronize_checkpoint_boundary,
            )
        self.logging_level = logging_level
        self.remote_device = remote_device
        self.load_full_weights = load_full_weights
        self.exclude_frozen_parameters = exclude_frozen_parameters
        self.loss_scale = loss_scale
        self.initial_scale_power = initial_scale_power
        self.loss_scale_window = loss_scale_window
        self.hysteresis = hysteresis
        self.min_loss_scale = min_loss_scale
        self._engine = None  # deepspeed.DeepSpeedEngine, made at the first step or restore
        self._accumulating = False  # inside no_sync: this micro-batch does not end an accumulation window
        self._pending_load: Any = None  # what a restore left for the engine to read once it exists

    # -- facts
    @property
    def zero_stage_3(self) -> bool:
        return (self.config.get("zero_optimization") or {}).get("stage") == 3

    @property
    def may_hold_grad_accumulators(self) -> bool:
        return not self.zero_stage_3  # ZeRO-3 swaps each parameter's data for its partition between steps

    @property
    def deepspeed_engine(self):
        """The ``deepspeed.DeepSpeedEngine`` wrapping the LightningModule (None before the first step)."""
        return self._engine

    @property
    def model(self) -> torch.nn.Module:
        return self._engine if self._engine is not None else self.trainer.lightning_module

    def connect_hardware(self, accelerator, device_ids: list[int], num_nodes: int, precision_plugin: Precision) -> None:
        super().connect_hardware(accelerator, device_ids, num_nodes, precision_plugin)
        if not isinstance(self.precision_plugin, DeepSpeedPrecision):  # the engine does precision: keep only its name
            self.precision_plugin = DeepSpeedPrecision(self.precision_plugin.name, self.root_device.type)

    def trainer_config(self) -> dict[str, Any]:
        """The config ``deepspeed.initialize`` gets: the strategy's plus the Trainer's flags."""
        trainer = self.trainer
        flags = trainer.flags
        return finish_config(
            self.config, self.precision_plugin.name, flags.accumulate_grad_batches, flags.gradient_clip_val,
            flags.gradient_clip_algorithm, _loader_batch_size(trainer), self.loss_scale, self.initial_scale_power,
            self.loss_scale_window, self.hysteresis, self.min_loss_scale,
        )

    # -- setup: torch's process group (DeepSpeed adopts it); the engine once the optimizer exists
    def setup_environment(self) -> None:
        env = self.cluster_environment
        os.environ.update(MASTER_ADDR=env.main_address, MASTER_PORT=str(env.main_port), RANK=str(self.global_rank),
                          WORLD_SIZE=str(self.world_size), LOCAL_RANK=str(self.local_rank))
        super().setup_environment()
        deepspeed = _import_deepspeed(self.parallel_devices[self.local_rank].type, self.logging_level)
        deepspeed.init_distributed(dist_backend=torch.distributed.get_backend(), dist_init_required=False)

    def setup(self, trainer) -> None:
        self.trainer = trainer
        self.setup_environment()
        self.accelerator.setup_device(self.root_device)
        module = trainer.lightning_module
        if trainer.flags.gradient_clip_algorithm not in (None, "norm") and trainer.flags.gradient_clip_val:
            finish_config({}, "32-true", gradient_clip_val=trainer.flags.gradient_clip_val,
                          gradient_clip_algorithm=trainer.flags.gradient_clip_algorithm)  # raises, before any work
        if trainer._hooks.module_overrides("configure_gradient_clipping"):
            rank_zero_warn("DeepSpeed clips gradients inside its step, so `configure_gradient_clipping` is called but "
                           "cannot clip; use Trainer(gradient_clip_val=..., gradient_clip_algorithm='norm').")
        if trainer._hooks.module_overrides("backward"):
            rank_zero_warn("`LightningModule.backward` is not called under DeepSpeed: the engine runs backward itself.")
        engine = module.__dict__.get("_deepspeed_engine")
        fitting = trainer.state.fn == "fit"  # TrainerFn.FITTING (a str enum; strategies sit below the trainer)
        # fit builds a new engine around this run's optimizer; evaluation reuses the one the module has
        self._engine = None if fitting else engine
        if engine is None and not self.zero_stage_3:
            module.to(self.root_device)
        self._share_logger_versions(trainer)

    def _ensure_engine(self):
        if self._engine is None:
            self._engine = self._initialize()
        return self._engine

    def _initialize(self):
        import deepspeed

        trainer = self.trainer
        module = trainer.lightning_module
        config = self.trainer_config()
        optimizers = [o for o in trainer.optimizers if isinstance(o, torch.optim.Optimizer)]
        fitting = trainer.state.fn == "fit"
        index = self.root_device.index  # None on the CPU: DeepSpeed then takes the rank's CPU
        args = argparse.Namespace(device_rank=self.local_rank if index is None else index)
        if fitting and (optimizers or "optimizer" in config):
            if len(optimizers) > 1:
                raise MisconfigurationException(
                    f"DeepSpeed steps one optimizer; configure_optimizers returned {len(optimizers)}. Return one "
                    "(parameter groups can hold different settings), or use strategy='fsdp' or 'ddp'."
                )
            optimizer = optimizers[0] if optimizers and "optimizer" not in config else None
            if optimizer is None:
                rank_zero_info("The optimizer comes from the DeepSpeed config; configure_optimizers' is not used.")
            engine, _, _, _ = deepspeed.initialize(
                args=args, config=config, model=module, optimizer=optimizer, dist_init_required=False,
                model_parameters=[p for p in module.parameters() if p.requires_grad],
            )
            if engine.lr_scheduler is not None and not trainer.lr_scheduler_configs:
                rank_zero_warn("The DeepSpeed config's scheduler is not stepped: return schedulers from configure_optimizers.")
            engine.lr_scheduler = None  # the Trainer steps the schedulers (interval, frequency, monitor)
            _configure_activation_checkpointing(deepspeed, config)
        elif fitting:
            raise MisconfigurationException(
                "DeepSpeed needs an optimizer: return one from configure_optimizers, or put an 'optimizer' section "
                "in the DeepSpeed config."
            )
        else:
            engine, _, _, _ = deepspeed.initialize(args=args, config=_inference_config(config), model=module,
                                                   optimizer=None, model_parameters=[], dist_init_required=False)
        engine.checkpoint_engine = _SafeLoading(engine.checkpoint_engine)
        module.__dict__["_deepspeed_engine"] = engine  # not a submodule: no cycle in modules() or state_dict()
        self._load_pending(engine)
        return engine

    @contextmanager
    def tensor_init_context(self, empty_init: bool | None = None) -> Generator[None, None, None]:
        """ZeRO-3: layers are made on the CPU and the engine partitions them; otherwise on the device."""
        with nullcontext() if self.zero_stage_3 else super().tensor_init_context(empty_init):
            yield

    # -- the step: every step runs through the engine (ZeRO-3 gathers parameters in its forward hooks)
    def step(self, name: str, *args: Any) -> Any:
        engine = self._ensure_engine()
        module = self.trainer.lightning_module
        hooks = self.trainer._hooks
        original = module.__dict__.get("forward")

        def redirected(*a: Any) -> Any:
            _restore_forward(module, original)  # the step may call self(x): the real forward
            return hooks.module(name, *a)

        module.forward = redirected
        try:
            return engine(*args)
        finally:
            _restore_forward(module, original)

    def batch_to_device(self, batch: Any, dataloader_idx: int = 0) -> Any:
        """Floating inputs in the engine's dtype, also where moving them is otherwise skipped (on the CPU)."""
        moved = super().batch_to_device(batch, dataloader_idx)
        return self.precision_plugin.convert_input(moved) if moved is batch else moved

    @contextmanager
    def no_sync(self) -> Generator[None, None, None]:
        """A micro-batch that does not end the accumulation window: the engine reduces nothing and does not step."""
        self._accumulating = True
        try:
            yield
        finally:
            self._accumulating = False

    def backward(self, loss: torch.Tensor, optimizer: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        """The engine's backward (it scales for float16); the loop already divided the loss for accumulation."""
        engine = self._ensure_engine()
        hooks = self.trainer._hooks
        hooks("on_before_backward", loss)
        engine.set_gradient_accumulation_boundary(not self._accumulating)
        engine.backward(loss, scale_wrt_gas=False)
        hooks("on_after_backward")
        return loss

    def optimizer_step(self, optimizer, closure: Callable[[], Any], model, **kwargs: Any) -> Any:
        """Run the closure (step, backward), the before-step hooks, then ``engine.step()``: clip, update, zero."""
        result = closure()
        self.trainer._after_closure(optimizer)
        if result is None and self.trainer.lightning_module.automatic_optimization:
            return None  # training_step returned None: nothing to apply
        engine = self._ensure_engine()
        engine.set_gradient_accumulation_boundary(True)
        engine.step()
        return result

    # -- checkpoints: the engine's folder; the Trainer's other keys ride along as client state
    def lightning_module_state_dict(self) -> dict[str, Any]:
        return {}  # the engine writes the weights (each rank its partition)

    def optimizer_state(self, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        return {}  # the engine writes the optimizer state

    def save_checkpoint(self, checkpoint: dict[str, Any], filepath: str, storage_options: Any = None) -> None:
        from runtime.checkpoint.files import remove_path
        from runtime.checkpoint.sharded import _replace

        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} writes checkpoints through DeepSpeed's engine, which takes no storage_options.")
        engine = self._ensure_engine()
        filepath = self.broadcast(os.fspath(filepath))  # one folder, as rank zero names it
        client = {k: v for k, v in checkpoint.items() if k not in ("state_dict", "optimizer_states")}
        client[_CLIENT_KEY] = {"optimizers": len(checkpoint.get("optimizer_states", [])), "zero_stage": engine.zero_optimization_stage()}
        partial = f"{filepath}.partial"
        if self.is_global_zero:
            remove_path(partial)
        self.barrier("deepspeed_checkpoint_dir")
        engine.save_checkpoint(partial, client_state=client, tag=_TAG, exclude_frozen_parameters=self.exclude_frozen_parameters)
        self.barrier("deepspeed_checkpoint_written")
        if self.is_global_zero:
            _replace(partial, filepath)
        self.barrier("deepspeed_checkpoint_renamed")

    def load_checkpoint(self, filepath: str, weights_only: bool | None = True) -> dict[str, Any]:
        """The Trainer's keys from the folder. For fit the engine reads its files (weights and optimizer partitions)
        once it is built around this run's optimizer, before the first step; for evaluation, now."""
        from runtime.checkpoint.sharded import LoadedInPlace

        filepath = os.fspath(filepath)
        if not is_deepspeed_checkpoint(filepath):
            if os.path.isfile(filepath) and self.load_full_weights:  # a single-device file: weights only
                return self.checkpoint_io.load_checkpoint(filepath, map_location="cpu", weights_only=weights_only)
            raise MisconfigurationException(
                f"Checkpoint {filepath} is not a DeepSpeed checkpoint folder (no '{_TAG}/' with the engine's files in it). "
                "Resume from a folder saved with DeepSpeedStrategy, or pass DeepSpeedStrategy(load_full_weights=True) "
                "to load the weights of a single-file checkpoint."
            )
        weights_only = True if weights_only is None else weights_only
        reader = _SafeLoading(None)
        reader.weights_only = weights_only
        states = reader.load(_model_file(filepath), map_location="cpu")
        optimizers = (states.get(_CLIENT_KEY) or {}).get("optimizers", 0)
        client = {k: v for k, v in states.items() if k not in ENGINE_KEYS}
        fitting = self.trainer.state.fn == "fit"
        if self.zero_stage_3 and not fitting:
            # the weights live in the optimizer partitions, which DeepSpeed reads only into a training engine:
            # put them together (float32, on the CPU) and load them through the gathered parameters
            from runtime.utilities.deepspeed import get_fp32_state_dict

            client["state_dict"] = get_fp32_state_dict(filepath)
            return client
        self._pending_load = (filepath, fitting and bool(optimizers), weights_only)
        if not fitting:
            self._ensure_engine()  # no optimizer to wait for
        client["state_dict"] = LoadedInPlace()
        if optimizers:
            client["optimizer_states"] = [LoadedInPlace() for _ in range(optimizers)]
        return client

    def _load_pending(self, engine) -> None:
        """Into the new engine: a folder's weights (and optimizer partitions), or a single file's weights."""
        pending, self._pending_load = self._pending_load, None
        if pending is None:
            return
        if isinstance(pending, dict):  # load_full_weights: a state dict read before the engine existed
            self._load_state_dict_into(engine, pending["state_dict"], pending["strict"])
            return
        filepath, with_optimizer, weights_only = pending
        engine.checkpoint_engine.weights_only = weights_only
        module = self.trainer.lightning_module
        path, client = engine.load_checkpoint(filepath, tag=_TAG, load_optimizer_states=with_optimizer and engine.optimizer is not None,
                                              load_lr_scheduler_states=False,
                                              load_module_strict=getattr(module, "strict_loading", True))
        if path is None or client is None:
            raise MisconfigurationException(f"DeepSpeed could not load checkpoint {filepath}; see DeepSpeed's log above.")

    def load_model_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> None:
        from runtime.checkpoint.sharded import LoadedInPlace

        if isinstance(state_dict, LoadedInPlace):
            return
        if self._engine is None and self.trainer.state.fn == "fit":  # the engine waits for the optimizer
            self._pending_load = {"state_dict": state_dict, "strict": strict}
            return
        self._load_state_dict_into(self._ensure_engine(), state_dict, strict)

    def _load_state_dict_into(self, engine, state_dict: dict[str, Any], strict: bool) -> None:
        """A full state dict (a single file, or put together from ZeRO-3 partitions); ZeRO-3 gathers the parameters
        to rank zero, loads there and partitions them again."""
        if self.zero_stage_3:
            import deepspeed

            with deepspeed.zero.GatheredParameters(list(engine.module.parameters()), modifier_rank=0):
                if self.is_global_zero:
                    engine.module.load_state_dict(state_dict, strict=strict)
        else:
            engine.module.load_state_dict(state_dict, strict=strict)

    def load_optimizer_state_dict(self, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
        from runtime.checkpoint.sharded import LoadedInPlace

        if isinstance(state, LoadedInPlace):
            self._ensure_engine()  # built around this run's optimizer, it reads the folder's weights and partitions now
        else:
            rank_zero_warn("A single-file checkpoint holds no DeepSpeed optimizer partitions: the optimizer starts fresh.")

    def teardown(self) -> None:
        super().teardown()
        self._accumulating = False
        self._pending_load = None


def _restore_forward(module: torch.nn.Module, original: Any) -> None:
    if original is None:
        module.__dict__.pop("forward", None)
    else:
        module.__dict__["forward"] = original


def _loader_batch_size(trainer) -> int:
    """The training loader's batch size (DeepSpeed's ``train_micro_batch_size_per_gpu``, for its throughput log)."""
    loader = getattr(trainer, "train_dataloader", None)
    size = getattr(getattr(loader, "batch_sampler", None), "batch_size", None) or getattr(loader, "batch_size", None)
    return size if isinstance(size, int) and size > 0 else 1


def _import_deepspeed(device_type: str, logging_level: int):
    """``deepspeed`` on the accelerator the Trainer runs on (its CPU accelerator on the CPU)."""
    if device_type == "cpu" and "deepspeed" not in sys.modules:
        os.environ.setdefault("DS_ACCELERATOR", "cpu")
    try:
        import deepspeed
    except ImportError as err:
        raise MisconfigurationException(f"{_NOT_INSTALLED} (importing it failed: {err})") from None
    from deepspeed.accelerator import get_accelerator

    deepspeed.utils.logging.logger.setLevel(logging_level)
    theirs = get_accelerator().device_name()
    if theirs != device_type:
        raise MisconfigurationException(
            f"DeepSpeed runs on its {theirs!r} accelerator, but the Trainer runs on {device_type!r}. Set "
            f"DS_ACCELERATOR={device_type} before deepspeed is first imported, or choose the Trainer's accelerator to match."
        )
    return deepspeed


def _configure_activation_checkpointing(deepspeed, config: dict[str, Any]) -> None:
    settings = config.get("activation_checkpointing")
    if settings:
        deepspeed.checkpointing.configure(
            mpu_=None, partition_activations=settings.get("partition_activations"),
            contiguous_checkpointing=settings.get("contiguous_memory_optimization"),
            checkpoint_in_cpu=settings.get("cpu_checkpointing"), profile=settings.get("profile"),
        )


def _model_file(folder: str) -> str:
    """Rank zero's model-states file (it holds the client state): ZeRO 1-2 and ZeRO 3 name it differently."""
    for name in ("mp_rank_00_model_states.pt", "zero_pp_rank_0_mp_rank_00_model_states.pt"):
        path = os.path.join(folder, _TAG, name)
        if os.path.isfile(path):
            return path
    return os.path.join(folder, _TAG, "mp_rank_00_model_states.pt")


def is_deepspeed_checkpoint(path: str | os.PathLike) -> bool:
    """A folder written by ``DeepSpeedStrategy`` (DeepSpeed's files under ``checkpoint/``)."""
    return os.path.isfile(_model_file(os.fspath(path)))


class _SafeLoading:
    """The engine's checkpoint engine, with every read through ``torch.load(weights_only=True)``: tensors,
    containers and the few plain data classes DeepSpeed pickles into its files (loss scaler, ZeRO stage,
    fragment addresses); nothing in the folder can run code. Writes go to the engine's own."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.weights_only = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def load(self, path: str, map_location: Any = None) -> Any:
        from runtime.checkpoint.files import load_file

        with torch.serialization.safe_globals(deepspeed_data_classes()):
            return load_file(path, map_location=map_location, weights_only=self.weights_only)
