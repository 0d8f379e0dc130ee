"""The 1.x argparse helpers: ``Trainer.add_argparse_args(parser)`` and ``Trainer.from_argparse_args(args)``.

Each Trainer argument becomes ``--name`` with its default; values are parsed by what the default and the
annotation allow (``--devices 2``, ``--devices auto``, ``--max_epochs 5``, ``--fast_dev_run true``). 2.x
code uses ``LightningCLI`` (``runtime.cli``) instead.
"""
import inspect
from argparse import ArgumentParser, Namespace
from typing import Any

from runtime.utilities.rank_zero import rank_zero_deprecation

_SKIP = {"logger", "callbacks", "plugins"}  # objects, not command-line values


def _parse_value(text: str) -> Any:
    """``"true"`` -> True, ``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"none"`` -> None, anything else stays a string."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "t", "y"):
        return True
    if lowered in ("false", "no", "f", "n"):
        return False
    if lowered == "none":
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _parse_bool(text: str) -> bool:
    value = _parse_value(text)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {text!r}")
    return value


def _trainer_parameters(cls: type) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(cls.__init__).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.name not in _SKIP]


def add_argparse_args(cls: type, parent_parser: ArgumentParser, use_argument_group: bool = True) -> ArgumentParser:
    """Add one ``--name`` option per Trainer argument to ``parent_parser`` (in a "pl.Trainer" group)."""
    rank_zero_deprecation("`Trainer.add_argparse_args` is the 1.x spelling; it still runs. In 2.x use "
                          "`LightningCLI` (runtime.cli) or add the options you need yourself.")
    if use_argument_group:
        target = parent_parser.add_argument_group("pl.Trainer")
        parser = parent_parser
    else:
        parser = target = ArgumentParser(parents=[parent_parser], add_help=False)
    for param in _trainer_parameters(cls):
        default = param.default
        kind = _parse_bool if isinstance(default, bool) else _parse_value
        extra: dict[str, Any] = {"nargs": "?", "const": True} if isinstance(default, bool) else {}
        target.add_argument(f"--{param.name}", dest=param.name, default=default, type=kind,
                            help=f"Trainer({param.name}=...), default {default!r}", **extra)
    return parser


def from_argparse_args(cls: type, args: Namespace | ArgumentParser | dict[str, Any], **kwargs: Any) -> Any:
    """``cls(**trainer arguments found in args, **kwargs)``; names the Trainer does not take are left out."""
    rank_zero_deprecation("`Trainer.from_argparse_args` is the 1.x spelling; it still runs. In 2.x pass the "
                          "arguments to `Trainer(...)` (or use `LightningCLI`).")
    if isinstance(args, ArgumentParser):
        args = parse_argparser(cls, args)
    params = vars(args) if isinstance(args, Namespace) else dict(args)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "legacy"}
    trainer_kwargs = {k: v for k, v in params.items() if k in accepted}
    trainer_kwargs.update(kwargs)
    return cls(**trainer_kwargs)


def parse_argparser(cls: type, arg_parser: ArgumentParser | Namespace) -> Namespace:
    """Parse the command line (when given a parser) into a Namespace."""
    return arg_parser.parse_args() if isinstance(arg_parser, ArgumentParser) else arg_parser
