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
from contextlib import contextmanager
from typing import Any, Callable, Generator, Iterable

import torch
from torch import nn

from runtime.checkpoint import sharded
from runtime.strategies.ddp import DDPStrategy, _StepModule
from runtime.trainer.states import TrainerFn
from runtime.utilities.exceptions import MisconfigurationException

_SHARDING = {"FULL_SHARD": True, "SHARD_GRAD_OP": False}  # name -> reshard_after_forward


class FSDPStrategy(DDPStrategy):
    """Shard the module with ``torch.distributed.fsdp.fully_shard`` across ``devices x num_nodes`` processes.

    Args:
        auto_wrap_policy: which submodules become their own sharding unit: a set of module classes
            (``{nn.TransformerEncoderLayer}``) or a function ``module -> bool``. None: only the root unit.
        sharding_strategy: ``"FULL_SHARD"`` (free gathered parameters after each forward) or
            ``"SHARD_GRAD_OP"`` (keep them until backward: faster, more memory).
        mixed_precision: a ``torch.distributed.fsdp.MixedPrecisionPolicy``.
        cpu_offload: True or a ``torch.distributed.fsdp.CPUOffloadPolicy``: keep shards in CPU memory.
        state_dict_type: ``"full"`` (one file, single-device format) or ``"sharded"`` (a folder of shards).
        **kwargs: passed to ``fully_shard``.
    """

    supports_inference_mode = False  # gathered parameters made under inference_mode could not train later

    def __init__(self, accelerator=None, parallel_devices=None, cluster_environment=None, checkpoint_io=None,
                 precision_plugin=None, auto_wrap_policy: Iterable[type] | Callable[[nn.Module], bool] | None = None,
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
        self.auto_wrap_policy = _as_policy(auto_wrap_policy)
        self.sharding_strategy = name
        self.mixed_precision = mixed_precision
        self.cpu_offload = cpu_offload
        self.state_dict_type = state_dict_type
        self.fully_shard_kwargs = kwargs
        self._sharded: nn.Module | None = None

    # -- setup: shard once, keep the shards (and the process group they live on) for later runs
    def setup(self, trainer) -> None:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import CPUOffloadPolicy, FSDPModule, fully_shard

        self.trainer = trainer
        self.setup_environment()
        self.accelerator.setup_device(self.root_device)
        module = trainer.lightning_module
        if self._sharded is None or self._sharded.module is not module:
            if trainer.sync_batchnorm:
                nn.SyncBatchNorm.convert_sync_batchnorm(module)
            self.precision_plugin.convert_module(module)
            on_meta = _has_meta_tensors(module)
            if on_meta:
                _check_initialisable(module)
            else:
                module.to(self.root_device)
            options: dict[str, Any] = dict(self.fully_shard_kwargs)
            options["mesh"] = init_device_mesh(self.root_device.type, (self.world_size,))
            options["reshard_after_forward"] = _SHARDING[self.sharding_strategy]
            if self.mixed_precision is not None:
                options["mp_policy"] = self.mixed_precision
            if self.cpu_offload:
                options["offload_policy"] = self.cpu_offload if isinstance(self.cpu_offload, CPUOffloadPolicy) else CPUOffloadPolicy()
            # children before parents: each unit owns the parameters no unit below it took
            for sub in reversed(list(module.modules())):
                if sub is not module and not isinstance(sub, FSDPModule) and self.auto_wrap_policy(sub):
                    fully_shard(sub, **options)
            root = _StepModule(module)
            fully_shard(root, **options)
            if on_meta:
                _materialize(root, self.root_device)
            self._sharded = root
        self._share_logger_versions(trainer)

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
        at setup and filled by each module's ``reset_parameters()``."""
        if empty_init:
            with torch.device("meta"):
                yield
        else:
            with super().tensor_init_context(empty_init):
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
            fitting = self.trainer.state.fn == TrainerFn.FITTING
            return sharded.load_into(filepath, self.trainer.lightning_module, self.trainer.optimizers if fitting else [])
        # a full file: tensors stay in CPU memory; each rank moves only its own shard to the device
        return self.checkpoint_io.load_checkpoint(filepath, map_location="cpu", weights_only=weights_only)

    def load_model_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> None:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

        if isinstance(state_dict, sharded.LoadedInPlace):
            return
        module = self.trainer.lightning_module
        if strict:  # the message load_state_dict gives, before any collective starts
            expected = set(module.state_dict())
            missing, unexpected = sorted(expected - set(state_dict)), sorted(set(state_dict) - expected)
            if missing or unexpected:
                raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}: missing keys {missing}, "
                                   f"unexpected keys {unexpected}")
        set_model_state_dict(module, state_dict, options=StateDictOptions(full_state_dict=True, strict=strict))

    def load_optimizer_state_dict(self, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
        """Load a full (single-device format) optimizer state, then keep only this rank's shard of each tensor."""
        from torch.distributed.tensor import DTensor, distribute_tensor

        if isinstance(state, sharded.LoadedInPlace):
            return
        optimizer.load_state_dict(state)
        for param, values in optimizer.state.items():
            if not isinstance(param, DTensor):
                continue
            for key, value in values.items():
                if isinstance(value, torch.Tensor) and not isinstance(value, DTensor) and value.shape == param.shape:
                    values[key] = distribute_tensor(value.to(param.device, param.dtype if value.is_floating_point() else value.dtype),
                                                    param.device_mesh, param.placements)


def _as_policy(policy: Any) -> Callable[[nn.Module], bool]:
    if policy is None:
        return lambda module: False
    if isinstance(policy, type) and issubclass(policy, nn.Module):
        policy = {policy}
    if isinstance(policy, (set, frozenset, list, tuple)):
        classes = tuple(policy)
        bad = [c for c in classes if not (isinstance(c, type) and issubclass(c, nn.Module))]
        if bad:
            raise MisconfigurationException(f"auto_wrap_policy: {bad} are not nn.Module classes; pass e.g. {{nn.Linear}}.")
        return lambda module: isinstance(module, classes)
    if callable(policy):
        return policy
    raise MisconfigurationException(
        f"auto_wrap_policy={policy!r}: pass a set of module classes ({{MyBlock}}) or a function module -> bool."
    )


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
    """Allocate parameters made on the meta device (each rank only its shard) and initialise them."""
    module.to_empty(device=device)
    with torch.no_grad():
        for sub in module.modules():
            reset = getattr(sub, "reset_parameters", None)
            if callable(reset):
                reset()
