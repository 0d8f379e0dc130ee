import os
import torch

N = int(os.environ.get("STUB_DATASET_SIZE", "96"))


class _Images(torch.utils.data.Dataset):
    shape = (1, 28, 28)
    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train=True, download=False, transform=None, target_transform=None, **kw):
        g = torch.Generator().manual_seed(1 if train else 2)
        c, h, w = self.shape
        self.data = torch.randint(0, 256, (N, h, w) if c == 1 else (N, h, w, c), generator=g, dtype=torch.uint8)
        self.targets = torch.randint(0, len(self.classes), (N,), generator=g)
        self.transform, self.target_transform = transform, target_transform
        self.train = train

    # old torchvision names (MorvanZhou's tutorials)
    @property
    def train_data(self):
        return self.data

    @property
    def test_data(self):
        return self.data

    @property
    def train_labels(self):
        return self.targets

    @property
    def test_labels(self):
        return self.targets

    def __len__(self):
        return N

    def __getitem__(self, i):
        img = self.data[i].float() / 255
        img = img.unsqueeze(0) if img.dim() == 2 else img.permute(2, 0, 1)
        if self.transform is not None:
            img = self.transform(img)
        t = int(self.targets[i])
        if self.target_transform is not None:
            t = self.target_transform(t)
        return img, t


class MNIST(_Images):
    pass


class FashionMNIST(_Images):
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class CIFAR10(_Images):
    shape = (3, 32, 32)


class CIFAR100(_Images):
    shape = (3, 32, 32)
    classes = [str(i) for i in range(100)]


class ImageFolder(_Images):
    shape = (3, 64, 64)

    def __init__(self, root=None, transform=None, **kw):
        super().__init__(root, True, False, transform)


class LSUN(ImageFolder):
    pass


class FakeData(_Images):
    shape = (3, 64, 64)

    def __init__(self, size=N, image_size=(3, 64, 64), num_classes=10, transform=None, **kw):
        self.shape = tuple(image_size)
        super().__init__(None, True, False, transform)
