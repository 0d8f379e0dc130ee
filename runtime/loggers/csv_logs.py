"""CSVLogger: ``metrics.csv`` and ``hparams.yaml`` under ``save_dir/name/version_N``.

Rows are buffered and appended every ``flush_logs_every_n_steps`` steps and at the end; a metric
name seen for the first time rewrites the file once with the widened header.
"""
import csv
import os
from argparse import Namespace
from typing import Any

from runtime.loggers.logger import (
    Logger,
    _add_prefix,
    _convert_params,
    _claim_version,
    _to_float,
    rank_zero_experiment,
    save_hparams_to_yaml,
)
from runtime.utilities.cloud_io import get_filesystem, is_remote
from runtime.utilities.rank_zero import rank_zero_only, rank_zero_warn


class _ExperimentWriter:
    """Buffers metric rows and writes them to ``log_dir/metrics.csv``. ``log_dir`` may be a URL (``s3://...``):
    then the files go through fsspec."""

    NAME_METRICS_FILE = "metrics.csv"

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self.metrics: list[dict[str, Any]] = []
        self.metrics_keys: list[str] = []
        self.metrics_file_path = os.path.join(log_dir, self.NAME_METRICS_FILE)
        self._fs = get_filesystem(log_dir) if is_remote(log_dir) else None  # None: the local disk, through os
        self._check_log_dir_exists()
        if self._fs is None:
            os.makedirs(log_dir, exist_ok=True)
        else:
            self._fs.makedirs(log_dir, exist_ok=True)

    def _isfile(self, path: str) -> bool:
        return os.path.isfile(path) if self._fs is None else self._fs.isfile(path)

    def _open(self, path: str, mode: str) -> Any:
        return open(path, mode, newline="") if self._fs is None else self._fs.open(path, mode, newline="")

    def _check_log_dir_exists(self) -> None:
        if self._fs is None:
            not_empty = os.path.isdir(self.log_dir) and os.listdir(self.log_dir)
        else:
            not_empty = self._fs.isdir(self.log_dir) and self._fs.ls(self.log_dir)
        if not_empty:
            rank_zero_warn(
                f"Experiment logs directory {self.log_dir} exists and is not empty. "
                "Previous log files in this directory will be deleted when the new ones are saved!"
            )
            if self._isfile(self.metrics_file_path):
                os.remove(self.metrics_file_path) if self._fs is None else self._fs.rm(self.metrics_file_path)

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        row = {k: _to_float(v) for k, v in metrics.items()}
        if step is None:
            step = len(self.metrics)
        row["step"] = step
        self.metrics.append(row)

    def save(self) -> None:
        """Append the buffered rows; rewrite the file first if new columns appeared."""
        if not self.metrics:
            return
        new_keys = self._record_new_keys()
        file_exists = self._isfile(self.metrics_file_path)
        if new_keys and file_exists:
            self._rewrite_with_new_header(self.metrics_keys)
        with self._open(self.metrics_file_path, "a" if file_exists else "w") as f:
            writer = csv.DictWriter(f, fieldnames=self.metrics_keys)
            if not file_exists:
                writer.writeheader()
            writer.writerows(self.metrics)
        self.metrics = []

    def _record_new_keys(self) -> set[str]:
        current = set().union(*self.metrics)
        new_keys = current - set(self.metrics_keys)
        self.metrics_keys.extend(new_keys)
        self.metrics_keys.sort()
        return new_keys

    def _rewrite_with_new_header(self, fieldnames: list[str]) -> None:
        with self._open(self.metrics_file_path, "r") as f:
            rows = list(csv.DictReader(f))
        # locally: write next to the file and rename, so a crash mid-rewrite keeps the old file whole
        target = self.metrics_file_path + ".tmp" if self._fs is None else self.metrics_file_path
        with self._open(target, "w") as f:
            writer = csv.DictWriter(f, fieldnames=fieldnames)
            writer.writeheader()
            writer.writerows(rows)
        if self._fs is None:
            os.replace(target, self.metrics_file_path)


class ExperimentWriter(_ExperimentWriter):
    """The metrics writer plus ``hparams.yaml`` (Lightning's writer)."""

    NAME_HPARAMS_FILE = "hparams.yaml"

    def __init__(self, log_dir: str) -> None:
        self.hparams: dict[str, Any] = {}
        super().__init__(log_dir)

    def log_hparams(self, params: dict[str, Any]) -> None:
        self.hparams.update(params)
        save_hparams_to_yaml(os.path.join(self.log_dir, self.NAME_HPARAMS_FILE), self.hparams)

    def save(self) -> None:
        if self.hparams:
            save_hparams_to_yaml(os.path.join(self.log_dir, self.NAME_HPARAMS_FILE), self.hparams)
        super().save()


class CSVLogger(Logger):
    r"""Log metrics to ``save_dir/name/version_N/metrics.csv`` and hyperparameters to ``hparams.yaml``.

    ``metrics.csv`` has a ``step`` column and one column per metric name (a value missing from a row
    is left empty). Rows are written every ``flush_logs_every_n_steps`` steps and when the run ends.

    Example::

        trainer = Trainer(logger=CSVLogger("logs"))
        # later: pandas.read_csv("logs/lightning_logs/version_0/metrics.csv")
    """

    LOGGER_JOIN_CHAR = "-"

    def __init__(
        self,
        save_dir: str | os.PathLike,
        name: str | None = "lightning_logs",
        version: int | str | None = None,
        prefix: str = "",
        flush_logs_every_n_steps: int = 100,
    ) -> None:
        super().__init__()
        self._save_dir = os.fspath(save_dir)
        self._name = name or ""
        self._version = version
        self._prefix = prefix
        self._flush_logs_every_n_steps = flush_logs_every_n_steps
        self._experiment: ExperimentWriter | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> int | str:
        if self._version is None:
            self._version = _next_remote_version(self.root_dir) if is_remote(self.root_dir) else _claim_version(self.root_dir)
        return self._version

    @property
    def save_dir(self) -> str:
        return self._save_dir

    @property
    def root_dir(self) -> str:
        return os.path.join(self._save_dir, self._name) if self._name else self._save_dir

    @property
    def log_dir(self) -> str:
        version = self.version if isinstance(self.version, str) else f"version_{self.version}"
        return os.path.expanduser(os.path.expandvars(os.path.join(self.root_dir, version)))

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        """The writer (created, with the run folder, on first use)."""
        if self._experiment is None:
            self._experiment = ExperimentWriter(log_dir=self.log_dir)
        return self._experiment

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace | None = None, *args: Any, **kwargs: Any) -> None:
        self.experiment.log_hparams(_convert_params(params))

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        metrics = _add_prefix(metrics, self._prefix, self.LOGGER_JOIN_CHAR)
        if step is None:
            step = len(self.experiment.metrics)
        self.experiment.log_metrics(metrics, step)
        if (step + 1) % self._flush_logs_every_n_steps == 0:
            self.save()

    @rank_zero_only
    def save(self) -> None:
        if self._experiment is not None:
            self._experiment.save()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        # written whatever the status: a failed run's metrics are the ones people need to read
        if self._experiment is not None:
            self.save()

    def __repr__(self) -> str:
        return f"CSVLogger(save_dir={self._save_dir!r}, name={self._name!r}, version={self._version!r})"


def _next_remote_version(root_dir: str) -> int:
    """The next free ``version_N`` under a URL (listed through fsspec; remote stores have no atomic mkdir)."""
    fs = get_filesystem(root_dir)
    if not fs.isdir(root_dir):
        return 0
    versions = [int(tail) for entry in fs.ls(root_dir, detail=True) if entry["type"] == "directory"
                for tail in [os.path.basename(entry["name"].rstrip("/"))[len("version_"):]]
                if os.path.basename(entry["name"].rstrip("/")).startswith("version_") and tail.isdigit()]
    return max(versions) + 1 if versions else 0
