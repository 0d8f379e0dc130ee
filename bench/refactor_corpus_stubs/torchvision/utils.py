import torch


def save_image(tensor, fp, *a, **k):
    pass


def make_grid(tensor, *a, **k):
    return tensor if torch.is_tensor(tensor) else torch.stack(list(tensor))
