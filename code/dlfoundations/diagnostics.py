"""Per-layer statistics of activations, gradients and updates, recorded with hooks.

Usage::

    recorder = ActivationRecorder(model)      # forward hooks on every activation module
    loss = F.cross_entropy(model(x), y); loss.backward()
    recorder.stats()                          # mean, std, saturation, dead units per layer
    gradient_stats(model_layers)              # gradient norm, std and grad:data ratio per layer
    tracker = UpdateTracker(layers)           # update:data ratio over optimizer steps

The initialization and Batch Normalization chapters reuse these.
"""

from __future__ import annotations

import torch

ACTIVATION_TYPES = (torch.nn.Sigmoid, torch.nn.Tanh, torch.nn.ReLU)


def saturation(a: torch.Tensor, kind: str, threshold: float = 0.97) -> float:
    """Fraction of saturated outputs: ``|tanh| > 0.97``; sigmoid below 0.03 or above 0.97."""
    if kind == "Tanh":
        return (a.abs() > threshold).float().mean().item()
    if kind == "Sigmoid":
        return ((a < 1 - threshold) | (a > threshold)).float().mean().item()
    return 0.0


def dead_fraction(a: torch.Tensor) -> float:
    """Fraction of units that output zero for *every* example of the batch (rows are examples)."""
    flat = a.reshape(a.shape[0], -1)
    return (flat == 0).all(dim=0).float().mean().item()


class ActivationRecorder:
    """Keeps the output of every activation module of ``model`` from the latest forward pass."""

    def __init__(self, model: torch.nn.Module, types=ACTIVATION_TYPES):
        self.modules = [m for m in model.modules() if isinstance(m, types)]
        if not self.modules:
            raise ValueError("the model has no activation modules to record (sigmoid, tanh or ReLU)")
        self.outputs: list[torch.Tensor | None] = [None] * len(self.modules)
        self.handles = [m.register_forward_hook(self._hook(i)) for i, m in enumerate(self.modules)]

    def _hook(self, i):
        def record(module, inputs, output):
            self.outputs[i] = output.detach()

        return record

    def stats(self) -> list[dict]:
        """Per layer: mean, std, saturated fraction, dead-unit fraction (ReLU)."""
        if any(o is None for o in self.outputs):
            raise RuntimeError("run a forward pass through the model before asking for statistics")
        rows = []
        for i, (module, a) in enumerate(zip(self.modules, self.outputs, strict=True)):
            kind = type(module).__name__
            rows.append(
                {
                    "layer": i + 1,
                    "kind": kind,
                    "mean": a.mean().item(),
                    "std": a.std().item(),
                    "saturated": saturation(a, kind),
                    "dead": dead_fraction(a) if kind == "ReLU" else 0.0,
                }
            )
        return rows

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def gradient_stats(layers) -> list[dict]:
    """Per layer (after ``backward``): weight-gradient norm, mean, std and the grad:data ratio."""
    rows = []
    for i, layer in enumerate(layers):
        w, g = layer.weight, layer.weight.grad
        if g is None:
            raise RuntimeError(f"layer {i + 1} has no gradient: call loss.backward() first")
        rows.append(
            {
                "layer": i + 1,
                "norm": g.norm().item(),
                "mean": g.mean().item(),
                "std": g.std().item(),
                "grad_data": (g.std() / w.std()).item(),
            }
        )
    return rows


def weight_gradient_norms(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, layers=None) -> list[float]:
    """Cross-entropy on one batch, backward, and the gradient norm of every layer's weights."""
    layers = layers if layers is not None else model.layers
    model.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    return [row["norm"] for row in gradient_stats(layers)]


class UpdateTracker:
    """Records ``std(Δw) / std(w)`` per layer at every optimizer step (healthy: around 1e-3).

    Call :meth:`before` just before ``optimizer.step()`` and :meth:`after` just after.
    """

    def __init__(self, layers):
        self.layers = list(layers)
        self.history: list[list[float]] = []
        self._previous = None

    def before(self) -> None:
        self._previous = [layer.weight.detach().clone() for layer in self.layers]

    def after(self) -> None:
        if self._previous is None:
            raise RuntimeError("call before() ahead of the optimizer step")
        ratios = [
            ((layer.weight.detach() - old).std() / old.std()).item()
            for layer, old in zip(self.layers, self._previous, strict=True)
        ]
        self.history.append(ratios)
        self._previous = None


def spectral_norm_product(layers) -> float:
    """``∏ ‖W‖₂`` over the layers: an upper bound on how much the network can amplify a signal."""
    return float(torch.stack([torch.linalg.matrix_norm(layer.weight.detach(), ord=2) for layer in layers]).prod())
