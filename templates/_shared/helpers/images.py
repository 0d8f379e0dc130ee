"""Images in and out: read your image folder or tensor file as a (N, C, H, W) tensor in [-1, 1]; save grids as PNG.

Pillow reads and writes the files (no torchvision needed); TensorBoard gets the same grids.
"""

from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
TENSOR_SUFFIXES = (".npz", ".pt")


class DataError(ValueError):
    """The data path cannot be read as the data this project needs; the message says what to give instead."""


def find_images(folder: Path) -> list[Path]:
    """The PNG and JPEG files directly in ``folder``, sorted by name."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def read_image(path: Path, image_size: int, channels: int = 3) -> torch.Tensor:
    """One image file as a (channels, image_size, image_size) tensor in [-1, 1] (resized, colour converted)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("RGB" if channels == 3 else "L").resize(
                (image_size, image_size), Image.BILINEAR
            )
            array = np.asarray(img, dtype=np.float32)
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{path}: not a readable PNG or JPEG image ({err})") from None
    x = torch.from_numpy(array / 127.5 - 1.0)
    return x.permute(2, 0, 1) if x.ndim == 3 else x.unsqueeze(0)


def read_image_folder(
    folder: str | Path, image_size: int, channels: int = 3
) -> torch.Tensor:
    """Every PNG/JPEG in ``folder`` (not its sub-folders) as one (N, C, H, W) tensor in [-1, 1]."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder; give a folder of .png/.jpg images")
    paths = find_images(folder)
    if not paths:
        raise DataError(
            f"{folder}: no .png/.jpg images in this folder (sub-folders are not searched)"
        )
    return torch.stack([read_image(p, image_size, channels) for p in paths])


def read_class_folders(folder: str | Path, image_size: int, channels: int = 3):
    """A folder with one sub-folder of images per class -> images (N, C, H, W), labels (N,), class names."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            f"{folder}: not a folder; give a folder with one sub-folder of .png/.jpg images per class"
        )
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and find_images(p))
    if len(classes) < 2:
        raise DataError(
            f"{folder}: found {len(classes)} sub-folder(s) with images; a classifier needs one sub-folder of "
            ".png/.jpg images per class, at least two (e.g. data/cat/*.png, data/dog/*.png)"
        )
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in find_images(folder / name):
            images.append(read_image(path, image_size, channels))
            labels.append(label)
    return torch.stack(images), torch.tensor(labels), classes


def read_tensor_file(
    path: str | Path, image_size: int, channels: int = 3
) -> torch.Tensor:
    """Images from a .npz (array ``x`` or the first one) or .pt (a tensor, or ``x`` of a dict) file.

    (N, C, H, W), (N, H, W, C) and (N, H, W) layouts; uint8 values 0..255 or floats in [0, 1] or [-1, 1].
    """
    path = Path(path)
    if path.suffix.lower() not in TENSOR_SUFFIXES:
        raise DataError(
            f"{path}: expected a folder of images, or a .npz / .pt file of images"
        )
    try:
        if path.suffix.lower() == ".npz":
            arrays = np.load(path)
            x = (
                arrays["x"]
                if "x" in arrays.files
                else arrays[arrays.files[0]] if arrays.files else None
            )
        else:
            obj = torch.load(
                path, weights_only=True
            )  # tensors only: nothing in the file runs
            x = (
                obj.get("x")
                if isinstance(obj, dict)
                else obj[0] if isinstance(obj, (list, tuple)) and obj else obj
            )
    except (
        Exception
    ) as err:  # numpy and torch raise many kinds of errors for a broken file
        raise DataError(
            f"{path}: cannot read it as a {path.suffix} file of images ({type(err).__name__}: {err})"
        ) from None
    if x is None or not isinstance(x, (np.ndarray, torch.Tensor)):
        raise DataError(
            f"{path}: expected an array of images (the array 'x', or the only one in the file)"
        )
    x = torch.as_tensor(x)
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4 or len(x) == 0:
        raise DataError(
            f"{path}: expected images shaped (N, C, H, W), (N, H, W, C) or (N, H, W); got {tuple(x.shape)}"
        )
    if x.shape[1] not in (1, 3) and x.shape[-1] in (1, 3):
        x = x.permute(0, 3, 1, 2)
    if x.shape[1] not in (1, 3):
        raise DataError(
            f"{path}: images need 1 or 3 channels; got shape {tuple(x.shape)}"
        )
    x = x.float() / 127.5 - 1.0 if x.dtype == torch.uint8 else x.float()
    if x.min() >= 0:  # floats in [0, 1]
        x = x * 2 - 1
    if x.shape[1] != channels:
        x = x.mean(dim=1, keepdim=True) if channels == 1 else x.expand(-1, 3, -1, -1)
    if x.shape[-2:] != (image_size, image_size):
        x = F.interpolate(
            x, size=(image_size, image_size), mode="bilinear", align_corners=False
        )
    return x.clamp(-1, 1).contiguous()


def read_images(path: str | Path, image_size: int, channels: int = 3) -> torch.Tensor:
    """A folder of images or a .npz / .pt tensor file, as (N, C, H, W) in [-1, 1]."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(
            f"{path}: no such file or folder; give a folder of .png/.jpg images or a .npz / .pt file"
        )
    return (
        read_image_folder(path, image_size, channels)
        if path.is_dir()
        else read_tensor_file(path, image_size, channels)
    )


def make_grid(images: torch.Tensor, nrow: int = 8, pad: int = 2) -> torch.Tensor:
    """(N, C, H, W) images in [-1, 1] -> one (C, H', W') picture in [0, 1], ``nrow`` images per row."""
    images = (images.detach().float().cpu().clamp(-1, 1) + 1) / 2
    n, c, h, w = images.shape
    rows = (n + nrow - 1) // nrow
    grid = torch.full((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), 0.5)
    for i in range(n):
        top, left = pad + (i // nrow) * (h + pad), pad + (i % nrow) * (w + pad)
        grid[:, top : top + h, left : left + w] = images[i]
    return grid


def save_png(picture: torch.Tensor, path: Path, scale: int = 1) -> Path:
    """A (C, H, W) picture in [0, 1] as a PNG file, each pixel drawn ``scale`` times larger."""
    from PIL import Image

    array = (picture.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    img = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def log_picture(
    trainer, folder: str, name: str, picture: torch.Tensor, scale: int = 3
) -> Path:
    """Save ``picture`` as ``<run folder>/<folder>/<name>.png`` and show it in TensorBoard as ``folder``."""
    path = save_png(picture, Path(trainer.log_dir) / folder / f"{name}.png", scale)
    for logger in trainer.loggers:
        if hasattr(getattr(logger, "experiment", None), "add_image"):
            logger.experiment.add_image(
                folder, picture, global_step=trainer.global_step
            )
    return path
