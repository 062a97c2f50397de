"""dlfoundations: the tested code behind the Deep Learning Foundations course.

One module per concept: ``config`` (run profiles, device, seeds), ``data``
(CIFAR-10), ``models``, ``training`` and ``plots``.
"""

from . import config, data, models, plots, training

__all__ = ["config", "data", "models", "plots", "training"]
__version__ = "0.1.0"
