"""Out-of-memory detection and cleanup, used by the batch-size finder and by user code that retries."""
import gc
from typing import Any

import torch

from runtime.utilities.apply_func import apply_to_collection

__all__ = ["garbage_collection_cuda", "is_oom_error", "recursive_detach"]


def recursive_detach(in_dict: Any, to_cpu: bool = False) -> Any:
    """Every tensor in a (nested) collection detached, and moved to the CPU when ``to_cpu``."""

    def detach(t: torch.Tensor) -> torch.Tensor:
        t = t.detach()
        return t.cpu() if to_cpu else t

    return apply_to_collection(in_dict, torch.Tensor, detach)


def _message(exception: BaseException) -> str | None:
    if isinstance(exception, RuntimeError) and len(exception.args) == 1 and isinstance(exception.args[0], str):
        return exception.args[0]
    return None


def is_cuda_out_of_memory(exception: BaseException) -> bool:
    if isinstance(exception, torch.cuda.OutOfMemoryError):
        return True
    msg = _message(exception)
    return msg is not None and "CUDA" in msg and "out of memory" in msg


def is_cudnn_snafu(exception: BaseException) -> bool:
    # cuDNN reports some out-of-memory conditions as "not supported" (pytorch/pytorch#4107)
    msg = _message(exception)
    return msg is not None and "cuDNN error: CUDNN_STATUS_NOT_SUPPORTED." in msg


def is_out_of_cpu_memory(exception: BaseException) -> bool:
    msg = _message(exception)
    return msg is not None and "DefaultCPUAllocator: can't allocate memory" in msg


def is_oom_error(exception: BaseException) -> bool:
    """Whether ``exception`` means the device or host ran out of memory."""
    return is_cuda_out_of_memory(exception) or is_cudnn_snafu(exception) or is_out_of_cpu_memory(exception)


def garbage_collection_cuda() -> None:
    """Collect Python garbage and release cached CUDA memory (an out-of-memory here is swallowed)."""
    gc.collect()
    if not torch.cuda.is_available():
        return
    try:
        torch.cuda.empty_cache()
    except RuntimeError as exception:
        if not is_oom_error(exception):
            raise
