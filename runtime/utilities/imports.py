"""Which optional libraries and which torch / Python versions are present, as Lightning spells the flags.

Each flag is a :class:`RequirementCache`: truthy when the requirement holds, checked on first use (no
library is imported to answer), and its ``str`` says what is missing and how to install it.
"""
import operator
import platform
import sys
from importlib.util import find_spec
from typing import Any

import torch

__all__ = ["RequirementCache", "module_available", "compare_version"]


def module_available(name: str) -> bool:
    """Whether ``name`` (``"a.b"`` allowed) can be imported, without importing it."""
    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _packaging() -> Any:
    """``packaging`` (torch vendors a copy when it is not installed on its own)."""
    try:
        import packaging.requirements
        import packaging.version

        return packaging
    except ImportError:
        from torch._vendor import packaging

        return packaging


def compare_version(package: str, op=operator.ge, version: str = "0", use_base_version: bool = False) -> bool:
    """``op(installed version of package, version)``; False when the package is not installed."""
    from importlib.metadata import PackageNotFoundError, version as dist_version

    Version = _packaging().version.Version

    try:
        installed = Version(dist_version(package))
    except PackageNotFoundError:
        return False
    if use_base_version:
        installed = Version(installed.base_version)
    return op(installed, Version(version))


class RequirementCache:
    """``RequirementCache("rich>=10.2.2")`` is truthy when the requirement holds; checked once, on first use."""

    def __init__(self, requirement: str, module: str | None = None) -> None:
        self.requirement = requirement
        self.module = module
        self._ok: bool | None = None

    def __bool__(self) -> bool:
        if self._ok is None:
            req = _packaging().requirements.Requirement(self.requirement)
            if not module_available(self.module or req.name.replace("-", "_")):
                self._ok = False
            elif not req.specifier:
                self._ok = True
            else:
                from importlib.metadata import PackageNotFoundError, version as dist_version

                try:
                    self._ok = req.specifier.contains(dist_version(req.name), prereleases=True)
                except PackageNotFoundError:
                    self._ok = True  # importable but not installed as a distribution (a source checkout)
        return self._ok

    def __str__(self) -> str:
        if self:
            return f"Requirement {self.requirement!r} met"
        return f"Requirement {self.requirement!r} not met: install it with `pip install {self.requirement!r}`"

    __repr__ = __str__


_IS_WINDOWS = platform.system() == "Windows"
_IS_INTERACTIVE = hasattr(sys, "ps1") or bool(sys.flags.interactive)
_PYTHON_GREATER_EQUAL_3_10_0 = sys.version_info >= (3, 10)
_PYTHON_GREATER_EQUAL_3_11_0 = sys.version_info >= (3, 11)
_PYTHON_GREATER_EQUAL_3_13_0 = sys.version_info >= (3, 13)

# _TORCH_GREATER_EQUAL_2_1 ... _TORCH_GREATER_EQUAL_2_13, as Lightning names them
for _minor in range(0, 14):
    globals()[f"_TORCH_GREATER_EQUAL_2_{_minor}"] = torch.__version__ >= f"2.{_minor}"
del _minor
_TORCH_EQUAL_2_8 = "2.8" <= torch.__version__ < "2.9"

_NUMPY_AVAILABLE = RequirementCache("numpy")
_OMEGACONF_AVAILABLE = RequirementCache("omegaconf")
_TORCHVISION_AVAILABLE = RequirementCache("torchvision")
_RICH_AVAILABLE = RequirementCache("rich>=10.2.2")
_TQDM_AVAILABLE = RequirementCache("tqdm")
_PSUTIL_AVAILABLE = RequirementCache("psutil")
_TENSORBOARD_AVAILABLE = RequirementCache("tensorboard")
_TENSORBOARDX_AVAILABLE = RequirementCache("tensorboardX")
_DEEPSPEED_AVAILABLE = RequirementCache("deepspeed")
_JSONARGPARSE_AVAILABLE = RequirementCache("jsonargparse")
_TORCHMETRICS_GREATER_EQUAL_0_9_1 = RequirementCache("torchmetrics>=0.9.1")
_TORCHMETRICS_GREATER_EQUAL_0_11 = RequirementCache("torchmetrics>=0.11.0")
_TORCHMETRICS_GREATER_EQUAL_1_0_0 = RequirementCache("torchmetrics>=1.0.0")
