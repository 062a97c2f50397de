"""Mini-batches served straight from resident uint8 tensors (no PIL, no worker processes)."""

from __future__ import annotations

import math

import torch

from . import augmentation


class Batches:
    """Mini-batches served straight from resident uint8 tensors.

    No PIL, no worker processes: each batch is indexed, optionally augmented
    (:func:`dlfoundations.augmentation.random_crop` with 4 pixels of padding and
    :func:`~dlfoundations.augmentation.random_flip`, per image, with random numbers
    drawn on the tensors' device), converted to float and normalized. ``shuffle``
    draws a new permutation every epoch from a generator seeded with ``seed``, so a
    run is reproducible.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int = 64,
        *,
        mean,
        std,
        shuffle: bool = False,
        augment: bool = False,
        seed: int = 0,
    ):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"Batches expects uint8 images (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.augment = batch_size, shuffle, augment
        self.device = images.device
        std_t = torch.tensor(std, device=self.device).view(1, -1, 1, 1)
        mean_t = torch.tensor(mean, device=self.device).view(1, -1, 1, 1)
        self._scale = 1.0 / (255.0 * std_t)
        self._shift = mean_t / std_t
        self.generator = torch.Generator().manual_seed(seed)
        self.augment_generator = torch.Generator(device=self.device).manual_seed(seed)  # augmentation draws here

    def __len__(self) -> int:
        return math.ceil(len(self.labels) / self.batch_size)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        return images.float() * self._scale - self._shift

    def __iter__(self):
        n = len(self.labels)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.device)
        else:
            order = torch.arange(n, device=self.device)
        for i in range(len(self)):
            index = order[i * self.batch_size : (i + 1) * self.batch_size]
            x = self.images[index]
            if self.augment:
                x = augmentation.random_crop(x, 4, generator=self.augment_generator)
                x = augmentation.random_flip(x, generator=self.augment_generator)
            yield self.normalize(x), self.labels[index]
