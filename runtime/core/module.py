"""LightningModule: an nn.Module that also holds the training logic (the "science")."""
from contextlib import contextmanager
from typing import Any, Generator, Mapping

import torch
from torch import nn

from runtime.core.hooks import CheckpointHooks, DataHooks, ModelHooks
from runtime.core.hparams import HyperparametersMixin
from runtime.core.optimizer import LightningOptimizer
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_deprecation, rank_zero_warn


class LightningModule(HyperparametersMixin, ModelHooks, DataHooks, CheckpointHooks, nn.Module):
    """Subclass it, define ``training_step`` and ``configure_optimizers``, and hand it to ``Trainer.fit``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._trainer = None
        self._automatic_optimization = True
        self._example_input_array = None
        self._device = torch.device("cpu")
        self._dtype = torch.get_default_dtype()
        self._current_fx_name = None

    # ------------------------------------------------------------------ properties
    # properties TorchScript must not compile (runtime.core.export scripts the module)
    __jit_unused_properties__ = [
        "trainer", "device", "dtype", "automatic_optimization", "example_input_array", "current_epoch", "global_step",
        "global_rank", "local_rank", "on_gpu", "logger", "loggers", "hparams", "hparams_initial",
    ]
    _jit_is_scripting = False  # set by runtime.core.export while torch.jit inspects the module

    @property
    def trainer(self):
        if self._trainer is None and not self._jit_is_scripting:
            raise RuntimeError(f"{type(self).__name__} is not attached to a `Trainer`.")
        return self._trainer

    @trainer.setter
    def trainer(self, trainer) -> None:
        self._trainer = trainer

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def dtype(self) -> torch.dtype:
        return self._dtype

    @property
    def automatic_optimization(self) -> bool:
        return self._automatic_optimization

    @automatic_optimization.setter
    def automatic_optimization(self, value: bool) -> None:
        self._automatic_optimization = bool(value)

    @property
    def example_input_array(self):
        return self._example_input_array

    @example_input_array.setter
    def example_input_array(self, value) -> None:
        self._example_input_array = value

    @property
    def current_epoch(self) -> int:
        return self._trainer.current_epoch if self._trainer is not None else 0

    @property
    def global_step(self) -> int:
        return self._trainer.global_step if self._trainer is not None else 0

    @property
    def global_rank(self) -> int:
        return self._trainer.global_rank if self._trainer is not None else 0

    @property
    def local_rank(self) -> int:
        return self._trainer.local_rank if self._trainer is not None else 0

    @property
    def on_gpu(self) -> bool:
        return self._device.type == "cuda"

    @property
    def logger(self):
        return self._trainer.logger if self._trainer is not None else None

    @property
    def loggers(self) -> list:
        return self._trainer.loggers if self._trainer is not None else []

    def print(self, *args: Any, **kwargs: Any) -> None:
        """``print`` from global rank zero only."""
        if self._trainer is None or self._trainer.is_global_zero:
            print(*args, **kwargs)

    # ------------------------------------------------------------------ device / dtype bookkeeping
    def _apply(self, fn, *args, **kwargs):
        out = super()._apply(fn, *args, **kwargs)
        for p in self.parameters():
            self._device, self._dtype = p.device, p.dtype if p.is_floating_point() else self._dtype
            break
        return out

    # ------------------------------------------------------------------ the user's science
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return super().forward(*args, **kwargs)

    def training_step(self, *args: Any, **kwargs: Any) -> Any:
        raise MisconfigurationException(f"`training_step` must be implemented on {type(self).__name__} to be used with `Trainer.fit`.")

    def validation_step(self, *args: Any, **kwargs: Any) -> Any:
        rank_zero_warn("`validation_step` must be implemented to be used with the Trainer's validation loop")

    def test_step(self, *args: Any, **kwargs: Any) -> Any:
        rank_zero_warn("`test_step` must be implemented to be used with `Trainer.test`")

    def predict_step(self, *args: Any, **kwargs: Any) -> Any:
        batch = args[0] if args else kwargs.get("batch")
        return self(batch)

    def configure_optimizers(self) -> Any:
        raise MisconfigurationException(
            f"`configure_optimizers` must be implemented on {type(self).__name__} to be used with `Trainer.fit`."
        )

    def configure_callbacks(self):
        return []

    # ------------------------------------------------------------------ logging
    def log(
        self,
        name: str,
        value: Any,
        prog_bar: bool = False,
        logger: bool | None = None,
        on_step: bool | None = None,
        on_epoch: bool | None = None,
        reduce_fx: Any = "mean",
        enable_graph: bool = False,
        sync_dist: bool = False,
        sync_dist_group: Any = None,
        add_dataloader_idx: bool = True,
        batch_size: int | None = None,
        metric_attribute: str | None = None,
        rank_zero_only: bool = False,
    ) -> None:
        """Record ``value`` under ``name`` for loggers, the progress bar and callbacks.

        Where it is called decides the defaults: per step in ``training_step``, per epoch (averaged,
        weighted by ``batch_size``) in ``validation_step``. Values stay on the device until read.
        """
        trainer = self._trainer
        if trainer is None:
            rank_zero_warn(f"self.log({name!r}, ...) was called but the module is not attached to a Trainer; the value is dropped.")
            return
        trainer._results_log(
            self, name, value, prog_bar, logger, on_step, on_epoch, reduce_fx, enable_graph, sync_dist,
            sync_dist_group, add_dataloader_idx, batch_size, rank_zero_only, metric_attribute,
        )

    def log_dict(
        self,
        dictionary: Mapping[str, Any],
        prog_bar: bool = False,
        logger: bool | None = None,
        on_step: bool | None = None,
        on_epoch: bool | None = None,
        reduce_fx: Any = "mean",
        enable_graph: bool = False,
        sync_dist: bool = False,
        sync_dist_group: Any = None,
        add_dataloader_idx: bool = True,
        batch_size: int | None = None,
        rank_zero_only: bool = False,
    ) -> None:
        """``self.log`` for each item of ``dictionary``."""
        if not isinstance(dictionary, Mapping):
            raise TypeError(f"log_dict expects a mapping of names to values, got {type(dictionary).__name__}")
        for k, v in dictionary.items():
            self.log(
                k, v, prog_bar=prog_bar, logger=logger, on_step=on_step, on_epoch=on_epoch, reduce_fx=reduce_fx,
                enable_graph=enable_graph, sync_dist=sync_dist, sync_dist_group=sync_dist_group,
                add_dataloader_idx=add_dataloader_idx, batch_size=batch_size, rank_zero_only=rank_zero_only,
            )

    # ------------------------------------------------------------------ optimization
    def optimizers(self, use_pl_optimizer: bool = True):
        """The optimizer (or list of optimizers) from ``configure_optimizers``, wrapped so ``step`` is tracked."""
        opts = self.trainer._lightning_optimizers if use_pl_optimizer else self.trainer.optimizers
        if not opts:
            return []
        return opts[0] if len(opts) == 1 else list(opts)

    def lr_schedulers(self):
        configs = self.trainer.lr_scheduler_configs
        if not configs:
            return None
        return configs[0].scheduler if len(configs) == 1 else [c.scheduler for c in configs]

    def manual_backward(self, loss: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        """``loss.backward()`` through the precision plugin (scaling under 16-mixed) and the backward hooks."""
        trainer = self.trainer
        if self.automatic_optimization:
            raise MisconfigurationException("`manual_backward` is for manual optimization; set `self.automatic_optimization = False`.")
        optimizer = None
        if args and isinstance(args[0], (torch.optim.Optimizer, LightningOptimizer)):
            rank_zero_deprecation("`manual_backward(loss, optimizer)` is the 1.0 spelling; call `manual_backward(loss)`.")
            optimizer, args = args[0], args[1:]
        trainer.strategy.backward(loss, optimizer, *args, **kwargs)

    def backward(self, loss: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        loss.backward(*args, **kwargs)

    def toggle_optimizer(self, optimizer) -> None:
        """Make only ``optimizer``'s parameters require grad (others are frozen until ``untoggle_optimizer``)."""
        optimizer = getattr(optimizer, "_optimizer", optimizer)
        state: dict = {}
        for opt in self.trainer.optimizers:
            for group in opt.param_groups:
                for p in group["params"]:
                    state.setdefault(p, p.requires_grad)
                    p.requires_grad = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.requires_grad = state.get(p, True)
        self._param_requires_grad_state = state

    def untoggle_optimizer(self, optimizer) -> None:
        for p, flag in getattr(self, "_param_requires_grad_state", {}).items():
            p.requires_grad = flag
        self._param_requires_grad_state = {}

    @contextmanager
    def toggled_optimizer(self, optimizer) -> Generator:
        self.toggle_optimizer(optimizer)
        try:
            yield
        finally:
            self.untoggle_optimizer(optimizer)

    def clip_gradients(self, optimizer, gradient_clip_val: float | None = None, gradient_clip_algorithm: str | None = None) -> None:
        """Clip the gradients of ``optimizer``'s parameters by norm (default) or by value."""
        if gradient_clip_val is None:
            gradient_clip_val = self.trainer.gradient_clip_val or 0.0
        if gradient_clip_algorithm is None:
            gradient_clip_algorithm = self.trainer.gradient_clip_algorithm or "norm"
        self.trainer.precision_plugin.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val: float | None = None, gradient_clip_algorithm: str | None = None) -> None:
        self.clip_gradients(optimizer, gradient_clip_val=gradient_clip_val, gradient_clip_algorithm=gradient_clip_algorithm)

    def optimizer_step(self, epoch: int, batch_idx: int, optimizer, optimizer_closure=None) -> None:
        optimizer.step(closure=optimizer_closure)

    def optimizer_zero_grad(self, epoch: int, batch_idx: int, optimizer) -> None:
        optimizer.zero_grad()

    def lr_scheduler_step(self, scheduler, metric: Any) -> None:
        if metric is None:
            scheduler.step()
        else:
            scheduler.step(metric)

    # ------------------------------------------------------------------ misc
    def all_gather(self, data: Any, group: Any = None, sync_grads: bool = False) -> Any:
        return self.trainer.strategy.all_gather(data, group=group, sync_grads=sync_grads)

    def freeze(self) -> None:
        for p in self.parameters():
            p.requires_grad = False
        self.eval()

    def unfreeze(self) -> None:
        for p in self.parameters():
            p.requires_grad = True
        self.train()

    def to_torchscript(self, file_path=None, method: str = "script", example_inputs: Any = None, **kwargs: Any):
        """A TorchScript module (``method="script"`` or ``"trace"``), saved to ``file_path`` when given."""
        from runtime.core.export import to_torchscript

        return to_torchscript(self, file_path, method=method, example_inputs=example_inputs, **kwargs)

    def to_onnx(self, file_path, input_sample: Any = None, **kwargs: Any) -> Any:
        """Export to ONNX (needs ``pip install onnx onnxscript``); ``input_sample`` defaults to ``example_input_array``."""
        from runtime.core.export import to_onnx

        return to_onnx(self, file_path, input_sample=input_sample, **kwargs)

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path, map_location=None, hparams_file=None, strict: bool = True, weights_only: bool | None = None, **kwargs: Any):
        """Build the module from a checkpoint's saved hyperparameters (overridable by ``kwargs``) and load its weights.

        ``hparams_file`` (a ``hparams.yaml`` a logger wrote, or a tags ``.csv``) replaces the saved
        hyperparameters; it is read as safe YAML, so it holds values only."""
        from runtime.checkpoint.io import load_checkpoint_file
        from runtime.core.saving import instantiate_from_checkpoint

        checkpoint = load_checkpoint_file(checkpoint_path, map_location=map_location, weights_only=weights_only)
        model = instantiate_from_checkpoint(cls, checkpoint, hparams_file, kwargs)
        from runtime.utilities.model_helpers import is_overridden

        if is_overridden("configure_model", model):  # layers built there must exist before the weights load
            model.configure_model()
        model.on_load_checkpoint(checkpoint)
        from runtime.checkpoint.weights import load_weights

        load_weights(model, checkpoint, checkpoint_path, strict=strict)
        if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
            model.to(map_location)
        return model
