"""dlfoundations: the tested code behind the Deep Learning Foundations course.

The package has two layers. **Ideas** are what the chapters teach, each written out
from scratch and checked against PyTorch; they import nothing from the second layer:

* ``landscapes``: test functions with analytic gradients and Hessians;
* ``optim``: gradient descent to Adam, learning-rate schedules;
* ``backprop``: a NumPy MLP, backpropagation by hand, gradient checking;
* ``layers``: convolution and pooling from scratch;
* ``initializers``: Xavier and He, with their variance rules;
* ``batchnorm`` and ``normalization``: Batch, Layer and Group Normalization by hand;
* ``regularization``: dropout, L1/L2 penalties, early stopping, ensembles;
* ``diagnostics``: per-layer activation and gradient statistics;
* ``exercises``: the reader's exercises and the checker that says whether an answer is right.

**Machinery** runs the chapters' experiments: ``config`` (run profiles, device, seeds),
``cifar10_files`` (finding, downloading, verifying and safely reading the official files),
``data`` (CIFAR-10 in memory, split and sized by the profile), ``batches`` (mini-batches
from resident tensors), ``dataloaders`` (the torchvision route and pipeline timing, for
comparison), ``augmentation`` (per-image crops and flips of whole batches on the device),
``models``, ``training``, ``experiments`` (the CIFAR-10 runs of chapters 07–10),
``generalization`` (the regularization chapter's runs), ``speedrun`` (chapter 11's
airbench94 recipe), ``search`` and ``tune`` (hyperparameter search, on Optuna),
``results`` (results files), ``reproduce`` (the command line that re-runs experiments),
``distributed`` (data-parallel training under torchrun), ``plots`` and ``book`` (glue,
the build configuration, offline MathJax), ``pdf`` (the book as one PDF), ``student`` (the student notebooks),
``i18n`` (what a translation in the Chinese editions' catalogues must keep of its English message),
``editions`` (the Chinese editions generated from the English source and the catalogues), ``wording`` (the
sentences the chapters compute and glue into their prose, in each edition's words).
``tests/test_layering.py`` keeps the layers apart.
Modules are imported on first use.
"""

import importlib

IDEAS = (
    "landscapes",
    "optim",
    "backprop",
    "layers",
    "initializers",
    "batchnorm",
    "normalization",
    "regularization",
    "diagnostics",
    "exercises",
)
MACHINERY = (
    "config",
    "cifar10_files",
    "data",
    "batches",
    "dataloaders",
    "augmentation",
    "models",
    "training",
    "experiments",
    "generalization",
    "speedrun",
    "search",
    "tune",
    "results",
    "reproduce",
    "distributed",
    "plots",
    "book",
    "pdf",
    "student",
    "i18n",
    "editions",
    "wording",
)
__all__ = sorted({*IDEAS, *MACHINERY, "ALLOCATOR", "tune_allocator"})
__version__ = "0.1.0"

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_TRIM_THRESHOLD = 1 << 30  # 1 GiB


def tune_allocator() -> str:
    """Keep large freed blocks for reuse instead of handing them back to the kernel; return what is in effect.

    glibc's ``malloc`` serves every block above its mmap threshold (at most 32 MiB) with a fresh ``mmap`` and
    unmaps it on ``free``: each training step's large activations, gradients and optimizer temporaries are then
    zero-filled by the kernel page by page, again and again (on the course's 2-core machines a third of the CPU
    time went into page faults). With ``mallopt(M_MMAP_MAX, 0)`` every block comes from the heap, and with
    ``M_TRIM_THRESHOLD`` at 1 GiB the heap keeps up to that much freed memory for the next step: the same
    trainings ran 1.4–1.7× faster (``benchmarks/allocator.py`` measures it). The price is memory: a process keeps
    the peak of its heap (up to 1 GiB more) until it ends.

    Runs once, when ``dlfoundations`` is imported, so it holds in the chapters' kernels, every command line and
    the tests. Nothing changes outside Linux with glibc, when ``DLF_MALLOC=off`` is set, or when the environment
    sets glibc's own ``MALLOC_MMAP_MAX_`` (then glibc reads that).
    """
    import os
    import sys

    if os.environ.get("DLF_MALLOC", "").strip().lower() in {"off", "0", "no", "false"}:
        return "glibc's defaults (DLF_MALLOC=off)"
    if "MALLOC_MMAP_MAX_" in os.environ:
        return f"glibc's, from the environment (MALLOC_MMAP_MAX_={os.environ['MALLOC_MMAP_MAX_']})"
    if not sys.platform.startswith("linux"):
        return "the system's"
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        version = libc.gnu_get_libc_version().decode()
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl (Alpine) and others: no glibc
        return "the system's (not glibc)"
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    if mallopt(_M_MMAP_MAX, 0) != 1 or mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD) != 1:
        return f"glibc {version}'s defaults (mallopt refused)"
    return f"glibc {version}, large blocks reused (mmap off, trim above 1 GiB; DLF_MALLOC=off for glibc's defaults)"


ALLOCATOR = tune_allocator()  # what this process's malloc does, as config.describe prints it


def __getattr__(name: str):
    """Import a module on first use (``dlfoundations.plots``), so that ``import dlfoundations`` costs nothing and
    a chapter pays only for the modules it names (``from dlfoundations import optim`` needs no matplotlib)."""
    if name in __all__:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
