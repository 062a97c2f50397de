"""Layer Normalization and Group Normalization, written out (Ba et al. 2016; Wu & He 2018).

Both standardize each *example* on its own, so, unlike Batch Normalization, the
output for one example does not depend on the rest of the batch and training and
evaluation compute the same thing:

* LayerNorm: over the last ``len(normalized_shape)`` dimensions (all features of an example),
* GroupNorm: an image ``(N, C, H, W)`` has its ``C`` channels split into ``groups``
  groups of ``C/groups`` channels, and each group is standardized over its channels and
  positions; ``groups = 1`` is LayerNorm over ``(C, H, W)``, ``groups = C`` is Instance Norm.

Then a learned per-feature (LayerNorm) or per-channel (GroupNorm) scale ``γ`` and shift
``β``. The variance is the biased one, as in BatchNorm's training mode. The backward
pass is left to autograd; the unit tests compare both passes with ``torch.nn``.

:func:`residual_states` follows the hidden state of a stack of residual blocks, to see how a
normalized (or unnormalized) branch makes it grow with depth.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def _standardize(x: torch.Tensor, dims: tuple[int, ...], eps: float) -> torch.Tensor:
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def layer_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Standardize over the last ``gamma.ndim`` dimensions of ``x``, then ``γ x̂ + β``."""
    dims = tuple(range(x.ndim - gamma.ndim, x.ndim))
    if tuple(x.shape[x.ndim - gamma.ndim :]) != tuple(gamma.shape):
        raise ValueError(f"gamma's shape {tuple(gamma.shape)} must end x's shape {tuple(x.shape)}")
    return gamma * _standardize(x, dims, eps) + beta


def group_norm(
    x: torch.Tensor, groups: int, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Standardize each group of ``C/groups`` channels of ``x`` ``(N, C, *)`` per example."""
    n, c = x.shape[:2]
    if c % groups:
        raise ValueError(f"{c} channels cannot be split into {groups} groups")
    grouped = x.reshape(n, groups, -1)  # channels of one group, and all their positions
    x_hat = _standardize(grouped, (2,), eps).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return gamma.view(shape) * x_hat + beta.view(shape)


class LayerNorm(torch.nn.Module):
    """A drop-in for ``nn.LayerNorm(features)`` over the last dimension(s)."""

    def __init__(self, normalized_shape, eps: float = 1e-5):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.gamma = torch.nn.Parameter(torch.ones(shape))
        self.beta = torch.nn.Parameter(torch.zeros(shape))
        self.eps = eps

    def forward(self, x):
        return layer_norm(x, self.gamma, self.beta, self.eps)


class GroupNorm(torch.nn.Module):
    """A drop-in for ``nn.GroupNorm(groups, channels)``."""

    def __init__(self, groups: int, channels: int, eps: float = 1e-5):
        super().__init__()
        if channels % groups:
            raise ValueError(f"{channels} channels cannot be split into {groups} groups")
        self.groups, self.eps = groups, eps
        self.gamma = torch.nn.Parameter(torch.ones(channels))
        self.beta = torch.nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return group_norm(x, self.groups, self.gamma, self.beta, self.eps)


def residual_states(blocks: Iterable[torch.nn.Module], h: torch.Tensor) -> torch.Tensor:
    """The hidden state of residual blocks ``h ← h + F(h)``, before the first block and after each one.

    Returns a tensor ``(len(blocks) + 1, *h.shape)`` whose entry ``l`` is the state after ``l`` blocks
    (entry 0 is ``h`` itself), in the units of ``h``; computed without gradients, with each block in
    whatever mode (``train``/``eval``) it is in.
    """
    states = [h]
    with torch.no_grad():
        for block in blocks:
            h = h + block(h)
            states.append(h)
    if len(states) == 1:
        raise ValueError("residual_states needs at least one block")
    return torch.stack(states)
