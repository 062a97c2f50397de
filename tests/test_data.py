import pickle

import numpy as np
import pytest
import torch

from conftest import PER_BATCH, write_batch
from dlfoundations import data


def test_read_batch_official_layout(tiny_root):
    root, (train_x, train_y, _, _) = tiny_root
    images, labels = data.read_batch(root / data.FOLDER / "data_batch_1")  # Python-2 style, bytes keys
    assert images.shape == (PER_BATCH, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, train_x[:PER_BATCH])
    np.testing.assert_array_equal(labels, train_y[:PER_BATCH])
    images, labels = data.read_batch(root / data.FOLDER / "data_batch_2")  # protocol 4, str keys
    np.testing.assert_array_equal(images, train_x[PER_BATCH : 2 * PER_BATCH])


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch EXPLOITED",))


def test_foreign_global_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _Exploit(), "labels": [0]}, protocol=2))
    with pytest.raises(data.UnsafePickleError, match=r"os\.system|posix\.system") as error:
        data.read_batch(path)
    assert str(path) in str(error.value)
    assert not (tmp_path / "EXPLOITED").exists()


@pytest.mark.parametrize("global_name", [("builtins", "eval"), ("subprocess", "Popen"), ("numpy", "load")])
def test_only_array_globals_are_allowed(tmp_path, global_name):
    module, name = global_name
    path = tmp_path / "batch"
    # protocol-0 GLOBAL opcode naming the global, then STOP
    path.write_bytes(f"c{module}\n{name}\n.".encode())
    with pytest.raises(data.UnsafePickleError, match=name):
        data.read_batch(path)


def test_truncated_batch_names_the_file(tiny_root):
    root, _ = tiny_root
    path = root / data.FOLDER / "data_batch_3"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(data.CorruptBatchError, match="data_batch_3.*truncated or corrupt"):
        data.read_batch(path)


def test_wrong_shapes_and_labels_are_rejected(tmp_path):
    path = tmp_path / "bad"
    write_batch(path, np.zeros((4, 1000), np.uint8), [0, 1, 2, 3])
    with pytest.raises(data.CorruptBatchError, match=r"bad.*\(N, 3072\)"):
        data.read_batch(path)
    write_batch(path, np.zeros((4, 3, 32, 32), np.uint8), [0, 1, 2, 10])
    with pytest.raises(data.CorruptBatchError, match=r"bad.*0\.\.9"):
        data.read_batch(path)
    write_batch(path, np.zeros((4, 3, 32, 32), np.uint8), [0, 1, 2])
    with pytest.raises(data.CorruptBatchError, match="labels"):
        data.read_batch(path)
    write_batch(path, np.zeros((4, 3, 32, 32), np.float32).astype(np.uint16), [0, 1, 2, 3])
    with pytest.raises(data.CorruptBatchError, match="uint8"):
        data.read_batch(path)


def test_load_cifar10_splits(tiny_root):
    root, (train_x, train_y, test_x, test_y) = tiny_root
    d = data.load_cifar10(root, device="cpu", num_train=150, num_val=300, num_test=40)
    pool = len(train_y) - data.VAL_POOL  # 200
    assert d.x_train.shape == (150, 3, 32, 32) and d.x_train.dtype == torch.uint8
    np.testing.assert_array_equal(d.x_train.numpy(), train_x[:150])
    np.testing.assert_array_equal(d.y_train.numpy(), train_y[:150])
    np.testing.assert_array_equal(d.x_val.numpy(), train_x[pool : pool + 300])  # from the last 1,000
    np.testing.assert_array_equal(d.y_val.numpy(), train_y[pool : pool + 300])
    np.testing.assert_array_equal(d.x_test.numpy(), test_x[:40])
    np.testing.assert_array_equal(d.y_test.numpy(), test_y[:40])
    assert d.y_train.dtype == torch.int64
    assert "argument" in d.source and str(root) in d.source
    # statistics come from the whole training pool, not the subset
    pool_images = train_x[:pool].astype(np.float64) / 255
    np.testing.assert_allclose(d.mean, pool_images.mean(axis=(0, 2, 3)), rtol=1e-9)
    np.testing.assert_allclose(d.std, pool_images.std(axis=(0, 2, 3)), rtol=1e-9)


def test_load_cifar10_sizes_come_from_the_profile(tiny_root, monkeypatch):
    root, _ = tiny_root
    monkeypatch.setenv("DLF_PROFILE", "quick")
    with pytest.raises(ValueError, match="num_train=2560 is out of range"):
        data.load_cifar10(root, device="cpu")  # the quick profile wants more than the tiny pool holds
    d = data.load_cifar10(root, device="cpu", num_train=100, num_test=100)
    assert len(d.y_train) == 100 and len(d.y_val) == 500  # num_val from the quick profile


def test_root_precedence(monkeypatch, tmp_path):
    assert data.resolve_root(tmp_path) == (tmp_path, "argument")
    monkeypatch.setenv("CIFAR10_ROOT", str(tmp_path / "env"))
    assert data.resolve_root() == (tmp_path / "env", "CIFAR10_ROOT")
    monkeypatch.delenv("CIFAR10_ROOT")
    assert data.resolve_root() == (tmp_path / "cache" / "dlfoundations" / "cifar10", "user cache")


def test_missing_data_says_where_to_put_it(tmp_path, monkeypatch):
    def offline(path):
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "_download", offline)
    with pytest.raises(data.DataNotFoundError) as error:
        data.load_cifar10(tmp_path / "nowhere", device="cpu")
    message = str(error.value)
    assert "network unreachable" in message
    assert str(tmp_path / "nowhere" / data.FOLDER / "data_batch_1") in message
    assert "CIFAR10_ROOT" in message and data.ARCHIVE_MD5 in message
    with pytest.raises(data.DataNotFoundError, match="download=False"):
        data.ensure_cifar10(tmp_path / "nowhere", download=False)


def test_download_is_used_when_missing(tiny_root, tmp_path, monkeypatch):
    source, _ = tiny_root
    target = tmp_path / "fresh"

    def fake_download(path):  # stands in for torchvision's download_and_extract_archive
        import shutil

        shutil.copytree(source / data.FOLDER, path / data.FOLDER)

    monkeypatch.setattr(data, "_download", fake_download)
    assert data.ensure_cifar10(target) == target / data.FOLDER
    assert "present" in data.describe_source(target)


def test_batches_normalize_like_torchvision(tiny_root):
    root, _ = tiny_root
    d = data.load_cifar10(root, device="cpu", num_train=50, num_val=10, num_test=10)
    x, y = next(iter(d.batches("train", 16)))
    reference = data.CIFAR10Images(d.x_train[:16], d.y_train[:16], data.torchvision_transform(d.mean, d.std))
    expected = torch.stack([reference[i][0] for i in range(16)])
    torch.testing.assert_close(x, expected, atol=1e-5, rtol=1e-5)
    assert torch.equal(y, d.y_train[:16])
    loader_x, loader_y = next(iter(data.dataloader(d, "train", 16)))
    torch.testing.assert_close(loader_x, expected)
    assert torch.equal(loader_y, y)


def test_batches_shuffle_reproducible_and_complete():
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 3, 2, 2).contiguous()
    labels = torch.arange(10)
    make = lambda: data.Batches(images, labels, 4, mean=(0, 0, 0), std=(1 / 255,) * 3, shuffle=True, seed=3)  # noqa: E731
    first, second = make(), make()
    assert len(first) == 3
    epoch_a = torch.cat([y for _, y in first])
    assert torch.equal(epoch_a, torch.cat([y for _, y in second]))  # same seed, same order
    assert sorted(epoch_a.tolist()) == list(range(10))  # every example once
    epoch_b = torch.cat([y for _, y in first])
    assert not torch.equal(epoch_a, epoch_b)  # a new order every epoch
    for x, y in first:  # images travel with their labels
        assert torch.equal(x[:, 0, 0, 0], y.float())
    dropped = data.Batches(images, labels, 4, mean=(0,) * 3, std=(1,) * 3, drop_last=True)
    assert len(dropped) == 2 and [len(y) for _, y in dropped] == [4, 4]


def test_batches_reject_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        data.Batches(torch.zeros(4, 3, 8, 8), torch.zeros(4), mean=(0,) * 3, std=(1,) * 3)
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        data.Batches(torch.zeros(4, 3, 8, 8, dtype=torch.uint8), torch.zeros(3), mean=(0,) * 3, std=(1,) * 3)


def test_random_crop_flip_is_a_translated_window():
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(1, 256, (32, 3, 8, 8), dtype=torch.uint8, generator=generator)
    out = data.random_crop_flip(images, padding=2, generator=generator)
    assert out.shape == images.shape and out.dtype == images.dtype
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    flipped = 0
    for i in range(len(images)):
        windows = [
            (flip, padded[i, :, dy : dy + 8, dx : dx + 8].flip(-1) if flip else padded[i, :, dy : dy + 8, dx : dx + 8])
            for dy in range(5)
            for dx in range(5)
            for flip in (False, True)
        ]
        matches = [flip for flip, window in windows if torch.equal(out[i], window)]
        assert matches, f"image {i} is not a (flipped) crop of its padded original"
        flipped += matches[0]
    assert 0 < flipped < len(images)  # both outcomes occur
    unpadded = data.random_crop_flip(images, padding=0, generator=generator)
    assert all(torch.equal(o, i) or torch.equal(o, i.flip(-1)) for o, i in zip(unpadded, images, strict=True))


def test_augmented_batches_differ_between_epochs():
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    batches = data.Batches(images, torch.arange(8), 8, mean=(0.5,) * 3, std=(0.25,) * 3, augment=True, seed=1)
    (a, _), (b, _) = next(iter(batches)), next(iter(batches))
    assert a.shape == (8, 3, 32, 32) and not torch.equal(a, b)


def test_channel_stats():
    images = np.random.default_rng(1).integers(0, 256, size=(20, 3, 5, 5), dtype=np.uint8)
    mean, std = data.channel_stats(images)
    as_float = images.astype(np.float64) / 255
    np.testing.assert_allclose(mean, as_float.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(std, as_float.std(axis=(0, 2, 3)))


def test_time_pipeline_counts_images_after_warmup():
    images = torch.zeros(100, 3, 4, 4, dtype=torch.uint8)
    batches = data.Batches(images, torch.zeros(100, dtype=torch.long), 10, mean=(0,) * 3, std=(1,) * 3)
    result = data.time_pipeline(batches, "cpu", warmup=2)
    assert result["images"] == 80 and result["images_per_second"] > 0
    assert data.time_pipeline(batches, "cpu", max_images=30, warmup=0)["images"] == 30
    with pytest.raises(ValueError, match="more than 20 batches"):
        data.time_pipeline(batches, "cpu", warmup=20)
