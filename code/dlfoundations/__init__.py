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
* ``diagnostics``: per-layer activation and gradient statistics.

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
the build configuration, offline MathJax). ``tests/test_layering.py`` keeps the layers apart.
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
)
__all__ = sorted({*IDEAS, *MACHINERY})
__version__ = "0.1.0"


def __getattr__(name: str):
    """Import a module on first use (``dlfoundations.plots``), so that ``import dlfoundations`` costs nothing and
    a chapter pays only for the modules it names (``from dlfoundations import optim`` needs no matplotlib)."""
    if name in __all__:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
