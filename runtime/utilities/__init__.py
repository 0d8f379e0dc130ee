"""Small helpers shared across the runtime, at Lightning's ``lightning.pytorch.utilities`` paths."""
import torch

from runtime.utilities.apply_func import apply_to_collection, move_data_to_device
from runtime.utilities.enums import GradClipAlgorithmType, LightningEnum
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.grads import grad_norm
from runtime.utilities.parsing import AttributeDict, is_picklable
from runtime.utilities.rank_zero import rank_zero_deprecation, rank_zero_info, rank_zero_only, rank_zero_warn
from runtime.utilities.seed import seed_everything
from runtime.utilities.warnings import disable_possible_user_warnings

__all__ = [
    "AttributeDict",
    "GradClipAlgorithmType",
    "LightningEnum",
    "MisconfigurationException",
    "apply_to_collection",
    "disable_possible_user_warnings",
    "grad_norm",
    "is_picklable",
    "move_data_to_device",
    "rank_zero_deprecation",
    "rank_zero_info",
    "rank_zero_only",
    "rank_zero_warn",
    "seed_everything",
]

FLOAT16_EPSILON = torch.finfo(torch.float16).eps
FLOAT32_EPSILON = torch.finfo(torch.float32).eps
FLOAT64_EPSILON = torch.finfo(torch.float64).eps
