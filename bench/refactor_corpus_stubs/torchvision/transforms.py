import numpy as np
import torch
import torch.nn.functional as F


def _t(x):
    """PIL images (super_resolution reads JPEGs) become float CHW tensors in [0, 1]."""
    if torch.is_tensor(x):
        return x
    a = torch.as_tensor(np.asarray(x, dtype=np.float32) / 255.0)
    return a.unsqueeze(0) if a.dim() == 2 else a.permute(2, 0, 1)


class Compose:
    def __init__(self, ts):
        self.ts = ts

    def __call__(self, x):
        for t in self.ts:
            x = t(x)
        return x


class ToTensor:
    def __call__(self, x):
        return _t(x)


class Normalize:
    def __init__(self, mean, std, inplace=False):
        self.mean, self.std = torch.tensor(mean).view(-1, 1, 1), torch.tensor(std).view(-1, 1, 1)

    def __call__(self, x):
        return (x - self.mean) / self.std


class Resize:
    def __init__(self, size, *a, **k):
        self.size = size

    def __call__(self, x):
        x = _t(x)
        size = (self.size, self.size) if isinstance(self.size, int) else tuple(self.size)
        return F.interpolate(x.unsqueeze(0), size=size, mode="bilinear", align_corners=False).squeeze(0)


Scale = Resize


class CenterCrop:
    def __init__(self, size):
        self.size = (size, size) if isinstance(size, int) else tuple(size)

    def __call__(self, x):
        x = _t(x)
        h, w = x.shape[-2:]
        th, tw = self.size
        if th > h or tw > w:
            return Resize(self.size)(x)
        i, j = (h - th) // 2, (w - tw) // 2
        return x[..., i:i + th, j:j + tw]


class RandomCrop:
    def __init__(self, size, padding=None, **k):
        self.size, self.padding = size, padding

    def __call__(self, x):
        if self.padding:
            x = F.pad(x, [self.padding] * 4)
        return CenterCrop(self.size)(x)


class Pad:
    def __init__(self, padding, **k):
        self.padding = padding

    def __call__(self, x):
        return F.pad(x, [self.padding] * 4)


class Lambda:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


class _Identity:
    def __init__(self, *a, **k):
        pass

    def __call__(self, x):
        return x


RandomHorizontalFlip = RandomVerticalFlip = RandomRotation = ColorJitter = RandomResizedCrop = Grayscale = _Identity


class ToPILImage(_Identity):
    pass
