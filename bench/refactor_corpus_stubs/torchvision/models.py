import torch.nn as nn


def _resnet(num_classes=1000, **k):
    return nn.Sequential(nn.Conv2d(3, 8, 3, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, num_classes))


resnet18 = resnet34 = resnet50 = _resnet
