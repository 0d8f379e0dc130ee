"""``is_overridden``: whether a user's class replaces a hook of its runtime base class."""
from functools import partial
from typing import Any
from unittest.mock import Mock

__all__ = ["get_torchvision_model", "is_overridden"]


def get_torchvision_model(model_name: str, **kwargs: Any) -> Any:
    """``torchvision.models.get_model(model_name, **kwargs)`` (needs ``pip install torchvision``)."""
    try:
        from torchvision import models
    except ImportError:
        raise ModuleNotFoundError(f"get_torchvision_model({model_name!r}) needs torchvision: `pip install torchvision`") from None
    return models.get_model(model_name, **kwargs)


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
    attr = getattr(instance, method_name, None)
    if attr is None:
        return False
    attr = getattr(attr, "__wrapped__", attr)  # functools.wraps
    if attr is None:  # a wrapper of nothing (a hook switched off with `= None`, then wrapped)
        return False
    if isinstance(attr, Mock):  # Mock(wraps=original) is not an override; a bare Mock overrides nothing either
        attr = attr._mock_wraps
        if attr is None:
            return False
    elif isinstance(attr, partial):
        attr = attr.func
    base = getattr(parent, method_name, None)
    if base is None:
        raise ValueError(f"{parent.__name__} does not define {method_name!r}: pass the class that does as `parent`")
    return getattr(attr, "__code__", None) is not getattr(base, "__code__", None)
