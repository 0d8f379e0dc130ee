"""The parsed config (a nested, attribute-readable dict) and the error every bad config turns into."""
from typing import Any


class CLIError(Exception):
    """A wrong command line or config: printed as one line after the usage, exit code 2."""


class Namespace(dict):
    """A nested config: ``cfg.trainer.max_epochs``, ``cfg["trainer"]["max_epochs"]`` and ``cfg["trainer.max_epochs"]`` all work."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str) and "." in key and not dict.__contains__(self, key):
            head, _, rest = key.partition(".")
            return dict.__getitem__(self, head)[rest]
        return dict.__getitem__(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, str) and "." in key:
            head, _, rest = key.partition(".")
            if not isinstance(self.get(head), dict):
                dict.__setitem__(self, head, Namespace())
            dict.__getitem__(self, head)[rest] = value
            return
        dict.__setitem__(self, key, value)

    def __contains__(self, key: Any) -> bool:
        try:
            self[key]
        except (KeyError, TypeError):
            return False
        return True

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except (KeyError, TypeError):
            return default

    def clone(self) -> "Namespace":
        return Namespace.wrap(self)

    def as_dict(self) -> dict:
        return {k: v.as_dict() if isinstance(v, Namespace) else v for k, v in self.items()}

    @staticmethod
    def wrap(value: Any) -> Any:
        if isinstance(value, dict):
            return Namespace({k: Namespace.wrap(v) for k, v in value.items()})
        if isinstance(value, list):
            return [Namespace.wrap(v) for v in value]
        return value


def _get(cfg: dict, key: str, default: Any = None) -> Any:
    node: Any = cfg
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _set(cfg: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = cfg
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value
