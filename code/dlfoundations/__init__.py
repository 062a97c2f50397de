"""dlfoundations: the tested code behind the Deep Learning Foundations course.

One module per concept: ``config`` (run profiles, device, seeds), ``data``
(CIFAR-10), ``landscapes`` (test functions), ``optim`` (optimizers, schedules),
``backprop`` (a NumPy MLP and gradient checking), ``diagnostics`` (per-layer
statistics), ``initializers`` (Xavier, He), ``batchnorm`` (Batch Normalization
by hand), ``models``, ``training`` and ``plots``.
"""

from . import backprop, batchnorm, config, data, diagnostics, initializers, landscapes, models, optim, plots, training

__all__ = [
    "backprop",
    "batchnorm",
    "config",
    "data",
    "diagnostics",
    "initializers",
    "landscapes",
    "models",
    "optim",
    "plots",
    "training",
]
__version__ = "0.1.0"
