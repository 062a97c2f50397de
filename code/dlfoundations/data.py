"""CIFAR-10 in memory: the CS231n split as uint8 tensors on one device, sized by the run profile.

Splits follow CS231n: the first 49,000 training images for training, the last 1,000 for validation, and the
10,000 test images; a run profile takes subsets. The files are found, downloaded and read safely by
:mod:`dlfoundations.cifar10_files`; :class:`dlfoundations.batches.Batches` serves mini-batches from the tensors.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import torch

from .batches import Batches
from .cifar10_files import TEST_FILE, TRAIN_FILES, CorruptBatchError, ensure_cifar10, read_batch, resolve_root

VAL_POOL = 1_000  # the last 1,000 training images are the validation pool
# The assignment's transforms.Normalize constants. The means match the data's; the "std" values are smaller
# than the pixels' true standard deviation (about 0.247, 0.243, 0.261), so inputs normalized with them are
# about 1.2x larger than unit variance -- for a network's first layer, like a larger learning rate and scale.
ASSIGNMENT_MEAN = (0.4914, 0.4822, 0.4465)
ASSIGNMENT_STD = (0.2023, 0.1994, 0.2010)
CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


# --------------------------------------------------------------------------- the data set


@dataclasses.dataclass
class CIFAR10:
    """The CS231n split of CIFAR-10 as uint8 tensors ``(N, 3, 32, 32)`` on one device."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: tuple[float, float, float]  # per-channel mean of the training pool, in [0, 1]
    std: tuple[float, float, float]  # per-channel standard deviation, in [0, 1]
    source: str
    classes: tuple[str, ...] = CLASSES

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        if name not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val' or 'test', not {name!r}")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")

    def batches(self, name: str, batch_size: int = 64, **options) -> Batches:
        """A :class:`Batches` iterator over one split, normalized with this set's statistics."""
        x, y = self.split(name)
        return Batches(x, y, batch_size, mean=self.mean, std=self.std, **options)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}={len(getattr(self, 'y_' + n)):,}" for n in ("train", "val", "test"))
        return f"CIFAR10({sizes}, device={self.x_train.device}, source={self.source!r})"


def channel_stats(images: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and standard deviation of uint8 images ``(N, 3, H, W)``, scaled to [0, 1]."""
    flat = images.reshape(images.shape[0], images.shape[1], -1)
    count = flat.shape[0] * flat.shape[2]
    total = flat.sum(axis=(0, 2), dtype=np.float64)
    squares = np.einsum("ncp,ncp->c", flat, flat, dtype=np.float64)
    mean = total / count
    std = np.sqrt(squares / count - mean**2)
    return tuple(float(m) / 255 for m in mean), tuple(float(s) / 255 for s in std)


def load_cifar10(
    root: str | os.PathLike | None = None,
    device: torch.device | str | None = None,
    num_train: int | None = None,
    num_val: int | None = None,
    num_test: int | None = None,
    download: bool = True,
    profile: str | None = None,
) -> CIFAR10:
    """Load the CS231n split, sized by ``profile`` (default: the current run profile) unless sizes are given.

    Train images come from the front of the training batches, validation from
    the last 1,000 training images, test from the front of ``test_batch``.
    Normalization statistics are those of the whole training pool (the first
    49,000 images), whatever subset a profile takes.
    """
    from . import config

    s = config.settings(profile)
    num_train = s.num_train if num_train is None else num_train
    num_val = s.num_val if num_val is None else num_val
    num_test = s.num_test if num_test is None else num_test
    device = config.device() if device is None else torch.device(device)

    folder = ensure_cifar10(root, download=download)
    source = f"{folder} (from {resolve_root(root)[1]})"
    parts = [read_batch(folder / name) for name in TRAIN_FILES]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    test_images, test_labels = read_batch(folder / TEST_FILE)

    pool = len(labels) - VAL_POOL
    for what, asked, available in (
        ("num_train", num_train, pool),
        ("num_val", num_val, VAL_POOL),
        ("num_test", num_test, len(test_labels)),
    ):
        if not 0 < asked <= available:
            raise ValueError(f"{what}={asked} is out of range: {folder} offers 1..{available} images")
    if pool <= 0:
        raise CorruptBatchError(f"{folder}: only {len(labels)} training images, fewer than {VAL_POOL}")
    mean, std = channel_stats(images[:pool])

    def put(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array)).to(device)

    return CIFAR10(
        x_train=put(images[:num_train]),
        y_train=put(labels[:num_train]),
        x_val=put(images[pool : pool + num_val]),
        y_val=put(labels[pool : pool + num_val]),
        x_test=put(test_images[:num_test]),
        y_test=put(test_labels[:num_test]),
        mean=mean,
        std=std,
        source=source,
    )
