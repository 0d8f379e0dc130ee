"""``AttributeDict`` (``hparams.lr``) and helpers that read or set an attribute on a module or its datamodule."""
import pickle
from typing import Any, MutableMapping

from runtime.utilities.rank_zero import rank_zero_warn

__all__ = ["AttributeDict", "clean_namespace", "is_picklable", "lightning_getattr", "lightning_hasattr",
           "lightning_setattr"]


class AttributeDict(dict):
    """A dict whose keys read as attributes: ``hparams.lr``."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError as err:
            raise AttributeError(f"'AttributeDict' has no attribute {key!r}") from err

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        del self[key]

    def __repr__(self) -> str:
        if not self:
            return ""
        width = max(len(str(k)) for k in self)
        return "\n".join(f'{f"{k!r}:":<{width + 3}} {v!r}' for k, v in sorted(self.items(), key=lambda kv: str(kv[0])))


def is_picklable(obj: object) -> bool:
    """Whether ``obj`` survives ``pickle.dumps``."""
    try:
        pickle.dumps(obj)
        return True
    except (pickle.PickleError, AttributeError, RuntimeError, TypeError):
        return False


def clean_namespace(hparams: MutableMapping) -> None:
    """Drop, in place, the values that cannot be pickled (each one named in a warning)."""
    for key in [k for k, v in hparams.items() if not is_picklable(v)]:
        rank_zero_warn(
            f"Attribute '{key}' removed from hparams because it cannot be pickled. You can suppress this warning by "
            f"setting `self.save_hyperparameters(ignore=['{key}'])`."
        )
        del hparams[key]


def _holders(model: Any, attribute: str) -> list[Any]:
    """Where ``attribute`` lives, in Lightning's order: the module, its ``hparams``, the trainer's datamodule."""
    found = []
    if hasattr(model, attribute):
        found.append(model)
    hparams = getattr(model, "hparams", None)
    if hparams is not None and attribute in hparams:
        found.append(hparams)
    trainer = getattr(model, "_trainer", None)
    datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
    if datamodule is not None and hasattr(datamodule, attribute):
        found.append(datamodule)
    return found


def lightning_hasattr(model: Any, attribute: str) -> bool:
    """Whether the module, its hparams or its trainer's datamodule has ``attribute``."""
    return bool(_holders(model, attribute))


def lightning_getattr(model: Any, attribute: str) -> Any:
    """``attribute`` from the first of: the module, its hparams, its trainer's datamodule."""
    holders = _holders(model, attribute)
    if not holders:
        raise AttributeError(
            f"{attribute} is neither stored in the model namespace nor the `hparams` namespace/dict, nor the datamodule."
        )
    holder = holders[-1]  # the datamodule wins, as in Lightning
    return holder[attribute] if isinstance(holder, dict) else getattr(holder, attribute)


def lightning_setattr(model: Any, attribute: str, value: Any) -> None:
    """Set ``attribute`` everywhere it lives (module, hparams, datamodule)."""
    holders = _holders(model, attribute)
    if not holders:
        raise AttributeError(
            f"{attribute} is neither stored in the model namespace nor the `hparams` namespace/dict, nor the datamodule."
        )
    for holder in holders:
        if isinstance(holder, dict):
            holder[attribute] = value
        else:
            setattr(holder, attribute, value)
