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
``data`` (CIFAR-10), ``augmentation`` (per-image crops and flips of whole batches on the
device), ``models``, ``training``, ``experiments`` (the CIFAR-10 runs of chapters 07–10),
``generalization`` (the regularization chapter's runs), ``speedrun`` (chapter 11's
airbench94 recipe), ``search`` and ``tune`` (hyperparameter search, on Optuna),
``results`` (results files), ``reproduce`` (the command line that re-runs experiments),
``distributed`` (data-parallel training under torchrun), ``plots`` and ``book`` (glue,
the build configuration, offline MathJax). ``tests/test_layering.py`` keeps the layers apart.
"""

from . import (
    augmentation,
    backprop,
    batchnorm,
    config,
    data,
    diagnostics,
    distributed,
    experiments,
    generalization,
    initializers,
    landscapes,
    layers,
    models,
    optim,
    plots,
    regularization,
    results,
    search,
    speedrun,
    training,
    tune,
)

__all__ = [
    "augmentation",
    "backprop",
    "batchnorm",
    "config",
    "data",
    "diagnostics",
    "distributed",
    "experiments",
    "generalization",
    "initializers",
    "landscapes",
    "layers",
    "models",
    "optim",
    "plots",
    "regularization",
    "results",
    "search",
    "speedrun",
    "training",
    "tune",
]
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
    "data",
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
__version__ = "0.1.0"
