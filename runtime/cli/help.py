"""``--help``: the parser's arguments grouped by class, with types, defaults and docstring descriptions, laid out by argparse."""
import argparse
from typing import TYPE_CHECKING, Any

from runtime.cli.classes import Param, base_name, short_description
from runtime.cli.values import is_plain, to_plain, type_name

if TYPE_CHECKING:
    from runtime.cli.parser import LightningArgumentParser


def format_help(self: "LightningArgumentParser") -> str:
    ap = argparse.ArgumentParser(prog=self.prog, usage=self._usage(), description=self.description, add_help=False,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-h", "--help", action="store_true", help="Show this help message and exit.")
    if self._subcommands:
        sub = ap.add_argument_group("subcommands", f"Run `{self.prog} SUBCOMMAND --help` for the trainer, model and data arguments.")
        for name, text in self._subcommand_help.items():
            sub.add_argument(name, nargs="?", help=_esc(text))
        first = next(iter(self._subcommands.values()))
        for key in ("model", "data"):
            _help_group(first, ap, key)
        return ap.format_help()
    ap.add_argument("-c", "--config", metavar="CONFIG",
                    help="A YAML config (trainer / model / data / seed_everything / ckpt_path). Repeat to merge several; "
                         "later files and flags win.")
    ap.add_argument("--print_config", metavar="=skip_null", nargs="?", help="Print the merged config as YAML and exit.")
    for name, p in self._args.items():
        ap.add_argument(f"--{name}", metavar=name.split(".")[-1].upper(), help=_esc(_param_help(p)))
    for key in list(self._groups) + list(self._subclasses):
        _help_group(self, ap, key)
    return ap.format_help()

def _help_group(self: "LightningArgumentParser", ap: argparse.ArgumentParser, key: str) -> None:
    targets = {link.target for link in self._links}
    if key in self._groups:
        group = self._groups[key]
        desc = short_description(group.cls)
        g = ap.add_argument_group(f"{key} ({group.cls.__name__})", _esc(desc) or None)
        if not group.params:
            g.add_argument(f"--{key}", action="store_true", help=f"({group.cls.__name__} takes no arguments)")
        for name, p in group.params.items():
            if f"{key}.{name}" in targets:
                continue
            g.add_argument(f"--{key}.{name}", metavar=name.upper(), help=_esc(_param_help(p)))
    elif key in self._subclasses:
        sub = self._subclasses[key]
        g = ap.add_argument_group(f"{key} (any {base_name(sub.base)} subclass)", _esc(sub.help) or None)
        g.add_argument(f"--{key}", metavar="CLASS",
                       help=f"Class name or dotted path{'' if sub.required else ' (default: null)'}; then "
                            f"--{key}.init_args.NAME=VALUE (or --{key}.NAME=VALUE) for its arguments.")


def _esc(text: str) -> str:
    return text.replace("%", "%%")


def _param_help(p: Param) -> str:
    kind = type_name(p.annotation)
    if p.required:
        tail = f"(required, type: {kind})"
    else:
        tail = f"(type: {kind}, default: {_show(p.default)})"
    return f"{p.help} {tail}".strip()


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_plain(value):
        return repr(to_plain(value)) if isinstance(value, str) and value == "" else str(to_plain(value))
    return repr(value)
