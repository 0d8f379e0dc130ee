"""LightningCLI and SaveConfigCallback, as ``lightning.pytorch.cli`` has them, over jsonargparse."""
import glob
import os
import random
import sys
from functools import partial, update_wrapper
from pathlib import Path
from types import MethodType
from typing import Any, Callable, Iterable, Optional, Union

import yaml
from jsonargparse import ActionConfigFile, Namespace, class_from_function
from torch.optim import Optimizer

import runtime
from runtime.callbacks.callback import Callback
from runtime.cli.optim import LRSchedulerTypeTuple, LRSchedulerTypeUnion, ReduceLROnPlateau
from runtime.cli.parser import LightningArgumentParser
from runtime.core.datamodule import LightningDataModule
from runtime.core.module import LightningModule
from runtime.utilities.model_helpers import is_overridden
from runtime.trainer.trainer import Trainer
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn
from runtime.utilities.seed import seed_everything

ArgsType = Optional[Union[list[str], dict[str, Any], Namespace]]


class SaveConfigCallback(Callback):
    """Writes the run's merged config to ``trainer.log_dir/config.yaml`` at setup (rank zero only).

    An existing file is never overwritten unless ``overwrite=True``, so a second run into the same folder cannot
    silently replace the record of the first. Override :meth:`save_config` to also save it elsewhere (a tracker).
    """

    def __init__(self, parser: LightningArgumentParser, config: Namespace, config_filename: str = "config.yaml",
                 overwrite: bool = False, multifile: bool = False, save_to_log_dir: bool = True) -> None:
        self.parser = parser
        self.config = config
        self.config_filename = config_filename
        self.overwrite = overwrite
        self.multifile = multifile
        self.save_to_log_dir = save_to_log_dir
        self.already_saved = False
        if not save_to_log_dir and not is_overridden("save_config", self, SaveConfigCallback):
            raise ValueError("`save_to_log_dir=False` only makes sense when subclassing SaveConfigCallback to implement "
                             "`save_config` and it is desired to disable the standard behavior of saving to log_dir.")

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.already_saved:
            return
        if self.save_to_log_dir:
            # create the loggers' experiments first (Lightning's setup does), so this file does not make a logger
            # find its fresh version folder "not empty"
            for logger in trainer.loggers:
                getattr(logger, "experiment", None)
            log_dir = trainer.log_dir
            config_path = os.path.join(log_dir, self.config_filename)
            if not self.overwrite:
                exists = trainer.strategy.broadcast(os.path.isfile(config_path) if trainer.is_global_zero else False)
                if exists:
                    raise RuntimeError(
                        f"{type(self).__name__} expected {config_path} to NOT exist. Aborting to avoid overwriting results "
                        "of a previous run. You can delete the previous config file, set "
                        "`LightningCLI(save_config_callback=None)` to disable config saving, or set "
                        '`LightningCLI(save_config_kwargs={"overwrite": True})` to overwrite the config file.')
            if trainer.is_global_zero:
                os.makedirs(log_dir, exist_ok=True)
                self.parser.save(self.config, config_path, skip_unset=False, overwrite=self.overwrite, multifile=self.multifile)
        if trainer.is_global_zero:
            self.save_config(trainer, pl_module, stage)
            self.already_saved = True
        self.already_saved = trainer.strategy.broadcast(self.already_saved)

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Override to save the config somewhere besides the log folder; runs on rank zero only (no collectives)."""


class LightningCLI:
    """Builds the model, datamodule and trainer from configs and the command line, then runs a subcommand.

    A generated ``train.py``::

        LightningCLI(MyModel, MyData, parser_kwargs={"default_config_files": ["configs/default.yaml"]})

    then ``python train.py fit --config extra.yaml --trainer.max_epochs=3 --model.lr=0.01``. Environment variables
    (``PL_TRAINER__MAX_EPOCHS``) are read with ``parser_kwargs={"default_env": True}``.
    """

    def __init__(
        self,
        model_class: type[LightningModule] | Callable[..., LightningModule] | None = None,
        datamodule_class: type[LightningDataModule] | Callable[..., LightningDataModule] | None = None,
        save_config_callback: type[SaveConfigCallback] | None = SaveConfigCallback,
        save_config_kwargs: dict[str, Any] | None = None,
        trainer_class: type[Trainer] | Callable[..., Trainer] = Trainer,
        trainer_defaults: dict[str, Any] | None = None,
        seed_everything_default: bool | int = True,
        parser_kwargs: dict[str, Any] | dict[str, dict[str, Any]] | None = None,
        parser_class: type[LightningArgumentParser] = LightningArgumentParser,
        subclass_mode_model: bool = False,
        subclass_mode_data: bool = False,
        args: ArgsType = None,
        run: bool = True,
        auto_configure_optimizers: bool = True,
        load_from_checkpoint_support: bool = True,
    ) -> None:
        # load_from_checkpoint_support is accepted for Lightning's signature; checkpoints here carry the
        # hyperparameters as ``__init__`` received them, which ``load_from_checkpoint`` rebuilds the module from
        self.save_config_callback = save_config_callback
        self.save_config_kwargs = save_config_kwargs or {}
        self.trainer_class = trainer_class
        self.trainer_defaults = trainer_defaults or {}
        self.seed_everything_default = seed_everything_default
        self.parser_kwargs = parser_kwargs or {}
        self.parser_class = parser_class
        self.auto_configure_optimizers = auto_configure_optimizers

        self.model_class = model_class
        self._model_class = model_class or LightningModule
        self.subclass_mode_model = model_class is None or subclass_mode_model
        self.datamodule_class = datamodule_class
        self._datamodule_class = datamodule_class or LightningDataModule
        self.subclass_mode_data = datamodule_class is None or subclass_mode_data

        main_kwargs, subparser_kwargs = self._setup_parser_kwargs(self.parser_kwargs)
        self.setup_parser(run, main_kwargs, subparser_kwargs)
        self.parse_arguments(self.parser, args)
        self._parse_ckpt_path()

        self.subcommand = self.config["subcommand"] if run else None
        self._set_seed()
        self.before_instantiate_classes()
        self.instantiate_classes()
        self.after_instantiate_classes()
        if self.subcommand is not None:
            self._run_subcommand(self.subcommand)

    # ------------------------------------------------------------------ the parser
    def _setup_parser_kwargs(self, parser_kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        names = self.subcommands().keys()
        main_kwargs = {k: v for k, v in parser_kwargs.items() if k not in names}
        subparser_kwargs = {k: dict(v) for k, v in parser_kwargs.items() if k in names}
        # Ours: a main default config written flat (trainer / model / data, as every generated project's
        # configs/default.yaml) applies to every subcommand, before that subcommand's own default files.
        # A file keyed by subcommand (Lightning's form) stays on the main parser.
        flat = [f for f in main_kwargs.get("default_config_files") or [] if not _keyed_by_subcommand(f, names)]
        if flat:
            main_kwargs["default_config_files"] = [f for f in main_kwargs["default_config_files"] if f not in flat]
            for name in names:
                sub = subparser_kwargs.setdefault(name, {})
                sub["default_config_files"] = [*flat, *(sub.get("default_config_files") or [])]
        return main_kwargs, subparser_kwargs

    def init_parser(self, **kwargs: Any) -> LightningArgumentParser:
        """The argument parser; override to pass other keyword arguments."""
        kwargs.setdefault("dump_header", [f"runtime=={runtime.__version__}"])
        parser = self.parser_class(**kwargs)
        parser.add_argument("-c", "--config", action=ActionConfigFile, help="Path to a configuration file in json or yaml format.")
        return parser

    def setup_parser(self, add_subcommands: bool, main_kwargs: dict[str, Any], subparser_kwargs: dict[str, Any]) -> None:
        self.parser = self.init_parser(**main_kwargs)
        if add_subcommands:
            self._subcommand_method_arguments: dict[str, list[str]] = {}
            self._add_subcommands(self.parser, **subparser_kwargs)
        else:
            self._add_arguments(self.parser)

    def add_default_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument("--seed_everything", type=Union[bool, int], default=self.seed_everything_default,
                            help="Set to an int to run seed_everything with this value before classes instantiation. "
                                 "Set to True to use a random seed.")

    def add_core_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(self.trainer_class, "trainer")
        parser.set_defaults({"trainer." + k: v for k, v in self.trainer_defaults.items() if k != "callbacks"})
        parser.add_lightning_class_args(self._model_class, "model", subclass_mode=self.subclass_mode_model)
        # not required without a datamodule class: the module's own dataloaders may be used
        parser.add_lightning_class_args(self._datamodule_class, "data", subclass_mode=self.subclass_mode_data,
                                        required=self.datamodule_class is not None)

    def _add_arguments(self, parser: LightningArgumentParser) -> None:
        self.add_default_arguments_to_parser(parser)
        self.add_core_arguments_to_parser(parser)
        self.add_arguments_to_parser(parser)
        if self.auto_configure_optimizers:
            if not parser._optimizers:  # not added by the user in add_arguments_to_parser
                parser.add_optimizer_args((Optimizer,))
            if not parser._lr_schedulers:
                parser.add_lr_scheduler_args(LRSchedulerTypeTuple)
        self.link_optimizers_and_lr_schedulers(parser)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """Override to add arguments, callbacks (``parser.add_lightning_class_args(EarlyStopping, "early_stopping")``)
        or links (``parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")``)."""

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        """Subcommand name -> the Trainer method's arguments the CLI fills itself (not from the config)."""
        return {
            "fit": {"model", "train_dataloaders", "val_dataloaders", "datamodule"},
            "validate": {"model", "dataloaders", "datamodule"},
            "test": {"model", "dataloaders", "datamodule"},
            "predict": {"model", "dataloaders", "datamodule"},
        }

    def _add_subcommands(self, parser: LightningArgumentParser, **kwargs: Any) -> None:
        self._subcommand_parsers: dict[str, LightningArgumentParser] = {}
        parser_subcommands = parser.add_subcommands()
        trainer_class = self.trainer_class if isinstance(self.trainer_class, type) else class_from_function(self.trainer_class)
        for subcommand in self.subcommands():
            description = _short_description(getattr(trainer_class, subcommand))
            subparser_kwargs = kwargs.get(subcommand, {})
            subparser_kwargs.setdefault("description", description)
            subcommand_parser = self._prepare_subcommand_parser(trainer_class, subcommand, **subparser_kwargs)
            self._subcommand_parsers[subcommand] = subcommand_parser
            parser_subcommands.add_subcommand(subcommand, subcommand_parser, help=description)

    def _prepare_subcommand_parser(self, klass: type, subcommand: str, **kwargs: Any) -> LightningArgumentParser:
        parser = self.init_parser(**kwargs)
        self._add_arguments(parser)
        skip: set[str | int] = set(self.subcommands()[subcommand])
        self._subcommand_method_arguments[subcommand] = parser.add_method_arguments(klass, subcommand, skip=skip)
        return parser

    @staticmethod
    def link_optimizers_and_lr_schedulers(parser: LightningArgumentParser) -> None:
        """Link the optimizer and scheduler groups that name a ``link_to`` target."""
        for key, (class_type, link_to) in {**parser._optimizers, **parser._lr_schedulers}.items():
            if link_to == "AUTOMATIC":
                continue
            if isinstance(class_type, tuple):
                parser.link_arguments(key, link_to)
            else:
                parser.link_arguments(key, link_to, compute_fn=partial(_global_add_class_path, class_type))

    def parse_arguments(self, parser: LightningArgumentParser, args: ArgsType) -> None:
        """Parse ``args`` (``sys.argv`` when None; a list, or a dict / Namespace of values) into ``self.config``."""
        if args is not None and len(sys.argv) > 1:
            rank_zero_warn("LightningCLI's args parameter is intended to run from within Python like if it were from the "
                           "command line. To prevent mistakes it is not recommended to provide both args and command line "
                           f"arguments, got: sys.argv[1:]={sys.argv[1:]}, args={args}.")
        # Ours: a named default config that is missing is an error (jsonargparse skips it silently), so running a
        # project's train.py from another folder does not train with the wrong settings; glob patterns stay optional
        kwargs = [self.parser_kwargs, *(v for k, v in self.parser_kwargs.items() if k in self.subcommands())]
        for path in (p for kw in kwargs for p in kw.get("default_config_files") or []):
            if not glob.has_magic(str(path)) and not os.path.isfile(os.path.expanduser(path)):
                parser.error(f"default config file '{path}' does not exist (looked in {os.getcwd()}); "
                             "run from the project folder")
        if isinstance(args, (dict, Namespace)):
            self.config = parser.parse_object(args)
        else:
            self.config = parser.parse_args(args)

    def _parse_ckpt_path(self) -> None:
        """With ``--ckpt_path``, the model's hyperparameters come from the checkpoint (then the command line's win)."""
        if not self.config.get("subcommand"):
            return
        ckpt_path = self.config[self.config.subcommand].get("ckpt_path")
        if not ckpt_path or not Path(ckpt_path).is_file():
            return
        from runtime.checkpoint.io import load_checkpoint_file

        hparams = dict(load_checkpoint_file(ckpt_path, map_location="cpu").get("hyper_parameters") or {})
        hparams.pop("_instantiator", None)
        if not hparams:
            return
        if "_class_path" in hparams:
            hparams = {"class_path": hparams.pop("_class_path"), "dict_kwargs": hparams}
        try:
            self.config = self.parser.parse_object({self.config.subcommand: {"model": hparams}}, self.config)
        except SystemExit:
            sys.stderr.write("Parsing of ckpt_path hyperparameters failed!\n")
            raise

    def _parser(self, subcommand: str | None) -> LightningArgumentParser:
        return self.parser if subcommand is None else self._subcommand_parsers[subcommand]

    # ------------------------------------------------------------------ building
    def before_instantiate_classes(self) -> None:
        """Runs after parsing and seeding, before the model, datamodule and trainer are built."""

    def instantiate_classes(self) -> None:
        """Build the datamodule and the model (from their config groups), then the trainer."""
        self.config_init = self.parser.instantiate(self.config)
        self.datamodule = self._get(self.config_init, "data")
        self.model = self._get(self.config_init, "model")
        self._add_configure_optimizers_method_to_model(self.subcommand)
        self.trainer = self.instantiate_trainer()

    def after_instantiate_classes(self) -> None:
        """Runs after the model, datamodule and trainer are built."""

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The trainer from the ``trainer`` group; ``kwargs`` override it."""
        extra_callbacks = [self._get(self.config_init, c) for c in self._parser(self.subcommand).callback_keys]
        trainer_config = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        return self._instantiate_trainer(trainer_config, extra_callbacks)

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Callback]) -> Trainer:
        key = "callbacks"
        if key in config:
            if config[key] is None:
                config[key] = []
            elif not isinstance(config[key], list):
                config[key] = [config[key]]
            config[key].extend(callbacks)
            if key in self.trainer_defaults:
                value = self.trainer_defaults[key]
                config[key] += value if isinstance(value, list) else [value]
            if self.save_config_callback and not config.get("fast_dev_run", False):
                config[key].append(self.save_config_callback(
                    self._parser(self.subcommand), self.config.get(str(self.subcommand), self.config), **self.save_config_kwargs))
        else:
            rank_zero_warn(f"The `{self.trainer_class.__qualname__}` class does not expose the `{key}` argument so they "
                           "will not be included.")
        try:
            return self.trainer_class(**config)
        except MisconfigurationException as err:
            # a flag the Trainer refuses is a config error (exit 2 with one line), not a crash
            self._parser(self.subcommand).error(f"trainer: {err}")

    @staticmethod
    def configure_optimizers(lightning_module: LightningModule, optimizer: Optimizer,
                             lr_scheduler: LRSchedulerTypeUnion | None = None) -> Any:
        """What the automatic ``configure_optimizers`` returns; override to change it."""
        if lr_scheduler is None:
            return optimizer
        if isinstance(lr_scheduler, ReduceLROnPlateau):
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": lr_scheduler, "monitor": lr_scheduler.monitor}}
        return [optimizer], [lr_scheduler]

    def _add_configure_optimizers_method_to_model(self, subcommand: str | None) -> None:
        """With ``--optimizer`` (and ``--lr_scheduler``) set, the model's ``configure_optimizers`` builds them."""
        if not self.auto_configure_optimizers:
            return
        parser = self._parser(subcommand)

        def get_automatic(class_type: Any, register: dict[str, tuple[Any, str]]) -> list[str]:
            return [key for key, (base, link_to) in register.items()
                    if link_to == "AUTOMATIC" and any(issubclass(c, class_type) for c in (base if isinstance(base, tuple) else (base,)))]

        optimizers = get_automatic(Optimizer, parser._optimizers)
        lr_schedulers = get_automatic(LRSchedulerTypeTuple, parser._lr_schedulers)
        if not optimizers:
            return
        if len(optimizers) > 1 or len(lr_schedulers) > 1:
            raise MisconfigurationException(
                f"`{type(self).__name__}.add_configure_optimizers_method_to_model` expects at most one optimizer and one "
                f"lr_scheduler to be 'AUTOMATIC', but found {optimizers + lr_schedulers}. In this case the user is expected "
                "to link the argument groups and implement `configure_optimizers`.")
        optimizer_class = parser._optimizers[optimizers[0]][0]
        optimizer_init = self._get(self.config_init, optimizers[0])
        if not isinstance(optimizer_class, tuple):
            optimizer_init = _global_add_class_path(optimizer_class, optimizer_init)
        if not optimizer_init:
            return  # the group is there, but no optimizer was chosen
        lr_scheduler_init = None
        if lr_schedulers:
            lr_scheduler_class = parser._lr_schedulers[lr_schedulers[0]][0]
            lr_scheduler_init = self._get(self.config_init, lr_schedulers[0])
            if not isinstance(lr_scheduler_class, tuple):
                lr_scheduler_init = _global_add_class_path(lr_scheduler_class, lr_scheduler_init)
        if is_overridden("configure_optimizers", self.model):
            rank_zero_warn(f"`{type(self.model).__name__}.configure_optimizers` will be overridden by "
                           f"`{type(self).__name__}.configure_optimizers`.")
        cli_configure = self.configure_optimizers

        def configure_optimizers(module: LightningModule) -> Any:
            # built when the trainer asks, not at parse time, so parameters made in `configure_model` are included
            optimizer = instantiate_class(module.parameters(), optimizer_init)
            lr_scheduler = instantiate_class(optimizer, lr_scheduler_init) if lr_scheduler_init else None
            return cli_configure(module, optimizer, lr_scheduler)

        update_wrapper(configure_optimizers, self.configure_optimizers)
        self.model.configure_optimizers = MethodType(configure_optimizers, self.model)

    # ------------------------------------------------------------------ running
    def _get(self, config: Namespace, key: str, default: Any = None) -> Any:
        """A config value, from inside the subcommand's section when there is one."""
        return config.get(str(self.subcommand), config).get(key, default)

    def _run_subcommand(self, subcommand: str) -> None:
        before = getattr(self, f"before_{subcommand}", None)
        if callable(before):
            before()
        fn = getattr(self, subcommand, getattr(self.trainer, subcommand))
        fn(**self._prepare_subcommand_kwargs(subcommand))
        after = getattr(self, f"after_{subcommand}", None)
        if callable(after):
            after()

    def _prepare_subcommand_kwargs(self, subcommand: str) -> dict[str, Any]:
        kwargs = {k: v for k, v in self.config_init[subcommand].items() if k in self._subcommand_method_arguments[subcommand]}
        kwargs["model"] = self.model
        if self.datamodule is not None:
            kwargs["datamodule"] = self.datamodule
        return kwargs

    def _set_seed(self) -> None:
        seed = self._get(self.config, "seed_everything")
        if seed is False or seed is None:
            return
        if seed is True:  # pick one (PL_GLOBAL_SEED when set); either way it is written back, so the saved config repeats the run
            env = os.environ.get("PL_GLOBAL_SEED")
            seed = int(env) if env is not None else random.SystemRandom().randint(0, 2**32 - 1)
        seed = seed_everything(seed, workers=True)
        if self.subcommand:
            self.config[self.subcommand]["seed_everything"] = seed
        else:
            self.config["seed_everything"] = seed


def _keyed_by_subcommand(pattern: str | os.PathLike, subcommands: Iterable[str]) -> bool:
    """Whether the default config file(s) matching ``pattern`` hold subcommand sections (``fit: {trainer: ...}``)."""
    for path in sorted(glob.glob(os.path.expanduser(str(pattern)))):
        try:
            content = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError):
            return False  # left to the subcommand parser, whose error names the file
        if isinstance(content, dict) and content and set(content) <= set(subcommands):
            return True
    return False


def _global_add_class_path(class_type: type, init_args: Namespace | dict[str, Any] | None = None) -> dict[str, Any]:
    if isinstance(init_args, Namespace):
        init_args = init_args.as_dict()
    return {"class_path": f"{class_type.__module__}.{class_type.__name__}", "init_args": init_args or {}}


def instantiate_class(args: Any | tuple[Any, ...], init: dict[str, Any]) -> Any:
    """Build ``init["class_path"]`` with the positional ``args`` and ``init["init_args"]``.

    The class path comes from a parsed config, so jsonargparse has already checked it names a subclass of the
    group's type (an Optimizer, an LRScheduler).
    """
    kwargs = init.get("init_args", {})
    args = args if isinstance(args, tuple) else (args,)
    module_name, class_name = init["class_path"].rsplit(".", 1)
    module = __import__(module_name, fromlist=[class_name])
    return getattr(module, class_name)(*args, **kwargs)


def _short_description(component: object) -> str | None:
    doc = component.__doc__
    if doc is None:
        return None
    import docstring_parser

    try:
        return docstring_parser.parse(doc).short_description
    except (ValueError, docstring_parser.ParseError) as ex:
        rank_zero_warn(f"Failed parsing docstring for {component}: {ex}")
        return None
