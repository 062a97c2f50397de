"""Weight initialization: the variance rules, written out, and compared with ``torch.nn.init``.

For a layer ``y = W x`` with ``n_in`` inputs and ``n_out`` outputs:

==============  =======================  ===============================
scheme          Var(w)                   uniform bound b (Var = b²/3)
==============  =======================  ===============================
Xavier/Glorot   2 / (n_in + n_out)       √6 / √(n_in + n_out)
He/Kaiming      2 / n_in  (fan_in mode)  √(6 / n_in)
"default"       1 / (3 n_in)             1 / √n_in
==============  =======================  ===============================

The in-place initializers draw with the same calls as ``torch.nn.init`` (one
``uniform_`` or ``normal_`` per tensor), so with the same seed they produce
bit-identical tensors, which the chapter and the tests check.
"""

from __future__ import annotations

import math

import torch


def fans(w: torch.Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight in PyTorch's layout ``(out, in, *kernel)``."""
    if w.ndim < 2:
        raise ValueError(f"fans need a weight with at least 2 dimensions, got shape {tuple(w.shape)}")
    receptive = math.prod(w.shape[2:])
    return w.shape[1] * receptive, w.shape[0] * receptive


def xavier_variance(n_in: int, n_out: int) -> float:
    """Glorot & Bengio's compromise between 1/n_in (forward) and 1/n_out (backward)."""
    return 2.0 / (n_in + n_out)


def he_variance(n: int) -> float:
    """He et al.: 2/n keeps E[a²] constant through ReLU layers."""
    return 2.0 / n


def uniform_bound(variance: float) -> float:
    """The ``b`` with ``Var(U(−b, b)) = b²/3 = variance``."""
    return math.sqrt(3.0 * variance)


def xavier_uniform_(w: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Fill ``w`` in place from ``U(−b, b)``, ``b = gain·√(6 / (n_in + n_out))``; returns ``w``."""
    n_in, n_out = fans(w)
    bound = gain * uniform_bound(xavier_variance(n_in, n_out))
    with torch.no_grad():
        return w.uniform_(-bound, bound)


def xavier_normal_(w: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Fill ``w`` in place from ``N(0, gain²·2 / (n_in + n_out))``; returns ``w``."""
    n_in, n_out = fans(w)
    with torch.no_grad():
        return w.normal_(0.0, gain * math.sqrt(xavier_variance(n_in, n_out)))


def _he_fan(w, mode):
    n_in, n_out = fans(w)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', not {mode!r}")
    return n_in if mode == "fan_in" else n_out


def he_normal_(w: torch.Tensor, mode: str = "fan_in") -> torch.Tensor:
    """Fill ``w`` in place from ``N(0, 2 / fan)``, ``fan`` = ``n_in`` (``fan_in``) or ``n_out``; returns ``w``."""
    with torch.no_grad():
        return w.normal_(0.0, math.sqrt(he_variance(_he_fan(w, mode))))


def he_uniform_(w: torch.Tensor, mode: str = "fan_in") -> torch.Tensor:
    """Fill ``w`` in place from ``U(−b, b)``, ``b = √(6 / fan)`` (variance ``2 / fan``); returns ``w``."""
    bound = uniform_bound(he_variance(_he_fan(w, mode)))
    with torch.no_grad():
        return w.uniform_(-bound, bound)


SCHEMES = ("zeros", "normal 0.01", "normal 1", "xavier", "he")


def initialize(model: torch.nn.Module, scheme: str) -> torch.nn.Module:
    """Re-initialize every ``Linear`` and ``Conv`` weight of ``model`` with ``scheme``; biases to zero.

    ``scheme`` is ``zeros``, ``normal <std>`` (for example ``normal 0.01``),
    ``xavier`` (normal) or ``he`` (normal, fan_in).
    """
    parts = scheme.split()
    valid_normal = len(parts) == 2 and parts[0] == "normal" and parts[1].replace(".", "", 1).isdigit()
    if scheme not in ("zeros", "xavier", "he") and not valid_normal:
        raise ValueError(f"scheme must be 'zeros', 'normal <std>', 'xavier' or 'he', not {scheme!r}")
    for module in model.modules():
        if isinstance(module, torch.nn.Linear | torch.nn.Conv2d):
            w = module.weight
            with torch.no_grad():
                if scheme == "zeros":
                    w.zero_()
                elif scheme.startswith("normal"):
                    w.normal_(0.0, float(scheme.split()[1]))
                elif scheme == "xavier":
                    xavier_normal_(w)
                else:
                    he_normal_(w)
                if module.bias is not None:
                    module.bias.zero_()
    return model


def forward_statistics(widths, std: float, activation=torch.tanh, examples: int = 1000, seed: int = 0):
    """The slides' experiment: ``N(0, 1)`` inputs through fully connected layers with ``N(0, std²)``
    weights and no biases. Returns the input and every layer's activations (a list of tensors)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(examples, widths[0], generator=generator)
    outputs = [x]
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        W = torch.randn(n_in, n_out, generator=generator) * std
        outputs.append(activation(outputs[-1] @ W))
    return outputs


def linear_network_variances(
    widths: list[int], variances: list[float], examples: int = 2000, draws: int = 4, seed: int = 0
) -> dict[str, list[float]]:
    """Monte-Carlo variances of the signals and gradients of a deep *linear* network (Glorot & Bengio).

    Layer ``l = 1 … L`` computes ``s^l = W^l s^(l-1)`` with ``s^0 = x ~ N(0, I)`` of width ``widths[0]``
    and ``W^l`` of shape ``(widths[l], widths[l-1])`` drawn from ``N(0, variances[l-1])``, no biases
    (float64). The loss of one example is ``Σ_j u_j s^L_j`` with ``u ~ N(0, 1)`` drawn for each example,
    so the output gradient ``∂L/∂s^L = u`` has mean zero and unit variance and is independent of the
    activations. Autograd gives the backpropagated gradients ``∂L/∂s^l``; one example's gradient for
    ``W^l`` is the outer product ``(∂L/∂s^l)(s^(l-1))ᵀ``.

    Returns three lists over the layers ``l = 1 … L``, each a variance pooled over examples, units and
    ``draws`` independent networks (dimensionless: input and output gradient have unit variance):
    ``activations`` ``Var(s^l)``, ``backprop`` ``Var(∂L/∂s^l)`` and ``weight_gradients``, the variance of
    the entries of one example's ``∂L/∂W^l``.
    """
    if len(widths) < 2 or len(variances) != len(widths) - 1:
        raise ValueError(
            f"give at least two widths and one variance per weight matrix (len(widths) - 1 = "
            f"{len(widths) - 1}), not {len(variances)}"
        )
    if min(variances) <= 0 or min(widths) < 1 or examples < 2 or draws < 1:
        raise ValueError("widths, examples (≥ 2), draws and variances must be positive")
    generator = torch.Generator().manual_seed(seed)
    depth = len(variances)
    # pooled first and second moments, per quantity and layer
    sums = {key: torch.zeros(depth, 2, dtype=torch.float64) for key in ("activations", "backprop", "weight_gradients")}
    for _ in range(draws):
        weights = [
            torch.randn(n_out, n_in, generator=generator, dtype=torch.float64) * math.sqrt(v)
            for n_in, n_out, v in zip(widths[:-1], widths[1:], variances, strict=True)
        ]
        s = [torch.randn(examples, widths[0], generator=generator, dtype=torch.float64).requires_grad_()]
        for W in weights:
            s.append(s[-1] @ W.T)
            s[-1].retain_grad()
        u = torch.randn(examples, widths[-1], generator=generator, dtype=torch.float64)
        (s[-1] * u).sum().backward()  # the sum over examples: s^l.grad holds each example's ∂L/∂s^l
        for layer in range(depth):
            a, g, below = s[layer + 1].detach(), s[layer + 1].grad, s[layer].detach()
            # entries g_j s_i of one example's outer product: their mean and mean square, per example
            product_mean = g.mean(1) * below.mean(1)
            product_square = g.pow(2).mean(1) * below.pow(2).mean(1)
            for key, first, second in [
                ("activations", a.mean(), a.pow(2).mean()),
                ("backprop", g.mean(), g.pow(2).mean()),
                ("weight_gradients", product_mean.mean(), product_square.mean()),
            ]:
                sums[key][layer] += torch.stack([first, second]) / draws
    return {key: (m[:, 1] - m[:, 0] ** 2).tolist() for key, m in sums.items()}
