"""``is_overridden``: whether a user's class replaces a hook of its runtime base class."""
from typing import Any

__all__ = ["is_overridden"]


def _runtime_base(instance: Any, method_name: str) -> type | None:
    """The most basic runtime class (LightningModule, LightningDataModule, Callback, ...) defining ``method_name``."""
    for klass in reversed(type(instance).__mro__):
        if klass.__module__.startswith("runtime.") and method_name in vars(klass):
            return klass
    return None


def is_overridden(method_name: str, instance: Any = None, parent: type | None = None) -> bool:
    """Whether ``instance``'s class (or the instance itself) defines its own ``method_name``.

    ``parent`` defaults to the runtime base class that first defines the method, so
    ``is_overridden("training_step", model)`` asks whether the user wrote a ``training_step``.
    """
    if instance is None:
        return False
    if parent is None:
        parent = _runtime_base(instance, method_name)
        if parent is None:
            raise ValueError(f"Expected a parent: no runtime base class of {type(instance).__name__} defines {method_name!r}")
    if not hasattr(instance, method_name):
        return False
    if method_name in getattr(instance, "__dict__", {}):
        return True  # patched on the instance (a mock, or an assignment)
    own = getattr(type(instance), method_name, None)
    base = getattr(parent, method_name, None)
    if base is None:
        return False
    own = getattr(own, "__wrapped__", own)
    return getattr(own, "__code__", own) is not getattr(base, "__code__", base)
