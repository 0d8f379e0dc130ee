"""StochasticWeightAveraging: average the weights of the last epochs (Izmailov et al., 2018).

From ``swa_epoch_start`` on, the callback swaps the scheduler for ``torch.optim.swa_utils.SWALR`` and
adds the weights to a running average once per epoch. At the end of training the averaged weights are
copied into the module; when the module has BatchNorm layers, their statistics are then recomputed
with one forward pass over the training data (what ``torch.optim.swa_utils.update_bn`` does), so no
extra training epoch is needed.
"""
from copy import deepcopy
from typing import Any, Callable

import torch
from torch import nn
from torch.optim.swa_utils import SWALR

from runtime.callbacks.callback import Callback
from runtime.core.optimizer import LRSchedulerConfig
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_info, rank_zero_warn

_AVG_FN = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


class StochasticWeightAveraging(Callback):
    r"""Average the weights over the last epochs of training.

    Args:
        swa_lrs: the SWA learning rate, one float for every parameter group or a list with one per group.
        swa_epoch_start: an int: the (1-based) epoch to start averaging at; a float in [0, 1]: that
            fraction of ``max_epochs``.
        annealing_epochs: epochs over which SWALR anneals each group's lr to ``swa_lrs``.
        annealing_strategy: "cos" or "linear".
        avg_fn: ``avg_fn(averaged_param, param, num_averaged)``; the default is the running mean.
        device: where the averaged copy lives (default CPU, so it costs no accelerator memory);
            None keeps it on the module's device.

    Example::

        Trainer(max_epochs=20, callbacks=[StochasticWeightAveraging(swa_lrs=1e-2)]).fit(model)
    """

    def __init__(
        self,
        swa_lrs: float | list[float],
        swa_epoch_start: int | float = 0.8,
        annealing_epochs: int = 10,
        annealing_strategy: str = "cos",
        avg_fn: _AVG_FN | None = None,
        device: torch.device | str | None = torch.device("cpu"),
    ) -> None:
        err = "swa_epoch_start should be a >0 integer or a float between 0 and 1."
        if isinstance(swa_epoch_start, int) and swa_epoch_start < 1:
            raise MisconfigurationException(err)
        if isinstance(swa_epoch_start, float) and not (0 <= swa_epoch_start <= 1):
            raise MisconfigurationException(err)
        wrong_type = not isinstance(swa_lrs, (float, list))
        wrong_float = isinstance(swa_lrs, float) and swa_lrs <= 0
        wrong_list = isinstance(swa_lrs, list) and not all(isinstance(lr, float) and lr > 0 for lr in swa_lrs)
        if wrong_type or wrong_float or wrong_list:
            raise MisconfigurationException(f"The `swa_lrs` should be a positive float, or a list of positive floats; got {swa_lrs!r}.")
        if annealing_strategy not in ("cos", "linear"):
            raise MisconfigurationException(f"annealing_strategy={annealing_strategy!r} must be 'cos' or 'linear'.")
        if avg_fn is not None and not callable(avg_fn):
            raise MisconfigurationException("The `avg_fn` should be callable.")
        if device is not None and not isinstance(device, (torch.device, str)):
            raise MisconfigurationException(f"device is expected to be a torch.device or a str. Found {device}")
        self.n_averaged: torch.Tensor | None = None
        self._swa_epoch_start = swa_epoch_start
        self._swa_lrs = swa_lrs
        self._annealing_epochs = annealing_epochs
        self._annealing_strategy = annealing_strategy
        self._avg_fn = avg_fn or self.avg_fn
        self._device = device
        self._model_contains_batch_norm: bool | None = None
        self._average_model: nn.Module | None = None
        self._initialized = False
        self._swa_scheduler: Any = None
        self._scheduler_state: dict | None = None
        self._init_n_averaged = 0
        self._latest_update_epoch = -1
        self._max_epochs = -1

    @property
    def swa_start(self) -> int:
        return max(self._swa_epoch_start - 1, 0)  # 0-based

    @property
    def swa_end(self) -> int:
        return self._max_epochs - 1  # 0-based

    @staticmethod
    def pl_module_contains_batch_norm(pl_module: nn.Module) -> bool:
        return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in pl_module.modules())

    # -- hooks
    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage == "fit":
            # a copy made before the strategy moves the module, so the average can live elsewhere (CPU)
            attached, pl_module._trainer = pl_module._trainer, None  # copy the weights, not the trainer
            try:
                self._average_model = deepcopy(pl_module)
            finally:
                pl_module._trainer = attached

    def on_fit_start(self, trainer, pl_module) -> None:
        if len(trainer.optimizers) != 1:
            raise MisconfigurationException("SWA currently works with 1 `optimizer`.")
        if len(trainer.lr_scheduler_configs) > 1:
            raise MisconfigurationException("SWA currently not supported for more than 1 `lr_scheduler`.")
        if trainer.max_epochs is None or trainer.max_epochs < 1:
            raise MisconfigurationException(
                f"StochasticWeightAveraging needs a bounded number of epochs (max_epochs={trainer.max_epochs}); pass Trainer(max_epochs=N)."
            )
        if isinstance(self._swa_epoch_start, float):
            self._swa_epoch_start = int(trainer.max_epochs * self._swa_epoch_start)
        self._model_contains_batch_norm = self.pl_module_contains_batch_norm(pl_module)
        self._max_epochs = trainer.max_epochs
        if self._scheduler_state is not None:  # resumed: the checkpoint's SWALR replaces the user's scheduler
            trainer.lr_scheduler_configs.clear()

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        epoch = trainer.current_epoch
        if not self._initialized and self.swa_start <= epoch <= self.swa_end:
            self._initialized = True
            self._average_model = self._average_model.to(self._device or pl_module.device)
            optimizer = trainer.optimizers[0]
            if isinstance(self._swa_lrs, float):
                self._swa_lrs = [self._swa_lrs] * len(optimizer.param_groups)
            for lr, group in zip(self._swa_lrs, optimizer.param_groups):
                group["initial_lr"] = lr
            self._swa_scheduler = SWALR(
                optimizer,
                swa_lr=self._swa_lrs,
                anneal_epochs=self._annealing_epochs,
                anneal_strategy=self._annealing_strategy,
                last_epoch=trainer.max_epochs if self._annealing_strategy == "cos" else -1,
            )
            if self._scheduler_state is not None:
                self._swa_scheduler.load_state_dict(self._scheduler_state)
            elif epoch != self.swa_start:
                rank_zero_warn("SWA is initializing after swa_start without any checkpoint data. This may be caused by "
                               "loading a checkpoint from an older version of PyTorch Lightning.")
            config = LRSchedulerConfig(self._swa_scheduler)  # stepped once per epoch
            if trainer.lr_scheduler_configs:
                old = trainer.lr_scheduler_configs[0]
                if old.interval != "epoch" or old.frequency != 1:
                    rank_zero_warn(f"SWA is currently only supported every epoch. Found {old}")
                rank_zero_info(f"Swapping scheduler `{type(old.scheduler).__name__}` for `{type(self._swa_scheduler).__name__}`")
                trainer.lr_scheduler_configs[0] = config
            else:
                trainer.lr_scheduler_configs.append(config)
            if self.n_averaged is None:
                self.n_averaged = torch.tensor(self._init_n_averaged, dtype=torch.long, device=pl_module.device)

        if self.swa_start <= epoch <= self.swa_end and epoch > self._latest_update_epoch:
            self.update_parameters(self._average_model, pl_module, self.n_averaged, self._avg_fn)
            self._latest_update_epoch = epoch

    def on_train_end(self, trainer, pl_module) -> None:
        # the epoch counter has moved past the last epoch when this runs
        if self._initialized and trainer.current_epoch - 1 == self.swa_end:
            # as in Lightning, the average holds the weights at the start of each SWA epoch
            self.transfer_weights(self._average_model, pl_module)
            if self._model_contains_batch_norm:
                self._update_batch_norm(trainer, pl_module)

    def state_dict(self) -> dict[str, Any]:
        return {
            "n_averaged": 0 if self.n_averaged is None else self.n_averaged.item(),
            "latest_update_epoch": self._latest_update_epoch,
            "scheduler_state": None if self._swa_scheduler is None else self._swa_scheduler.state_dict(),
            "average_model_state": None if self._average_model is None else self._average_model.state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._init_n_averaged = state_dict["n_averaged"]
        self._latest_update_epoch = state_dict["latest_update_epoch"]
        self._scheduler_state = state_dict["scheduler_state"]
        if self._average_model is not None and state_dict.get("average_model_state") is not None:
            self._average_model.load_state_dict(state_dict["average_model_state"])

    # -- the averaging
    @staticmethod
    def transfer_weights(src_pl_module: nn.Module, dst_pl_module: nn.Module) -> None:
        for src, dst in zip(src_pl_module.parameters(), dst_pl_module.parameters()):
            dst.detach().copy_(src.to(dst.device))

    @staticmethod
    def update_parameters(average_model: nn.Module, model: nn.Module, n_averaged: torch.Tensor, avg_fn: _AVG_FN) -> None:
        for p_swa, p_model in zip(average_model.parameters(), model.parameters()):
            device = p_swa.device
            p_swa_ = p_swa.detach()
            p_model_ = p_model.detach().to(device)
            src = p_model_ if n_averaged == 0 else avg_fn(p_swa_, p_model_, n_averaged.to(device))
            p_swa_.copy_(src)
        n_averaged += 1

    @staticmethod
    def avg_fn(averaged_model_parameter: torch.Tensor, model_parameter: torch.Tensor, num_averaged: torch.Tensor) -> torch.Tensor:
        return averaged_model_parameter + (model_parameter - averaged_model_parameter) / (num_averaged + 1)

    @torch.no_grad()
    def _update_batch_norm(self, trainer, pl_module) -> None:
        """Recompute BatchNorm running statistics for the averaged weights: one forward pass over the train data."""
        loader = trainer.train_dataloader
        if loader is None:
            return
        bns = [m for m in pl_module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        momenta = {}
        for bn in bns:
            bn.reset_running_stats()
            momenta[bn] = bn.momentum
            bn.momentum = None  # a cumulative average over the pass
        was_training = pl_module.training
        pl_module.train()
        limit = trainer.num_training_batches
        try:
            for i, batch in enumerate(loader):
                if i >= limit:
                    break
                batch = trainer.strategy.batch_to_device(batch)
                x = batch[0] if isinstance(batch, (list, tuple)) else batch
                pl_module(x)
        finally:
            for bn, momentum in momenta.items():
                bn.momentum = momentum
            pl_module.train(was_training)
