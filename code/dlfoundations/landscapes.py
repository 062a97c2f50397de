"""Test functions with analytic gradients and Hessians, for the optimization chapters.

Each :class:`Surface` takes a float64 tensor ``x`` of shape ``(d,)``. The
gradients and Hessians are written out by hand (they are what the chapters
derive); ``tests/test_landscapes.py`` checks every one against autograd.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True)
class Surface:
    """A function of ``d`` variables with its gradient, Hessian and a window to draw it in."""

    name: str
    formula: str  # LaTeX
    value: Callable[[Tensor], Tensor]
    gradient: Callable[[Tensor], Tensor]
    second_derivatives: Callable[[Tensor], Tensor]
    window: tuple[tuple[float, float], ...]  # (low, high) per coordinate, for plots
    minimum: tuple[float, ...] | None = None  # where the global minimum is, if there is one

    def f(self, x) -> Tensor:
        """The value; ``x`` may also be a stack of grids ``(d, ...)`` for plotting."""
        return self.value(as_point(x))

    def grad(self, x) -> Tensor:
        """The gradient, shape ``(d,)``."""
        return self.gradient(as_point(x))

    def hessian(self, x) -> Tensor:
        """The Hessian, shape ``(d, d)``."""
        return self.second_derivatives(as_point(x))

    def __call__(self, x) -> Tensor:
        return self.f(x)

    @property
    def dim(self) -> int:
        return len(self.window)


def as_point(x) -> Tensor:
    """A float64 tensor from a number, list or tensor (a number becomes shape ``(1,)``)."""
    x = torch.as_tensor(x, dtype=torch.float64)
    return x.reshape(1) if x.ndim == 0 else x


def _stack(*parts) -> Tensor:
    return torch.stack([torch.as_tensor(p, dtype=torch.float64) for p in parts])


# --------------------------------------------------------------------------- one variable

PARABOLA = Surface(
    name="parabola",
    formula=r"x^2 - 10x + 1",
    value=lambda x: x[0] ** 2 - 10 * x[0] + 1,
    gradient=lambda x: _stack(2 * x[0] - 10),
    second_derivatives=lambda x: torch.full((1, 1), 2.0, dtype=torch.float64),
    window=((-5.0, 15.0),),
    minimum=(5.0,),
)

QUARTIC = Surface(
    name="quartic",
    formula=r"x^4 - 50x^3 - x + 1",
    value=lambda x: x[0] ** 4 - 50 * x[0] ** 3 - x[0] + 1,
    gradient=lambda x: _stack(4 * x[0] ** 3 - 150 * x[0] ** 2 - 1),
    second_derivatives=lambda x: (12 * x[0] ** 2 - 300 * x[0]).reshape(1, 1),
    window=((-10.0, 50.0),),
    minimum=(37.50017776,),
)

# --------------------------------------------------------------------------- two variables

SHIFTED_BOWL = Surface(
    name="shifted bowl",
    formula=r"(x_1 - 5)^2 + x_2^2",
    value=lambda x: (x[0] - 5) ** 2 + x[1] ** 2,
    gradient=lambda x: _stack(2 * x[0] - 10, 2 * x[1]),
    second_derivatives=lambda x: 2 * torch.eye(2, dtype=torch.float64),
    window=((-10.0, 12.0), (-7.0, 7.0)),
    minimum=(5.0, 0.0),
)

ELONGATED_BOWL = Surface(
    name="elongated bowl",
    formula=r"0.1 x_1^2 + x_2^2",
    value=lambda x: 0.1 * x[0] ** 2 + x[1] ** 2,
    gradient=lambda x: _stack(0.2 * x[0], 2 * x[1]),
    second_derivatives=lambda x: torch.diag(torch.tensor([0.2, 2.0], dtype=torch.float64)),
    window=((-9.0, 9.0), (-6.0, 6.0)),
    minimum=(0.0, 0.0),
)

SADDLE = Surface(
    name="saddle",
    formula=r"x_2^2 - x_1^2",
    value=lambda x: x[1] ** 2 - x[0] ** 2,
    gradient=lambda x: _stack(-2 * x[0], 2 * x[1]),
    second_derivatives=lambda x: torch.diag(torch.tensor([-2.0, 2.0], dtype=torch.float64)),
    window=((-3.0, 3.0), (-2.0, 6.0)),
)

ROSENBROCK = Surface(
    name="Rosenbrock valley",
    formula=r"(1 - x_1)^2 + 100\,(x_2 - x_1^2)^2",
    value=lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2,
    gradient=lambda x: _stack(
        -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
        200 * (x[1] - x[0] ** 2),
    ),
    second_derivatives=lambda x: _stack(
        _stack(2 - 400 * (x[1] - 3 * x[0] ** 2), -400 * x[0]),
        _stack(-400 * x[0], 200.0),
    ),
    window=((-2.0, 2.0), (-1.0, 3.0)),
    minimum=(1.0, 1.0),
)

CUBIC_SADDLES = Surface(
    name="three saddles",
    formula=r"x_1^2 + x_1 - 4x_1x_2 + x_1^3 x_2",
    value=lambda x: x[0] ** 2 + x[0] - 4 * x[0] * x[1] + x[0] ** 3 * x[1],
    gradient=lambda x: _stack(2 * x[0] + 1 - 4 * x[1] + 3 * x[0] ** 2 * x[1], x[0] ** 3 - 4 * x[0]),
    second_derivatives=lambda x: _stack(
        _stack(2 + 6 * x[0] * x[1], 3 * x[0] ** 2 - 4),
        _stack(3 * x[0] ** 2 - 4, 0.0),
    ),
    window=((-3.0, 3.0), (-2.0, 2.0)),
)

SURFACES = {s.name: s for s in (PARABOLA, QUARTIC, SHIFTED_BOWL, ELONGATED_BOWL, SADDLE, ROSENBROCK, CUBIC_SADDLES)}


# --------------------------------------------------------------------------- analysis


def classify(surface: Surface, x) -> str:
    """'minimum', 'maximum', 'saddle' or 'degenerate' from the Hessian's eigenvalues at ``x``."""
    eigenvalues = torch.linalg.eigvalsh(surface.hessian(as_point(x)))
    if (eigenvalues.abs() < 1e-12).any():
        return "degenerate"
    if (eigenvalues > 0).all():
        return "minimum"
    if (eigenvalues < 0).all():
        return "maximum"
    return "saddle"


def newton(surface: Surface, x0, steps: int, tol: float | None = None) -> Tensor:
    """Newton's method ``x ← x − H⁻¹∇f``; returns the path ``(steps + 1, d)``, starting with ``x0``.

    With ``tol``, it stops right after the first step shorter than ``tol`` (Euclidean length, in the
    units of ``x``), so only the path's last step can be shorter than ``tol``; if none is, the path
    has all ``steps + 1`` points. Raises ``ValueError`` where the Hessian is singular (an inflection
    point, for instance), since the step is undefined there.
    """
    if tol is not None and not tol > 0:
        raise ValueError(f"tol must be a positive step length (or None to take every step), not {tol}")
    x = as_point(x0)
    path = [x]
    for _ in range(steps):
        try:
            step = torch.linalg.solve(surface.hessian(x), surface.grad(x))
        except torch.linalg.LinAlgError as error:
            raise ValueError(
                f"Newton's step is undefined at x = {x.tolist()}: the Hessian of the {surface.name} is singular "
                f"there (after {len(path) - 1} steps). Start from another point."
            ) from error
        x = x - step
        path.append(x)
        if tol is not None and torch.linalg.vector_norm(step) < tol:
            break
    return torch.stack(path)
