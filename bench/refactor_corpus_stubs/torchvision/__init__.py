"""Offline stand-in for torchvision (corpus runs only): datasets of seeded random tensors, simple transforms."""
from torchvision import datasets, transforms, utils, models  # noqa
__version__ = "0.0-stub"
