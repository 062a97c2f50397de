"""Shared fixtures: a tiny CIFAR-10 folder in the official layout, made by the tests."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dlfoundations import cifar10_files

PER_BATCH = 240  # 5 training batches -> 1,200 images: 200 train + the 1,000-image validation pool
TEST_IMAGES = 100


def write_batch(path, images: np.ndarray, labels, style: str = "official") -> None:
    """Write a batch as the official (Python 2, bytes keys) or the mirror (protocol 4, str keys) does."""
    entry = {"batch_label": "tiny", "labels": list(map(int, labels)), "data": images.reshape(len(images), -1)}
    if style == "official":
        entry = {k.encode(): (v.encode() if isinstance(v, str) else v) for k, v in entry.items()}
        protocol = 2
    else:
        protocol = 4
    with open(path, "wb") as f:
        pickle.dump(entry, f, protocol=protocol)


@pytest.fixture
def tiny_root(tmp_path):
    """A folder holding ``cifar-10-batches-py/`` with random images; returns (root, images, labels)."""
    rng = np.random.default_rng(0)
    folder = tmp_path / cifar10_files.FOLDER
    folder.mkdir()
    train_x = rng.integers(0, 256, size=(5 * PER_BATCH, 3, 32, 32), dtype=np.uint8)
    train_y = rng.integers(0, 10, size=5 * PER_BATCH)
    test_x = rng.integers(0, 256, size=(TEST_IMAGES, 3, 32, 32), dtype=np.uint8)
    test_y = rng.integers(0, 10, size=TEST_IMAGES)
    for i, name in enumerate(cifar10_files.TRAIN_FILES):
        part = slice(i * PER_BATCH, (i + 1) * PER_BATCH)
        write_batch(folder / name, train_x[part], train_y[part], style="official" if i % 2 == 0 else "mirror")
    write_batch(folder / cifar10_files.TEST_FILE, test_x, test_y)
    return tmp_path, (train_x, train_y, test_x, test_y)


def write_synthetic_root(root, num_train: int, num_test: int, seed: int = 0):
    """Write ``root/cifar-10-batches-py/`` in the official layout (five training batches and a test batch) holding
    random images; returns ``(train_x, train_y, test_x, test_y)``.

    Not CIFAR-10: a plumbing fixture. Each image is noise around a colour that depends on its label, so that a
    network trained on it learns something and its accuracies are not all equal to chance.
    """
    rng = np.random.default_rng(seed)
    colours = rng.integers(40, 216, size=(10, 3, 1, 1))

    def images(n):
        labels = rng.integers(0, 10, size=n)
        noise = rng.integers(-40, 41, size=(n, 3, 32, 32))
        return (colours[labels] + noise).clip(0, 255).astype(np.uint8), labels

    folder = root / cifar10_files.FOLDER
    folder.mkdir(parents=True)
    per_batch = -(-num_train // len(cifar10_files.TRAIN_FILES))
    train_x, train_y = images(per_batch * len(cifar10_files.TRAIN_FILES))
    test_x, test_y = images(num_test)
    for i, name in enumerate(cifar10_files.TRAIN_FILES):
        part = slice(i * per_batch, (i + 1) * per_batch)
        write_batch(folder / name, train_x[part], train_y[part])
    write_batch(folder / cifar10_files.TEST_FILE, test_x, test_y)
    return train_x, train_y, test_x, test_y


@pytest.fixture(scope="session")
def quick_root(tmp_path_factory):
    """A synthetic folder in the official layout, just large enough for the quick profile (2,560 training images
    after the 1,000-image validation pool, 1,000 test images): what the tests that start ``dlfoundations.tune``,
    ``reproduce`` or ``torchrun`` processes read through ``CIFAR10_ROOT``, so that they run without CIFAR-10."""
    from dlfoundations import config, data

    quick = config.PROFILES["quick"]
    root = tmp_path_factory.mktemp("synthetic-quick")
    write_synthetic_root(root, quick.num_train + data.VAL_POOL, quick.num_test)
    return root


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    """Tests never see the developer's profile, device or data variables, nor their cache."""
    for name in ("DLF_PROFILE", "DLF_DEVICE", "CIFAR10_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
