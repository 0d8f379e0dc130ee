"""Hyperparameter files: ``hparams.yaml`` and the old ``tags.csv``, read and written as Lightning lays them out.

Files are read with ``yaml.safe_load``: a config never builds objects or runs code.
"""
import ast
import csv
import inspect
import os
from argparse import Namespace
from enum import Enum
from typing import Any, Mapping

from runtime.utilities.rank_zero import rank_zero_warn

__all__ = ["instantiate_from_checkpoint", "load_hparams_from_tags_csv", "load_hparams_from_yaml", "save_hparams_to_tags_csv", "save_hparams_to_yaml",
           "update_hparams"]

CHECKPOINT_PAST_HPARAMS_KEYS = ("hparams", "module_arguments")  # names hyperparameters had in 0.x checkpoints


def save_hparams_to_yaml(config_yaml: str | os.PathLike, hparams: Mapping[str, Any] | Namespace, use_omegaconf: bool = True) -> None:
    """Write ``hparams`` (a dict, ``AttributeDict`` or ``Namespace``) to ``config_yaml``.

    Values YAML cannot represent are written as strings; ``use_omegaconf`` is accepted for Lightning's signature.
    """
    folder = os.path.dirname(os.fspath(config_yaml))
    if folder and not os.path.isdir(folder):
        raise RuntimeError(f"Missing folder: {folder}. Create it before saving {config_yaml}.")
    if isinstance(hparams, Namespace):
        hparams = vars(hparams)
    if not isinstance(hparams, Mapping):
        raise TypeError(f"hparams must be a dict or a Namespace, got {type(hparams).__name__}")
    import yaml

    allowed = {}
    for key, value in hparams.items():
        value = value.name if isinstance(value, Enum) else value
        try:
            yaml.safe_dump(value)
        except yaml.YAMLError:
            rank_zero_warn(f"Skipping {key!r} parameter because it is not possible to safely dump to YAML.")
        else:
            allowed[key] = value
    with open(config_yaml, "w", newline="") as fp:
        yaml.safe_dump(allowed, fp)


def load_hparams_from_yaml(config_yaml: str | os.PathLike, use_omegaconf: bool = True) -> dict[str, Any]:
    """The hyperparameters in ``config_yaml``; ``{}`` with a warning when the file does not exist."""
    import yaml

    if not os.path.isfile(config_yaml):
        rank_zero_warn(f"Missing Tags: {config_yaml}.", category=RuntimeWarning)
        return {}
    with open(config_yaml) as fp:
        hparams = yaml.safe_load(fp)
    return hparams if hparams is not None else {}


def save_hparams_to_tags_csv(tags_csv: str | os.PathLike, hparams: Mapping[str, Any] | Namespace) -> None:
    """The 0.x ``tags.csv`` layout: one ``key,value`` row per hyperparameter."""
    folder = os.path.dirname(os.fspath(tags_csv))
    if folder and not os.path.isdir(folder):
        raise RuntimeError(f"Missing folder: {folder}.")
    if isinstance(hparams, Namespace):
        hparams = vars(hparams)
    with open(tags_csv, "w", newline="") as fp:
        writer = csv.DictWriter(fp, fieldnames=["key", "value"])
        writer.writerow({"key": "key", "value": "value"})
        for k, v in hparams.items():
            writer.writerow({"key": k, "value": v})


def load_hparams_from_tags_csv(tags_csv: str | os.PathLike) -> dict[str, Any]:
    """The hyperparameters of a 0.x ``tags.csv``; values parsed as Python literals where they are ones."""
    if not os.path.isfile(tags_csv):
        rank_zero_warn(f"Missing Tags: {tags_csv}.", category=RuntimeWarning)
        return {}
    with open(tags_csv, newline="") as fp:
        rows = list(csv.DictReader(fp))
    return {row["key"]: convert(row["value"]) for row in rows}


def convert(val: str) -> Any:
    """``"1"`` -> 1, ``"True"`` -> True, anything that is not a literal stays a string (never evaluated as code)."""
    try:
        return ast.literal_eval(val)
    except (ValueError, SyntaxError):
        return val


def update_hparams(hparams: dict, updates: dict) -> None:
    """Merge ``updates`` into ``hparams`` in place, recursing into nested dicts."""
    for k, v in updates.items():
        if k not in hparams:
            hparams[k] = v
        elif isinstance(v, dict) and isinstance(hparams[k], dict):
            update_hparams(hparams[k], v)
        else:
            hparams[k] = v


def instantiate_from_checkpoint(cls: type, checkpoint: dict[str, Any], hparams_file: Any, overrides: dict[str, Any]) -> Any:
    """``cls(...)`` from the hyperparameters a checkpoint saved, as ``load_from_checkpoint`` builds it.

    The saved values (or, when given, an ``hparams_file``'s instead) are passed back under the name they were saved
    from: one ``hparams`` argument when ``save_hyperparameters(hparams)`` saved a whole object, keyword
    arguments otherwise. ``overrides`` win over both. Names ``__init__`` does not take are dropped, unless it
    takes ``**kwargs``.
    """
    if hparams_file is not None:  # the file replaces what the checkpoint saved, as in Lightning
        from runtime.core.hparams import load_hparams_file

        checkpoint[cls.CHECKPOINT_HYPER_PARAMS_KEY] = load_hparams_file(hparams_file)
    # as Lightning: the checkpoint the hooks see carries the hyperparameters the object is built with
    checkpoint[cls.CHECKPOINT_HYPER_PARAMS_KEY] = {**(checkpoint.get(cls.CHECKPOINT_HYPER_PARAMS_KEY) or {}), **overrides}
    saved: dict[str, Any] = {}
    for old_key in CHECKPOINT_PAST_HPARAMS_KEYS:
        saved.update(checkpoint.get(old_key) or {})
    saved.update(checkpoint.get(cls.CHECKPOINT_HYPER_PARAMS_KEY) or {})
    saved.pop("_instantiator", None)
    parameters = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    names = [n for n, p in parameters.items() if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    saved_as = checkpoint.get(cls.CHECKPOINT_HYPER_PARAMS_NAME)
    if saved_as and saved_as in names:
        saved = {saved_as: _as_saved_type(saved, checkpoint.get(cls.CHECKPOINT_HYPER_PARAMS_TYPE))}
    kwargs = {**saved, **overrides}
    if not takes_any:
        kwargs = {k: v for k, v in kwargs.items() if k in names}
    return cls(**kwargs)


def _as_saved_type(hparams: dict[str, Any], saved_type: Any) -> Any:
    """A dict saved from a ``Namespace`` comes back a ``Namespace``; otherwise an ``AttributeDict``."""
    from runtime.utilities.parsing import AttributeDict

    if saved_type is Namespace or (isinstance(saved_type, str) and saved_type.lower() == "namespace"):
        return Namespace(**hparams)
    return AttributeDict(hparams)
