"""The official CIFAR-10 files: finding them, downloading and verifying the archive, and reading a batch safely.

The data set is read from the official python layout, a folder ``cifar-10-batches-py/`` holding
``data_batch_1`` … ``data_batch_5`` and ``test_batch``. Those files are pickles, and unpickling can run
arbitrary code, so :func:`read_batch` uses an unpickler that accepts only the few globals a CIFAR-10 batch
needs (NumPy array reconstruction) and refuses everything else before it is called: ``_ALLOWED_GLOBALS`` below
is the whole list to audit.

Where the folder is looked for, in order: the ``root`` argument, the environment variable ``CIFAR10_ROOT``,
and a per-user cache folder. When it is missing there, :func:`ensure_cifar10` downloads the official archive
(or the mirror named by ``CIFAR10_URL``) with a progress bar, checks its md5, and unpacks it all or nothing.
A timeout, a dropped connection or a server error is retried with backoff; no network (a host name that does
not resolve), a refused connection or a 404 stops at once with a message that says where to put the data.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import pickle
import shutil
import socket
import ssl
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
from tqdm import tqdm

ROOT_VARIABLE = "CIFAR10_ROOT"
URL_VARIABLE = "CIFAR10_URL"
FOLDER = "cifar-10-batches-py"
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_BYTES = 170_498_071
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"


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


# What a retry can get past: timeouts, connections dropped or reset (ssl.SSLEOFError: a TLS connection cut off),
# and http.client's IncompleteRead, RemoteDisconnected and garbled status lines.
TRANSIENT = (
    TimeoutError,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    ssl.SSLEOFError,
    http.client.HTTPException,
)


def transient(error: BaseException) -> bool:
    """Whether retrying a download could help after ``error``: a timeout, a dropped or reset connection, a
    cut-off response or a server error (HTTP 5xx) could pass; a host name that does not resolve (no network,
    or a typo), a refused or unreachable connection, a missing ``file://`` mirror or a client error (404, 403)
    will not."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500
    if isinstance(error, urllib.error.URLError):  # urlopen wraps what the connection raised
        error = error.reason if isinstance(error.reason, BaseException) else OSError(str(error.reason))
    return isinstance(error, TRANSIENT)


def download(url: str, destination: Path, retries: int = 5, timeout: float = 60, progress: bool = True) -> Path:
    """Fetch ``url`` into ``destination`` with a progress bar, resuming after a dropped connection.

    Bytes go to ``destination.part`` first, which becomes ``destination`` only once complete. After a
    failure that could pass (:func:`transient`: a timeout, a dropped connection, a server error) the
    download is retried up to ``retries`` times (with an HTTP range request where the server allows one),
    waiting 2, 4, 8 … seconds in between; any other failure (no network, a refused connection, a 404)
    raises :class:`DownloadError` at once.
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
        except (OSError, http.client.HTTPException) as error:  # URLError and HTTPError are OSErrors
            failure = error
        if not transient(failure):
            if isinstance(failure, urllib.error.HTTPError):
                raise DownloadError(f"{url} answered {failure.code} {failure.reason}") from failure
            reason = getattr(failure, "reason", failure)
            offline = isinstance(reason, socket.gaierror)  # the name did not resolve
            hint = " (is this machine offline, or is the host name wrong?)" if offline else ""
            raise DownloadError(f"{url}: {type(reason).__name__}: {reason}{hint}; not retried") from failure
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
        raise DataNotFoundError(f"{path} does not exist; see dlfoundations.cifar10_files.ensure_cifar10") from error
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
