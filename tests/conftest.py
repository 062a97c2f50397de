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


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    """Tests never see the developer's profile, device or data variables, nor their cache."""
    for name in ("DLF_PROFILE", "DLF_DEVICE", "CIFAR10_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
