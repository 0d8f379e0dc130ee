"""One process, one device: the strategy every multi-device strategy specialises."""
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, Generator

import torch

from runtime.accelerators import Accelerator
from runtime.checkpoint.plugins import CheckpointIO, TorchCheckpointIO
from runtime.precision import Precision
from runtime.utilities.exceptions import MisconfigurationException


class Strategy:
    """What the loop asks of the hardware: move batches, run backward, step optimizers, talk to peers."""

    launcher = None  # what starts the other processes of a multi-process run
    multi_process = False
    checkpoint_needs_all_ranks = False  # True where saving gathers from every process (FSDP)
    supports_inference_mode = True  # evaluation outside fit may run under torch.inference_mode
    # the loop may hold each parameter's gradient accumulator for a fit (not where parameters are swapped for
    # partitions during the fit, as DeepSpeed ZeRO-3 does: a held accumulator keeps the old shape)
    may_hold_grad_accumulators = True

    def __init__(self, accelerator: Accelerator | None = None, device: torch.device | str | None = None,
                 precision_plugin: Precision | None = None, checkpoint_io: CheckpointIO | None = None) -> None:
        self.accelerator = accelerator
        self.root_device = torch.device(device) if isinstance(device, str) else device
        self.precision_plugin = precision_plugin
        self.precision_given = precision_plugin is not None  # else each Trainer's precision= fills it in
        self.checkpoint_io = checkpoint_io or TorchCheckpointIO()
        self.trainer = None
        self._lightning_module: torch.nn.Module | None = None

    def connect(self, model: torch.nn.Module) -> None:
        """Lightning's ``Strategy.connect(model)``: the LightningModule this strategy runs."""
        self._lightning_module = model
        if self.trainer is not None:
            self.trainer._lightning_module = model
            model.trainer = self.trainer

    @property
    def lightning_module(self) -> torch.nn.Module | None:
        return self.trainer.lightning_module if self.trainer is not None else self._lightning_module

    def connect_hardware(self, accelerator: Accelerator, device_ids: list[int], num_nodes: int,
                         precision_plugin: Precision) -> None:
        """Fill in what a strategy built by the user left out (``Trainer(strategy=DDPStrategy(...))``)."""
        if self.accelerator is None:
            self.accelerator = accelerator
        if not self.precision_given:
            self.precision_plugin = precision_plugin
        if not self.multi_process and len(device_ids) * num_nodes > 1:
            raise MisconfigurationException(
                f"{type(self).__name__} runs one process, but devices x num_nodes = {len(device_ids) * num_nodes}; "
                "pass devices=1, or a multi-process strategy such as strategy='ddp'."
            )
        if self.root_device is None:
            self.root_device = self.accelerator.device(device_ids[0])

    # -- process facts (a single process)
    world_size = 1
    global_rank = 0
    local_rank = 0
    node_rank = 0

    @property
    def is_global_zero(self) -> bool:
        return self.global_rank == 0

    # -- setup
    def setup(self, trainer) -> None:
        self.trainer = trainer
        self.accelerator.setup_device(self.root_device)
        module = trainer.lightning_module
        self.precision_plugin.convert_module(module)
        module.to(self.root_device)

    @property
    def model(self) -> torch.nn.Module:
        return self.trainer.lightning_module

    @contextmanager
    def tensor_init_context(self, empty_init: bool | None = None) -> Generator[None, None, None]:
        """Tensors created inside go straight to this process's device (``Trainer.init_module``)."""
        with torch.device(self.root_device):
            yield

    # -- the step
    def batch_to_device(self, batch: Any, dataloader_idx: int = 0) -> Any:
        """Move ``batch`` with the transfer hooks (the datamodule's if it overrides one, else the module's)."""
        trainer = self.trainer
        if trainer._run.transfer_noop or trainer._transfer_is_noop():  # found once per run
            return batch
        batch = trainer._batch_hook("on_before_batch_transfer", batch, dataloader_idx)
        batch = trainer._batch_hook("transfer_batch_to_device", batch, self.root_device, dataloader_idx)
        batch = trainer._batch_hook("on_after_batch_transfer", batch, dataloader_idx)
        return self.precision_plugin.convert_input(batch)

    def step(self, name: str, *args: Any) -> Any:
        """Run the module's ``training_step`` / ``validation_step`` / ``test_step`` / ``predict_step``."""
        return self.trainer._hooks.module(name, *args)

    def no_sync(self):
        """A context in which backward skips gradient synchronisation (nothing to skip on one process)."""
        return nullcontext()

    def backward(self, loss: torch.Tensor, optimizer: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        """on_before_backward hooks, the module's ``backward`` (loss scaled by the plugin), on_after_backward."""
        hooks = self.trainer._hooks
        if hooks.on_before_backward is not None:  # None when nobody defines the hook
            hooks.on_before_backward(loss)
        scaled = self.precision_plugin.pre_backward(loss)
        if args or kwargs:
            hooks.module("backward", scaled, *args, **kwargs)
        elif hooks.plain_step_hooks:  # the module keeps the base backward: make its one call here
            scaled.backward()
        else:  # the usual call: no argument tuple or keyword dict to build on every step
            hooks.module("backward", scaled)
        if hooks.on_after_backward is not None:
            hooks.on_after_backward()
        return loss

    def optimizer_step(self, optimizer, closure: Callable[[], Any], model, **kwargs: Any) -> Any:
        if kwargs:
            return self.precision_plugin.optimizer_step(optimizer, model, closure, **kwargs)
        return self.precision_plugin.optimizer_step(optimizer, model, closure)  # no keyword dict to build per step

    # -- collectives (identity on one process)
    def reduce(self, tensor: torch.Tensor, reduce_op: str = "mean", group: Any = None) -> torch.Tensor:
        return tensor

    def all_gather(self, data: Any, group: Any = None, sync_grads: bool = False) -> Any:
        return data

    def broadcast(self, obj: Any, src: int = 0) -> Any:
        return obj

    def barrier(self, name: str | None = None) -> None: ...

    def reduce_boolean_decision(self, decision: bool, all: bool = True) -> bool:
        """The decision every process takes (one process: its own)."""
        return decision

    # -- what goes into a checkpoint, and back (a sharding strategy gathers and scatters here)
    def lightning_module_state_dict(self) -> dict[str, Any]:
        return self.trainer.lightning_module.state_dict()

    def optimizer_state(self, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        return optimizer.state_dict()

    def load_model_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> None:
        self.trainer.lightning_module.load_state_dict(state_dict, strict=strict)

    def load_optimizer_state_dict(self, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
        optimizer.load_state_dict(state)

    # -- checkpoint files (written by global rank zero)
    def save_checkpoint(self, checkpoint: dict[str, Any], filepath: str, storage_options: Any = None) -> None:
        if self.is_global_zero:
            self.checkpoint_io.save_checkpoint(checkpoint, filepath, storage_options=storage_options)

    def load_checkpoint(self, filepath: str, weights_only: bool | None = True) -> dict[str, Any]:
        return self.checkpoint_io.load_checkpoint(filepath, map_location=self.root_device, weights_only=weights_only)

    def remove_checkpoint(self, filepath: str) -> None:
        if self.is_global_zero:
            self.checkpoint_io.remove_checkpoint(filepath)

    def teardown(self) -> None:
        self.checkpoint_io.teardown()


class SingleDeviceStrategy(Strategy):
    """Training on one device in this process: ``SingleDeviceStrategy(device="cuda:1")`` (None: the Trainer's)."""

    def __init__(self, device: torch.device | str | None = "cpu", accelerator: Accelerator | None = None,
                 checkpoint_io: CheckpointIO | None = None, precision_plugin: Precision | None = None) -> None:
        super().__init__(accelerator, device, precision_plugin, checkpoint_io)
