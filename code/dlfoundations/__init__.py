"""dlfoundations: the tested code behind the Deep Learning Foundations course.

One module per concept: ``config`` (run profiles, device, seeds), ``data``
(CIFAR-10), ``landscapes`` (test functions), ``optim`` (optimizers, schedules),
``backprop`` (a NumPy MLP and gradient checking), ``diagnostics`` (per-layer
statistics), ``layers`` (convolution and pooling from scratch),
``initializers`` (Xavier, He), ``batchnorm`` (Batch Normalization by hand),
``models``, ``training``, ``search`` (hyperparameter search),
``experiments`` (the CIFAR-10 runs of chapters 07–10), ``results`` (results
files), ``reproduce`` (command line), ``speedrun`` (CIFAR-10 in seconds),
``tune`` (the search on Optuna, shared by processes), ``distributed``
(data-parallel training under torchrun), ``plots`` and ``book`` (glue, the
build configuration, offline MathJax), ``regularization`` (dropout, L1/L2
penalties, early stopping, ensembles from scratch), ``augmentation`` (per-image
crops and flips of whole batches on the device) and ``generalization`` (the
regularization chapter's experiments).
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
__version__ = "0.1.0"
