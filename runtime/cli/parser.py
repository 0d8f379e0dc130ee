"""LightningArgumentParser: LightningCLI's parser, written over argparse's help and PyYAML (no jsonargparse).

A config is a nested mapping (``trainer`` / ``model`` / ``data`` / ``seed_everything`` / ``ckpt_path`` ...).
It is built in order, later wins: the classes' defaults, ``default_config_files``, then each command-line
token as it comes (``--config FILE`` merges a file at its position, ``--trainer.max_epochs=3`` sets one value).
Every value is checked against its annotation when it is set, so an error names where it came from.
"""
import glob
import os
import sys
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from runtime.cli.classes import EMPTY, Param, base_name, class_spec, instantiate, resolve_class, signature_params
from runtime.cli.namespace import CLIError, Namespace, _drop_none, _get, _set
from runtime.cli.values import ConversionError, convert, is_plain, to_plain, type_name
from runtime.utilities.suggest import nearest


@dataclass
class _Group:
    key: str
    cls: type
    params: dict[str, Param]
    instantiate: bool


@dataclass
class _Subclass:
    key: str
    base: Any  # a class or a tuple of classes
    skip: set[str] = field(default_factory=set)
    required: bool = False
    default: Any = None
    instantiate: bool = True
    help: str = ""


@dataclass
class _Link:
    sources: tuple[str, ...]
    target: str
    compute_fn: Callable | None
    apply_on: str


class LightningArgumentParser:
    """Typed, dotted arguments for classes (``--model.lr``), config files and subcommands."""

    def __init__(self, *args: Any, description: str | None = None, prog: str | None = None,
                 default_config_files: Iterable[str] | None = None, exit_on_error: bool = True, **kwargs: Any) -> None:
        # argparse/jsonargparse keywords without a meaning here (env_prefix, formatter_class, ...) are accepted and ignored
        self.prog = prog or os.path.basename(sys.argv[0]) or "cli"
        self.description = description
        self.default_config_files = list(default_config_files or [])
        self.exit_on_error = exit_on_error
        self.callback_keys: list[str] = []
        self._args: dict[str, Param] = {}
        self._groups: dict[str, _Group] = {}
        self._subclasses: dict[str, _Subclass] = {}
        self._defaults: dict[str, Any] = {}
        self._links: list[_Link] = []
        self._optimizers: dict[str, Any] = {}
        self._lr_schedulers: dict[str, Any] = {}
        self._subcommands: dict[str, "LightningArgumentParser"] = {}
        self._subcommand_help: dict[str, str] = {}
        self._section: str | None = None  # this parser's subcommand name, to read `fit:` sections of a config file
        self._order: list[str] = []  # top-level keys in declaration order: the order of a printed config

    # ================================================================== declaring arguments
    def add_argument(self, *names: str, type: Any = EMPTY, default: Any = None, help: str = "", required: bool = False,
                     action: str | None = None, **kwargs: Any) -> None:
        """``parser.add_argument("--seed_everything", type=bool | int, default=True)``; dotted names nest."""
        name = max((n for n in names if n.startswith("--")), key=len, default=names[0]).lstrip("-")
        if action in ("store_true", "store_false"):
            type, default = bool, action == "store_false"
        self._args[name] = Param(name, type, EMPTY if required else default, help)
        self._declare(name)

    def add_class_arguments(self, theclass: type, nested_key: str, *, skip: Iterable[str] | None = None,
                            instantiate: bool = True, **kwargs: Any) -> list[str]:
        """``--{nested_key}.NAME`` for each parameter of ``theclass.__init__``; instantiated as ``theclass(**group)``."""
        params = signature_params(theclass, set(skip or ()))
        from runtime.trainer.trainer import Trainer

        if isinstance(theclass, type) and issubclass(theclass, Trainer):
            _trainer_annotations(params)
        self._groups[nested_key] = _Group(nested_key, theclass, params, instantiate)
        self._declare(nested_key)
        return [f"{nested_key}.{n}" for n in params]

    def add_subclass_arguments(self, baseclass: Any, nested_key: str, *, skip: Iterable[str] | None = None,
                               required: bool = False, default: Any = None, instantiate: bool = True, help: str = "",
                               **kwargs: Any) -> None:
        """``--{nested_key}=CLASS`` (any subclass of ``baseclass``) with ``--{nested_key}.init_args.NAME`` values."""
        self._subclasses[nested_key] = _Subclass(nested_key, baseclass, set(skip or ()), required, default, instantiate, help)
        self._declare(nested_key)

    def _declare(self, key: str) -> None:
        head = key.split(".")[0]
        if head not in self._order:
            self._order.append(head)

    def add_lightning_class_args(self, lightning_class: type, nested_key: str, subclass_mode: bool = False,
                                 required: bool = True) -> list[str]:
        """Add a Trainer, LightningModule, LightningDataModule or Callback; a Callback group is appended to the trainer's callbacks."""
        from runtime.callbacks.callback import Callback

        if issubclass(lightning_class, Callback):
            self.callback_keys.append(nested_key)
        if subclass_mode:
            self.add_subclass_arguments(lightning_class, nested_key, required=required)
            return [nested_key]
        from runtime.trainer.trainer import Trainer

        return self.add_class_arguments(lightning_class, nested_key, instantiate=not issubclass(lightning_class, Trainer))

    def add_optimizer_args(self, optimizer_class: Any = None, nested_key: str = "optimizer", link_to: str = "AUTOMATIC") -> None:
        """An optimizer for the CLI's automatic ``configure_optimizers`` (a class, or a tuple of bases to choose from)."""
        import torch

        optimizer_class = optimizer_class or (torch.optim.Optimizer,)
        if isinstance(optimizer_class, tuple):
            self.add_subclass_arguments(optimizer_class, nested_key, skip={"params"}, instantiate=False)
        else:
            self.add_class_arguments(optimizer_class, nested_key, skip={"params"}, instantiate=False)
        self._optimizers[nested_key] = (optimizer_class, link_to)

    def add_lr_scheduler_args(self, lr_scheduler_class: Any = None, nested_key: str = "lr_scheduler", link_to: str = "AUTOMATIC") -> None:
        """A learning-rate scheduler for the automatic ``configure_optimizers``; ``optimizer`` is filled in by the CLI."""
        import torch

        lr_scheduler_class = lr_scheduler_class or (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
        if isinstance(lr_scheduler_class, tuple):
            self.add_subclass_arguments(lr_scheduler_class, nested_key, skip={"optimizer"}, instantiate=False)
        else:
            self.add_class_arguments(lr_scheduler_class, nested_key, skip={"optimizer"}, instantiate=False)
        self._lr_schedulers[nested_key] = (lr_scheduler_class, link_to)

    def add_method_arguments(self, theclass: type, themethod: str, nested_key: str | None = None,
                             skip: Iterable[str] | None = None) -> list[str]:
        """Top-level arguments for ``theclass.themethod``'s parameters (``ckpt_path`` for ``Trainer.fit``)."""
        params = signature_params(getattr(theclass, themethod), set(skip or ()))
        for name, p in params.items():
            key = f"{nested_key}.{name}" if nested_key else name
            self._args[key] = Param(key, p.annotation, p.default, p.help)
            self._declare(key)
        return list(params)

    def set_defaults(self, *args: dict[str, Any], **kwargs: Any) -> None:
        """New defaults by dotted key: ``parser.set_defaults({"trainer.max_epochs": 5})``."""
        for mapping in (*args, kwargs):
            for key, value in mapping.items():
                if not (self._leaf(key) or key in self._subclasses or key in self._groups):
                    guess = nearest(key, self._all_keys())
                    raise KeyError(f"set_defaults: no argument {key!r}" + (f"; did you mean {guess!r}?" if guess else ""))
                self._defaults[key] = value

    def link_arguments(self, source: str | tuple[str, ...], target: str, compute_fn: Callable | None = None,
                       apply_on: str = "parse") -> None:
        """Fill ``target`` from ``source``: on ``"parse"`` from config values, on ``"instantiate"`` from the built object's attribute.

        ``parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")``. The target
        can then no longer be set by hand, as in LightningCLI.
        """
        if apply_on not in ("parse", "instantiate"):
            raise ValueError(f"apply_on={apply_on!r}: use 'parse' or 'instantiate'")
        sources = (source,) if isinstance(source, str) else tuple(source)
        if not self._leaf(target):
            raise KeyError(f"link_arguments: no argument {target!r} to link to")
        self._links.append(_Link(sources, target, compute_fn, apply_on))

    def add_subcommands(self, **kwargs: Any) -> "LightningArgumentParser":
        return self

    def add_subcommand(self, name: str, parser: "LightningArgumentParser", help: str = "") -> None:
        parser.prog = f"{self.prog} {name}"
        parser._section = name
        parser.exit_on_error = self.exit_on_error and parser.exit_on_error
        self._subcommands[name] = parser
        self._subcommand_help[name] = help

    # ================================================================== parsing
    def parse_args(self, args: Iterable[str] | None = None, namespace: Any = None) -> Namespace:
        """Parse a command line (``sys.argv[1:]`` by default); a mistake prints one message and exits with code 2."""
        argv = list(sys.argv[1:] if args is None else args)
        parser = self
        try:
            if not self._subcommands:
                return self._parse(argv)
            name, rest = self._split_subcommand(argv)
            parser = self._subcommands[name]
            return Namespace({"subcommand": name, name: parser._parse(rest, self._resolve_default_files())})
        except CLIError as err:
            parser.error(str(err))

    def parse_object(self, cfg: dict[str, Any]) -> Namespace:
        """Parse a mapping instead of a command line: ``{"trainer": {...}, "model": {...}}`` (``{"fit": {...}}`` with subcommands)."""
        parser = self
        try:
            if not self._subcommands:
                return self._parse([], obj=cfg)
            names = [k for k in cfg if k in self._subcommands]
            name = cfg.get("subcommand") or (names[0] if len(names) == 1 else None)
            if name not in self._subcommands:
                raise CLIError(f"expected one subcommand key ({', '.join(self._subcommands)}) in {sorted(cfg)}")
            parser = self._subcommands[name]
            return Namespace({"subcommand": name, name: parser._parse([], self._resolve_default_files(), obj=cfg.get(name) or {})})
        except CLIError as err:
            parser.error(str(err))

    def _split_subcommand(self, argv: list[str]) -> tuple[str, list[str]]:
        for i, tok in enumerate(argv):
            if tok in ("-h", "--help"):
                self.print_help()
                sys.exit(0)
            if tok.startswith("-"):
                raise CLIError(f"unexpected argument {tok!r} before the subcommand; options go after it: "
                               f"{self.prog} fit {tok}")
            if tok not in self._subcommands:
                guess = nearest(tok, self._subcommands)
                raise CLIError(f"invalid subcommand {tok!r}; choose from {', '.join(self._subcommands)}"
                               + (f" (did you mean {guess!r}?)" if guess else ""))
            return tok, argv[i + 1:]
        raise CLIError(f"expected a subcommand: {', '.join(self._subcommands)}")

    def _parse(self, argv: list[str], base_files: Iterable[str] = (), obj: dict | None = None) -> Namespace:
        if any(tok in ("-h", "--help") for tok in argv):
            self.print_help()
            sys.exit(0)
        cfg = self.get_defaults(base_files)
        if obj is not None:
            self._apply_mapping(cfg, obj, source="args")
        print_config: str | None = None
        i = 0
        while i < len(argv):
            tok = argv[i]
            i += 1
            if tok == "-c":
                tok = "--config"
            if not tok.startswith("--") or tok == "--":
                raise CLIError(f"unexpected argument {tok!r}; options look like --trainer.max_epochs=3")
            key, eq, value = tok[2:].partition("=")
            if key == "print_config":
                print_config = value
                continue
            append = key.endswith("+")
            key = key.rstrip("+")
            if not eq:
                nxt = argv[i] if i < len(argv) else None
                if self._is_flag(key) and (nxt is None or nxt.startswith("--")):
                    value = "true"
                elif nxt is None:
                    raise CLIError(f"--{key}: expected a value")
                else:
                    value, i = nxt, i + 1
            if key == "config":
                self._apply_file(cfg, value)
            else:
                self._apply_cli(cfg, key, value, append)
        self._check_required(cfg)
        self._apply_parse_links(cfg)
        ns = Namespace.wrap(cfg)
        if print_config is not None:
            sys.stdout.write(self.dump(ns, skip_none="skip_null" in print_config))
            sys.exit(0)
        return ns

    def get_defaults(self, base_files: Iterable[str] = ()) -> dict[str, Any]:
        """The config before the command line: declared defaults, ``set_defaults``, then the default config files."""
        cfg: dict[str, Any] = dict.fromkeys(self._order)
        for name, p in self._args.items():
            if not p.required:
                _set(cfg, name, p.default)
        for key, group in self._groups.items():
            cfg[key] = {n: p.default for n, p in group.params.items() if not p.required and is_plain(p.default)}
        for key, sub in self._subclasses.items():
            cfg[key] = sub.default
        for key, value in self._defaults.items():
            _set(cfg, key, value)
        for name, p in self._args.items():
            if p.required and cfg.get(name, EMPTY) is None:
                del cfg[name]  # only a placeholder for the order; required means absent until set
        for path in [*base_files, *self._resolve_default_files()]:
            self._apply_file(cfg, path, default=True)
        return cfg

    def _resolve_default_files(self) -> list[str]:
        files = []
        for pattern in self.default_config_files:
            pattern = os.path.expanduser(os.fspath(pattern))
            if glob.has_magic(pattern):
                files += sorted(glob.glob(pattern))
            else:
                files.append(pattern)
        return files

    def _apply_file(self, cfg: dict, path: str, default: bool = False) -> None:
        import yaml

        if not os.path.isfile(path):
            what = "default config file" if default else "--config"
            raise CLIError(f"{what} {path!r} does not exist (looked in {os.getcwd()})"
                           + ("; run from the project folder, or pass --config with the right path" if default else ""))
        try:
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f)
        except yaml.YAMLError as err:
            raise CLIError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from None
        if data is None:
            return
        if not isinstance(data, dict):
            raise CLIError(f"{path}: expected a mapping with trainer / model / data sections, got {type(data).__name__}")
        if self._section and set(data) & set(_SUBCOMMANDS) and set(data) <= {*_SUBCOMMANDS, "subcommand"}:
            data = data.get(self._section) or {}  # a file written for several subcommands: `fit: {trainer: ...}`
        self._apply_mapping(cfg, data, source=path)

    def _apply_mapping(self, cfg: dict, data: dict, source: str, prefix: str = "") -> None:
        for k, value in data.items():
            key = f"{prefix}{k}"
            where = _where(source, key)
            if key in self._subclasses:
                self._set_subclass(cfg, self._subclasses[key], value, where)
            elif self._leaf(key) and not self._linked(key):
                _set(cfg, key, self._convert(self._leaf(key), value, None, where))
            elif key in self._groups:
                if value is None:
                    continue
                value = self._unwrap_class_path(key, value, where)
                if not isinstance(value, dict):
                    raise CLIError(f"{where}: expected a mapping of {key} arguments, got {value!r}")
                self._apply_mapping(cfg, value, source, prefix=f"{key}.")
            else:
                raise CLIError(self._unknown(key, where, source))

    def _apply_cli(self, cfg: dict, key: str, raw: str, append: bool = False) -> None:
        where = f"--{key}"
        sub, rest = self._subclass_for(key)
        if sub is not None:
            parsed = _yaml_value(raw)
            if rest is None:
                self._set_subclass(cfg, sub, parsed, where)
            elif rest == "class_path":
                self._set_subclass(cfg, sub, raw, where)
            else:
                current = cfg.get(sub.key)
                if not current:
                    raise CLIError(f"{where}: choose the class first, e.g. --{sub.key}=CLASS (then --{sub.key}.ARG=VALUE)")
                name = rest[len("init_args."):] if rest.startswith("init_args.") else rest
                self._set_subclass(cfg, sub, {"class_path": current["class_path"], "init_args": {name: parsed}}, where)
            return
        leaf = self._leaf(key)
        if leaf is not None and not self._linked(key):
            parsed = _yaml_value(raw)
            if append:
                new = self._convert(leaf, parsed if isinstance(parsed, list) else [parsed], None, where)
                current = _get(cfg, key)
                current = [] if current is None else list(current) if isinstance(current, (list, tuple)) else [current]
                _set(cfg, key, current + list(new if isinstance(new, (list, tuple)) else [new]))
            else:
                _set(cfg, key, self._convert(leaf, parsed, raw, where))
            return
        if key in self._groups:
            parsed = _yaml_value(raw)
            if isinstance(parsed, str) and os.path.isfile(parsed):
                import yaml

                with open(parsed, encoding="utf-8") as f:
                    parsed = yaml.safe_load(f) or {}
            if not isinstance(parsed, dict):
                raise CLIError(f"{where}: expected a mapping of {key} arguments (YAML) or a YAML file, got {raw!r}")
            self._apply_mapping(cfg, parsed, source="cli", prefix=f"{key}.")
            return
        raise CLIError(self._unknown(key, where, "cli"))

    def _convert(self, param: Param, value: Any, raw: str | None, where: str) -> Any:
        try:
            return convert(value, param.annotation, raw)
        except ConversionError as err:
            if err.detail:
                raise CLIError(f"{where}: {err.detail}") from None
            shown = raw if raw is not None else value
            raise CLIError(f"{where}: expected {type_name(param.annotation)}, got {shown!r}") from None

    def _set_subclass(self, cfg: dict, sub: _Subclass, value: Any, where: str) -> None:
        if value is None:
            cfg[sub.key] = None
            return
        current = cfg.get(sub.key)
        if isinstance(value, str):
            value = {"class_path": value}
        if isinstance(value, dict) and "class_path" not in value and current:
            value = {"class_path": current["class_path"], "init_args": value.get("init_args", value)}
        try:
            if isinstance(value, dict) and current and "class_path" in value:
                if resolve_class(str(value["class_path"]), sub.base) is resolve_class(current["class_path"]):
                    value = {**value, "init_args": {**current.get("init_args", {}), **(value.get("init_args") or {})}}
            cfg[sub.key] = class_spec(value, sub.base, sub.skip, partial=True)
        except ConversionError as err:
            raise CLIError(f"{where}: {err.detail or f'expected a {base_name(sub.base)} class name or class_path/init_args, got {value!r}'}") from None

    def _unwrap_class_path(self, key: str, value: Any, where: str) -> Any:
        # `model: {class_path: pkg.M, init_args: {...}}` for a fixed class: accepted when it names that class
        if isinstance(value, dict) and "class_path" in value and set(value) <= {"class_path", "init_args"}:
            try:
                cls = resolve_class(str(value["class_path"]))
            except ConversionError as err:
                raise CLIError(f"{where}.class_path: {err.detail}") from None
            group = self._groups[key]
            if cls is not group.cls:
                raise CLIError(f"{where}.class_path: this program's {key} is {group.cls.__name__}, not {cls.__name__}")
            return value.get("init_args") or {}
        return value

    def _check_required(self, cfg: dict) -> None:
        targets = {link.target for link in self._links}
        for key, p in self._leaves():
            if p.required and key not in targets and _get(cfg, key, EMPTY) is EMPTY:
                raise CLIError(f"--{key} is required ({type_name(p.annotation)}); set it on the command line or in a --config file")
        for key, sub in self._subclasses.items():
            spec = cfg.get(key)
            if sub.required and spec is None:
                raise CLIError(f"--{key} is required: name a {base_name(sub.base)} class (--{key}=CLASS, "
                               f"or `{key}: {{class_path: ..., init_args: ...}}` in a --config file)")
            if spec is not None:
                cls = resolve_class(spec["class_path"])
                for name, p in signature_params(cls, sub.skip).items():
                    if p.required and name not in spec["init_args"]:
                        raise CLIError(f"--{key}: {cls.__name__} needs init_args.{name} ({type_name(p.annotation)}); "
                                       f"set --{key}.{name}=VALUE")

    def _apply_parse_links(self, cfg: dict) -> None:
        for link in self._links:
            if link.apply_on == "parse":
                values = [_get(cfg, s) for s in link.sources]
                _set(cfg, link.target, link.compute_fn(*values) if link.compute_fn else values[0])

    # ================================================================== instantiation
    def instantiate_classes(self, cfg: Namespace) -> Namespace:
        """A copy of ``cfg`` with every group, subclass and ``class_path`` built into objects (the trainer group stays a dict)."""
        if self._subcommands and "subcommand" in cfg:
            name = cfg["subcommand"]
            return Namespace({"subcommand": name, name: self._subcommands[name].instantiate_classes(cfg[name])})
        out = Namespace()
        for key, value in cfg.items():
            if key in self._groups and isinstance(value, dict):
                out[key] = {n: instantiate(v) for n, v in value.items()}
            elif key in self._subclasses and not self._subclasses[key].instantiate:
                out[key] = value  # built later by whoever needs it (the optimizer needs the model's parameters)
            else:
                out[key] = instantiate(value)
        built: dict[str, Any] = {}
        sources = {s.split(".")[0] for link in self._links if link.apply_on == "instantiate" for s in link.sources}
        for key in sorted((k for k, g in self._groups.items() if g.instantiate), key=lambda k: k not in sources):
            kwargs = dict(out.get(key) or {})
            for link in self._links:
                if link.apply_on == "instantiate" and link.target.startswith(key + "."):
                    values = []
                    for s in link.sources:
                        head, _, attr = s.partition(".")
                        if head not in built:
                            raise CLIError(f"link {s} -> {link.target}: {head!r} is not built before {key!r}")
                        values.append(getattr(built[head], attr) if attr else built[head])
                    kwargs[link.target[len(key) + 1:]] = link.compute_fn(*values) if link.compute_fn else values[0]
            built[key] = out[key] = self._groups[key].cls(**kwargs)
        for key in self._subclasses:
            if key not in built and key in sources and out.get(key) is not None:
                built[key] = out[key]
        return out

    # ================================================================== output
    def dump(self, cfg: Any, skip_none: bool = False, **kwargs: Any) -> str:
        """The config as YAML, in the shape ``--config`` reads back."""
        import yaml

        plain = to_plain(cfg.as_dict() if isinstance(cfg, Namespace) else cfg)
        if skip_none:
            plain = _drop_none(plain)
        return yaml.safe_dump(plain, sort_keys=False, default_flow_style=False)

    def save(self, cfg: Any, path: str, skip_none: bool = False, overwrite: bool = False, multifile: bool = False, **kwargs: Any) -> None:
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.dump(cfg, skip_none=skip_none))

    def error(self, message: str) -> None:
        """Print the usage and ``message`` and exit with code 2 (argparse's convention); raise instead when exit_on_error=False."""
        if not self.exit_on_error:
            raise CLIError(message)
        sys.stderr.write(f"usage: {self._usage()}\n{self.prog}: error: {message}\n")
        sys.exit(2)

    def _usage(self) -> str:
        if self._subcommands:
            return f"{self.prog} [-h] {{{','.join(self._subcommands)}}} ..."
        return f"{self.prog} [-h] [-c CONFIG] [--print_config[=flags]] [--KEY VALUE ...]"

    def print_help(self, file: Any = None) -> None:
        (file or sys.stdout).write(self.format_help())

    def format_help(self) -> str:
        from runtime.cli.help import format_help

        return format_help(self)

    # ================================================================== schema lookups
    def _leaves(self) -> Iterable[tuple[str, Param]]:
        yield from self._args.items()
        for key, group in self._groups.items():
            for name, p in group.params.items():
                yield f"{key}.{name}", p

    def _leaf(self, key: str) -> Param | None:
        if key in self._args:
            return self._args[key]
        head, _, name = key.partition(".")
        group = self._groups.get(head)
        return group.params.get(name) if group is not None else None

    def _linked(self, key: str) -> bool:
        return any(link.target == key for link in self._links)

    def _is_flag(self, key: str) -> bool:
        p = self._leaf(key)
        # a bool (or a union with bool) may stand alone: `--trainer.fast_dev_run` means true
        return p is not None and (p.annotation is bool or bool in typing.get_args(p.annotation))

    def _subclass_for(self, key: str) -> tuple[_Subclass | None, str | None]:
        for sk, sub in self._subclasses.items():
            if key == sk:
                return sub, None
            if key.startswith(sk + "."):
                return sub, key[len(sk) + 1:]
        return None, None

    def _all_keys(self) -> list[str]:
        targets = {link.target for link in self._links}
        return [k for k, _ in self._leaves() if k not in targets] + list(self._subclasses)

    def _unknown(self, key: str, where: str, source: str) -> str:
        cli = source == "cli"
        if self._linked(key):
            link = next(link for link in self._links if link.target == key)
            return f"{where}: is filled in from {', '.join(link.sources)} (linked), so it cannot be set"
        noun, dash = ("argument", "--") if cli else ("key", "")
        head, dot, rest = key.partition(".")
        group = self._groups.get(head)
        if group is not None:
            # compare within the group: the shared "model." prefix would make every name look close
            targets = {link.target for link in self._links}
            names = [n for n in group.params if f"{head}.{n}" not in targets]
            guess = nearest(rest, names)
            if guess:
                return f"{where}: no such {noun}; did you mean {dash}{head}.{guess}?"
            if not names:
                return f"{where}: no such {noun}; {group.cls.__name__} takes no arguments"
            return f"{where}: no such {noun}; {head} arguments are: {', '.join(names)}"
        top = list(dict.fromkeys([*self._order, "config"]))
        guess = nearest(head, top)
        if guess and dot and self._leaf(f"{guess}.{rest}"):
            guess = f"{guess}.{rest}"
        if guess:
            return f"{where}: no such {noun}; did you mean {dash}{guess}?"
        return f"{where}: no such {noun}; the top-level keys are: {', '.join(top)}"


_SUBCOMMANDS = ("fit", "validate", "test", "predict")


def _trainer_annotations(params: dict[str, Param]) -> None:
    # the runtime's Trainer types these loosely (Any); the CLI needs Lightning's real types to read class_path
    from runtime.callbacks.callback import Callback
    from runtime.loggers.logger import Logger

    if "logger" in params:
        params["logger"].annotation = Logger | list[Logger] | bool | None
    if "callbacks" in params:
        params["callbacks"].annotation = list[Callback] | Callback | None


def _where(source: str, key: str) -> str:
    return f"--{key}" if source == "cli" else f"{source}: {key}"


def _yaml_value(raw: str) -> Any:
    """A command-line value read as YAML (``3`` -> 3, ``null`` -> None, ``[1, 2]`` -> list); unreadable text stays a string."""
    import yaml

    try:
        return yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        return raw


__all__ = ["CLIError", "LightningArgumentParser", "Namespace"]
