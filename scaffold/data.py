"""Read a user's data file once at generation time, so the config's sizes match it (and a bad file fails early).

numpy reads .csv and .npz; torch is imported only for a .pt file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scaffold.errors import BadAnswerError

# What the template's model needs from the data: labels (classifier), a target (minimal), or samples alone.
_LAYOUT = {"classifier": "labels", "minimal": "target", "autoencoder": "samples", "gan": "images"}
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def inspect_data(path: str, template: str) -> dict[str, Any]:
    """Context values (``_num_features``, ``_num_classes``, ``_channels``) from the data at ``path`` for ``template``.

    A text file for the language model needs nothing (it reads bytes); other templates get their sizes. An
    image folder (gan, autoencoder) or a folder of class sub-folders (classifier) sets ``_num_features`` to
    None: the model takes images.
    """
    layout = _LAYOUT.get(template)
    if layout is None:
        return {}
    if layout == "images":
        return _inspect_images(Path(path))
    if Path(path).is_dir():
        if layout == "labels":
            return _inspect_class_folders(Path(path))
        _count_images(Path(path))
        return {"_num_features": None}
    try:
        if layout == "labels" and Path(path).suffix.lower() == ".csv":
            x, y = _read_labelled_csv(Path(path))
        else:
            x, y = _load(Path(path), layout)
    except BadAnswerError:
        raise
    except Exception as err:  # numpy/torch raise many types for a malformed file
        raise BadAnswerError(f"cannot read data file {path!r}: {type(err).__name__}: {err}") from None
    if x.ndim < 1 or len(x) < 10:
        raise BadAnswerError(f"data file {path!r} has {len(x)} samples; at least 10 are needed")
    info: dict[str, Any] = {"_num_features": int(x.reshape(len(x), -1).shape[1])}
    if layout == "labels":
        if y is None or len(y) != len(x):
            raise BadAnswerError(f"data file {path!r} needs one label per sample")
        classes = len(set(y.tolist()))
        if classes < 2:
            raise BadAnswerError(f"data file {path!r}: every sample has the same label; a classifier needs two or more")
        info["_num_classes"] = classes  # the project numbers the distinct labels 0..C-1 in sorted order
    elif layout == "target" and (y is None or len(y) != len(x)):
        raise BadAnswerError(f"data file {path!r} needs one target per sample")
    return info


def _read_labelled_csv(path: Path):
    """Features and labels of a .csv as the classifier project reads it: a header row naming a ``label``
    column, else the last column is the label; labels may be words."""
    import csv

    import numpy as np

    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if row]
    if not rows:
        raise BadAnswerError(f"data file {str(path)!r} is empty")
    names: list[str] = []
    try:
        [float(v) for v in rows[0][:-1]]
    except ValueError:
        names, rows = [h.strip().lower() for h in rows[0]], rows[1:]
    if not rows or len(rows[0]) < 2:
        raise BadAnswerError(f"data file {str(path)!r} needs feature columns and a label column")
    column = names.index("label") if "label" in names else len(rows[0]) - 1
    x = np.array([[float(v) for i, v in enumerate(row) if i != column] for row in rows])
    return x, np.array([row[column].strip() for row in rows])


def _count_images(folder: Path, least: int = 10) -> int:
    images = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES]
    if len(images) < least:
        raise BadAnswerError(
            f"data folder {str(folder)!r} holds {len(images)} .png/.jpg images (sub-folders are not searched); "
            f"at least {least} are needed"
        )
    return len(images)


def _inspect_class_folders(folder: Path) -> dict[str, Any]:
    classes = [
        p for p in folder.iterdir()
        if p.is_dir() and any(f.suffix.lower() in _IMAGE_SUFFIXES for f in p.iterdir() if f.is_file())
    ]
    if len(classes) < 2:
        raise BadAnswerError(
            f"data folder {str(folder)!r} has {len(classes)} sub-folder(s) with .png/.jpg images; the classifier reads "
            "one sub-folder of images per class, at least two (for example data/cat/*.png and data/dog/*.png)"
        )
    return {"_num_features": None, "_num_classes": len(classes)}


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


def _inspect_images(path: Path) -> dict[str, Any]:
    """``_channels`` of a folder of PNG/JPEG images (3: they are read as RGB) or of a .npz / .pt file of images."""
    if path.is_dir():
        _count_images(path)
        images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES)
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(images[0]) as img:
                img.verify()
        except (UnidentifiedImageError, OSError) as err:
            raise BadAnswerError(f"{str(images[0])!r} is not a readable image: {err}") from None
        return {"_channels": 3}
    try:
        x, _ = _load(path, "samples")
    except BadAnswerError:
        raise
    except Exception as err:  # numpy/torch raise many types for a malformed file
        raise BadAnswerError(f"cannot read data file {str(path)!r}: {type(err).__name__}: {err}") from None
    shape = tuple(x.shape)
    if len(shape) == 3:
        channels = 1
    elif len(shape) == 4 and (shape[1] in (1, 3) or shape[-1] in (1, 3)):
        channels = shape[1] if shape[1] in (1, 3) else shape[-1]
    else:
        raise BadAnswerError(
            f"data file {str(path)!r} holds an array of shape {shape}; images are (N, C, H, W), (N, H, W, C) "
            "or (N, H, W) with 1 or 3 channels"
        )
    if shape[0] < 10:
        raise BadAnswerError(f"data file {str(path)!r} has {shape[0]} images; at least 10 are needed")
    return {"_channels": int(channels)}
