"""Read a user's data file once at generation time, so the config's sizes match it (and a bad file fails early).

numpy reads .csv and .npz; torch is imported only for a .pt file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scaffold.errors import BadAnswerError

# What the template's model needs from the data: labels (classifier), a target (minimal), or samples alone.
_LAYOUT = {"classifier": "labels", "minimal": "target", "autoencoder": "samples", "gan": "samples"}


def inspect_data(path: str, template: str) -> dict[str, Any]:
    """Context values (``_num_features``, ``_num_classes``) from the file at ``path`` for ``template``.

    A text file for the language model needs nothing (it reads bytes); other templates get their sizes.
    """
    layout = _LAYOUT.get(template)
    if layout is None:
        return {}
    try:
        x, y = _load(Path(path), layout)
    except BadAnswerError:
        raise
    except Exception as err:  # numpy/torch raise many types for a malformed file
        raise BadAnswerError(f"cannot read data file {path!r}: {type(err).__name__}: {err}") from None
    if x.ndim < 1 or len(x) < 10:
        raise BadAnswerError(f"data file {path!r} has {len(x)} samples; at least 10 are needed")
    info: dict[str, Any] = {"_num_features": int(x.reshape(len(x), -1).shape[1])}
    if layout == "labels":
        import numpy as np

        if y is None or len(y) != len(x):
            raise BadAnswerError(f"data file {path!r} needs one label per sample")
        if not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0:
            raise BadAnswerError(f"data file {path!r}: labels must be integers 0..C-1, got values like {y[:3]!r}")
        info["_num_classes"] = int(y.max()) + 1
    elif layout == "target" and (y is None or len(y) != len(x)):
        raise BadAnswerError(f"data file {path!r} needs one target per sample")
    return info


def _load(path: Path, layout: str):
    import numpy as np

    suffix = path.suffix.lower()
    with_y = layout in ("labels", "target")
    if suffix == ".csv":
        try:
            table = np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError:
            table = np.loadtxt(path, delimiter=",", ndmin=2, skiprows=1)
        if with_y and table.shape[1] < 2:
            raise BadAnswerError(f"data file {str(path)!r} needs feature columns and a last column for the {layout[:-1]}")
        return (table[:, :-1], table[:, -1]) if with_y else (table, None)
    if suffix == ".npz":
        arrays = np.load(path)
        names = list(arrays.files)
        if not names or (with_y and len(names) < 2):
            raise BadAnswerError(f"data file {str(path)!r} needs arrays 'x'" + (" and 'y'" if with_y else ""))
        x = arrays["x"] if "x" in names else arrays[names[0]]
        y = (arrays["y"] if "y" in names else arrays[names[1]]) if with_y else None
        return np.asarray(x, dtype=float), None if y is None else np.asarray(y, dtype=float)
    if suffix == ".pt":
        import torch

        obj = torch.load(path, weights_only=True)
        if isinstance(obj, dict):
            x, y = obj.get("x"), obj.get("y")
        elif isinstance(obj, (list, tuple)):
            x, y = obj[0], (obj[1] if len(obj) > 1 else None)
        else:
            x, y = obj, None
        if x is None or (with_y and y is None):
            raise BadAnswerError(f"data file {str(path)!r} needs 'x'" + (" and 'y'" if with_y else "") + " tensors")
        x = torch.as_tensor(x).double().numpy()
        return x, (torch.as_tensor(y).double().numpy() if with_y else None)
    raise BadAnswerError(f"data file {str(path)!r}: unsupported type {suffix!r}")
