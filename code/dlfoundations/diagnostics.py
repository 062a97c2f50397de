"""Per-layer statistics of activations, gradients and updates, recorded with hooks.

Usage::

    recorder = ActivationRecorder(model)      # forward hooks on every activation module
    loss = F.cross_entropy(model(x), y); loss.backward()
    recorder.stats()                          # mean, std, saturation, dead units per layer
    gradient_stats(model_layers)              # gradient norm, std and grad:data ratio per layer
    tracker = UpdateTracker(layers)           # update:data ratio over optimizer steps
    InputDrift(model, layer, x)               # how one layer's input distribution moves in training
    train_eval_gap(model, x, batch_size)      # BN: training-mode against evaluation-mode outputs

The initialization and Batch Normalization chapters reuse these.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

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


def gradient_predictiveness(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps=(0.05, 0.1, 0.2, 0.4)
) -> dict:
    """How well the gradient at the current weights predicts the loss and gradient along it.

    The measurements of Santurkar et al. (2018), Fig. 4, for one batch: take the gradient
    ``g`` at ``w``, move to ``w − η g`` for each ``η`` in ``steps`` and record the loss there
    and the gradient change ``‖∇L(w − η g) − g‖``. Returns ``loss_range`` (max − min loss
    along the way, ``L(w)`` included), ``gradient_change`` (the largest change divided by
    ``‖g‖``) and ``beta`` (the largest ``‖∇L(w − η g) − g‖ / ‖η g‖``, an effective
    smoothness constant). The model is restored afterwards, buffers (BN's running
    statistics) included; it is evaluated in its current train/eval mode.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    saved_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    loss = F.cross_entropy(model(x), y)
    grads = [g.detach() for g in torch.autograd.grad(loss, params)]
    norm = torch.sqrt(sum((g**2).sum() for g in grads)).item()
    losses, changes, betas = [loss.item()], [], []
    try:
        for eta in steps:
            with torch.no_grad():
                for p, g in zip(params, grads, strict=True):
                    p.sub_(eta * g)
            moved = F.cross_entropy(model(x), y)
            new = torch.autograd.grad(moved, params)
            change = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(new, grads, strict=True))).item()
            losses.append(moved.item())
            changes.append(change / norm)
            betas.append(change / (eta * norm))
            model.load_state_dict(saved_state)
    finally:
        model.load_state_dict(saved_state)
    return {"loss_range": max(losses) - min(losses), "gradient_change": max(changes), "beta": max(betas)}


def running_statistics_drift(model: torch.nn.Module, x: torch.Tensor) -> float:
    """How far the running statistics of every BN layer are from the population's.

    For each module with ``running_mean``/``running_var`` buffers, the inputs it receives
    when ``model`` (in evaluation mode) processes ``x`` give per-channel population means
    and variances. Returns the mean over layers and channels of
    ``|running_mean − mean| / std``, the error of the statistics that evaluation mode
    normalizes with, in units of the feature's standard deviation.
    """
    norms = [m for m in model.modules() if getattr(m, "running_mean", None) is not None]
    inputs: dict[int, torch.Tensor] = {}
    hooks = [
        m.register_forward_hook(lambda m, i, o, k=k: inputs.__setitem__(k, i[0].detach())) for k, m in enumerate(norms)
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    errors = []
    for k, m in enumerate(norms):
        a = inputs[k]
        dims = (0,) if a.ndim == 2 else (0, 2, 3)
        mean, std = a.mean(dim=dims), a.std(dim=dims)
        errors.append(((m.running_mean - mean).abs() / std).mean())
    return torch.stack(errors).mean().item()


class InputDrift:
    """How the distribution of one layer's input moves during training (internal covariate shift).

    Pass it as the ``tracker`` of :func:`dlfoundations.training.train` (or call :meth:`after`
    after every optimizer step). It records at construction and after every ``every``-th step:
    ``model`` processes the fixed batch ``x`` in its current mode, without gradients, and the
    per-unit (per-channel for images) mean and standard deviation of ``layer``'s input are kept.
    Buffers such as BN's running statistics are restored afterwards, so training is unchanged.
    """

    def __init__(self, model: torch.nn.Module, layer: torch.nn.Module, x: torch.Tensor, every: int = 1):
        if every < 1:
            raise ValueError(f"every must be at least 1, not {every}")
        self.model, self.layer, self.x, self.every = model, layer, x, every
        self.steps: list[int] = []
        self.means: list[torch.Tensor] = []
        self.stds: list[torch.Tensor] = []
        self._step = 0
        self.record()

    def before(self) -> None:
        """Nothing to do before a step (the :class:`UpdateTracker` interface)."""

    def after(self) -> None:
        self._step += 1
        if self._step % self.every == 0:
            self.record()

    def record(self) -> None:
        saved = {name: b.detach().clone() for name, b in self.model.named_buffers()}
        captured = []
        handle = self.layer.register_forward_pre_hook(lambda m, inputs: captured.append(inputs[0].detach()))
        try:
            with torch.no_grad():
                self.model(self.x)
        finally:
            handle.remove()
            with torch.no_grad():
                for name, b in self.model.named_buffers():
                    b.copy_(saved[name])
        a = captured[0]
        dims = (0,) if a.ndim == 2 else (0, *range(2, a.ndim))
        self.steps.append(self._step)
        self.means.append(a.mean(dim=dims))
        self.stds.append(a.std(dim=dims))

    def drift(self) -> dict:
        """Per record, relative to the first: ``mean_shift = ‖μ_t − μ_0‖ / ‖s_0‖`` and
        ``std_change = ‖s_t − s_0‖ / ‖s_0‖`` (vectors over the units), with ``step``."""
        scale = self.stds[0].norm()
        return {
            "step": list(self.steps),
            "mean_shift": [((m - self.means[0]).norm() / scale).item() for m in self.means],
            "std_change": [((s - self.stds[0]).norm() / scale).item() for s in self.stds],
        }


def train_eval_gap(model: torch.nn.Module, x: torch.Tensor, batch_size: int) -> float:
    """How far training-mode outputs are from evaluation-mode ones: ``‖f_train − f_eval‖ / ‖f_eval‖``.

    Evaluation mode normalizes with BN's running statistics; training mode with the statistics
    of each batch of ``batch_size`` rows of ``x`` (a trailing incomplete batch is left out). A
    copy runs in training mode, so ``model`` and its running statistics are left unchanged.
    """
    if batch_size < 2:
        raise ValueError(f"training mode needs batches of at least 2, not {batch_size}")
    n = len(x) // batch_size * batch_size
    if n == 0:
        raise ValueError(f"x has {len(x)} rows, fewer than one batch of {batch_size}")
    x = x[:n]
    was_training = model.training
    probe = copy.deepcopy(model).train()
    model.eval()
    try:
        with torch.no_grad():
            reference = model(x)
            trained = torch.cat([probe(part) for part in x.split(batch_size)])
    finally:
        model.train(was_training)
    return ((trained - reference).norm() / reference.norm()).item()


def variance_split(a: torch.Tensor) -> dict[str, float]:
    """The variance of a batch of activations (rows are examples), split into its two parts.

    ``total`` is the variance of all entries together; ``across_examples`` the variance of each unit
    over the examples, averaged over the units (how much the layer's output depends on the input);
    ``across_units`` the variance over the units of each unit's mean (an offset that every example
    shares). Population variances (divided by the count), so ``total = across_examples +
    across_units`` (the law of total variance). Images are flattened: each feature counts as a unit.
    """
    if a.ndim < 2 or a.shape[0] < 2:
        raise ValueError(f"give a batch of at least 2 examples as rows, got shape {tuple(a.shape)}")
    flat = a.detach().reshape(a.shape[0], -1).to("cpu").to(torch.float64)  # float64 on the CPU: MPS has none
    return {
        "total": flat.var(unbiased=False).item(),
        "across_examples": flat.var(0, unbiased=False).mean().item(),
        "across_units": flat.mean(0).var(unbiased=False).item(),
    }
