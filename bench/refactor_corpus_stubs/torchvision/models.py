"""A tiny ResNet-shaped stand-in: conv1 ... avgpool, fc, so scripts that swap conv1 or cut the last child still work."""
import torch
import torch.nn as nn


class _TinyResNet(nn.Module):
    def __init__(self, num_classes=1000, **k):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.relu = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.relu(self.conv1(x))), 1))


def resnet18(weights=None, num_classes=1000, **k):
    return _TinyResNet(num_classes)


resnet34 = resnet50 = resnet18


class _TinyVGG(nn.Module):
    """VGG-shaped: features (to 512 x 1 x 1 on a 32 x 32 image), avgpool, classifier; scripts replace the last two."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 512, kernel_size=4, stride=4), nn.ReLU(), nn.AdaptiveMaxPool2d(1))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(512, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def vgg16(pretrained=False, weights=None, num_classes=1000, **k):
    return _TinyVGG(num_classes)
