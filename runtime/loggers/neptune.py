"""NeptuneLogger: Neptune through its own client (``neptune.init_run``), with Lightning's arguments
(``pip install "kindling[neptune]"``). ``mode="offline"`` writes the run under ``.neptune/offline`` for ``neptune sync``.
``neptune`` is imported when the logger is created, not with ``runtime.loggers``.
"""
import os
from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from runtime.loggers.logger import Logger, _add_prefix, _convert_params, _to_float, rank_zero_experiment
from runtime.loggers.utilities import _import_client
from runtime.utilities.rank_zero import rank_zero_only


class NeptuneLogger(Logger):
    """Log to `Neptune <https://neptune.ai>`_ (Lightning's ``NeptuneLogger``).

    Example::

        logger = NeptuneLogger(project="workspace/project", mode="offline")
        trainer = Trainer(logger=logger)

    Args:
        api_key: Neptune API token (or ``NEPTUNE_API_TOKEN``). project: "workspace/project". name: the run's
        name. run: an existing ``neptune.Run`` (or a handler inside one) to log to. log_model_checkpoints:
        upload ModelCheckpoint's files. prefix: namespace of everything logged ("training"). ``**neptune_run_kwargs``:
        anything ``neptune.init_run`` takes (``mode="offline"``, ``with_id=`` to resume a run, ``tags``...).
    """

    LOGGER_JOIN_CHAR = "/"
    PARAMETERS_KEY = "hyperparams"

    def __init__(self, *, api_key: str | None = None, project: str | None = None, name: str | None = None,
                 run: Any = None, log_model_checkpoints: bool | None = True, prefix: str = "training",
                 **neptune_run_kwargs: Any) -> None:
        _import_client("neptune", "neptune", "NeptuneLogger")
        super().__init__()
        self._log_model_checkpoints = log_model_checkpoints
        self._prefix = prefix
        self._run_name = name
        self._project_name = project
        self._api_key = api_key
        self._run_instance = run
        self._neptune_run_kwargs = neptune_run_kwargs
        self._run_short_id: str | None = None
        if self._run_instance is not None:
            self._retrieve_run_data()

    def _retrieve_run_data(self) -> None:
        root = getattr(self._run_instance, "get_root_object", lambda: self._run_instance)()
        root.wait()
        self._run_short_id = getattr(root, "_sys_id", None) or getattr(root, "_id", None)
        self._run_name = self._run_name or getattr(root, "_name", None) or "offline-name"

    @property
    def _neptune_init_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"project": self._project_name, "api_token": self._api_key, "name": self._run_name}
        return {**{k: v for k, v in args.items() if v is not None}, **self._neptune_run_kwargs}

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The ``neptune.Run``: ``self.logger.experiment["your/field"] = value`` in a LightningModule."""
        return self.run

    @property
    @rank_zero_experiment
    def run(self) -> Any:
        if self._run_instance is None:
            import neptune

            self._run_instance = neptune.init_run(**self._neptune_init_args)
            self._retrieve_run_data()
            self._run_instance[_SOURCE_KEY] = "runtime (kindling)"
        return self._run_instance

    def _key(self, key: str) -> str:
        return f"{self._prefix}{self.LOGGER_JOIN_CHAR}{key}" if self._prefix else key

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        from neptune.utils import stringify_unsupported

        self.run[self._key(self.PARAMETERS_KEY)] = stringify_unsupported(_convert_params(params))

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        for key, value in _add_prefix(metrics, self._prefix, self.LOGGER_JOIN_CHAR).items():
            self.run[key].append(_to_float(value), step=step)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._run_instance is None:
            return  # nothing was logged: no run to close
        if status:
            self.run[self._key("status")] = status
        self.run.wait()

    @property
    def save_dir(self) -> str | None:
        """Where an offline run is written (``.neptune`` in the current folder)."""
        return os.path.join(os.getcwd(), ".neptune")

    @property
    def name(self) -> str | None:
        return self._run_name

    @property
    def version(self) -> str | None:
        """The run's short id (``PROJ-123``, or the local id of an offline run)."""
        return self._run_short_id

    @rank_zero_only
    def log_model_summary(self, model: Any, max_depth: int = -1) -> None:
        from neptune.types import File

        from runtime.utilities.model_summary.model_summary import summarize

        self.run[self._key("model/summary")] = File.from_content(str(summarize(model, max_depth=max_depth)), extension="txt")

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """Upload the callback's checkpoint files under ``<prefix>/model/checkpoints`` and record the best one."""
        if not self._log_model_checkpoints:
            return
        files = {getattr(checkpoint_callback, "last_model_path", ""), getattr(checkpoint_callback, "best_model_path", ""),
                 *(getattr(checkpoint_callback, "best_k_models", None) or {})}
        dirpath = getattr(checkpoint_callback, "dirpath", None) or ""
        for path in sorted(p for p in files if p and os.path.isfile(p)):
            name = os.path.splitext(os.path.relpath(path, dirpath) if dirpath else os.path.basename(path))[0]
            self.run[self._key(f"model/checkpoints/{name}")].upload(path)
        best = getattr(checkpoint_callback, "best_model_path", "")
        if best:
            self.run[self._key("model/best_model_path")] = best
        score = getattr(checkpoint_callback, "best_model_score", None)
        if score is not None:
            self.run[self._key("model/best_model_score")] = float(_to_float(score))


_SOURCE_KEY = "source_code/integrations/pytorch-lightning"
