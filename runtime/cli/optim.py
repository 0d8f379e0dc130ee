"""Optimizer-side classes the config runner can name, as Lightning's ``lightning.pytorch.cli`` has them."""
import torch


class ReduceLROnPlateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
    """torch's ReduceLROnPlateau plus the ``monitor`` it watches, so ``--lr_scheduler=ReduceLROnPlateau`` works from a config."""

    def __init__(self, optimizer: torch.optim.Optimizer, monitor: str, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float = 0.0, eps: float = 1e-8) -> None:
        super().__init__(optimizer, mode=mode, factor=factor, patience=patience, threshold=threshold,
                         threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=eps)
        self.monitor = monitor
