"""A multilayer perceptron in NumPy with a hand-written backward pass, and gradient checking.

Notation (Chen's notes, batched over rows): layer ``l`` computes
``z^l = a^{l-1} W^lᵀ + b^l`` and ``a^l = h(z^l)``; ``W^l`` has shape
``(n_l, n_{l-1})`` like ``torch.nn.Linear``. Backpropagation runs the recursion

    δ^L = ∂L/∂z^L,   δ^l = (δ^{l+1} W^{l+1}) ⊙ h'(z^l),
    ∇W^l = δ^lᵀ a^{l-1} / N,   ∇b^l = mean of δ^l over the batch,

where the output δ^L is ``(a^L − y) ⊙ f'(z^L)`` for the squared error
``½‖y − a‖²`` (note the sign) and ``a^L − y`` for softmax with cross-entropy.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATIONS = {
    # name: (h, h') with h' written in terms of z
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(z.dtype)),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
}
LOSSES = ("mse", "cross_entropy")


def softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)  # the same probabilities, no overflow
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


@dataclasses.dataclass
class MLP:
    """Weights ``W[l]`` ``(n_l, n_{l-1})`` and biases ``b[l]`` of a fully connected network.

    ``hidden`` is the activation of every hidden layer; the output layer uses
    ``output`` (``identity`` or ``sigmoid`` with the squared error, always
    softmax with the cross-entropy).
    """

    W: list[np.ndarray]
    b: list[np.ndarray]
    hidden: str = "relu"
    output: str = "identity"
    loss: str = "cross_entropy"

    @classmethod
    def create(cls, sizes, hidden="relu", output="identity", loss="cross_entropy", seed=0, bias=True, scale=None):
        """Random weights ``N(0, scale²)`` with ``scale = √(2/n_in)`` for ReLU, ``√(1/n_in)`` otherwise."""
        if hidden not in ACTIVATIONS or output not in ACTIVATIONS:
            raise ValueError(f"activations must be among {sorted(ACTIVATIONS)}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
        rng = np.random.default_rng(seed)
        W, b = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            std = scale if scale is not None else math.sqrt((2.0 if hidden == "relu" else 1.0) / n_in)
            W.append(rng.normal(0.0, std, size=(n_out, n_in)))
            b.append(rng.normal(0.0, 0.1, size=n_out) if bias else np.zeros(n_out))
        return cls(W, b, hidden, output, loss)

    @property
    def params(self) -> list[np.ndarray]:
        return [p for pair in zip(self.W, self.b, strict=True) for p in pair]

    def forward(self, x):
        """Returns the cache ``(zs, activations)``; ``activations[0]`` is ``x``."""
        if x.ndim != 2 or x.shape[1] != self.W[0].shape[1]:
            raise ValueError(f"expected inputs (N, {self.W[0].shape[1]}), got {x.shape}")
        zs, activations = [], [x]
        for layer, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            z = activations[-1] @ W.T + b
            last = layer == len(self.W) - 1
            if last and self.loss == "cross_entropy":
                a = softmax(z)
            else:
                a = ACTIVATIONS[self.output if last else self.hidden][0](z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def predict(self, x):
        return self.forward(x)[1][-1]

    def loss_value(self, x, y) -> float:
        """Mean loss; ``y`` holds class indices (cross-entropy) or targets ``(N, n_out)`` (squared error)."""
        a = self.predict(x)
        if self.loss == "cross_entropy":
            return float(-np.mean(np.log(a[np.arange(len(y)), y] + 1e-300)))
        return float(0.5 * np.mean(np.sum((y - a) ** 2, axis=1)))

    def output_delta(self, z, a, y):
        """∂L/∂z of the last layer, per example."""
        if self.loss == "cross_entropy":
            onehot = np.zeros_like(a)
            onehot[np.arange(len(y)), y] = 1.0
            return a - onehot
        return (a - y) * ACTIVATIONS[self.output][1](z)  # −(y − a) ⊙ f'(z)

    def backward(self, x, y):
        """Gradients of the mean loss, in the order of :attr:`params`."""
        zs, activations = self.forward(x)
        n = len(x)
        delta = self.output_delta(zs[-1], activations[-1], y)
        grads_W, grads_b = [None] * len(self.W), [None] * len(self.W)
        for layer in reversed(range(len(self.W))):
            grads_W[layer] = delta.T @ activations[layer] / n
            grads_b[layer] = delta.mean(axis=0)
            if layer > 0:
                delta = (delta @ self.W[layer]) * ACTIVATIONS[self.hidden][1](zs[layer - 1])
        return [g for pair in zip(grads_W, grads_b, strict=True) for g in pair]

    def sgd_step(self, x, y, lr: float) -> None:
        for p, g in zip(self.params, self.backward(x, y), strict=True):
            p -= lr * g


def relative_error(x, y) -> float:
    """CS231n's relative error ``max |x − y| / max(1e-8, |x| + |y|)``, elementwise."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f, p: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Centred differences of ``f()`` with respect to every entry of ``p`` (changed and restored in place).

    Uses the fourth-order centred stencil
    ``(−f(p+2h) + 8f(p+h) − 8f(p−h) + f(p−2h)) / 12h``, whose truncation error
    is ``O(h⁴)`` instead of the ``O(h²)`` of ``(f(p+h) − f(p−h)) / 2h``; with
    ``h = 1e-3`` both truncation and float64 rounding stay near 1e-13.
    """
    grad = np.zeros_like(p)
    for index in np.ndindex(p.shape):
        old = p[index]
        values = []
        for step in (2 * h, h, -h, -2 * h):
            p[index] = old + step
            values.append(f())
        p[index] = old
        grad[index] = (8 * (values[1] - values[2]) - (values[0] - values[3])) / (12 * h)
    return grad


def kink_crossings(mlp: MLP, x, h: float = 1e-3) -> int:
    """How many of the perturbations :func:`numerical_gradient` makes switch some hidden unit on or off.

    Every parameter entry is moved by ``±h`` and ``±2h`` in turn (the stencil's four points), and the
    on/off pattern ``z > 0`` of every hidden unit on every example is compared with the unperturbed
    one. For a ReLU network ``0`` means that at every point the stencil evaluates, in every layer, the same
    units are on as at the unperturbed weights.
    """

    def pattern():
        return [z > 0 for z in mlp.forward(x)[0][:-1]]

    reference = pattern()
    crossings = 0
    for p in mlp.params:
        for index in np.ndindex(p.shape):
            old = p[index]
            for step in (2 * h, h, -h, -2 * h):
                p[index] = old + step
                crossings += any((now != then).any() for now, then in zip(pattern(), reference, strict=True))
            p[index] = old
    return crossings


def gradient_check(mlp: MLP, x, y, h: float = 1e-3) -> list[float]:
    """Relative error between :meth:`MLP.backward` and centred differences, per parameter."""
    analytic = mlp.backward(x, y)
    return [
        relative_error(g, numerical_gradient(lambda: mlp.loss_value(x, y), p, h))
        for p, g in zip(mlp.params, analytic, strict=True)
    ]


def torch_gradients(mlp: MLP, x, y) -> list[np.ndarray]:
    """The same gradients computed by ``torch.autograd`` on a copy of the weights."""
    import torch
    import torch.nn.functional as F

    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in mlp.params]
    a = torch.tensor(x, dtype=torch.float64)
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda t: t}
    layers = len(mlp.W)
    for layer in range(layers):
        z = a @ params[2 * layer].T + params[2 * layer + 1]
        a = z if layer == layers - 1 else act[mlp.hidden](z)
    if mlp.loss == "cross_entropy":
        loss = F.cross_entropy(a, torch.as_tensor(y))
    else:
        out = act[mlp.output](a)
        loss = 0.5 * ((torch.as_tensor(y, dtype=torch.float64) - out) ** 2).sum(dim=1).mean()
    loss.backward()
    return [p.grad.numpy() for p in params]


def spiral(points_per_class: int = 100, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """A 2-D data set of interleaved spirals (not linearly separable): ``x (N, 2)``, ``y (N,)``."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1.0, points_per_class)
        theta = np.linspace(c * 2 * np.pi / classes, c * 2 * np.pi / classes + 4.0, points_per_class)
        theta = theta + rng.normal(0.0, noise, points_per_class)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(points_per_class, c))
    return np.concatenate(xs), np.concatenate(ys)


def graph_lines(tensor, depth: int = 12) -> list[str]:
    """The operations autograd recorded behind ``tensor``, one line per node, indented by depth."""
    lines, seen = [], set()

    def visit(fn, level):
        if fn is None or level > depth or id(fn) in seen:
            return
        seen.add(id(fn))
        name = type(fn).__name__
        if name == "AccumulateGrad":
            name += f" -> leaf of shape {tuple(fn.variable.shape)}"
        lines.append("  " * level + name)
        for child, _ in fn.next_functions:
            visit(child, level + 1)

    visit(tensor.grad_fn, 0)
    return lines


def forward_backward_times(model, x, y, repeats: int = 7, threads: int | None = 1) -> tuple[float, float]:
    """Seconds for a forward pass (with the loss) and for forward + backward, after one warm-up of each.

    The two are timed in turn, ``repeats`` times each, and each is the fastest of its calls: the least
    disturbed by other work on the machine, and any slow spell of the machine falls on both alike. On the
    CPU they run on ``threads`` threads (None: as set): with several, one thread that other work on the
    machine delays holds up the rest, and the ratio of the two times wanders far more.
    """
    import time

    import torch
    import torch.nn.functional as F

    def sync():  # config.synchronize's two lines: an idea module does not import the machinery
        if x.device.type == "cuda":
            torch.cuda.synchronize(x.device)

    def forward():
        with torch.no_grad():
            F.cross_entropy(model(x), y)

    def both():
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()

    def seconds(function):
        sync()
        start = time.perf_counter()
        function()
        sync()
        return time.perf_counter() - start

    before = torch.get_num_threads()
    if threads is not None and x.device.type == "cpu":
        torch.set_num_threads(threads)
    try:
        forward(), both()
        times = [(seconds(forward), seconds(both)) for _ in range(repeats)]
    finally:
        torch.set_num_threads(before)
    return min(t[0] for t in times), min(t[1] for t in times)
