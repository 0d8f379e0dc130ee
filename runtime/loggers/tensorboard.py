"""TensorBoardLogger: event files under ``save_dir/name/version_N`` (the default logger).

tensorboard is imported the first time something is written, never when ``runtime`` is imported.
"""
import os
from argparse import Namespace
from typing import Any

from runtime.loggers.logger import (
    Logger,
    _add_prefix,
    _convert_params,
    _flatten_dict,
    _claim_version,
    _sanitize_params,
    _to_float,
    rank_zero_experiment,
    save_hparams_to_yaml,
)
from runtime.utilities.rank_zero import rank_zero_only, rank_zero_warn


class TensorBoardLogger(Logger):
    r"""Log to TensorBoard event files in ``save_dir/name/version_N[/sub_dir]``.

    ``version`` defaults to the next free ``version_N``; the folder is created on first use, so a
    logger that never writes leaves nothing behind. Extra ``kwargs`` go to ``SummaryWriter``.

    Example::

        trainer = Trainer(logger=TensorBoardLogger("logs", name="mnist"))
        # -> logs/mnist/version_0/events.out.tfevents.*, logs/mnist/version_0/hparams.yaml
    """

    NAME_HPARAMS_FILE = "hparams.yaml"
    LOGGER_JOIN_CHAR = "-"

    def __init__(
        self,
        save_dir: str | os.PathLike,
        name: str | None = "lightning_logs",
        version: int | str | None = None,
        log_graph: bool = False,
        default_hp_metric: bool = True,
        prefix: str = "",
        sub_dir: str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self._save_dir = os.fspath(save_dir)
        self._name = name or ""
        self._version = version
        self._sub_dir = None if sub_dir is None else os.fspath(sub_dir)
        self._log_graph = log_graph
        self._default_hp_metric = default_hp_metric
        self._prefix = prefix
        self._kwargs = kwargs
        self._experiment: Any = None
        self.hparams: dict[str, Any] = {}

    # ----------------------------------------------------------------------------------------------
    # where things go

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> int | str:
        if self._version is None:
            self._version = _claim_version(self.root_dir)
        return self._version

    @property
    def save_dir(self) -> str:
        return self._save_dir

    @property
    def root_dir(self) -> str:
        return os.path.join(self._save_dir, self._name) if self._name else self._save_dir

    @property
    def sub_dir(self) -> str | None:
        return self._sub_dir

    @property
    def log_dir(self) -> str:
        version = self.version if isinstance(self.version, str) else f"version_{self.version}"
        log_dir = os.path.join(self.root_dir, version)
        if self._sub_dir:
            log_dir = os.path.join(log_dir, self._sub_dir)
        return os.path.expanduser(os.path.expandvars(log_dir))

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The ``torch.utils.tensorboard.SummaryWriter`` (created, with its folder, on first use)."""
        if self._experiment is not None:
            return self._experiment
        try:
            from torch.utils.tensorboard import SummaryWriter  # lazy: imports tensorboard
        except ImportError as err:  # pragma: no cover - tensorboard is a dependency
            raise ModuleNotFoundError(
                "TensorBoardLogger needs the `tensorboard` package: `pip install tensorboard`, "
                "or use `CSVLogger` / `Trainer(logger=False)`."
            ) from err
        os.makedirs(self.log_dir, exist_ok=True)
        self._experiment = SummaryWriter(log_dir=self.log_dir, **self._kwargs)
        return self._experiment

    # ----------------------------------------------------------------------------------------------
    # writing

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        metrics = _add_prefix(metrics, self._prefix, self.LOGGER_JOIN_CHAR)
        for k, v in metrics.items():
            v = _to_float(v)
            if isinstance(v, dict):
                self.experiment.add_scalars(k, {kk: _to_float(vv) for kk, vv in v.items()}, step)
                continue
            try:
                self.experiment.add_scalar(k, v, step)
            except Exception as ex:
                raise ValueError(
                    f"TensorBoardLogger cannot log {k}={v!r} ({type(v).__name__}): log a number, "
                    "a 0-dim tensor or a dict of numbers."
                ) from ex

    @rank_zero_only
    def log_hyperparams(
        self, params: dict[str, Any] | Namespace, metrics: dict[str, Any] | float | None = None, step: int | None = None
    ) -> None:
        """Record hyperparameters in ``hparams.yaml`` and in TensorBoard's HPARAMS tab.

        ``metrics`` are the values shown next to the hyperparameters; by default ``hp_metric=-1``
        (turn off with ``default_hp_metric=False``, then log ``hp_metric`` yourself).
        """
        params = _convert_params(params)
        self.hparams.update(params)
        save_hparams_to_yaml(os.path.join(self.log_dir, self.NAME_HPARAMS_FILE), self.hparams)

        if metrics is None:
            metrics = {"hp_metric": -1} if self._default_hp_metric else {}
        elif not isinstance(metrics, dict):
            metrics = {"hp_metric": metrics}
        if not metrics:
            return
        metrics = {k: _to_float(v) for k, v in metrics.items()}
        self.log_metrics(metrics, step)
        from torch.utils.tensorboard.summary import hparams  # lazy: imports tensorboard

        exp, ssi, sei = hparams(_sanitize_params(_flatten_dict(params)), metrics)
        writer = self.experiment._get_file_writer()
        writer.add_summary(exp)
        writer.add_summary(ssi)
        writer.add_summary(sei)

    @rank_zero_only
    def log_graph(self, model: Any, input_array: Any = None) -> None:
        if not self._log_graph:
            return
        if input_array is None:
            input_array = getattr(model, "example_input_array", None)
        if input_array is None:
            rank_zero_warn(
                "Could not log the computational graph to TensorBoard: set `model.example_input_array` "
                "or pass `input_array` to `log_graph`."
            )
            return
        try:
            import torch

            device = next(model.parameters()).device
            if isinstance(input_array, torch.Tensor):
                input_array = input_array.to(device)
            elif isinstance(input_array, (tuple, list)):
                input_array = tuple(x.to(device) if isinstance(x, torch.Tensor) else x for x in input_array)
        except StopIteration:
            pass
        self.experiment.add_graph(model, input_array)

    @rank_zero_only
    def save(self) -> None:
        """Flush the event file; write ``hparams.yaml`` if the run folder exists and has none yet."""
        if self._experiment is not None:
            self._experiment.flush()
        hparams_file = os.path.join(self.log_dir, self.NAME_HPARAMS_FILE)
        if os.path.isdir(self.log_dir) and not os.path.isfile(hparams_file):
            save_hparams_to_yaml(hparams_file, self.hparams)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """Flush and close the event file (a later write reopens a new one)."""
        if self._experiment is not None:
            self._experiment.flush()
            self._experiment.close()
        if status == "success":
            self.save()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_experiment"] = None  # a SummaryWriter holds a thread and a file: never pickled
        return state

    def __repr__(self) -> str:
        return f"TensorBoardLogger(save_dir={self._save_dir!r}, name={self._name!r}, version={self._version!r})"
