"""Type names Lightning code annotates with (``STEP_OUTPUT``, ``OptimizerLRScheduler``, ...) and the scheduler config."""
import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Protocol, Sequence, TypedDict, Union, runtime_checkable

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from typing_extensions import NotRequired, Required  # a torch dependency; in typing from Python 3.11


_NUMBER = Union[int, float]
_METRIC = Union[Tensor, _NUMBER, Any]
STEP_OUTPUT = Optional[Union[Tensor, Mapping[str, Any]]]
_EVALUATE_OUTPUT = list[Mapping[str, float]]  # one dict per dataloader
_PREDICT_OUTPUT = Union[list[Any], list[list[Any]]]
TRAIN_DATALOADERS = Any  # any iterable or collection of iterables
EVAL_DATALOADERS = Any
_PATH = Union[str, "os.PathLike[str]"]
_DEVICE = Union[torch.device, str, int]
_MAP_LOCATION_TYPE = Optional[Union[_DEVICE, Any, dict[_DEVICE, _DEVICE]]]

LRSchedulerTypeTuple = (LRScheduler, ReduceLROnPlateau)
LRSchedulerTypeUnion = Union[LRScheduler, ReduceLROnPlateau]
LRSchedulerType = Union[type[LRScheduler], type[ReduceLROnPlateau]]
LRSchedulerPLType = Union[LRScheduler, ReduceLROnPlateau]


@dataclass
class LRSchedulerConfig:
    """One scheduler as the trainer steps it (what a ``configure_optimizers`` scheduler dict becomes)."""

    scheduler: Any
    name: Optional[str] = None
    interval: str = "epoch"  # or "step"
    frequency: int = 1
    reduce_on_plateau: bool = False
    monitor: Optional[str] = None  # the metric a ReduceLROnPlateau reads
    strict: bool = True  # a missing monitor is an error, not a warning
    opt_idx: Optional[int] = None


class LRSchedulerConfigType(TypedDict, total=False):
    scheduler: Required[LRSchedulerTypeUnion]
    name: Optional[str]
    interval: str
    frequency: int
    reduce_on_plateau: bool
    monitor: Optional[str]
    strict: bool


class OptimizerConfig(TypedDict):
    optimizer: Optimizer


class OptimizerLRSchedulerConfig(TypedDict):
    optimizer: Optimizer
    lr_scheduler: Union[LRSchedulerTypeUnion, LRSchedulerConfigType]
    monitor: NotRequired[str]


OptimizerLRScheduler = Optional[
    Union[
        Optimizer,
        Sequence[Optimizer],
        tuple[Sequence[Optimizer], Sequence[Union[LRSchedulerTypeUnion, LRSchedulerConfig]]],
        OptimizerConfig,
        OptimizerLRSchedulerConfig,
        Sequence[OptimizerConfig],
        Sequence[OptimizerLRSchedulerConfig],
    ]
]


@runtime_checkable
class _Stateful(Protocol):
    """Anything with ``state_dict`` / ``load_state_dict``."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> None: ...
