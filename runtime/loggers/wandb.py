"""WandbLogger: Weights & Biases through its own client, with Lightning's arguments (``pip install "kindling[wandb]"``).

Offline runs (``offline=True`` or ``WANDB_MODE=offline``) are written under ``save_dir/wandb/`` and uploaded
later with ``wandb sync``. ``wandb`` is imported when the logger is created, not with ``runtime.loggers``.
"""
import os
from argparse import Namespace
from collections.abc import Mapping
from typing import Any, Literal

from runtime.loggers.logger import Logger, _add_prefix, _convert_params, _to_float, rank_zero_experiment
from runtime.loggers.utilities import (_checkpoint_metadata, _convert_json_serializable, _import_client,
                                       _sanitize_callable_params, _scan_checkpoints)
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_only, rank_zero_warn


class WandbLogger(Logger):
    """Log to `Weights & Biases <https://wandb.ai>`_ (Lightning's ``WandbLogger``).

    Example::

        logger = WandbLogger(project="mnist", log_model=True)   # or offline=True, synced later
        trainer = Trainer(logger=logger)

    Args:
        name: display name of the run. save_dir: where wandb writes its files. version: run id to resume
        (same as ``id``). offline: write locally only. dir: same as ``save_dir``. anonymous: allow anonymous
        logging. project: project name (``WANDB_PROJECT`` or "lightning_logs"). log_model: upload
        checkpoints as artifacts, ``"all"`` while training, ``True`` at the end (or while training when
        ``save_top_k == -1``). experiment: an existing run to log to. prefix: put before every metric
        name. checkpoint_name: artifact name (``model-<run id>``). add_file_policy: "mutable" copies the
        file first, "immutable" does not. ``**kwargs``: anything else ``wandb.init`` takes (``tags``, ``group``...).
    """

    LOGGER_JOIN_CHAR = "-"

    def __init__(self, name: str | None = None, save_dir: str | os.PathLike = ".", version: str | None = None,
                 offline: bool = False, dir: str | os.PathLike | None = None, id: str | None = None,
                 anonymous: bool | None = None, project: str | None = None, log_model: Literal["all"] | bool = False,
                 experiment: Any = None, prefix: str = "", checkpoint_name: str | None = None,
                 add_file_policy: Literal["mutable", "immutable"] = "mutable", **kwargs: Any) -> None:
        _import_client("wandb", "wandb", "WandbLogger")
        if offline and log_model:
            raise MisconfigurationException(
                f"Providing log_model={log_model} and offline={offline} is an invalid configuration since model "
                "checkpoints cannot be uploaded in offline mode.\nHint: Set `offline=False` to log your model.")
        super().__init__()
        self._offline = offline
        self._log_model = log_model
        self._prefix = prefix
        self._experiment = experiment
        self._logged_model_time: dict[str, float] = {}
        self._checkpoint_callbacks: dict[int, Any] = {}
        self.add_file_policy = add_file_policy
        save_dir = os.fspath(save_dir) if save_dir is not None else save_dir
        dir = os.fspath(dir) if dir is not None else dir
        self._wandb_init: dict[str, Any] = {
            "name": name,
            "project": project or os.environ.get("WANDB_PROJECT", "lightning_logs"),
            "dir": save_dir or dir,
            "id": version or id,
            "resume": "allow",  # the same id continues that run: resuming a run is passing its version
            **({"anonymous": "allow"} if anonymous else {}),  # wandb warns about the setting even when None
            **kwargs,
        }
        self._project = self._wandb_init["project"]
        self._save_dir = self._wandb_init["dir"]
        self._name = self._wandb_init["name"]
        self._id = self._wandb_init["id"]
        self._checkpoint_name = checkpoint_name

    def __getstate__(self) -> dict[str, Any]:
        # spawned processes get the run's id and attach to it, instead of pickling the run
        _ = self.experiment
        state = self.__dict__.copy()
        if self._experiment is not None:
            state["_id"] = getattr(self._experiment, "id", None)
            state["_attach_id"] = getattr(self._experiment, "_attach_id", None)
            state["_name"] = self._experiment.name
        state["_experiment"] = None
        return state

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The ``wandb.Run``: ``self.logger.experiment.log({...})`` inside a LightningModule."""
        import wandb

        if self._experiment is None:
            if self._offline:
                os.environ["WANDB_MODE"] = "dryrun"
            attach_id = getattr(self, "_attach_id", None)
            if wandb.run is not None:
                rank_zero_warn("There is a wandb run already in progress and newly created instances of `WandbLogger` "
                               "will reuse this run. If this is not desired, call `wandb.finish()` before instantiating "
                               "`WandbLogger`.")
                self._experiment = wandb.run
            elif attach_id is not None and hasattr(wandb, "_attach"):
                self._experiment = wandb._attach(attach_id)
            else:
                if self._save_dir is not None:
                    os.makedirs(self._save_dir, exist_ok=True)
                self._experiment = wandb.init(**self._wandb_init)
                if getattr(self._experiment, "define_metric", None):
                    # metrics are plotted against the trainer's step, not wandb's own counter
                    if self._wandb_init.get("sync_tensorboard"):
                        self._experiment.define_metric("*", step_metric="global_step")
                    else:
                        self._experiment.define_metric("trainer/global_step")
                        self._experiment.define_metric("*", step_metric="trainer/global_step", step_sync=True)
        return self._experiment

    def watch(self, model: Any, log: str | None = "gradients", log_freq: int = 100, log_graph: bool = True) -> None:
        self.experiment.watch(model, log=log, log_freq=log_freq, log_graph=log_graph)

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        params = _convert_json_serializable(_sanitize_callable_params(_convert_params(params)))
        self.experiment.config.update(params, allow_val_change=True)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        metrics = {k: _to_float(v) for k, v in _add_prefix(metrics, self._prefix, self.LOGGER_JOIN_CHAR).items()}
        if step is not None and not self._wandb_init.get("sync_tensorboard"):
            self.experiment.log({**metrics, "trainer/global_step": step})
        else:
            self.experiment.log(metrics)

    @rank_zero_only
    def log_table(self, key: str, columns: list[str] | None = None, data: list[list[Any]] | None = None,
                  dataframe: Any = None, step: int | None = None) -> None:
        """Log a ``wandb.Table`` from ``columns`` and ``data``, or from a ``dataframe``."""
        import wandb

        self.log_metrics({key: wandb.Table(columns=columns, data=data, dataframe=dataframe)}, step)

    @rank_zero_only
    def log_text(self, key: str, columns: list[str] | None = None, data: list[list[str]] | None = None,
                 dataframe: Any = None, step: int | None = None) -> None:
        self.log_table(key, columns, data, dataframe, step)

    @rank_zero_only
    def log_image(self, key: str, images: list[Any], step: int | None = None, **kwargs: Any) -> None:
        """Log images (tensors, arrays, PIL images or paths); ``kwargs`` are lists, one item per image (``caption``)."""
        self._log_media(key, images, "Image", step, **kwargs)

    @rank_zero_only
    def log_audio(self, key: str, audios: list[Any], step: int | None = None, **kwargs: Any) -> None:
        self._log_media(key, audios, "Audio", step, **kwargs)

    @rank_zero_only
    def log_video(self, key: str, videos: list[Any], step: int | None = None, **kwargs: Any) -> None:
        self._log_media(key, videos, "Video", step, **kwargs)

    def _log_media(self, key: str, items: list[Any], kind: str, step: int | None, **kwargs: Any) -> None:
        import wandb

        if not isinstance(items, list):
            raise TypeError(f'Expected a list as "{kind.lower()}s", found {type(items)}')
        for k, v in kwargs.items():
            if len(v) != len(items):
                raise ValueError(f"Expected {len(items)} items but only found {len(v)} for {k}")
        media = getattr(wandb, kind)
        self.log_metrics({key: [media(item, **{k: kwargs[k][i] for k in kwargs}) for i, item in enumerate(items)]}, step)

    @property
    def save_dir(self) -> str | None:
        return self._save_dir

    @property
    def name(self) -> str | None:
        """The project's name (the run's own name is ``logger.experiment.name``)."""
        return self._project

    @property
    def version(self) -> str | None:
        """The run's id (without creating the run when there is none yet)."""
        return self._experiment.id if self._experiment else self._id

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        if self._log_model == "all" or self._log_model is True and checkpoint_callback.save_top_k == -1:
            self._scan_and_log_checkpoints(checkpoint_callback)
        elif self._log_model is True:
            self._checkpoint_callbacks[id(checkpoint_callback)] = checkpoint_callback

    @staticmethod
    @rank_zero_only
    def download_artifact(artifact: str, save_dir: str | os.PathLike | None = None, artifact_type: str | None = None,
                          use_artifact: bool | None = True) -> str:
        """Download an artifact (``"entity/project/model-abc:best"``) and return its folder."""
        import wandb

        if wandb.run is not None and use_artifact:
            found = wandb.run.use_artifact(artifact)
        else:
            found = wandb.Api().artifact(artifact, type=artifact_type)
        return found.download(root=None if save_dir is None else os.fspath(save_dir))

    def use_artifact(self, artifact: str, artifact_type: str | None = None) -> Any:
        """Record that this run uses ``artifact``, and return it."""
        return self.experiment.use_artifact(artifact, type=artifact_type)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if status != "success":
            return  # as Lightning: checkpoints are uploaded only after a successful run
        if self._experiment is not None:
            for checkpoint_callback in self._checkpoint_callbacks.values():
                self._scan_and_log_checkpoints(checkpoint_callback)

    def _scan_and_log_checkpoints(self, checkpoint_callback: Any) -> None:
        import wandb

        for t, path, score, _ in _scan_checkpoints(checkpoint_callback, self._logged_model_time):
            if not self._checkpoint_name:
                self._checkpoint_name = f"model-{self.experiment.id}"
            artifact = wandb.Artifact(name=self._checkpoint_name, type="model",
                                      metadata=_checkpoint_metadata(checkpoint_callback, path, score))
            artifact.add_file(path, name="model.ckpt", policy=self.add_file_policy)
            aliases = ["latest", "best"] if path == checkpoint_callback.best_model_path else ["latest"]
            self.experiment.log_artifact(artifact, aliases=aliases)
            self._logged_model_time[path] = t  # the time too: last.ckpt keeps its name when rewritten
