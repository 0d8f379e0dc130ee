"""LightningArgumentParser: jsonargparse's parser with Lightning's class groups, and short "did you mean" errors.

Everything about parsing (config files merged in order, dotted overrides, ``class_path`` / ``init_args``,
environment variables, ``--print_config``, links) is jsonargparse's. This module adds what Lightning's parser
adds (``add_lightning_class_args``, optimizer and scheduler groups) and one thing of ours: an unknown key
gets the nearest valid name in its error.
"""
import re
from types import UnionType
from typing import Any, Callable, Literal, Union, get_args, get_origin

from jsonargparse import ArgumentParser, Namespace, class_from_function, set_parsing_settings
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from runtime.callbacks.callback import Callback
from runtime.cli.optim import LRSchedulerTypeTuple
from runtime.core.datamodule import LightningDataModule
from runtime.core.module import LightningModule
from runtime.trainer.trainer import Trainer
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.suggest import nearest

# A config names classes, so it can name any class: build a class_path only where the annotation asks for a class
# (a subclass of it), never under ``Any`` (kept there as data), and refuse the modules that run commands or code (subprocess, os, pickle,
# importlib, ...: jsonargparse's denylist, enforced rather than warned about).
set_parsing_settings(instantiate_subclass_spec_in_any=False, import_path_denylist=[])

__all__ = ["LightningArgumentParser", "Namespace"]


class LightningArgumentParser(ArgumentParser):
    """jsonargparse's ArgumentParser with Lightning's class groups (``lightning.pytorch.cli.LightningArgumentParser``)."""

    def __init__(self, *args: Any, description: str = "Lightning Trainer command line tool", env_prefix: str = "PL",
                 default_env: bool = False, **kwargs: Any) -> None:
        # no abbreviations: --trainer.max_epoch is an error with a suggestion, not silently --trainer.max_epochs
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, description=description, env_prefix=env_prefix, default_env=default_env, **kwargs)
        self.callback_keys: list[str] = []
        # optimizer / scheduler groups kept apart, to know which were added: key -> (class or classes, link_to)
        self._optimizers: dict[str, tuple[type | tuple[type, ...], str]] = {}
        self._lr_schedulers: dict[str, tuple[type | tuple[type, ...], str]] = {}

    def add_lightning_class_args(self, lightning_class: Callable | type, nested_key: str, subclass_mode: bool = False,
                                 required: bool = True) -> list[str]:
        """Add a Trainer, LightningModule, LightningDataModule or Callback class's arguments under ``nested_key``."""
        if callable(lightning_class) and not isinstance(lightning_class, type):
            lightning_class = class_from_function(lightning_class)
        if isinstance(lightning_class, type) and issubclass(lightning_class, (Trainer, LightningModule, LightningDataModule, Callback)):
            if issubclass(lightning_class, Callback):
                self.callback_keys.append(nested_key)
            if subclass_mode:
                return self.add_subclass_arguments(lightning_class, nested_key, fail_untyped=False, required=required)
            return self.add_class_arguments(lightning_class, nested_key, fail_untyped=False,
                                            instantiate=not issubclass(lightning_class, Trainer), sub_configs=True)
        raise MisconfigurationException(
            f"Cannot add arguments from: {lightning_class}. You should provide either a callable or a subclass of: "
            "Trainer, LightningModule, LightningDataModule, or Callback."
        )

    def add_optimizer_args(self, optimizer_class: type[Optimizer] | tuple[type[Optimizer], ...] = (Optimizer,),
                           nested_key: str = "optimizer", link_to: str = "AUTOMATIC") -> None:
        """Add an optimizer's arguments (a tuple of classes allows their subclasses) under ``nested_key``."""
        self._add_optim_group(optimizer_class, Optimizer, nested_key, "params")
        self._optimizers[nested_key] = (optimizer_class, link_to)

    def add_lr_scheduler_args(self, lr_scheduler_class: type | tuple[type, ...] = LRSchedulerTypeTuple,
                              nested_key: str = "lr_scheduler", link_to: str = "AUTOMATIC") -> None:
        """Add a learning-rate scheduler's arguments (a tuple of classes allows their subclasses) under ``nested_key``."""
        self._add_optim_group(lr_scheduler_class, LRSchedulerTypeTuple, nested_key, "optimizer")
        self._lr_schedulers[nested_key] = (lr_scheduler_class, link_to)

    def _add_optim_group(self, classes: type | tuple[type, ...], base: Any, nested_key: str, skip: str) -> None:
        if not all(issubclass(c, base) for c in (classes if isinstance(classes, tuple) else (classes,))):
            raise MisconfigurationException(f"{nested_key}: {classes} is not a subclass of {base}")
        kwargs: dict[str, Any] = {"instantiate": False, "fail_untyped": False, "skip": {skip}}
        if isinstance(classes, tuple):
            self.add_subclass_arguments(classes, nested_key, **kwargs)
        else:
            self.add_class_arguments(classes, nested_key, sub_configs=True, **kwargs)

    def format_usage(self) -> str:
        """A one-line usage for errors (argparse's would list every trainer, model and data option)."""
        sub = self._subcommands_action
        tail = f" {{{','.join(sub.choices)}}} ..." if sub is not None else " [--KEY VALUE ...]"
        return f"usage: {self.prog.replace(' [options]', '')} [-h] [-c CONFIG] [--print_config[=flags]]{tail}\n"

    def error(self, message: str, ex: Exception | None = None):
        """jsonargparse's error cut to one line that names the key, the value and what was expected, plus the
        nearest valid name when a key, subcommand or class is unknown."""
        super().error(_one_line(getattr(ex, "subcommand_parser", None) or self, message), ex)


def _one_line(parser: ArgumentParser, message: str) -> str:
    head, _, rest = message.strip().partition("\n")
    if m := re.match(r'Parser key "([^"]+)":\s*(.*)', head):
        return _bad_value(parser, m.group(1), f"{m.group(2)}\n{rest}")
    if m := re.search(r"unrecognized arguments: (--[\w.]+)|does not accept option '([\w.]+)'", message):
        bad = (m.group(1) or m.group(2)).lstrip("-")
        group, _, name = bad.rpartition(".")  # the nearest name within the same group: model.lrr -> model.lr
        keys = [k.rpartition(".")[2] for k in _keys(parser, re.search(r"Subcommand '(\w+)'", message))
                if k.rpartition(".")[0] == group]
        guess = nearest(name, keys) if group and keys else nearest(bad, _keys(parser, re.search(r"Subcommand '(\w+)'", message)))
        guess = f"{group}.{guess}" if group and keys and guess else guess
        return f"{message} (did you mean --{guess}?)" if guess else message
    if m := re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message):
        guess = nearest(m.group(1), re.findall(r"'([^']*)'", m.group(2)))
        return f"{message} (did you mean '{guess}'?)" if guess else message
    return message if not rest else f"{head} {' '.join(rest.split())}"


def _bad_value(parser: ArgumentParser, key: str, details: str) -> str:
    """One line for a value jsonargparse refused: the most specific of its reasons."""
    given = re.search(r"(?:Given value|Got value): (.*)$", details, re.M)
    value = given.group(1).strip() if given else None
    if m := re.search(r"Problem with given class_path '([^']+)':\s*\n?\s*(.*)", details):
        path, reason = m.group(1), " ".join(m.group(2).split())
        if opt := re.match(r"Option '(\w+)' is not accepted", reason):
            guess = nearest(opt.group(1), _init_params(path))
            reason += f" (did you mean '{guess}'?)" if guess else ""
        elif reason.startswith('Parser key "'):
            reason = re.sub(r'Parser key "([^"]+)":\s*', r"init_args.\1: ", reason)
        return f"{key}: {path}: {reason}"
    if m := re.search(r"Import path (\S+) does not correspond to a subclass of (\w+)", details):
        return f"{key}: {m.group(1)} is not a subclass of {m.group(2)}"
    typehint = getattr(_action(parser, key), "_typehint", None)
    if m := re.search(r"Expected a dot import path string: (\S+)", details):
        guess = nearest(m.group(1), _subclass_names(typehint))
        hint = f" (did you mean '{guess}'?)" if guess else ""
        return f"{key}: no class named '{m.group(1)}' that fits {_type_name(typehint)}{hint}"
    expected = _type_name(typehint) if typehint is not None else details.split("\n")[0].strip()
    return f"{key}: expected {expected}, got {value!r}" if value is not None else f"{key}: {' '.join(details.split())}"


def _keys(parser: ArgumentParser, subcommand: "re.Match | None" = None) -> list[str]:
    if subcommand and parser._subcommands_action is not None:
        parser = parser._subcommands_action._name_parser_map.get(subcommand.group(1), parser)
    return [a.dest for a in parser._actions if a.dest not in ("help", "config", "print_config")]


def _action(parser: ArgumentParser, key: str) -> Any:
    return next((a for a in parser._actions if a.dest == key), None)


def _init_params(class_path: str) -> list[str]:
    import importlib
    import inspect

    module, _, name = class_path.rpartition(".")
    try:  # jsonargparse has already imported and checked this class
        return list(inspect.signature(getattr(importlib.import_module(module), name)).parameters)
    except (ImportError, AttributeError, ValueError, TypeError):
        return []


def _subclass_names(typehint: Any) -> list[str]:
    names, todo = [], [t for t in _flatten(typehint) if isinstance(t, type) and t.__module__ != "builtins"]
    while todo:
        cls = todo.pop()
        names.append(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def _flatten(typehint: Any) -> list[Any]:
    args = get_args(typehint)
    return [typehint] if not args else [t for a in args for t in _flatten(a)]


def _type_name(typehint: Any) -> str:
    origin, args = get_origin(typehint), get_args(typehint)
    if origin in (Union, UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if typehint is type(None):
        return "None"
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in args)}]"
    return getattr(typehint, "__name__", str(typehint))
