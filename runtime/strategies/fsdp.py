"""Fully sharded data parallel on torch's ``fully_shard`` (FSDP2): parameters, gradients and optimizer
state split across the processes, so a model several times one device's memory still trains.

``Trainer(strategy="fsdp", devices=N)`` or ``Trainer(strategy=FSDPStrategy(auto_wrap_policy={Block}))``.
Processes start as for DDP. Each module the policy picks becomes its own sharding unit (gathered just
before its forward, freed after); everything else is sharded by the root unit, which wraps the whole
LightningModule so every step (training, validation, test, predict) runs through it.

Checkpoints (``state_dict_type="full"``, the default) hold full tensors in the ordinary format (state
dict and optimizer state keyed as on one device): each tensor is gathered in turn, kept on the CPU of
global rank zero, and written by it alone. So a checkpoint saved here loads on a single device, and one
saved on a single device loads here (every rank reads the file and keeps its own shard). With
``state_dict_type="sharded"`` every process writes its own shards into a checkpoint folder instead
(``runtime/checkpoint/sharded.py``): no process holds the whole model, and one process can still load it.
"""
import inspect
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, Generator

import torch
from torch import nn

from runtime.checkpoint import sharded
from runtime.strategies.ddp import DDPStrategy, _StepModule
from runtime.utilities.exceptions import MisconfigurationException

_SHARDING = {"FULL_SHARD": True, "SHARD_GRAD_OP": False}  # name -> reshard_after_forward


class FSDPStrategy(DDPStrategy):
    """Shard the module with ``torch.distributed.fsdp.fully_shard`` across ``devices x num_nodes`` processes.

    Args:
        auto_wrap_policy: which submodules become their own sharding unit: a set of module classes
            (``{nn.TransformerEncoderLayer}``), a function ``module -> bool``, or one of torch's FSDP1
            policies (``ModuleWrapPolicy``, ``size_based_auto_wrap_policy``). None: only the root unit.
        activation_checkpointing_policy: module classes whose activations are recomputed in backward
            instead of kept (``{Block}``): less memory, one more forward per block.
        sharding_strategy: ``"FULL_SHARD"`` (free gathered parameters after each forward) or
            ``"SHARD_GRAD_OP"`` (keep them until backward: faster, more memory).
        mixed_precision: a ``torch.distributed.fsdp.MixedPrecisionPolicy`` (or FSDP1's ``MixedPrecision``).
        cpu_offload: True, a ``CPUOffloadPolicy`` or FSDP1's ``CPUOffload``: keep shards in CPU memory.
        state_dict_type: ``"full"`` (one file, single-device format) or ``"sharded"`` (a folder of shards).
        **kwargs: passed to ``fully_shard`` (e.g. ``shard_placement_fn``).
    """

    supports_inference_mode = False  # gathered parameters made under inference_mode could not train later
    checkpoint_needs_all_ranks = True

    def __init__(self, accelerator=None, parallel_devices=None, cluster_environment=None, checkpoint_io=None,
                 precision_plugin=None, auto_wrap_policy: Any = None, activation_checkpointing_policy: Any = None,
                 sharding_strategy: Any = "FULL_SHARD", mixed_precision: Any = None, cpu_offload: Any = False,
                 state_dict_type: str = "full", **kwargs: Any) -> None:
        name = getattr(sharding_strategy, "name", sharding_strategy)  # also torch's ShardingStrategy enum
        if name not in _SHARDING:
            raise MisconfigurationException(
                f"sharding_strategy={sharding_strategy!r} is not supported by strategy='fsdp'; use one of "
                f"{sorted(_SHARDING)} (HYBRID_SHARD / NO_SHARD have no fully_shard equivalent here)."
            )
        if state_dict_type not in ("full", "sharded"):
            raise MisconfigurationException(
                f"state_dict_type={state_dict_type!r}: use 'full' (one file in the single-device format, gathered "
                "to global rank zero) or 'sharded' (a folder of per-process shards; no process holds the whole model)."
            )
        ddp_keys = {"num_nodes", "start_method", "process_group_backend", "timeout"}
        super().__init__(accelerator, parallel_devices, cluster_environment, checkpoint_io, precision_plugin,
                         **{k: kwargs.pop(k) for k in list(kwargs) if k in ddp_keys})
        if self.start_method != "popen":
            raise MisconfigurationException("strategy='fsdp' starts its processes like 'ddp' (start_method='popen').")
        self.auto_wrap_policy = _as_policy(auto_wrap_policy, "auto_wrap_policy")
        self.activation_checkpointing_policy = _as_policy(activation_checkpointing_policy, "activation_checkpointing_policy")
        self.sharding_strategy = name
        self.mixed_precision = _mp_policy(mixed_precision)
        self.cpu_offload = _offload_policy(cpu_offload)
        self.state_dict_type = state_dict_type
        self.fully_shard_kwargs = _fully_shard_kwargs(kwargs)
        self._sharded: nn.Module | None = None

    # -- setup: shard once; the shards (and the process group they live on) stay for later runs
    def setup(self, trainer) -> None:
        self.trainer = trainer
        module = trainer.lightning_module
        root = module.__dict__.get("_fsdp_root")
        if root is None and _has_meta_tensors(module):
            _check_initialisable(module)  # before any process group exists
        self.setup_environment()
        self.accelerator.setup_device(self.root_device)  # sharded by an earlier run (of this or another Trainer)
        if root is not None:
            if root.fsdp_mesh.size() != self.world_size:
                raise MisconfigurationException(
                    f"{type(module).__name__} was sharded over {root.fsdp_mesh.size()} processes by an earlier run; "
                    f"this Trainer runs {self.world_size}. Build a new model, or load it from a checkpoint."
                )
        else:
            root = self._shard(module, trainer.sync_batchnorm)
            module.__dict__["_fsdp_root"] = root  # not a submodule: no cycle in modules() or state_dict()
        self._sharded = root
        self._share_logger_versions(trainer)

    def _shard(self, module: nn.Module, sync_batchnorm: bool) -> nn.Module:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import FSDPModule, fully_shard

        if sync_batchnorm:
            nn.SyncBatchNorm.convert_sync_batchnorm(module)
        self.precision_plugin.convert_module(module)
        on_meta = _has_meta_tensors(module)
        for sub in module.modules():
            if sub is not module and self.activation_checkpointing_policy(sub):
                _recompute_in_backward(sub)
        mesh = init_device_mesh(self.root_device.type, (self.world_size,))
        options: dict[str, Any] = {**self.fully_shard_kwargs, "mesh": mesh,
                                   "reshard_after_forward": _SHARDING[self.sharding_strategy]}
        if self.mixed_precision is not None:
            options["mp_policy"] = self.mixed_precision
        if self.cpu_offload is not None:
            options["offload_policy"] = self.cpu_offload
        # children before parents: each unit takes the parameters no unit below it took. fully_shard moves
        # each unit to the device as it shards it, so the whole model is never on one device
        for sub in reversed(list(module.modules())):
            if sub is not module and not isinstance(sub, FSDPModule) and self.auto_wrap_policy(sub):
                fully_shard(sub, **options)
        root = _StepModule(module)
        fully_shard(root, **options)
        root.fsdp_mesh = mesh
        if on_meta:
            _materialize(root, torch.device("cpu") if self.cpu_offload is not None else self.root_device)
        return root

    @property
    def model(self) -> nn.Module:
        return self._sharded if self._sharded is not None else self.trainer.lightning_module

    def step(self, name: str, *args: Any) -> Any:
        return self._sharded(name, *args)

    @contextmanager
    def no_sync(self) -> Generator[None, None, None]:
        """Accumulate unsharded gradients locally; reduce-scatter only on the micro-batch that steps."""
        self._sharded.set_requires_gradient_sync(False)
        try:
            yield
        finally:
            self._sharded.set_requires_gradient_sync(True)

    @contextmanager
    def tensor_init_context(self, empty_init: bool | None = None) -> Generator[None, None, None]:
        """``empty_init=True``: create parameters on the meta device; they are allocated shard by shard
        at setup and filled by each module's ``reset_parameters()``. Otherwise they are made on the CPU
        and each sharding unit moves to the device as it is sharded."""
        with torch.device("meta") if empty_init else nullcontext():  # else on the CPU: sharding moves each unit
            yield

    # -- checkpoints: "full" gathers each tensor in turn to global rank zero's CPU; "sharded" writes shards
    def lightning_module_state_dict(self) -> dict[str, Any]:
        state = self.trainer.lightning_module.state_dict()
        return state if self.state_dict_type == "sharded" else self._gather(state)

    def optimizer_state(self, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        if self.state_dict_type == "sharded":
            from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

            return get_optimizer_state_dict(self.trainer.lightning_module, optimizer)
        state = optimizer.state_dict()
        gathered = {i: self._gather(state["state"][i]) for i in sorted(state["state"])}
        return {"state": gathered if self.is_global_zero else {}, "param_groups": state["param_groups"]}

    def _gather(self, tensors: dict[str, Any]) -> dict[str, Any]:
        """Every rank takes part in each all-gather; only global rank zero keeps the result (on CPU)."""
        from torch.distributed.tensor import DTensor

        out = {}
        for key, value in tensors.items():
            if isinstance(value, DTensor):
                value = value.full_tensor()
            if self.is_global_zero:
                out[key] = value.detach().cpu() if isinstance(value, torch.Tensor) else value
        return out

    def save_checkpoint(self, checkpoint: dict[str, Any], filepath: str, storage_options: Any = None) -> None:
        if self.state_dict_type == "sharded":  # every rank writes (checkpoint IO plugins are not used)
            sharded.save(checkpoint, filepath, self)
        else:
            super().save_checkpoint(checkpoint, filepath, storage_options)

    def load_checkpoint(self, filepath: str, weights_only: bool | None = True) -> dict[str, Any]:
        if sharded.is_sharded(filepath):  # each rank reads only its shards, straight into the model
            return sharded.load_into(filepath, self.trainer.lightning_module)
        # a full file: tensors stay in CPU memory; each rank moves only its own shard to the device
        return self.checkpoint_io.load_checkpoint(filepath, map_location="cpu", weights_only=weights_only)

    def load_model_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> None:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

        if isinstance(state_dict, sharded.LoadedInPlace):
            return
        module = self.trainer.lightning_module
        if strict:  # the message load_state_dict gives, before any collective starts
            mismatch = sharded.key_mismatch(module.state_dict(), state_dict)
            if mismatch:
                raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}: {mismatch}")
        set_model_state_dict(module, state_dict, options=StateDictOptions(full_state_dict=True, strict=strict))

    def load_optimizer_state_dict(self, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
        """Load a full (single-device format) optimizer state: each tensor shaped like its parameter is cut to
        this rank's shard first, so the full state never reaches the device."""
        from torch.distributed.tensor import DTensor, distribute_tensor

        if isinstance(state, sharded.OptimizerStatesInFolder):  # the folder was read before the optimizers existed
            sharded.load_optimizers_into(state, self.trainer.lightning_module, self.trainer.optimizers)
            return
        if isinstance(state, sharded.LoadedInPlace):
            return
        params = [p for group in optimizer.param_groups for p in group["params"]]

        def shard_like(value: Any, param: torch.Tensor) -> Any:
            if not (isinstance(param, DTensor) and isinstance(value, torch.Tensor) and not isinstance(value, DTensor)
                    and value.shape == param.shape):
                return value
            dtype = param.dtype if value.is_floating_point() else value.dtype
            # every rank holds the full value, so each cuts its own piece: no communication (src_data_rank=None)
            return distribute_tensor(value.to(param.device, dtype), param.device_mesh, param.placements, src_data_rank=None)

        per_param = {i: {k: shard_like(v, params[i]) for k, v in values.items()} for i, values in state["state"].items()}
        optimizer.load_state_dict({**state, "state": per_param})


def _as_policy(policy: Any, name: str) -> Callable[[nn.Module], bool]:
    """``module -> bool`` from a set of classes, a function, or torch's FSDP1 policies."""
    if policy is None:
        return lambda module: False
    classes = getattr(policy, "_module_classes", None)  # torch's ModuleWrapPolicy
    if classes is not None:
        policy = set(classes)
    if isinstance(policy, type) and issubclass(policy, nn.Module):
        policy = {policy}
    if isinstance(policy, (set, frozenset, list, tuple)):
        classes = tuple(policy)
        bad = [c for c in classes if not (isinstance(c, type) and issubclass(c, nn.Module))]
        if bad:
            raise MisconfigurationException(f"{name}: {bad} are not nn.Module classes; pass e.g. {{nn.Linear}}.")
        return lambda module: isinstance(module, classes)
    if callable(policy):
        try:
            takes = inspect.signature(policy).parameters
        except (TypeError, ValueError):
            return policy
        if "recurse" in takes and "nonwrapped_numel" in takes:  # FSDP1's policy functions
            return lambda module: bool(policy(module=module, recurse=False, nonwrapped_numel=_unsharded_numel(module)))
        return policy
    raise MisconfigurationException(
        f"{name}={policy!r}: pass a set of module classes ({{MyBlock}}) or a function module -> bool."
    )


def _unsharded_numel(module: nn.Module) -> int:
    """Parameters of ``module`` that no unit below it has taken yet (what an FSDP1 size policy weighs)."""
    from torch.distributed.tensor import DTensor

    return sum(p.numel() for p in module.parameters() if not isinstance(p, DTensor))


def _mp_policy(mixed_precision: Any) -> Any:
    if mixed_precision is None:
        return None
    from torch.distributed.fsdp import MixedPrecisionPolicy

    if isinstance(mixed_precision, MixedPrecisionPolicy):
        return mixed_precision
    if hasattr(mixed_precision, "param_dtype") and hasattr(mixed_precision, "reduce_dtype"):  # FSDP1's MixedPrecision
        return MixedPrecisionPolicy(param_dtype=mixed_precision.param_dtype, reduce_dtype=mixed_precision.reduce_dtype)
    raise MisconfigurationException(
        f"mixed_precision={mixed_precision!r}: pass torch.distributed.fsdp.MixedPrecisionPolicy(param_dtype=..., "
        "reduce_dtype=...), or use the Trainer's precision= flag."
    )


def _offload_policy(cpu_offload: Any) -> Any:
    from torch.distributed.fsdp import CPUOffloadPolicy

    if isinstance(cpu_offload, CPUOffloadPolicy):
        return cpu_offload
    if hasattr(cpu_offload, "offload_params"):  # FSDP1's CPUOffload(offload_params=...)
        cpu_offload = cpu_offload.offload_params
    if cpu_offload is None:  # Lightning's default
        return None
    if isinstance(cpu_offload, bool):
        return CPUOffloadPolicy() if cpu_offload else None
    raise MisconfigurationException(f"cpu_offload={cpu_offload!r}: pass True/False or a CPUOffloadPolicy.")


_FSDP1_ONLY = {"use_orig_params"}  # fully_shard always keeps the original parameters


def _fully_shard_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    from torch.distributed.fsdp import fully_shard

    accepted = set(inspect.signature(fully_shard).parameters) - {"module", "mesh", "reshard_after_forward", "mp_policy", "offload_policy"}
    unknown = sorted(set(kwargs) - accepted - _FSDP1_ONLY)
    if unknown:
        raise MisconfigurationException(
            f"FSDPStrategy got {unknown}, which torch's fully_shard does not take; it accepts {sorted(accepted)} "
            "besides the strategy's own arguments (auto_wrap_policy, activation_checkpointing_policy, "
            "sharding_strategy, mixed_precision, cpu_offload, state_dict_type)."
        )
    return {k: v for k, v in kwargs.items() if k not in _FSDP1_ONLY}


def _recompute_in_backward(module: nn.Module) -> None:
    """Activation checkpointing: keep only the module's inputs; its forward runs again during backward."""
    from torch.utils.checkpoint import checkpoint

    forward = module.forward

    def recomputed(*args: Any, **kwargs: Any) -> Any:
        if not torch.is_grad_enabled():
            return forward(*args, **kwargs)
        return checkpoint(forward, *args, use_reentrant=False, **kwargs)

    module.forward = recomputed


def _has_meta_tensors(module: nn.Module) -> bool:
    return any(t.is_meta for t in (*module.parameters(), *module.buffers()))


def _check_initialisable(module: nn.Module) -> None:
    """Tensors made on the meta device hold no values: each must belong to a module whose
    ``reset_parameters()`` sets them, or training would start from uninitialised memory."""
    orphans = [
        f"{name}.{key}" if name else key
        for name, sub in module.named_modules()
        if not callable(getattr(sub, "reset_parameters", None))
        for key, t in (*sub._parameters.items(), *sub._buffers.items())
        if t is not None and t.is_meta
    ]
    if orphans:
        raise MisconfigurationException(
            f"{orphans} were created on the meta device (init_module(empty_init=True)), but no module's "
            "reset_parameters() initialises them. Define reset_parameters() on the module that owns them, "
            "or create the model without empty_init."
        )


def _materialize(module: nn.Module, device: torch.device) -> None:
    """Allocate the tensors made on the meta device (each rank only its shard) and initialise them; modules
    whose tensors are real already (a pretrained block attached later) are left as they are."""
    with torch.no_grad():
        for sub in module.modules():
            if any(t is not None and t.is_meta for t in (*sub._parameters.values(), *sub._buffers.values())):
                sub.to_empty(device=device, recurse=False)
                sub.reset_parameters()
