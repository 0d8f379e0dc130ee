"""Hyperparameter files: ``hparams.yaml`` and the old ``tags.csv``, read and written as Lightning lays them out.

Files are read with ``yaml.safe_load``: a config never builds objects or runs code.
"""
import ast
import csv
import os
from argparse import Namespace
from typing import Any, Mapping

from runtime.loggers.logger import save_hparams_to_yaml as _save_yaml
from runtime.utilities.rank_zero import rank_zero_warn

__all__ = ["load_hparams_from_tags_csv", "load_hparams_from_yaml", "save_hparams_to_tags_csv", "save_hparams_to_yaml",
           "update_hparams"]

CHECKPOINT_PAST_HPARAMS_KEYS = ("hparams", "module_arguments")  # names hyperparameters had in 0.x checkpoints


def save_hparams_to_yaml(config_yaml: str | os.PathLike, hparams: Mapping[str, Any] | Namespace, use_omegaconf: bool = True) -> None:
    """Write ``hparams`` (a dict, ``AttributeDict`` or ``Namespace``) to ``config_yaml``.

    Values YAML cannot represent are written as strings; ``use_omegaconf`` is accepted for Lightning's signature.
    """
    folder = os.path.dirname(os.fspath(config_yaml))
    if folder and not os.path.isdir(folder):
        raise RuntimeError(f"Missing folder: {folder}. Create it before saving {config_yaml}.")
    if not isinstance(hparams, (Mapping, Namespace)):
        raise TypeError(f"hparams must be a dict or a Namespace, got {type(hparams).__name__}")
    _save_yaml(os.fspath(config_yaml), hparams)


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
