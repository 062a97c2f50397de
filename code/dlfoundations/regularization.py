"""Regularization from scratch: dropout, L2 and L1 penalties, early stopping and ensembles.

A teaching module: it needs nothing but torch, so each function can be read (and
tested) on its own. The CIFAR-10 experiments that use it live in
:mod:`dlfoundations.generalization`.

Conventions:

* ``p`` in :func:`dropout` is the probability of **dropping** a unit, as in
  ``torch.nn.functional.dropout`` (some texts use the keep probability ``1 - p``);
* the penalties act on the *weights* only (:func:`weights`): biases and the scale
  and shift of normalization layers are few, each controls one unit's offset or
  scale rather than how inputs are combined, and shrinking them towards zero
  buys no smoothness, only underfitting.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable

import torch

__all__ = [
    "Dropout",
    "EarlyStopping",
    "dropout",
    "early_stopping_factors",
    "ensemble_predict",
    "l1_penalty",
    "l2_penalty",
    "parameter_groups",
    "ridge_factors",
    "shrinkage_under_noise",
    "soft_threshold",
    "weights",
]


# --------------------------------------------------------------------------- dropout


def dropout(x: torch.Tensor, p: float, training: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    """Inverted dropout: zero each entry with probability ``p``, scale the survivors by ``1/(1-p)``.

    The scaling keeps the expected value of every entry unchanged, so at evaluation time
    (``training=False``) the layer is the identity and needs no rescaling. ``generator``
    (on ``x``'s device) makes the mask reproducible.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability p must lie in [0, 1), not {p} (p is the probability of dropping)")
    if not training or p == 0.0:
        return x
    keep = torch.rand(x.shape, device=x.device, generator=generator) >= p
    return x * keep.to(x.dtype) / (1.0 - p)


class Dropout(torch.nn.Module):
    """:func:`dropout` as a layer: active in ``model.train()``, the identity in ``model.eval()``."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability p must lie in [0, 1), not {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# --------------------------------------------------------------------------- penalties


def weights(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The parameters a penalty should act on: matrices and filter banks (``ndim >= 2``).

    Biases and the scale and shift of normalization layers (vectors) are left out.
    """
    return [p for p in model.parameters() if p.ndim >= 2]


def parameter_groups(model: torch.nn.Module, weight_decay: float, decay_biases: bool = False) -> list[dict]:
    """Optimizer parameter groups: :func:`weights` decayed by ``weight_decay``, the rest not at all.

    ``decay_biases=True`` decays every parameter alike (biases and normalization scales and shifts too).
    """
    decayed = {id(p) for p in (model.parameters() if decay_biases else weights(model))}
    first = [p for p in model.parameters() if id(p) in decayed]
    rest = [p for p in model.parameters() if id(p) not in decayed]
    return [{"params": first, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def _as_list(params: Iterable[torch.Tensor] | torch.nn.Module) -> list[torch.Tensor]:
    return weights(params) if isinstance(params, torch.nn.Module) else list(params)


def l2_penalty(params: Iterable[torch.Tensor] | torch.nn.Module) -> torch.Tensor:
    """``½ Σ θ²`` over the given tensors (over :func:`weights` when given a model).

    Its gradient is ``θ`` itself, so ``loss + λ·l2_penalty`` adds ``λθ`` to every gradient.
    """
    tensors = _as_list(params)
    if not tensors:
        raise ValueError("l2_penalty needs at least one tensor")
    return 0.5 * sum((t * t).sum() for t in tensors)


def l1_penalty(params: Iterable[torch.Tensor] | torch.nn.Module) -> torch.Tensor:
    """``Σ |θ|`` over the given tensors (over :func:`weights` when given a model).

    Its (sub)gradient is ``sign(θ)``: a pull of the same size towards zero for large and
    small weights alike, which is why it drives many weights to (nearly) zero.
    """
    tensors = _as_list(params)
    if not tensors:
        raise ValueError("l1_penalty needs at least one tensor")
    return sum(t.abs().sum() for t in tensors)


def soft_threshold(theta: torch.Tensor, threshold: float) -> torch.Tensor:
    """``sign(θ)·max(|θ| − threshold, 0)``: the proximal step of ``λ·Σ|θ|`` with ``threshold = ηλ``.

    Proximal gradient descent takes the data term's step and then this one; every entry with
    ``|θ| ≤ threshold`` lands exactly on zero, which the subgradient ``λ·sign(θ)`` never achieves.
    """
    if threshold < 0:
        raise ValueError(f"the threshold must not be negative, not {threshold}")
    return torch.sign(theta) * torch.clamp(theta.abs() - threshold, min=0.0)


def shrinkage_under_noise(
    optimizer: str,
    scales: Iterable[float],
    weight_decay: float,
    lr: float = 1e-2,
    steps: int = 500,
    size: int = 1_000,
    seed: int = 0,
) -> list[float]:
    """How much Adam with L2 in the gradient (``"adam"``) or AdamW (``"adamw"``) shrinks weights, per gradient scale.

    For each scale ``s`` in ``scales``, ``size`` weights start at 1 and receive gradients that are pure
    noise of standard deviation ``s`` (a loss that does not care about them) for ``steps`` steps. Returns
    the mean of the final weights for each scale. AdamW multiplies the weights by ``1 - lr·λ`` per step on
    average, whatever their gradients; Adam divides the decay term ``λθ`` by the running root mean square
    of the gradients too, so its decay per step is about ``lr·λ/rms``: the same as AdamW's where rms = 1,
    much faster for weights with smaller gradients and much slower for weights with larger ones.
    """
    if optimizer not in ("adam", "adamw"):
        raise ValueError(f"optimizer must be 'adam' or 'adamw', not {optimizer!r}")
    scales = [float(s) for s in scales]
    generator = torch.Generator().manual_seed(seed)
    theta = torch.ones(len(scales), size, dtype=torch.float64, requires_grad=True)
    kind = torch.optim.Adam if optimizer == "adam" else torch.optim.AdamW
    opt = kind([theta], lr=lr, weight_decay=weight_decay)
    scale = torch.tensor(scales, dtype=torch.float64).view(-1, 1)
    for _ in range(steps):
        theta.grad = torch.randn(theta.shape, generator=generator, dtype=torch.float64) * scale
        opt.step()
    return theta.detach().mean(dim=1).tolist()


# --------------------------------------------------------------------------- early stopping


class EarlyStopping:
    """Stop when a validation metric has not improved for ``patience`` checks; keep the best weights.

    ``mode="max"`` for accuracies, ``"min"`` for losses. A check improves on the best so far
    when it is better by more than ``min_delta``. :meth:`step` returns True when training
    should stop; :meth:`restore` loads the best weights seen into a model.
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "max"):
        if patience < 1:
            raise ValueError(f"patience must be at least 1, not {patience}")
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', not {mode!r}")
        if min_delta < 0:
            raise ValueError(f"min_delta must not be negative, not {min_delta}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = -math.inf if mode == "max" else math.inf
        self.best_step = -1  # index of the best check (0 = the first call of step)
        self.best_state: dict | None = None
        self.steps = 0  # checks seen
        self.bad_steps = 0  # checks since the last improvement
        self.stopped_step: int | None = None  # the check at which step first returned True

    def improves(self, metric: float) -> bool:
        if self.mode == "max":
            return metric > self.best + self.min_delta
        return metric < self.best - self.min_delta

    def step(self, metric: float, model: torch.nn.Module) -> bool:
        """Record one check of ``metric`` for ``model``'s current weights; True means: stop now."""
        metric = float(metric)
        if math.isnan(metric):
            raise ValueError("EarlyStopping got a NaN metric")
        if self.improves(metric):
            self.best, self.best_step, self.bad_steps = metric, self.steps, 0
            self.best_state = copy.deepcopy({k: v.detach() for k, v in model.state_dict().items()})
        else:
            self.bad_steps += 1
        self.steps += 1
        stop = self.bad_steps >= self.patience
        if stop and self.stopped_step is None:
            self.stopped_step = self.steps - 1
        return stop

    def restore(self, model: torch.nn.Module) -> torch.nn.Module:
        """Load the best weights seen into ``model`` (and return it)."""
        if self.best_state is None:
            raise RuntimeError("EarlyStopping.restore before any call of step")
        model.load_state_dict(self.best_state)
        return model


def early_stopping_factors(eigenvalues: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """How far gradient descent gets along each eigenvector of a quadratic loss in ``steps`` steps.

    For ``L(θ) = ½(θ − θ*)ᵀH(θ − θ*)`` started at ``θ = 0``, each step multiplies the remaining distance along an
    eigenvector of ``H`` (eigenvalue ``λᵢ``) by ``1 − ηλᵢ``; after ``τ`` steps the component of ``θ`` is the
    fraction ``1 − (1 − ηλᵢ)^τ`` of ``θ*``'s (Goodfellow et al., §7.8). Returns these fractions.
    """
    if steps < 0:
        raise ValueError(f"steps must not be negative, not {steps}")
    return 1 - (1 - lr * eigenvalues) ** steps


def ridge_factors(eigenvalues: torch.Tensor, alpha: float) -> torch.Tensor:
    """The same fractions for the minimum of the quadratic plus ``(α/2)‖θ‖²``: ``λᵢ/(λᵢ + α)``.

    With ``α = 1/(ητ)`` both are about ``ηλᵢτ`` where that is small and about 1 where it is large: early
    stopping after ``τ`` steps acts like an L2 penalty of strength ``1/(ητ)``.
    """
    if alpha < 0:
        raise ValueError(f"alpha must not be negative, not {alpha}")
    return eigenvalues / (eigenvalues + alpha)


# --------------------------------------------------------------------------- ensembles


def ensemble_predict(models: Iterable[torch.nn.Module], x: torch.Tensor) -> torch.Tensor:
    """Average of the members' softmax probabilities for ``x`` (each member in eval mode, no gradients)."""
    models = list(models)
    if not models:
        raise ValueError("ensemble_predict needs at least one model")
    total = None
    with torch.no_grad():
        for model in models:
            was_training = model.training
            model.eval()
            probs = torch.softmax(model(x), dim=1)
            model.train(was_training)
            total = probs if total is None else total + probs
    return total / len(models)
