"""CIFAR-10: finding, downloading, safely reading and batching it.

The data set is read from the official python layout, a folder
``cifar-10-batches-py/`` holding ``data_batch_1`` … ``data_batch_5`` and
``test_batch``. Those files are pickles, and unpickling can run arbitrary
code, so :func:`read_batch` uses an unpickler that accepts only the few
globals a CIFAR-10 batch needs (NumPy array reconstruction) and refuses
everything else before it is called.

Where the folder is looked for, in order: the ``root`` argument, the
environment variable ``CIFAR10_ROOT``, and a per-user cache folder. When it is
missing there, :func:`ensure_cifar10` downloads the official archive (or the
mirror named by ``CIFAR10_URL``) with a progress bar and retries, checks its
md5, and unpacks it all or nothing.

Splits follow CS231n: the first 49,000 training images for training, the last
1,000 for validation, and the 10,000 test images; a run profile takes subsets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import math
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import augmentation

ROOT_VARIABLE = "CIFAR10_ROOT"
URL_VARIABLE = "CIFAR10_URL"
FOLDER = "cifar-10-batches-py"
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_BYTES = 170_498_071
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
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


class DataNotFoundError(FileNotFoundError):
    """CIFAR-10 is neither on disk nor downloadable; the message says what to do."""


class CorruptBatchError(ValueError):
    """A batch file is truncated, malformed, or not a CIFAR-10 batch."""


class UnsafePickleError(pickle.UnpicklingError):
    """A batch file asks to load a global that a CIFAR-10 batch never needs."""


# --------------------------------------------------------------------------- finding


def default_root() -> Path:
    """The per-user cache folder used when neither argument nor variable is set."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "dlfoundations" / "cifar10"


def resolve_root(root: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The folder expected to hold ``cifar-10-batches-py/`` and where it came from."""
    if root is not None:
        return Path(root).expanduser(), "argument"
    if os.environ.get(ROOT_VARIABLE):
        return Path(os.environ[ROOT_VARIABLE]).expanduser(), ROOT_VARIABLE
    return default_root(), "user cache"


def describe_source(root: str | os.PathLike | None = None) -> str:
    """A short description of where CIFAR-10 is read from, for ``config.describe``."""
    path, how = resolve_root(root)
    state = "present" if (path / FOLDER / TEST_FILE).exists() else "not yet downloaded"
    return f"CIFAR-10 in {path / FOLDER} (from {how}, {state})"


def _missing_message(path: Path, reason: str) -> str:
    return (
        f"CIFAR-10 was not found in {path / FOLDER} and could not be downloaded ({reason}).\n"
        f"Do one of these, then run again:\n"
        f"  * download {URL} (md5 {ARCHIVE_MD5}) and unpack it into {path}, so that\n"
        f"    {path / FOLDER / 'data_batch_1'} exists;\n"
        f"  * or set {URL_VARIABLE} to a mirror of that archive (https://, or file:// for a local copy);\n"
        f"  * or set {ROOT_VARIABLE} to a folder that already holds {FOLDER}/ "
        f"(export {ROOT_VARIABLE}=/path/to/folder)."
    )


# --------------------------------------------------------------------------- downloading


class DownloadError(DataNotFoundError):
    """The archive could not be fetched, failed its checksum, or could not be unpacked."""


def archive_url() -> str:
    """The official archive, or the mirror named by ``CIFAR10_URL`` (https://, http:// or file://)."""
    return os.environ.get(URL_VARIABLE, "").strip() or URL


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, destination: Path, retries: int = 5, timeout: float = 60, progress: bool = True) -> Path:
    """Fetch ``url`` into ``destination`` with a progress bar, resuming after a dropped connection.

    Bytes go to ``destination.part`` first, which becomes ``destination`` only once complete; after a
    failure the download is retried up to ``retries`` times (with an HTTP range request where the
    server allows one), waiting 2, 4, 8 … seconds in between.
    """
    part = destination.with_name(destination.name + ".part")
    for attempt in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if have and getattr(response, "status", None) != 206:  # no resuming here: start again
                    have = 0
                length = response.headers.get("Content-Length")
                total = have + int(length) if length else None
                bar = tqdm(
                    total=total,
                    initial=have,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    disable=not progress,
                    desc=f"CIFAR-10 from {urllib.parse.urlsplit(url).netloc or url}",
                )
                with open(part, "ab" if have else "wb") as f, bar:
                    while block := response.read(1 << 20):
                        f.write(block)
                        bar.update(len(block))
            if total is not None and part.stat().st_size < total:
                raise http.client.IncompleteRead(b"", total - part.stat().st_size)
            os.replace(part, destination)
            return destination
        except urllib.error.HTTPError as error:
            if error.code < 500:  # 404, 403: retrying will not help
                raise DownloadError(f"{url} answered {error.code} {error.reason}") from error
            failure = error
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, cut off
            failure = error
        if attempt < retries:
            wait = 2 ** (attempt + 1)
            print(f"download interrupted ({failure}); retrying in {wait} s", file=sys.stderr)
            time.sleep(wait)
    raise DownloadError(f"{url}: gave up after {retries + 1} attempts ({type(failure).__name__}: {failure})")


def verify(archive: Path, md5: str = ARCHIVE_MD5) -> None:
    """Check the archive's md5; a bad archive is deleted, so no later run trusts it."""
    actual = md5sum(archive)
    if actual == md5:
        return
    size = archive.stat().st_size
    archive.unlink()
    cut = f"; the official archive has {ARCHIVE_BYTES:,}, so it was cut off" if size < ARCHIVE_BYTES else ""
    raise DownloadError(
        f"{archive} has md5 {actual}, expected {md5} ({size:,} bytes{cut}). The file was deleted. "
        f"Run again to download it anew; if {URL_VARIABLE} is set, check that it names a copy of "
        f"the official cifar-10-python.tar.gz."
    )


SAFE_EXTRACT = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.11.4


def extract(archive: Path, root: Path, on_member=None) -> Path:
    """Unpack ``cifar-10-batches-py/`` from the archive into ``root``, all or nothing.

    Members go to a temporary folder inside ``root``, which is renamed to ``root/cifar-10-batches-py``
    only when every batch is there: an interrupted or failed extraction leaves nothing a later run
    would trust. ``on_member`` (tests) is called with each member's name before it is written.
    """
    target = root / FOLDER
    scratch = Path(tempfile.mkdtemp(prefix=".cifar-10-extracting-", dir=root))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    if member.name.split("/")[0] != FOLDER:
                        continue
                    if ".." in member.name.split("/") or not (member.isfile() or member.isdir()):
                        raise DownloadError(f"{archive}: refused the unsafe member {member.name!r}")
                    if on_member is not None:
                        on_member(member.name)
                    tar.extract(member, scratch, **SAFE_EXTRACT)
        except (tarfile.TarError, EOFError, zlib.error) as error:
            raise DownloadError(
                f"{archive} could not be unpacked ({type(error).__name__}: {error}): it is truncated or "
                f"corrupt. Delete it and run again to download it anew."
            ) from error
        missing = [name for name in (*TRAIN_FILES, TEST_FILE) if not (scratch / FOLDER / name).is_file()]
        if missing:
            raise DownloadError(f"{archive} is not the CIFAR-10 archive: {FOLDER}/ lacks {missing}")
        if target.exists():  # an incomplete folder from an earlier attempt: keep it aside, never mix
            target.rename(root / f"{FOLDER}.incomplete-{int(time.time())}")
        os.replace(scratch / FOLDER, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _download(path: Path, url: str, md5: str) -> None:
    archive = path / ARCHIVE
    if not archive.exists():
        print(f"Downloading CIFAR-10 (163 MiB) from {url} into {path}", file=sys.stderr)
        download(url, archive)
    verify(archive, md5)
    extract(archive, path)
    archive.unlink()


def ensure_cifar10(
    root: str | os.PathLike | None = None, download: bool = True, url: str | None = None, md5: str = ARCHIVE_MD5
) -> Path:
    """Return the ``cifar-10-batches-py`` folder, downloading it if it is missing.

    The archive comes from ``url`` (default :func:`archive_url`: ``CIFAR10_URL`` or the official host)
    and must have the official md5 whatever its source (``md5`` exists for tests).
    """
    path, _ = resolve_root(root)
    folder = path / FOLDER
    if all((folder / name).exists() for name in (*TRAIN_FILES, TEST_FILE)):
        return folder
    if not download:
        raise DataNotFoundError(_missing_message(path, "download=False"))
    try:
        path.mkdir(parents=True, exist_ok=True)
        _download(path, url or archive_url(), md5)
    except Exception as error:  # no network, a proxy, a bad checksum, a full disk ...
        raise DownloadError(_missing_message(path, f"{type(error).__name__}: {error}")) from error
    return folder


# --------------------------------------------------------------------------- reading


def _numpy_core():
    core = getattr(np, "_core", None)  # NumPy 2
    return core if core is not None else np.core


# Everything a CIFAR-10 batch pickle may name: array reconstruction, nothing else.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): lambda: _numpy_core().multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): lambda: _numpy_core().multiarray._reconstruct,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    # Python 3 writes bytes at protocol <= 2 as _codecs.encode(str, "latin1"): a pure function
    ("_codecs", "encode"): lambda: __import__("codecs").encode,
}


class _BatchUnpickler(pickle.Unpickler):
    def __init__(self, file, name: str):
        super().__init__(file, encoding="bytes")
        self.name = name

    def find_class(self, module: str, name: str):
        factory = _ALLOWED_GLOBALS.get((module, name))
        if factory is None:
            raise UnsafePickleError(
                f"{self.name}: refused to load the global '{module}.{name}'. A CIFAR-10 batch "
                f"holds only NumPy arrays, lists, strings and numbers, so this file is not one "
                f"(and unpickling it could run code). Delete it and download CIFAR-10 again."
            )
        return factory()


def _text(key) -> str:
    return key.decode("latin1") if isinstance(key, bytes) else str(key)


def read_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch file: images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` int64."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            entry = _BatchUnpickler(f, str(path)).load()
    except UnsafePickleError:
        raise
    except FileNotFoundError as error:
        raise DataNotFoundError(f"{path} does not exist; see dlfoundations.data.ensure_cifar10") from error
    except Exception as error:  # EOFError, UnpicklingError, ValueError from a cut-off file
        raise CorruptBatchError(
            f"{path} is truncated or corrupt ({type(error).__name__}: {error}). "
            f"Delete the folder {path.parent} and download CIFAR-10 again."
        ) from error
    if not isinstance(entry, dict):
        raise CorruptBatchError(f"{path}: expected a dict, found {type(entry).__name__}")
    entry = {_text(k): v for k, v in entry.items()}
    if "data" not in entry or "labels" not in entry:
        raise CorruptBatchError(f"{path}: a batch needs the keys 'data' and 'labels', found {sorted(entry)}")
    data, labels = entry["data"], np.asarray(entry["labels"])
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", type(data).__name__)
        raise CorruptBatchError(f"{path}: 'data' must be a uint8 array of shape (N, 3072), found {shape} {dtype}")
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise CorruptBatchError(f"{path}: expected {data.shape[0]} integer labels, found shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise CorruptBatchError(f"{path}: labels must lie in 0..9, found {labels.min()}..{labels.max()}")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


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
) -> CIFAR10:
    """Load the CS231n split, sized by the run profile unless sizes are given.

    Train images come from the front of the training batches, validation from
    the last 1,000 training images, test from the front of ``test_batch``.
    Normalization statistics are those of the whole training pool (the first
    49,000 images), whatever subset a profile takes.
    """
    from . import config

    s = config.settings()
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


# --------------------------------------------------------------------------- batching


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
        drop_last: bool = False,
        dtype: torch.dtype = torch.float32,
    ):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"Batches expects uint8 images (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        self.images, self.labels = images, labels
        self.batch_size, self.shuffle, self.augment, self.drop_last = batch_size, shuffle, augment, drop_last
        self.device = images.device
        std_t = torch.tensor(std, dtype=dtype, device=self.device).view(1, -1, 1, 1)
        mean_t = torch.tensor(mean, dtype=dtype, device=self.device).view(1, -1, 1, 1)
        self._scale = 1.0 / (255.0 * std_t)
        self._shift = mean_t / std_t
        self.dtype = dtype
        self.generator = torch.Generator().manual_seed(seed)
        self.augment_generator = torch.Generator(device=self.device).manual_seed(seed)  # augmentation draws here

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        return images.to(self.dtype) * self._scale - self._shift

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


# --------------------------------------------------------------------------- the torchvision route


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
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                start = time.perf_counter()
            elif i >= warmup:
                images += len(y)
                if max_images is not None and images >= max_images:
                    break
        if start is None or images == 0:
            raise ValueError(f"time_pipeline needs more than {warmup} batches to time anything")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        if best is None or images / seconds > best["images_per_second"]:
            best = {"images": images, "seconds": seconds, "images_per_second": images / seconds}
    return best
