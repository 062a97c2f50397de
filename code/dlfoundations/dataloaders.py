"""The torchvision route, for comparison: one PIL image per item behind a ``DataLoader``, and the timing of
any batch pipeline (chapter 07 and ``benchmarks/data.py`` set it against :class:`dlfoundations.batches.Batches`).
"""

from __future__ import annotations

import time

import torch

from . import config
from .data import CIFAR10


class CIFAR10Images(torch.utils.data.Dataset):
    """A torchvision-style data set: one PIL image per item, passed through ``transform``.

    This is what ``torchvision.datasets.CIFAR10`` does per image; it reads
    the tensors of a :class:`CIFAR10` (on the CPU) so that both routes see
    the same images.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform=None):
        self.images = images.cpu().permute(0, 2, 3, 1).contiguous().numpy()  # N, H, W, C for PIL
        self.labels = labels.cpu().tolist()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        from PIL import Image

        image = Image.fromarray(self.images[i])
        return (self.transform(image) if self.transform else image), self.labels[i]


def torchvision_transform(mean, std, augment: bool = False):
    """``ToTensor`` + ``Normalize`` (after random crop + flip when ``augment``)."""
    import torchvision.transforms as T

    steps = [T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()] if augment else []
    return T.Compose([*steps, T.ToTensor(), T.Normalize(mean, std)])


def dataloader(
    data: CIFAR10,
    split: str,
    batch_size: int = 64,
    shuffle: bool = False,
    augment: bool = False,
    num_workers: int = 0,
    seed: int = 0,
) -> torch.utils.data.DataLoader:
    """The standard route: a PIL-per-image data set behind a ``DataLoader``."""
    x, y = data.split(split)
    dataset = CIFAR10Images(x, y, torchvision_transform(data.mean, data.std, augment))
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(seed),
    )


def time_pipeline(
    batches, device: torch.device | str, max_images: int | None = None, warmup: int = 2, repeats: int = 1
) -> dict:
    """Images per second of iterating ``batches`` and moving each batch to ``device``.

    The first ``warmup`` batches (worker start-up, first CUDA kernels) are not timed. With ``repeats``
    > 1 the pass is timed that many times and the fastest is kept (the least disturbed by other work).
    """
    device = torch.device(device)
    best = None
    for _ in range(repeats):
        images, start = 0, (time.perf_counter() if warmup == 0 else None)
        for i, (x, y) in enumerate(batches):
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if i + 1 == warmup:
                config.synchronize(device)
                start = time.perf_counter()
            elif i >= warmup:
                images += len(y)
                if max_images is not None and images >= max_images:
                    break
        if start is None or images == 0:
            raise ValueError(f"time_pipeline needs more than {warmup} batches to time anything")
        config.synchronize(device)
        seconds = time.perf_counter() - start
        if best is None or images / seconds > best["images_per_second"]:
            best = {"images": images, "seconds": seconds, "images_per_second": images / seconds}
    return best
