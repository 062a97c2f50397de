"""Gradient-descent methods written out, one small class each, with one interface.

Every optimizer holds a point ``x`` (a float tensor of any shape), takes a
gradient in :meth:`Optimizer.step`, and records the points it visits in
``trajectory``. The formulas follow the lecture notation: ``γ`` is the
learning rate ``lr``, ``g`` the gradient.

===========  ==================================================================
SGD          x ← x − γ g
Momentum     v ← m v + γ g (v₀ = γ g₀);  x ← x − v                  (Polyak)
Nesterov     v ← m v + γ g;  x ← x − (m v + γ g)                    (Nesterov)
Adagrad      G ← G + g²;  x ← x − γ g / (√G + ε)                    (Duchi et al.)
RMSProp      E ← α E + (1 − α) g²;  x ← x − γ g / (√E + ε)          (Hinton)
Adam         m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
             x ← x − γ m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)  (Kingma & Ba)
===========  ==================================================================

With a constant learning rate each one takes exactly the steps of its
``torch.optim`` counterpart (see :func:`torch_counterpart`); the unit tests
and the optimizers chapter check this step by step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch


class Optimizer:
    """Base class: subclasses implement :meth:`displacement` (the vector subtracted from x)."""

    def __init__(self, x0, lr: float):
        if lr <= 0:
            raise ValueError(f"the learning rate must be positive, not {lr}")
        self.x = torch.as_tensor(x0, dtype=torch.float64).clone()
        self.lr = lr
        self.t = 0  # steps taken
        self.trajectory = [self.x.clone()]

    def displacement(self, g: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def step(self, g) -> torch.Tensor:
        """One update with gradient ``g`` at the current point; returns the new point."""
        g = torch.as_tensor(g, dtype=self.x.dtype)
        if g.shape != self.x.shape:
            raise ValueError(f"gradient shape {tuple(g.shape)} differs from the point's {tuple(self.x.shape)}")
        self.t += 1
        self.x = self.x - self.displacement(g)
        self.trajectory.append(self.x.clone())
        return self.x

    def run(self, gradient: Callable[[torch.Tensor], torch.Tensor], steps: int) -> torch.Tensor:
        """Take ``steps`` steps with ``gradient(x)``; returns the whole path ``(t + 1, *shape)``."""
        for _ in range(steps):
            self.step(gradient(self.x))
        return self.path

    @property
    def path(self) -> torch.Tensor:
        return torch.stack(self.trajectory)


class SGD(Optimizer):
    def displacement(self, g):
        return self.lr * g


class Momentum(Optimizer):
    """Heavy ball: ``v`` accumulates learning-rate-scaled gradients (the slides' form)."""

    def __init__(self, x0, lr: float, momentum: float = 0.9, nesterov: bool = False):
        super().__init__(x0, lr)
        self.momentum, self.nesterov = momentum, nesterov
        self.v = torch.zeros_like(self.x)

    def displacement(self, g):
        self.v = self.momentum * self.v + self.lr * g  # v₀ = γ g₀ since v starts at 0
        return self.momentum * self.v + self.lr * g if self.nesterov else self.v


class Nesterov(Momentum):
    def __init__(self, x0, lr: float, momentum: float = 0.9):
        super().__init__(x0, lr, momentum, nesterov=True)


class Adagrad(Optimizer):
    def __init__(self, x0, lr: float, eps: float = 1e-10):
        super().__init__(x0, lr)
        self.eps = eps
        self.G = torch.zeros_like(self.x)

    def displacement(self, g):
        self.G = self.G + g * g
        return self.lr * (g / (self.G.sqrt() + self.eps))


class RMSProp(Optimizer):
    def __init__(self, x0, lr: float, alpha: float = 0.99, eps: float = 1e-8):
        super().__init__(x0, lr)
        self.alpha, self.eps = alpha, eps
        self.E = torch.zeros_like(self.x)

    def displacement(self, g):
        self.E = self.alpha * self.E + (1 - self.alpha) * g * g
        return self.lr * (g / (self.E.sqrt() + self.eps))


class Adam(Optimizer):
    def __init__(self, x0, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(x0, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.m = torch.zeros_like(self.x)
        self.v = torch.zeros_like(self.x)

    def displacement(self, g):
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g * g
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v / (1 - self.beta2**self.t)
        return self.lr * m_hat / (v_hat.sqrt() + self.eps)


def torch_counterpart(optimizer: Optimizer, parameter: torch.Tensor) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimizer that takes the same steps as ``optimizer`` on ``parameter``."""
    lr = optimizer.lr
    if isinstance(optimizer, Momentum):
        return torch.optim.SGD([parameter], lr=lr, momentum=optimizer.momentum, nesterov=optimizer.nesterov)
    if isinstance(optimizer, SGD):
        return torch.optim.SGD([parameter], lr=lr)
    if isinstance(optimizer, Adagrad):
        return torch.optim.Adagrad([parameter], lr=lr, eps=optimizer.eps)
    if isinstance(optimizer, RMSProp):
        return torch.optim.RMSprop([parameter], lr=lr, alpha=optimizer.alpha, eps=optimizer.eps)
    if isinstance(optimizer, Adam):
        return torch.optim.Adam([parameter], lr=lr, betas=(optimizer.beta1, optimizer.beta2), eps=optimizer.eps)
    raise TypeError(f"no torch.optim counterpart known for {type(optimizer).__name__}")


def torch_path(
    optimizer: Optimizer,
    f: Callable[[torch.Tensor], torch.Tensor],
    x0,
    steps: int,
    gradient: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """The path ``torch_counterpart(optimizer)`` takes from ``x0`` minimizing ``f``.

    Gradients come from autograd, or from ``gradient(x)`` when it is given (so that
    both implementations see bit-identical gradients).
    """
    parameter = torch.nn.Parameter(torch.as_tensor(x0, dtype=torch.float64).clone())
    reference = torch_counterpart(optimizer, parameter)
    path = [parameter.detach().clone()]
    for _ in range(steps):
        reference.zero_grad()
        if gradient is None:
            f(parameter).backward()
        else:
            parameter.grad = gradient(parameter.detach())
        reference.step()
        path.append(parameter.detach().clone())
    return torch.stack(path)


# --------------------------------------------------------------------------- learning-rate schedules


def step_decay(lr0: float, epoch: int, drop: float = 0.5, every: int = 10) -> float:
    """``lr0 · drop^⌊epoch / every⌋`` (``torch.optim.lr_scheduler.StepLR``)."""
    return lr0 * drop ** (epoch // every)


def exponential_decay(lr0: float, epoch: int, gamma: float = 0.95) -> float:
    """``lr0 · γ^epoch`` (``ExponentialLR``)."""
    return lr0 * gamma**epoch


def cosine_decay(lr0: float, epoch: int, total: int, lr_min: float = 0.0) -> float:
    """``lr_min + ½(lr0 − lr_min)(1 + cos(π·epoch/total))`` (``CosineAnnealingLR``, one half period)."""
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * epoch / total))


def triangle(step: int, total: int, start: float = 0.0, peak: float = 0.5, end: float = 0.0) -> float:
    """Piecewise-linear multiplier: ``start`` at step 0, 1 at step ``⌊peak·total⌋``, ``end`` at ``total``.

    With ``start = end = 0`` and ``peak = 0.5`` it is the triangular cyclical schedule (Smith 2017);
    ``start = 1/25``, ``end = 1/25000`` is OneCycleLR's linear variant with ``final_div_factor=1e3``
    (up to where it puts the peak: step ``pct_start·total_steps − 1``); airbench uses ``0.2, 0.23, 0.07``.
    """
    if total <= 0:
        raise ValueError(f"a schedule needs at least one step, not {total}")
    top = int(peak * total)
    if step <= top:
        return start + (1.0 - start) * step / top if top > 0 else 1.0
    return 1.0 + (end - 1.0) * min(step - top, total - top) / (total - top)


def torch_schedule(scheduler_class, epochs: int, lr0: float = 1.0, **options) -> list[float]:
    """The learning rates a ``torch.optim.lr_scheduler`` class gives over ``epochs`` epochs."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr0)
    scheduler = scheduler_class(optimizer, **options)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def family(x0, sgd: float, momentum: float, adagrad: float, rmsprop: float, adam: float, beta: float = 0.9) -> dict:
    """One instance of every method from ``x0``, each with its own learning rate (momentum ``beta``)."""
    return {
        "SGD": SGD(x0, sgd),
        "Momentum": Momentum(x0, momentum, beta),
        "Nesterov": Nesterov(x0, momentum, beta),
        "Adagrad": Adagrad(x0, adagrad),
        "RMSProp": RMSProp(x0, rmsprop),
        "Adam": Adam(x0, adam),
    }


def nesterov_lookahead(gradient: Callable[[torch.Tensor], torch.Tensor], x0, lr: float, momentum: float, steps: int):
    """Nesterov's method in its look-ahead form (Sutskever et al. 2013).

    ``v ← m v − γ ∇f(x + m v)``, ``x ← x + v`` from ``v = 0``. Returns the paths of
    ``x`` and ``v``, each ``(steps + 1, *shape)``. The points ``x + m v`` where the
    gradients are taken are exactly the iterates of :class:`Nesterov` (PyTorch's
    ``SGD(nesterov=True)``), whose velocity is ``−v``.
    """
    x = torch.as_tensor(x0, dtype=torch.float64).clone()
    v = torch.zeros_like(x)
    xs, vs = [x.clone()], [v.clone()]
    for _ in range(steps):
        v = momentum * v - lr * torch.as_tensor(gradient(x + momentum * v), dtype=x.dtype)
        x = x + v
        xs.append(x.clone())
        vs.append(v.clone())
    return torch.stack(xs), torch.stack(vs)
