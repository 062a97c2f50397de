import hashlib
import io
import os
import pickle
import socket
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import PER_BATCH, write_batch
from dlfoundations import cifar10_files, data, dataloaders
from dlfoundations.batches import Batches

MIRROR = os.environ.get("CIFAR10_ROOT")  # read before the autouse fixture hides it from each test


def test_read_batch_official_layout(tiny_root):
    root, (train_x, train_y, _, _) = tiny_root
    images, labels = cifar10_files.read_batch(
        root / cifar10_files.FOLDER / "data_batch_1"
    )  # Python-2 style, bytes keys
    assert images.shape == (PER_BATCH, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, train_x[:PER_BATCH])
    np.testing.assert_array_equal(labels, train_y[:PER_BATCH])
    images, labels = cifar10_files.read_batch(root / cifar10_files.FOLDER / "data_batch_2")  # protocol 4, str keys
    np.testing.assert_array_equal(images, train_x[PER_BATCH : 2 * PER_BATCH])


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch EXPLOITED",))


def test_foreign_global_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _Exploit(), "labels": [0]}, protocol=2))
    with pytest.raises(cifar10_files.UnsafePickleError, match=r"os\.system|posix\.system") as error:
        cifar10_files.read_batch(path)
    assert str(path) in str(error.value)
    assert not (tmp_path / "EXPLOITED").exists()


@pytest.mark.parametrize("global_name", [("builtins", "eval"), ("subprocess", "Popen"), ("numpy", "load")])
def test_only_array_globals_are_allowed(tmp_path, global_name):
    module, name = global_name
    path = tmp_path / "batch"
    # protocol-0 GLOBAL opcode naming the global, then STOP
    path.write_bytes(f"c{module}\n{name}\n.".encode())
    with pytest.raises(cifar10_files.UnsafePickleError, match=name):
        cifar10_files.read_batch(path)


def test_truncated_batch_names_the_file(tiny_root):
    root, _ = tiny_root
    path = root / cifar10_files.FOLDER / "data_batch_3"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(cifar10_files.CorruptBatchError, match="data_batch_3.*truncated or corrupt"):
        cifar10_files.read_batch(path)


def test_wrong_shapes_and_labels_are_rejected(tmp_path):
    path = tmp_path / "bad"
    write_batch(path, np.zeros((4, 1000), np.uint8), [0, 1, 2, 3])
    with pytest.raises(cifar10_files.CorruptBatchError, match=r"bad.*\(N, 3072\)"):
        cifar10_files.read_batch(path)
    write_batch(path, np.zeros((4, 3, 32, 32), np.uint8), [0, 1, 2, 10])
    with pytest.raises(cifar10_files.CorruptBatchError, match=r"bad.*0\.\.9"):
        cifar10_files.read_batch(path)
    write_batch(path, np.zeros((4, 3, 32, 32), np.uint8), [0, 1, 2])
    with pytest.raises(cifar10_files.CorruptBatchError, match="labels"):
        cifar10_files.read_batch(path)
    write_batch(path, np.zeros((4, 3, 32, 32), np.float32).astype(np.uint16), [0, 1, 2, 3])
    with pytest.raises(cifar10_files.CorruptBatchError, match="uint8"):
        cifar10_files.read_batch(path)


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
    assert cifar10_files.resolve_root(tmp_path) == (tmp_path, "argument")
    monkeypatch.setenv("CIFAR10_ROOT", str(tmp_path / "env"))
    assert cifar10_files.resolve_root() == (tmp_path / "env", "CIFAR10_ROOT")
    monkeypatch.delenv("CIFAR10_ROOT")
    assert cifar10_files.resolve_root() == (tmp_path / "cache" / "dlfoundations" / "cifar10", "user cache")


def test_missing_data_says_where_to_put_it(tmp_path, monkeypatch):
    def offline(path, url, md5):
        raise OSError("network unreachable")

    monkeypatch.setattr(cifar10_files, "_download", offline)
    with pytest.raises(cifar10_files.DataNotFoundError) as error:
        data.load_cifar10(tmp_path / "nowhere", device="cpu")
    message = str(error.value)
    assert "network unreachable" in message
    assert str(tmp_path / "nowhere" / cifar10_files.FOLDER / "data_batch_1") in message
    assert "CIFAR10_ROOT" in message and "CIFAR10_URL" in message and cifar10_files.ARCHIVE_MD5 in message
    with pytest.raises(cifar10_files.DataNotFoundError, match="download=False"):
        cifar10_files.ensure_cifar10(tmp_path / "nowhere", download=False)


# --------------------------------------------------------------------------- downloading, from file:// archives


def make_archive(folder, path):
    """``cifar-10-python.tar.gz`` as the official one is laid out, from a decoded ``cifar-10-batches-py/``."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        tar.add(folder, arcname=cifar10_files.FOLDER)
    return path, hashlib.md5(path.read_bytes()).hexdigest()


def untouched(target):
    """Nothing a later run could trust: no data folder, no half-extracted scratch, no partial download."""
    leftovers = [p.name for p in target.iterdir()] if target.exists() else []
    return not [
        name for name in leftovers if name.startswith((cifar10_files.FOLDER, ".cifar")) or name.endswith(".part")
    ]


@pytest.fixture
def tiny_archive(tiny_root, tmp_path):
    root, arrays = tiny_root
    (tmp_path / "mirror").mkdir()
    archive, md5 = make_archive(root / cifar10_files.FOLDER, tmp_path / "mirror" / cifar10_files.ARCHIVE)
    return archive, md5, arrays


def test_download_from_a_file_url_checks_md5_and_unpacks(tiny_archive, tmp_path, monkeypatch, capsys):
    archive, md5, (train_x, *_) = tiny_archive
    target = tmp_path / "fresh"
    monkeypatch.setenv("CIFAR10_URL", archive.as_uri())
    assert cifar10_files.ensure_cifar10(target, md5=md5) == target / cifar10_files.FOLDER
    assert sorted(p.name for p in target.iterdir()) == [cifar10_files.FOLDER], "archive and scratch folders are removed"
    images, _ = cifar10_files.read_batch(target / cifar10_files.FOLDER / "data_batch_1")
    np.testing.assert_array_equal(images, train_x[: len(images)])
    assert "CIFAR-10 from" in capsys.readouterr().err, "a progress bar names the source"


def test_the_official_md5_is_required_whatever_the_source(tiny_archive, tmp_path):
    archive, md5, _ = tiny_archive
    target = tmp_path / "fresh"
    with pytest.raises(cifar10_files.DownloadError) as error:
        cifar10_files.ensure_cifar10(target, url=archive.as_uri())  # the official md5, which a tiny archive lacks
    message = str(error.value)
    assert (
        f"has md5 {md5}, expected {cifar10_files.ARCHIVE_MD5}" in message
        and str(target / cifar10_files.ARCHIVE) in message
    )
    assert "cut off" in message and "CIFAR10_URL" in message
    assert untouched(target) and not (target / cifar10_files.ARCHIVE).exists(), "a bad archive is deleted"


def test_a_truncated_archive_is_rejected(tiny_archive, tmp_path):
    archive, md5, _ = tiny_archive
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    target = tmp_path / "fresh"
    with pytest.raises(cifar10_files.DownloadError, match=f"expected {md5}"):  # caught by the checksum ...
        cifar10_files.ensure_cifar10(target, url=cut.as_uri(), md5=md5)
    assert untouched(target)
    cut_md5 = hashlib.md5(cut.read_bytes()).hexdigest()
    with pytest.raises(cifar10_files.DownloadError, match="truncated or corrupt"):  # ... and by the unpacking
        cifar10_files.ensure_cifar10(target, url=cut.as_uri(), md5=cut_md5)
    assert untouched(target)


def test_an_interrupted_extraction_leaves_nothing_behind(tiny_archive, tmp_path, monkeypatch):
    archive, md5, _ = tiny_archive
    target = tmp_path / "fresh"
    target.mkdir()
    local = target / cifar10_files.ARCHIVE
    local.write_bytes(archive.read_bytes())
    seen = []

    def interrupt(name):
        seen.append(name)
        if len(seen) == 4:  # the folder and two batches written, the third on its way
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cifar10_files.extract(local, target, on_member=interrupt)
    assert untouched(target), list(target.iterdir())
    assert (
        cifar10_files.extract(local, target) == target / cifar10_files.FOLDER
    )  # a second run completes from the archive


def test_a_dropped_connection_is_retried_and_resumed(tmp_path, monkeypatch):
    payload = bytes(range(256)) * 4000
    requests = []

    class Response(io.BytesIO):
        def __init__(self, body, status, length, drop_after=None):
            super().__init__(body)
            self.status, self.headers, self.drop_after = status, {"Content-Length": str(length)}, drop_after

        def read(self, size=-1):
            if self.drop_after is not None and self.tell() >= self.drop_after:
                raise ConnectionResetError("connection reset by peer")
            return super().read(size if self.drop_after is None else min(size, self.drop_after - self.tell()))

    def urlopen(request, timeout):
        requests.append(request.get_header("Range"))
        if len(requests) == 1:  # the first connection drops after 1,000 bytes
            return Response(payload, 200, len(payload), drop_after=1000)
        start = int(request.get_header("Range").split("=")[1].rstrip("-"))
        return Response(payload[start:], 206, len(payload) - start)

    monkeypatch.setattr(cifar10_files.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(cifar10_files.time, "sleep", lambda s: None)
    out = cifar10_files.download("https://example.invalid/c.tar.gz", tmp_path / "c.tar.gz", progress=False)
    assert out.read_bytes() == payload and requests == [None, "bytes=1000-"]
    assert not (tmp_path / "c.tar.gz.part").exists()


def fake_network(monkeypatch, failure):
    """``urlopen`` that always raises ``failure``, and a ``sleep`` that only records its waits."""
    attempts, waits = [], []

    def urlopen(request, timeout):
        attempts.append(request.full_url)
        raise failure

    monkeypatch.setattr(cifar10_files.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(cifar10_files.time, "sleep", waits.append)
    return attempts, waits


PERMANENT = {  # retrying cannot help: fail at once, saying where to put the data
    "no network (name resolution)": urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution")),
    "connection refused": urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
    "not found": urllib.error.HTTPError(cifar10_files.URL, 404, "Not Found", {}, None),
}


@pytest.mark.parametrize("what", PERMANENT)
def test_an_offline_machine_is_told_at_once_where_to_put_the_data(tmp_path, monkeypatch, what):
    attempts, waits = fake_network(monkeypatch, PERMANENT[what])
    with pytest.raises(cifar10_files.DataNotFoundError) as error:
        data.load_cifar10(tmp_path / "nowhere", device="cpu")
    assert attempts == [cifar10_files.URL] and waits == [], "one attempt, no waiting"
    message = str(error.value)
    assert "CIFAR10_ROOT" in message and "CIFAR10_URL" in message
    assert str(tmp_path / "nowhere" / cifar10_files.FOLDER / "data_batch_1") in message
    if what.startswith("no network"):
        assert "offline" in message and "name resolution" in message


TRANSIENT = {  # a retry may get past these: retried with backoff
    "timeout": urllib.error.URLError(TimeoutError("timed out")),
    "timeout while reading": TimeoutError("The read operation timed out"),
    "connection reset": ConnectionResetError(104, "Connection reset by peer"),
    "server error": urllib.error.HTTPError(cifar10_files.URL, 503, "Service Unavailable", {}, None),
}


@pytest.mark.parametrize("what", TRANSIENT)
def test_timeouts_drops_and_server_errors_are_retried_with_backoff(tmp_path, monkeypatch, what):
    attempts, waits = fake_network(monkeypatch, TRANSIENT[what])
    with pytest.raises(cifar10_files.DownloadError, match="gave up after 6 attempts"):
        cifar10_files.download(cifar10_files.URL, tmp_path / cifar10_files.ARCHIVE, retries=5, progress=False)
    assert len(attempts) == 6 and waits == [2, 4, 8, 16, 32]


@pytest.mark.skipif(not MIRROR, reason="CIFAR10_ROOT does not hold the decoded data set")
def test_download_of_an_archive_built_from_the_full_decoded_data(tmp_path, monkeypatch):
    """The whole data set, archived as the official file is (its md5 computed here, not the official one)."""
    archive, md5 = make_archive(Path(MIRROR) / cifar10_files.FOLDER, tmp_path / cifar10_files.ARCHIVE)
    monkeypatch.setenv("CIFAR10_URL", archive.as_uri())
    folder = cifar10_files.ensure_cifar10(tmp_path / "fresh", md5=md5)
    d = data.load_cifar10(tmp_path / "fresh", device="cpu", num_train=49_000, num_val=1_000, num_test=10_000)
    assert len(d.y_train) == 49_000 and len(d.y_test) == 10_000 and folder.is_dir()


def test_batches_normalize_like_torchvision(tiny_root):
    root, _ = tiny_root
    d = data.load_cifar10(root, device="cpu", num_train=50, num_val=10, num_test=10)
    x, y = next(iter(d.batches("train", 16)))
    reference = dataloaders.CIFAR10Images(
        d.x_train[:16], d.y_train[:16], dataloaders.torchvision_transform(d.mean, d.std)
    )
    expected = torch.stack([reference[i][0] for i in range(16)])
    torch.testing.assert_close(x, expected, atol=1e-5, rtol=1e-5)
    assert torch.equal(y, d.y_train[:16])
    loader_x, loader_y = next(iter(dataloaders.dataloader(d, "train", 16)))
    torch.testing.assert_close(loader_x, expected)
    assert torch.equal(loader_y, y)


def test_batches_shuffle_reproducible_and_complete():
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 3, 2, 2).contiguous()
    labels = torch.arange(10)
    make = lambda: Batches(images, labels, 4, mean=(0, 0, 0), std=(1 / 255,) * 3, shuffle=True, seed=3)  # noqa: E731
    first, second = make(), make()
    assert len(first) == 3
    epoch_a = torch.cat([y for _, y in first])
    assert torch.equal(epoch_a, torch.cat([y for _, y in second]))  # same seed, same order
    assert sorted(epoch_a.tolist()) == list(range(10))  # every example once
    epoch_b = torch.cat([y for _, y in first])
    assert not torch.equal(epoch_a, epoch_b)  # a new order every epoch
    for x, y in first:  # images travel with their labels
        assert torch.equal(x[:, 0, 0, 0], y.float())


def test_batches_reject_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        Batches(torch.zeros(4, 3, 8, 8), torch.zeros(4), mean=(0,) * 3, std=(1,) * 3)
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        Batches(torch.zeros(4, 3, 8, 8, dtype=torch.uint8), torch.zeros(3), mean=(0,) * 3, std=(1,) * 3)


def test_augmented_batches_differ_between_epochs():
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    batches = Batches(images, torch.arange(8), 8, mean=(0.5,) * 3, std=(0.25,) * 3, augment=True, seed=1)
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
    batches = Batches(images, torch.zeros(100, dtype=torch.long), 10, mean=(0,) * 3, std=(1,) * 3)
    result = dataloaders.time_pipeline(batches, "cpu", warmup=2)
    assert result["images"] == 80 and result["images_per_second"] > 0
    assert dataloaders.time_pipeline(batches, "cpu", max_images=30, warmup=0)["images"] == 30
    with pytest.raises(ValueError, match="more than 20 batches"):
        dataloaders.time_pipeline(batches, "cpu", warmup=20)


def test_time_pipeline_keeps_the_fastest_of_several_passes(monkeypatch):
    """Another job slowing one pass down must not decide the measurement."""
    images = torch.zeros(40, 3, 4, 4, dtype=torch.uint8)
    batches = Batches(images, torch.zeros(40, dtype=torch.long), 10, mean=(0,) * 3, std=(1,) * 3)
    clock = iter([0.0, 5.0, 10.0, 11.0, 20.0, 23.0])  # passes of 5 s, 1 s and 3 s (start, end pairs)
    monkeypatch.setattr(dataloaders.time, "perf_counter", lambda: next(clock))
    result = dataloaders.time_pipeline(batches, "cpu", warmup=0, repeats=3)
    assert result["seconds"] == 1.0 and result["images"] == 40
