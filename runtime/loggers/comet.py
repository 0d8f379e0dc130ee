"""CometLogger: Comet through its own client (``comet_ml.start``), with Lightning's arguments (``pip install "kindling[comet]"``).

``online=False`` writes an offline experiment: a zip under ``offline_directory`` that ``comet upload`` sends
later. ``comet_ml`` is imported when the logger is created, not with ``runtime.loggers``.
"""
import os
from argparse import Namespace
from collections.abc import Mapping
from typing import Any, Literal

from runtime.loggers.logger import Logger, _convert_params, _to_float, rank_zero_experiment
from runtime.loggers.utilities import _import_client
from runtime.utilities.rank_zero import rank_zero_only, rank_zero_warn

FRAMEWORK_NAME = "pytorch-lightning"  # how Comet's UI labels what Lightning's logger sent


class CometLogger(Logger):
    """Log to `Comet <https://www.comet.com>`_ (Lightning's ``CometLogger``).

    Example::

        logger = CometLogger(project="mnist", online=False, offline_directory="comet")  # upload later
        trainer = Trainer(logger=logger)

    Args:
        api_key: Comet API key (or ``COMET_API_KEY``). workspace / project: where the experiment goes.
        experiment_key: continue that experiment (resuming it). mode: "get_or_create", "get" or "create".
        online: False for an offline experiment. prefix: put before every metric name. ``**kwargs``: fields
        of ``comet_ml.ExperimentConfig`` (``offline_directory``, ``name``, ``tags``...). The 1.x names
        ``experiment_name``, ``project_name``, ``offline`` and ``save_dir`` still work.

    Unlike Lightning (which passes ``disabled=True`` for ``online=False``), an offline experiment here records
    everything into its zip: that is what offline mode is for.
    """

    def __init__(self, *, api_key: str | None = None, workspace: str | None = None, project: str | None = None,
                 experiment_key: str | None = None, mode: Literal["get_or_create", "get", "create"] | None = None,
                 online: bool | None = None, prefix: str | None = None, **kwargs: Any) -> None:
        for old, new in (("experiment_name", "name"), ("project_name", "project"), ("save_dir", "offline_directory")):
            if old in kwargs:
                rank_zero_warn(f"CometLogger({old}=...) is the old name; use {new}=...")
                value = kwargs.pop(old)
                if new == "project":
                    project = project or value
                else:
                    kwargs.setdefault(new, value)
        if "offline" in kwargs:
            rank_zero_warn("CometLogger(offline=...) is the old name; use online=...")
            offline = kwargs.pop("offline")
            online = (not offline) if online is None else online
        # before the first `comet_ml` import: no automatic logging hooked into torch behind the trainer's back
        os.environ["COMET_DISABLE_AUTO_LOGGING"] = "1"
        comet_ml = _import_client("comet_ml", "comet", "CometLogger")
        super().__init__()
        self._api_key = api_key
        self._experiment: Any = None
        self._workspace = workspace
        self._mode = mode
        self._online = online
        self._project_name = project
        self._experiment_key = experiment_key
        self._prefix = prefix
        self._kwargs = kwargs
        self._comet_config = comet_ml.ExperimentConfig(**kwargs)
        if rank_zero_only.rank == 0:  # the experiment exists on rank zero only
            self._create_experiment()

    def _create_experiment(self) -> None:
        import comet_ml

        self._experiment = comet_ml.start(api_key=self._api_key, workspace=self._workspace, project=self._project_name,
                                          experiment_key=self._experiment_key, mode=self._mode, online=self._online,
                                          experiment_config=self._comet_config)
        if self._experiment is None:
            raise comet_ml.exceptions.ExperimentNotFound("Failed to create Comet experiment.")
        self._experiment_key = self._experiment.get_key()
        self._project_name = self._experiment.project_name
        self._experiment.log_other("Created from", FRAMEWORK_NAME)

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The Comet experiment: ``self.logger.experiment.log_image(...)`` in a LightningModule."""
        if self._experiment is None:  # after unpickling in a spawned process
            self._create_experiment()
        return self._experiment

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        self.experiment.__internal_api__log_parameters__(parameters=_convert_params(params), framework=FRAMEWORK_NAME,
                                                         flatten_nested=True, source="manual")

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        metrics = {k: _to_float(v) for k, v in metrics.items()}
        epoch = metrics.pop("epoch", None)
        self.experiment.__internal_api__log_metrics__(metrics, step=step, epoch=epoch, prefix=self._prefix,
                                                      framework=FRAMEWORK_NAME)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        # the experiment is not ended, so it can still be used after training (as Lightning): its data is flushed
        if self._experiment is not None:
            self.experiment.flush()

    @property
    def save_dir(self) -> str | None:
        return self._comet_config.offline_directory

    @property
    def name(self) -> str | None:
        """The project's name."""
        return self._project_name

    @property
    def version(self) -> str | None:
        """The experiment's key (without creating one)."""
        return self._experiment.get_key() if self._experiment is not None else None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_experiment_key"] = self._experiment.get_key() if self._experiment is not None else None
        state["_experiment"] = None
        return state

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        if self._experiment is not None:
            self._experiment.__internal_api__set_model_graph__(graph=model, framework=FRAMEWORK_NAME)
