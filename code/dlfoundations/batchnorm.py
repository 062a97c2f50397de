"""Batch Normalization (Ioffe & Szegedy, 2015), forward and backward written by hand.

Training mode (Algorithm 1), per feature (per channel for ``(N, C, H, W)``),
over the ``m`` values of the mini-batch:

    μ = mean(x),  σ² = mean((x − μ)²),  x̂ = (x − μ) / √(σ² + ε),  y = γ x̂ + β

and the running statistics move towards the batch ones,
``running ← (1 − momentum)·running + momentum·batch``, with the *unbiased*
variance ``σ²·m/(m−1)`` (as PyTorch does). Evaluation mode (Algorithm 2)
normalizes with the running statistics instead.

The backward pass of the training-mode forward, with ``g = ∂L/∂y``::

    ∂L/∂β = Σ g,   ∂L/∂γ = Σ g·x̂,
    ∂L/∂x = γ / (m √(σ² + ε)) · (m·g − Σ g − x̂ · Σ g·x̂)

(sums over the batch, and over H and W for images).
"""

from __future__ import annotations

import torch


def _axes(x: torch.Tensor) -> tuple[int, ...]:
    if x.ndim == 2:
        return (0,)
    if x.ndim == 4:
        return (0, 2, 3)
    raise ValueError(f"batch normalization takes (N, D) or (N, C, H, W) inputs, got shape {tuple(x.shape)}")


def _shape(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return v.view(1, -1) if x.ndim == 2 else v.view(1, -1, 1, 1)


def forward(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    running_mean: torch.Tensor | None = None,
    running_var: torch.Tensor | None = None,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Returns ``(y, cache)``; in training mode also updates the running statistics in place."""
    axes = _axes(x)
    if training:
        m = x.numel() // x.shape[1]
        if m < 2:
            raise ValueError("batch normalization in training mode needs more than one value per feature")
        mean = x.mean(dim=axes)
        var = x.var(dim=axes, unbiased=False)
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var * m / (m - 1))
    else:
        if running_mean is None:
            raise ValueError("evaluation mode needs the running statistics")
        mean, var = running_mean, running_var
    inv_std = 1.0 / torch.sqrt(var + eps)
    x_hat = (x - _shape(x, mean)) * _shape(x, inv_std)
    y = _shape(x, gamma) * x_hat + _shape(x, beta)
    return y, (x_hat, inv_std, gamma, axes)


def backward(grad_y: torch.Tensor, cache):
    """``(∂L/∂x, ∂L/∂γ, ∂L/∂β)`` for the training-mode forward that produced ``cache``."""
    x_hat, inv_std, gamma, axes = cache
    m = grad_y.numel() // grad_y.shape[1]
    grad_beta = grad_y.sum(dim=axes)
    grad_gamma = (grad_y * x_hat).sum(dim=axes)
    grad_x = _shape(grad_y, gamma * inv_std / m) * (
        m * grad_y - _shape(grad_y, grad_beta) - x_hat * _shape(grad_y, grad_gamma)
    )
    return grad_x, grad_gamma, grad_beta


class _Function(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, gamma, beta, running_mean, running_var, training, momentum, eps):
        y, cache = forward(x, gamma, beta, running_mean, running_var, training, momentum, eps)
        ctx.cache, ctx.training = cache, training
        return y

    @staticmethod
    def backward(ctx, grad_y):
        if not ctx.training:  # evaluation mode is an affine map with fixed statistics
            x_hat, inv_std, gamma, axes = ctx.cache
            return (
                grad_y * _shape(grad_y, gamma * inv_std),
                (grad_y * x_hat).sum(dim=axes),
                grad_y.sum(dim=axes),
                None,
                None,
                None,
                None,
                None,
            )
        grad_x, grad_gamma, grad_beta = backward(grad_y, ctx.cache)
        return grad_x, grad_gamma, grad_beta, None, None, None, None, None


class BatchNorm(torch.nn.Module):
    """A drop-in for ``nn.BatchNorm1d``/``nn.BatchNorm2d`` that runs the hand-written passes above."""

    def __init__(self, features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.gamma = torch.nn.Parameter(torch.ones(features))
        self.beta = torch.nn.Parameter(torch.zeros(features))
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))
        self.momentum, self.eps = momentum, eps

    def forward(self, x):
        return _Function.apply(
            x, self.gamma, self.beta, self.running_mean, self.running_var, self.training, self.momentum, self.eps
        )


def training_losses(
    model: torch.nn.Module, batches, lr: float, momentum: float = 0.9, dtype: torch.dtype = torch.float64
) -> list[float]:
    """Train ``model``, converted to ``dtype``, with SGD on the ``(x, y)`` batches; every step's loss.

    Two models that start from the same weights and see the same batches should produce the same
    losses; in float64 what is left of a difference between two implementations is rounding. Float64 runs on
    the CPU (the model and the batches are moved there; Apple's MPS has no float64), other types where the model is.
    """
    device = torch.device("cpu") if dtype == torch.float64 else next(model.parameters()).device
    model = model.to(device=device, dtype=dtype).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses = []
    for x, y in batches:
        loss = torch.nn.functional.cross_entropy(model(x.to(device).to(dtype)), y.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
