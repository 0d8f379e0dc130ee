"""LightningCLI: the config runner behind every generated ``train.py``, with Lightning 2.x's arguments and hooks."""
import os
import random
from types import MethodType
from typing import Any

from runtime.callbacks.callback import Callback
from runtime.cli.classes import resolve_class, short_description
from runtime.cli.parser import CLIError, LightningArgumentParser, Namespace
from runtime.core.datamodule import LightningDataModule
from runtime.core.module import LightningModule
from runtime.trainer.call import is_overridden
from runtime.trainer.trainer import Trainer
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_warn
from runtime.utilities.seed import seed_everything

_MAX_SEED = 2**32 - 1


class SaveConfigCallback(Callback):
    """Writes the run's merged config to ``trainer.log_dir/config.yaml`` at setup (rank zero only).

    An existing file is never overwritten unless ``overwrite=True``, so a second run into the same folder
    cannot silently replace the record of the first. Override :meth:`save_config` to also save it elsewhere.
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

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.already_saved:
            return
        if self.save_to_log_dir:
            # create the loggers' experiments first (as Lightning's setup does), so the file below does not make a
            # logger find its fresh folder "not empty"
            for logger in trainer.loggers:
                getattr(logger, "experiment", None)
            log_dir = trainer.log_dir
            config_path = os.path.join(log_dir, self.config_filename)
            exists = os.path.isfile(config_path) if trainer.is_global_zero else False
            if not self.overwrite and _broadcast(trainer, exists):
                raise RuntimeError(
                    f"{type(self).__name__} expected {config_path} to NOT exist. Aborting to avoid overwriting results of a "
                    "previous run. You can delete the previous config file, set `LightningCLI(save_config_callback=None)` to "
                    'disable config saving, or set `LightningCLI(save_config_kwargs={"overwrite": True})` to overwrite the config file.'
                )
            if trainer.is_global_zero:
                os.makedirs(log_dir, exist_ok=True)
                self.parser.save(self.config, config_path, skip_none=False, overwrite=self.overwrite, multifile=self.multifile)
        if trainer.is_global_zero:
            self.save_config(trainer, pl_module, stage)
            self.already_saved = True
        self.already_saved = _broadcast(trainer, self.already_saved)

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        """Override to save the config somewhere besides the log folder (an experiment tracker, say)."""


def _broadcast(trainer: Trainer, value: Any) -> Any:
    fn = getattr(trainer.strategy, "broadcast", None)
    return fn(value) if callable(fn) else value


class LightningCLI:
    """Builds the model, datamodule and trainer from a config and the command line, then runs a subcommand.

    A generated ``train.py``::

        from runtime.cli import LightningCLI
        from my_project.module import MyModel
        from my_project.datamodule import MyData

        if __name__ == "__main__":
            LightningCLI(MyModel, MyData, parser_kwargs={"default_config_files": ["configs/default.yaml"]})

    and then ``python train.py fit --trainer.max_epochs=3 --model.lr=0.01``.
    """

    def __init__(
        self,
        model_class: type[LightningModule] | None = None,
        datamodule_class: type[LightningDataModule] | None = None,
        save_config_callback: type[SaveConfigCallback] | None = SaveConfigCallback,
        save_config_kwargs: dict[str, Any] | None = None,
        trainer_class: type[Trainer] = Trainer,
        trainer_defaults: dict[str, Any] | None = None,
        seed_everything_default: bool | int = True,
        parser_kwargs: dict[str, Any] | None = None,
        subclass_mode_model: bool = False,
        subclass_mode_data: bool = False,
        args: list[str] | dict[str, Any] | Namespace | None = None,
        run: bool = True,
        auto_configure_optimizers: bool = True,
    ) -> None:
        self.save_config_callback = save_config_callback
        self.save_config_kwargs = save_config_kwargs or {}
        self.trainer_class = trainer_class
        self.trainer_defaults = trainer_defaults or {}
        self.seed_everything_default = seed_everything_default
        self.parser_kwargs = parser_kwargs or {}
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

        self.subcommand = self.config["subcommand"] if run else None
        self._set_seed()
        self.before_instantiate_classes()
        self.instantiate_classes()
        self.after_instantiate_classes()
        if self.subcommand is not None:
            self._run_subcommand(self.subcommand)

    # ================================================================== the parser
    def _setup_parser_kwargs(self, parser_kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        names = self.subcommands().keys()
        main_kwargs = {k: v for k, v in parser_kwargs.items() if k not in names}
        subparser_kwargs = {k: v for k, v in parser_kwargs.items() if k in names}
        return main_kwargs, subparser_kwargs

    def init_parser(self, **kwargs: Any) -> LightningArgumentParser:
        """The parser; override to pass other keyword arguments."""
        kwargs.setdefault("description", "Lightning Trainer command line tool")
        return LightningArgumentParser(**kwargs)

    def setup_parser(self, add_subcommands: bool, main_kwargs: dict[str, Any], subparser_kwargs: dict[str, Any]) -> None:
        self.parser = self.init_parser(**main_kwargs)
        if add_subcommands:
            self._subcommand_method_arguments: dict[str, list[str]] = {}
            self._add_subcommands(self.parser, **subparser_kwargs)
        else:
            self._add_arguments(self.parser)

    def add_default_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument(
            "--seed_everything", type=bool | int, default=self.seed_everything_default,
            help="Set to an int to run seed_everything with this value before classes instantiation. "
                 "Set to True to use a random seed.",
        )

    def add_core_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(self.trainer_class, "trainer")
        parser.set_defaults({f"trainer.{k}": v for k, v in self.trainer_defaults.items() if k != "callbacks"})
        parser.add_lightning_class_args(self._model_class, "model", subclass_mode=self.subclass_mode_model)
        parser.add_lightning_class_args(self._datamodule_class, "data", subclass_mode=self.subclass_mode_data,
                                        required=self.datamodule_class is not None)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """Override to add arguments, callbacks (``parser.add_lightning_class_args(EarlyStopping, "early_stopping")``)
        or links (``parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")``)."""

    def link_optimizers_and_lr_schedulers(self, parser: LightningArgumentParser) -> None:
        """Lightning links the scheduler's ``optimizer`` here; this CLI passes it when it builds the scheduler."""

    def _add_arguments(self, parser: LightningArgumentParser) -> None:
        self.add_default_arguments_to_parser(parser)
        self.add_core_arguments_to_parser(parser)
        self.add_arguments_to_parser(parser)
        if self.auto_configure_optimizers:
            if not parser._optimizers:
                parser.add_optimizer_args()
            if not parser._lr_schedulers:
                parser.add_lr_scheduler_args()
        self.link_optimizers_and_lr_schedulers(parser)

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
        parser.add_subcommands()
        for subcommand in self.subcommands():
            description = short_description(getattr(self.trainer_class, subcommand))
            sub_kwargs = dict(kwargs.get(subcommand, {}))
            sub_kwargs.setdefault("description", description)
            sub_kwargs.setdefault("exit_on_error", parser.exit_on_error)
            subparser = self._prepare_subcommand_parser(self.trainer_class, subcommand, **sub_kwargs)
            self._subcommand_parsers[subcommand] = subparser
            parser.add_subcommand(subcommand, subparser, help=description)

    def _prepare_subcommand_parser(self, klass: type, subcommand: str, **kwargs: Any) -> LightningArgumentParser:
        parser = self.init_parser(**kwargs)
        self._add_arguments(parser)
        skip = self.subcommands()[subcommand]
        self._subcommand_method_arguments[subcommand] = parser.add_method_arguments(klass, subcommand, skip=skip)
        return parser

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        if isinstance(args, dict):
            self.config = parser.parse_object(args)
        else:
            self.config = parser.parse_args(args)

    def _parser(self, subcommand: str | None) -> LightningArgumentParser:
        return self.parser if subcommand is None else self._subcommand_parsers[subcommand]

    # ================================================================== hooks to override
    def before_instantiate_classes(self) -> None:
        """Runs after parsing and seeding, before the model, datamodule and trainer are built."""

    def after_instantiate_classes(self) -> None:
        """Runs after the model, datamodule and trainer are built."""

    # ================================================================== building
    def _set_seed(self) -> None:
        seed = self._get(self.config, "seed_everything")
        if seed is None or seed is False:
            return
        if seed is True:
            env = os.environ.get("PL_GLOBAL_SEED")
            seed = int(env) if env is not None else random.SystemRandom().randint(0, _MAX_SEED)
        seed = seed_everything(seed, workers=True)
        # record the seed actually used, so the saved config repeats the run
        if self.subcommand:
            self.config[self.subcommand]["seed_everything"] = seed
        else:
            self.config["seed_everything"] = seed

    def instantiate_classes(self) -> None:
        """Build the datamodule, the model (from their config groups) and the trainer."""
        try:
            self.config_init = self.parser.instantiate_classes(self.config)
        except CLIError as err:
            self._parser(self.subcommand).error(str(err))
        self.datamodule = self._get(self.config_init, "data")
        self.model = self._get(self.config_init, "model")
        self._add_configure_optimizers_method_to_model(self.subcommand)
        self.trainer = self.instantiate_trainer()

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The trainer from the ``trainer`` group; ``kwargs`` override it."""
        extra_callbacks = [self._get(self.config_init, c) for c in self._parser(self.subcommand).callback_keys]
        trainer_config = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        return self._instantiate_trainer(trainer_config, extra_callbacks)

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Callback]) -> Trainer:
        config = dict(config)
        value = config.get("callbacks")
        config["callbacks"] = [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]
        config["callbacks"].extend(cb for cb in callbacks if cb is not None)
        if "callbacks" in self.trainer_defaults:
            value = self.trainer_defaults["callbacks"]
            config["callbacks"] += list(value) if isinstance(value, (list, tuple)) else [value]
        if self.save_config_callback and not config.get("fast_dev_run", False):
            config["callbacks"].append(self.save_config_callback(
                self._parser(self.subcommand), self.config.get(str(self.subcommand), self.config), **self.save_config_kwargs
            ))
        try:
            return self.trainer_class(**config)
        except MisconfigurationException as err:
            # a trainer flag from the config or command line the Trainer refuses: a config error, not a crash
            self._parser(self.subcommand).error(f"--trainer: {err}")

    def _add_configure_optimizers_method_to_model(self, subcommand: str | None) -> None:
        """With ``--optimizer`` (and ``--lr_scheduler``) set, give the model a ``configure_optimizers`` that builds them."""
        if not self.auto_configure_optimizers:
            return
        parser = self._parser(subcommand)

        def chosen(registry: dict[str, Any], what: str) -> tuple[type, dict[str, Any]] | None:
            found = []
            for key, (cls, link_to) in registry.items():
                value = self._get(self.config_init, key)
                if link_to != "AUTOMATIC" or value is None:
                    continue
                if key in parser._subclasses:
                    found.append((resolve_class(value["class_path"]), dict(value.get("init_args") or {})))
                else:
                    found.append((cls, dict(value)))
            if len(found) > 1:
                parser.error(f"more than one {what} is set ({', '.join(registry)}); automatic configure_optimizers takes one")
            return found[0] if found else None

        optimizer = chosen(parser._optimizers, "optimizer")
        lr_scheduler = chosen(parser._lr_schedulers, "lr_scheduler")
        if optimizer is None:
            if lr_scheduler is not None:
                parser.error("--lr_scheduler is set but --optimizer is not; the scheduler needs an optimizer (e.g. --optimizer=Adam)")
            return
        if is_overridden("configure_optimizers", self.model):
            rank_zero_warn(f"`{type(self.model).__name__}.configure_optimizers` will be overridden by "
                           f"`{type(self).__name__}.configure_optimizers` (an optimizer was set in the config).")
        cli_configure = self.configure_optimizers

        def configure_optimizers(module: LightningModule) -> Any:
            # built here, not at parse time, so parameters created in `configure_model` are included
            opt_cls, opt_args = optimizer
            opt = opt_cls(module.parameters(), **opt_args)
            sched = lr_scheduler[0](opt, **lr_scheduler[1]) if lr_scheduler is not None else None
            return cli_configure(module, opt, sched)

        self.model.configure_optimizers = MethodType(configure_optimizers, self.model)

    @staticmethod
    def configure_optimizers(lightning_module: LightningModule, optimizer: Any, lr_scheduler: Any = None) -> Any:
        """What the automatic ``configure_optimizers`` returns; override to change it."""
        if lr_scheduler is None:
            return optimizer
        monitor = getattr(lr_scheduler, "monitor", None)
        if monitor is not None:
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": lr_scheduler, "monitor": monitor}}
        return [optimizer], [lr_scheduler]

    # ================================================================== running
    def _run_subcommand(self, subcommand: str) -> None:
        before = getattr(self, f"before_{subcommand}", None)
        if callable(before):
            before()
        fn = getattr(self, subcommand, None) or getattr(self.trainer, subcommand)
        fn(**self._prepare_subcommand_kwargs(subcommand))
        after = getattr(self, f"after_{subcommand}", None)
        if callable(after):
            after()

    def _prepare_subcommand_kwargs(self, subcommand: str) -> dict[str, Any]:
        names = self._subcommand_method_arguments[subcommand]
        kwargs = {k: v for k, v in self.config_init[subcommand].items() if k in names}
        kwargs["model"] = self.model
        if self.datamodule is not None:
            kwargs["datamodule"] = self.datamodule
        return kwargs

    def _get(self, config: Namespace, key: str, default: Any = None) -> Any:
        section = config.get(str(self.subcommand), config) if self.subcommand is not None else config
        return section.get(key, default)
