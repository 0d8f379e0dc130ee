"""One process, one device: the strategy every multi-device strategy specialises."""
from contextlib import nullcontext
from typing import Any, Callable

import torch

from runtime.accelerators import Accelerator
from runtime.checkpoint.plugins import CheckpointIO, TorchCheckpointIO
from runtime.precision import Precision


class Strategy:
    """What the loop asks of the hardware: move batches, run backward, step optimizers, talk to peers."""

    launcher = None  # what starts the other processes of a multi-process run

    def __init__(self, accelerator: Accelerator, device: torch.device, precision_plugin: Precision,
                 checkpoint_io: CheckpointIO | None = None) -> None:
        self.accelerator = accelerator
        self.root_device = device
        self.precision_plugin = precision_plugin
        self.checkpoint_io = checkpoint_io or TorchCheckpointIO()
        self.trainer = None

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

    # -- the step
    def batch_to_device(self, batch: Any, dataloader_idx: int = 0) -> Any:
        """Move ``batch`` with the transfer hooks (the datamodule's if it overrides one, else the module's)."""
        trainer = self.trainer
        if trainer._transfer_is_noop():
            return batch
        batch = trainer._batch_hook("on_before_batch_transfer", batch, dataloader_idx)
        batch = trainer._batch_hook("transfer_batch_to_device", batch, self.root_device, dataloader_idx)
        batch = trainer._batch_hook("on_after_batch_transfer", batch, dataloader_idx)
        return self.precision_plugin.convert_input(batch)

    def training_step(self, *args: Any) -> Any:
        return self.trainer._hooks.module("training_step", *args)

    def no_sync(self):
        """A context in which backward skips gradient synchronisation (nothing to skip on one process)."""
        return nullcontext()

    def backward(self, loss: torch.Tensor, optimizer: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        """on_before_backward hooks, the module's ``backward`` (loss scaled by the plugin), on_after_backward."""
        hooks = self.trainer._hooks
        hooks("on_before_backward", loss)
        scaled = self.precision_plugin.pre_backward(loss)
        hooks.module("backward", scaled, *args, **kwargs)
        hooks("on_after_backward")
        return loss

    def optimizer_step(self, optimizer, closure: Callable[[], Any], model, **kwargs: Any) -> Any:
        return self.precision_plugin.optimizer_step(optimizer, model, closure, **kwargs)

    # -- collectives (identity on one process)
    def reduce(self, tensor: torch.Tensor, reduce_op: str = "mean", group: Any = None) -> torch.Tensor:
        return tensor

    def all_gather(self, data: Any, group: Any = None, sync_grads: bool = False) -> Any:
        return data

    def broadcast(self, obj: Any, src: int = 0) -> Any:
        return obj

    def barrier(self, name: str | None = None) -> None: ...

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
    """Training on one device in this process."""
