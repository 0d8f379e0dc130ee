"""The Trainer's flags, checked and resolved once into one immutable object.

``resolve_flags`` turns the constructor's arguments into ``Flags``: defaults filled in (Lightning's),
``fast_dev_run`` / ``overfit_batches`` / ``barebones`` expanded into the flags they imply, every value
checked with a message naming it. The loops read ``trainer.flags``; nothing changes it in place (a
``trainer.max_epochs = 3`` replaces the whole object, see ``Trainer``).
"""
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch

from runtime.callbacks.callback import Callback
from runtime.trainer import data as data_utils
from runtime.utilities.duration import parse_duration
from runtime.utilities.exceptions import MisconfigurationException
from runtime.utilities.rank_zero import rank_zero_deprecation, rank_zero_info
from runtime.utilities.suggest import invalid_choice, nearest

# 1.0-era Trainer arguments that still run (with a deprecation warning)
LEGACY_ARGS = ("automatic_optimization", "checkpoint_callback", "gpus", "resume_from_checkpoint",
               "progress_bar_refresh_rate", "weights_summary", "amp_backend")


@dataclass(frozen=True)
class Flags:
    """Every non-hardware Trainer flag, resolved (``None`` only where Lightning means "no bound")."""

    barebones: bool
    fast_dev_run: int | bool
    overfit_batches: int | float
    limit_train_batches: int | float
    limit_val_batches: int | float
    limit_test_batches: int | float
    limit_predict_batches: int | float
    max_epochs: int
    min_epochs: int | None
    max_steps: int
    min_steps: int | None
    max_time: float | None  # seconds
    val_check_interval: Any  # batches (int), a fraction of an epoch (float), or a duration as given
    check_val_every_n_epoch: int | None
    num_sanity_val_steps: int
    log_every_n_steps: int
    accumulate_grad_batches: int
    gradient_clip_val: int | float | None
    gradient_clip_algorithm: str | None
    deterministic: bool | str | None
    benchmark: bool | None
    inference_mode: bool
    use_distributed_sampler: bool
    detect_anomaly: bool
    sync_batchnorm: bool
    reload_dataloaders_every_n_epochs: int
    default_root_dir: str | None
    logger: Any  # False (none), True / None (the default logger), "dummy" (fast_dev_run), or the logger objects given
    enable_checkpointing: bool | None
    enable_progress_bar: bool
    enable_model_summary: bool
    automatic_optimization: bool | None  # the 1.0 Trainer argument, when given
    resume_from_checkpoint: Any  # the 1.0 Trainer argument, when given
    val_check_time: float | None = None  # seconds of training between validations (a duration val_check_interval)
    max_epochs_defaulted: bool = False  # max_epochs was not given: 1000 was chosen (the first fit says so)


def apply_legacy(args: dict[str, Any], legacy: dict[str, Any]) -> dict[str, Any]:
    """``args`` with the 1.0 spellings in ``legacy`` turned into their 2.x arguments (each warned once)."""
    for name in legacy:
        if name not in LEGACY_ARGS:
            guess = nearest(name, [*args, *LEGACY_ARGS])
            hint = f" Did you mean {guess!r}?" if guess else ""
            raise TypeError(f"Trainer() got an unexpected argument {name!r}.{hint}")
    for name in legacy:
        rank_zero_deprecation(f"Trainer({name}=...) is the 1.0 spelling; it still runs but see the Lightning 2.x docs for its replacement.")
    args = dict(args)
    if legacy.get("amp_backend", "native") != "native":
        raise MisconfigurationException(
            f"Trainer(amp_backend={legacy['amp_backend']!r}): only torch's native mixed precision exists in 2.x; "
            "drop amp_backend and choose precision='16-mixed' or 'bf16-mixed'."
        )
    if legacy.get("gpus"):
        args["accelerator"], args["devices"] = "gpu", legacy["gpus"]
    if "checkpoint_callback" in legacy:
        cc = legacy["checkpoint_callback"]
        if isinstance(cc, Callback):
            args["callbacks"] = [*as_list(args["callbacks"]), cc]
        else:
            args["enable_checkpointing"] = bool(cc)
    if legacy.get("progress_bar_refresh_rate") == 0:
        args["enable_progress_bar"] = False
    if "weights_summary" in legacy and legacy["weights_summary"] is None:
        args["enable_model_summary"] = False
    args["automatic_optimization"] = legacy.get("automatic_optimization")
    args["resume_from_checkpoint"] = legacy.get("resume_from_checkpoint")
    return args


def _say_what_one_means(limits: dict[str, Any], overfit: Any, val_check_interval: Any) -> None:
    """1 and 1.0 mean different things (one batch, all of them): say which was understood, as Lightning does."""
    given = {**({} if overfit else limits), "overfit_batches": overfit, "val_check_interval": val_check_interval}
    if overfit:
        given.update({k: v for k, v in limits.items() if k not in ("limit_train_batches", "limit_val_batches")})
    for name, value in given.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int) and value == 1:
            what = {"limit_train_batches": "1 batch per epoch will be used.",
                    "val_check_interval": "validation will run after every batch."}.get(name, "1 batch will be used.")
            rank_zero_info(f"`Trainer({name}=1)` was configured so {what}")
        elif isinstance(value, float) and value == 1.0:
            what = {"limit_train_batches": "100% of the batches per epoch will be used",
                    "val_check_interval": "validation will run at the end of the training epoch"}.get(
                name, "100% of the batches will be used")
            rank_zero_info(f"`Trainer({name}=1.0)` was configured so {what}.")


def resolve_flags(a: dict[str, Any]) -> Flags:
    """Check the constructor's arguments ``a`` and fill in what they imply; see the module docstring."""
    logger, ckpt, bar, summary, sanity = (a["logger"], a["enable_checkpointing"], a["enable_progress_bar"],
                                          a["enable_model_summary"], a["num_sanity_val_steps"])
    if a["barebones"]:
        on = [n for n, v in (("logger", logger), ("enable_checkpointing", ckpt), ("enable_progress_bar", bar),
                             ("enable_model_summary", summary)) if v not in (None, False)]
        if on:
            raise MisconfigurationException(f"barebones=True turns off {', '.join(on)}; drop those arguments or set barebones=False.")
        if sanity:
            raise MisconfigurationException("barebones=True turns off the sanity check; drop num_sanity_val_steps or set barebones=False.")
        logger = ckpt = bar = summary = False
        sanity = 0
    limits = {k: a[k] for k in ("limit_train_batches", "limit_val_batches", "limit_test_batches", "limit_predict_batches")}
    for name, value in (*limits.items(), ("overfit_batches", a["overfit_batches"])):
        data_utils.check_limit(name, value)
    max_steps, max_epochs, val_check_interval, every_n = a["max_steps"], a["max_epochs"], a["val_check_interval"], a["check_val_every_n_epoch"]
    check_int("max_steps", max_steps, minimum=-1)
    check_int("max_epochs", max_epochs, minimum=-1, optional=True)
    check_int("min_epochs", a["min_epochs"], minimum=0, optional=True)
    check_int("min_steps", a["min_steps"], minimum=0, optional=True)
    check_int("accumulate_grad_batches", a["accumulate_grad_batches"], minimum=1)
    check_int("check_val_every_n_epoch", every_n, minimum=1, optional=True)
    check_int("reload_dataloaders_every_n_epochs", a["reload_dataloaders_every_n_epochs"], minimum=0)
    clip_val, clip_algo = a["gradient_clip_val"], a["gradient_clip_algorithm"]
    if clip_algo is not None and clip_algo not in ("norm", "value"):
        raise MisconfigurationException(invalid_choice("gradient_clip_algorithm", clip_algo, ("norm", "value")))
    if clip_val is not None and (isinstance(clip_val, bool) or not isinstance(clip_val, (int, float)) or clip_val < 0):
        raise MisconfigurationException(f"gradient_clip_val={clip_val!r} must be a non-negative number.")
    val_check_time = None
    if isinstance(val_check_interval, (str, timedelta, dict)):  # "00:00:15:00", timedelta(minutes=15), {"minutes": 15}
        val_check_time = parse_duration(val_check_interval, "val_check_interval")
    elif val_check_interval is not None:
        if isinstance(val_check_interval, bool) or not isinstance(val_check_interval, (int, float)) or val_check_interval <= 0:
            raise MisconfigurationException(f"val_check_interval={val_check_interval!r} must be a positive int (batches) or a float fraction in (0.0, 1.0].")
        if isinstance(val_check_interval, float) and every_n is None:
            raise MisconfigurationException(
                "`val_check_interval` should be an integer or a time-based duration (str 'DD:HH:MM:SS', "
                "datetime.timedelta, or dict kwargs for timedelta) when `check_val_every_n_epoch=None`. "
                f"{val_check_interval} is a fraction of an epoch, and without epochs there is nothing to take it of."
            )
        if isinstance(val_check_interval, float) and val_check_interval > 1.0:
            raise MisconfigurationException(
                f"val_check_interval={val_check_interval} is a float above 1.0; a float is a fraction of an epoch (0.0, 1.0]. "
                f"To validate every {int(val_check_interval)} batches pass an int."
            )
    fast_dev_run = a["fast_dev_run"]
    if fast_dev_run is not False and (isinstance(fast_dev_run, bool) is False and (not isinstance(fast_dev_run, int) or fast_dev_run < 0)):
        raise MisconfigurationException(f"fast_dev_run={fast_dev_run!r} must be a bool or a non-negative int number of batches.")
    if fast_dev_run:
        n = 1 if fast_dev_run is True else int(fast_dev_run)
        limits = dict.fromkeys(limits, n)
        max_steps, max_epochs, sanity, val_check_interval, every_n = n, 1, 0, 1.0, 1
        val_check_time = None  # a smoke run validates after its batches, whatever the clock says
        # a logger that records nothing, so `self.logger.experiment...` in user code still runs (as Lightning)
        logger = "dummy" if logger is not False else False
    else:
        _say_what_one_means(limits, a["overfit_batches"], val_check_interval)
    if a["overfit_batches"]:
        limits["limit_train_batches"] = limits["limit_val_batches"] = a["overfit_batches"]
    max_epochs_defaulted = max_epochs is None and max_steps == -1 and a["max_time"] is None
    if max_epochs is None:
        max_epochs = 1000 if max_epochs_defaulted else -1
    sanity = 2 if sanity is None else sanity
    check_int("num_sanity_val_steps", sanity, minimum=-1)
    log_every = 50 if a["log_every_n_steps"] is None else a["log_every_n_steps"]
    check_int("log_every_n_steps", log_every, minimum=0)
    deterministic = a["deterministic"]
    if deterministic not in (None, True, False, "warn"):
        raise MisconfigurationException(invalid_choice("deterministic", deterministic, (True, False, "warn")))
    root = a["default_root_dir"]
    return Flags(
        barebones=a["barebones"], fast_dev_run=fast_dev_run, overfit_batches=a["overfit_batches"],
        **{k: 1.0 if v is None else v for k, v in limits.items()},
        max_epochs=max_epochs, min_epochs=a["min_epochs"], max_steps=max_steps, min_steps=a["min_steps"],
        max_time=parse_duration(a["max_time"], "max_time"),
        val_check_interval=1.0 if val_check_interval is None else val_check_interval, check_val_every_n_epoch=every_n,
        val_check_time=val_check_time, max_epochs_defaulted=max_epochs_defaulted,
        num_sanity_val_steps=sanity, log_every_n_steps=log_every, accumulate_grad_batches=a["accumulate_grad_batches"],
        gradient_clip_val=clip_val, gradient_clip_algorithm=clip_algo, deterministic=deterministic,
        benchmark=a["benchmark"], inference_mode=a["inference_mode"], use_distributed_sampler=a["use_distributed_sampler"],
        detect_anomaly=a["detect_anomaly"], sync_batchnorm=a["sync_batchnorm"],
        reload_dataloaders_every_n_epochs=a["reload_dataloaders_every_n_epochs"],
        default_root_dir=os.fspath(root) if root is not None else None,
        logger=logger, enable_checkpointing=ckpt, enable_progress_bar=bar is not False,
        enable_model_summary=summary is not False, automatic_optimization=a.get("automatic_optimization"),
        resume_from_checkpoint=a.get("resume_from_checkpoint"),
    )


def set_torch_flags(flags: Flags) -> None:
    """Process-wide torch switches, set when the Trainer is built (as Lightning does)."""
    deterministic, benchmark = flags.deterministic, flags.benchmark
    if deterministic is not None:
        if deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(bool(deterministic), warn_only=deterministic == "warn")
    if benchmark is not None:
        torch.backends.cudnn.benchmark = bool(benchmark)
    elif deterministic:
        torch.backends.cudnn.benchmark = False


def check_int(name: str, value: Any, minimum: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MisconfigurationException(f"{name}={value!r} must be an integer >= {minimum}.")


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]

