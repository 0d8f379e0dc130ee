"""MLFlowLogger: MLflow through its own client, with Lightning's arguments (``pip install "kindling[mlflow]"``).

Works with ``mlflow`` or ``mlflow-skinny``; a local file store by default (``file:./mlruns``), any tracking URI
otherwise (``sqlite:///mlflow.db`` needs sqlalchemy, as mlflow says). ``mlflow`` is imported when the
logger is created, not with ``runtime.loggers``.
"""
import logging
import os
import re
import tempfile
import time
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from runtime.loggers.logger import Logger, _add_prefix, _convert_params, _flatten_dict, _to_float, rank_zero_experiment
from runtime.loggers.utilities import _checkpoint_metadata, _import_client, _scan_checkpoints
from runtime.utilities.rank_zero import rank_zero_only, rank_zero_warn

log = logging.getLogger(__name__)
LOCAL_FILE_URI_PREFIX = "file:"


class MLFlowLogger(Logger):
    """Log to `MLflow <https://mlflow.org>`_ (Lightning's ``MLFlowLogger``).

    Example::

        logger = MLFlowLogger(experiment_name="lightning_logs", tracking_uri="file:./ml-runs", log_model=True)
        trainer = Trainer(logger=logger)

    Args:
        experiment_name: the MLflow experiment (created when missing). run_name: the run's ``mlflow.runName``
        tag. tracking_uri: where to log (``MLFLOW_TRACKING_URI``, else ``file:<save_dir>``). tags: run tags.
        save_dir: the file store's folder when no tracking URI is given. log_model: upload checkpoints as
        artifacts, ``"all"`` while training, ``True`` at the end (or while training when ``save_top_k == -1``).
        prefix: put before every metric name. artifact_location: where the experiment keeps artifacts.
        run_id: continue that run (resuming it). synchronous: wait for every logging call (mlflow >= 2.8).
    """

    LOGGER_JOIN_CHAR = "-"

    def __init__(self, experiment_name: str = "lightning_logs", run_name: str | None = None,
                 tracking_uri: str | None = os.getenv("MLFLOW_TRACKING_URI"), tags: dict[str, Any] | None = None,
                 save_dir: str | None = "./mlruns", log_model: Literal[True, False, "all"] = False, prefix: str = "",
                 artifact_location: str | None = None, run_id: str | None = None, synchronous: bool | None = None) -> None:
        _import_client("mlflow", "mlflow", "MLFlowLogger")
        super().__init__()
        if not tracking_uri:
            tracking_uri = f"{LOCAL_FILE_URI_PREFIX}{save_dir}"
        if tracking_uri.startswith(LOCAL_FILE_URI_PREFIX) or "://" not in tracking_uri:
            # MLflow 3 keeps its file store only on request; a file store is what was asked for here
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self._experiment_name = experiment_name
        self._experiment_id: str | None = None
        self._tracking_uri = tracking_uri
        self._run_name = run_name
        self._run_id = run_id
        self.tags = tags
        self._log_model = log_model
        self._logged_model_time: dict[str, float] = {}
        self._checkpoint_callback: Any = None
        self._prefix = prefix
        self._artifact_location = artifact_location
        self._log_batch_kwargs = {} if synchronous is None else {"synchronous": synchronous}
        self._initialized = False

        from mlflow.tracking import MlflowClient

        self._mlflow_client = MlflowClient(tracking_uri)

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The ``MlflowClient``: ``self.logger.experiment.log_text(self.logger.run_id, ...)`` in a LightningModule."""
        import mlflow

        if self._initialized:
            return self._mlflow_client
        mlflow.set_tracking_uri(self._tracking_uri)
        if self._run_id is not None:  # resume: log into that run, in its experiment
            run = self._mlflow_client.get_run(self._run_id)
            self._experiment_id = run.info.experiment_id
            self._initialized = True
            return self._mlflow_client
        if self._experiment_id is None:
            expt = self._mlflow_client.get_experiment_by_name(self._experiment_name)
            if expt is not None and expt.lifecycle_stage != "deleted":
                self._experiment_id = expt.experiment_id
            else:
                log.warning(f"Experiment with name {self._experiment_name} not found. Creating it.")
                self._experiment_id = self._mlflow_client.create_experiment(
                    name=self._experiment_name, artifact_location=self._artifact_location)
        if self._run_name is not None:
            from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME

            self.tags = self.tags or {}
            if MLFLOW_RUN_NAME in self.tags:
                log.warning(f"The tag {MLFLOW_RUN_NAME} is found in tags. The value will be overridden by {self._run_name}.")
            self.tags[MLFLOW_RUN_NAME] = self._run_name
        from mlflow.tracking.context.registry import resolve_tags

        run = self._mlflow_client.create_run(experiment_id=self._experiment_id, tags=resolve_tags(self.tags))
        self._run_id = run.info.run_id
        self._initialized = True
        return self._mlflow_client

    @property
    def run_id(self) -> str | None:
        """The run's id (creating the run if needed)."""
        _ = self.experiment
        return self._run_id

    @property
    def experiment_id(self) -> str | None:
        """The experiment's id (creating it if needed)."""
        _ = self.experiment
        return self._experiment_id

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        from mlflow.entities import Param

        params = _flatten_dict(_convert_params(params))
        # MLflow caps a parameter's value and a batch's size
        params_list = [Param(key=k, value=str(v)[:250]) for k, v in params.items()]
        for idx in range(0, len(params_list), 100):
            self.experiment.log_batch(run_id=self.run_id, params=params_list[idx:idx + 100], **self._log_batch_kwargs)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        from mlflow.entities import Metric

        metrics = _add_prefix(metrics, self._prefix, self.LOGGER_JOIN_CHAR)
        timestamp_ms = int(time.time() * 1000)
        metrics_list = []
        for k, v in metrics.items():
            if isinstance(v, str):
                log.warning(f"Discarding metric with string value {k}={v}.")
                continue
            new_k = re.sub("[^a-zA-Z0-9_/. -]+", "", k)
            if k != new_k:
                rank_zero_warn("MLFlow only allows '_', '/', '.' and ' ' special characters in metric name. "
                               f"Replacing {k} with {new_k}.", category=RuntimeWarning)
                k = new_k
            metrics_list.append(Metric(key=k, value=float(_to_float(v)), timestamp=timestamp_ms, step=step or 0))
        self.experiment.log_batch(run_id=self.run_id, metrics=metrics_list, **self._log_batch_kwargs)

    @rank_zero_only
    def finalize(self, status: str = "success") -> None:
        if not self._initialized:
            return
        status = {"success": "FINISHED", "finished": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}.get(status, status)
        if self._checkpoint_callback:
            self._scan_and_log_checkpoints(self._checkpoint_callback)
        if self.experiment.get_run(self.run_id):
            self.experiment.set_terminated(self.run_id, status)

    @property
    def save_dir(self) -> str | None:
        """The file store's folder, or None when the tracking URI is not local."""
        if self._tracking_uri.startswith(LOCAL_FILE_URI_PREFIX):
            return self._tracking_uri[len(LOCAL_FILE_URI_PREFIX):]
        return None

    @property
    def name(self) -> str | None:
        """The experiment's id."""
        return self.experiment_id

    @property
    def version(self) -> str | None:
        """The run's id."""
        return self.run_id

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        if self._log_model == "all" or self._log_model is True and checkpoint_callback.save_top_k == -1:
            self._scan_and_log_checkpoints(checkpoint_callback)
        elif self._log_model is True:
            self._checkpoint_callback = checkpoint_callback

    def _scan_and_log_checkpoints(self, checkpoint_callback: Any) -> None:
        import yaml

        for t, path, score, _ in _scan_checkpoints(checkpoint_callback, self._logged_model_time):
            metadata = _checkpoint_metadata(checkpoint_callback, path, score)
            aliases = ["latest", "best"] if path == checkpoint_callback.best_model_path else ["latest"]
            artifact_path = Path(path).stem
            self.experiment.log_artifact(self._run_id, path, artifact_path)
            with tempfile.TemporaryDirectory() as tmp_dir:
                Path(tmp_dir, "metadata.yaml").write_text(yaml.safe_dump(metadata, default_flow_style=False))
                Path(tmp_dir, "aliases.txt").write_text(str(aliases))
                self.experiment.log_artifacts(self._run_id, tmp_dir, artifact_path)
            self._logged_model_time[path] = t
