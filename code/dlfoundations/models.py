"""Networks written as plain functions of a list of weight tensors (the "barebones" API).

Layouts follow CS231n's PyTorch assignment: fully connected weights are stored
``(fan_in, fan_out)`` and applied as ``x @ w``; convolution weights are
``(out_channels, in_channels, kH, kW)`` as ``torch.nn.functional.conv2d``
expects them.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F


def flatten(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` → ``(N, C·H·W)``: keep the batch dimension, merge the rest."""
    return x.reshape(x.shape[0], -1)


def _check_rows(where: str, features: int, weight: torch.Tensor, name: str) -> None:
    if weight.shape[0] != features:
        raise ValueError(
            f"{where}: the input has {features} features per example but {name} has shape "
            f"{tuple(weight.shape)}; {name} needs {features} rows (fan_in, fan_out)."
        )


def two_layer_fc(x: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    """Scores of a two-layer ReLU network without biases: ``relu(flatten(x) @ w1) @ w2``."""
    w1, w2 = params
    x = flatten(x)
    _check_rows("two_layer_fc", x.shape[1], w1, "w1")
    _check_rows("two_layer_fc", w1.shape[1], w2, "w2")
    return F.relu(x @ w1) @ w2


def three_layer_convnet(x: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    """conv 5×5 (pad 2) → ReLU → conv 3×3 (pad 1) → ReLU → fully connected scores."""
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    if x.ndim != 4 or x.shape[1] != conv_w1.shape[1]:
        raise ValueError(
            f"three_layer_convnet: expected images (N, {conv_w1.shape[1]}, H, W) to match conv_w1 "
            f"{tuple(conv_w1.shape)}, got {tuple(x.shape)}"
        )
    h = F.relu(F.conv2d(x, conv_w1, conv_b1, padding=2))
    h = F.relu(F.conv2d(h, conv_w2, conv_b2, padding=1))
    h = flatten(h)
    _check_rows("three_layer_convnet", h.shape[1], fc_w, "fc_w")
    return h @ fc_w + fc_b


def fan_in(shape: tuple[int, ...]) -> int:
    """Inputs feeding one output: rows of an ``(in, out)`` matrix, ``C·kH·kW`` of a filter bank."""
    return shape[0] if len(shape) == 2 else math.prod(shape[1:])


def random_weight(shape, device=None, dtype=torch.float32) -> torch.Tensor:
    """Kaiming-normal weights ``N(0, 2/fan_in)`` that require gradients."""
    shape = tuple(shape)
    w = torch.randn(shape, device=device, dtype=dtype) * math.sqrt(2.0 / fan_in(shape))
    return w.requires_grad_()


def zero_weight(shape, device=None, dtype=torch.float32) -> torch.Tensor:
    """Zeros that require gradients (for biases)."""
    return torch.zeros(tuple(shape), device=device, dtype=dtype, requires_grad=True)


def init_two_layer_fc(hidden: int, input_dim: int = 3 * 32 * 32, num_classes: int = 10, device=None):
    """``[w1, w2]`` for :func:`two_layer_fc`, Kaiming-normal."""
    return [random_weight((input_dim, hidden), device), random_weight((hidden, num_classes), device)]


def init_three_layer_convnet(
    channel_1: int, channel_2: int, in_channels: int = 3, size: int = 32, num_classes: int = 10, device=None
):
    """The six tensors of :func:`three_layer_convnet`: Kaiming-normal weights, zero biases."""
    return [
        random_weight((channel_1, in_channels, 5, 5), device),
        zero_weight((channel_1,), device),
        random_weight((channel_2, channel_1, 3, 3), device),
        zero_weight((channel_2,), device),
        random_weight((channel_2 * size * size, num_classes), device),
        zero_weight((num_classes,), device),
    ]


def count_parameters(params) -> int:
    """Number of scalars in a list of tensors or in an ``nn.Module``."""
    tensors = params.parameters() if isinstance(params, torch.nn.Module) else params
    return sum(p.numel() for p in tensors)


_ACTIVATION_MODULES = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}


class DeepMLP(torch.nn.Module):
    """``depth`` hidden layers of equal ``width``, optionally with identity shortcuts.

    Without shortcuts each hidden layer computes ``h ← act(W h + b)``; with
    ``residual=True`` every hidden layer after the first computes
    ``h ← h + act(W h + b)``. Weights start as ``N(0, gain²/fan_in)`` and
    biases at zero, the same for every activation, so that activations can be
    compared under one initialization.
    """

    def __init__(
        self,
        in_features=3 * 32 * 32,
        width=256,
        depth=10,
        num_classes=10,
        activation="relu",
        residual=False,
        gain=1.0,
        batchnorm=False,
        norm_layer=torch.nn.BatchNorm1d,
    ):
        super().__init__()
        if activation not in _ACTIVATION_MODULES:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATION_MODULES)}, not {activation!r}")
        if depth < 1:
            raise ValueError(f"depth must be at least 1, not {depth}")
        sizes = [in_features] + [width] * depth
        self.linears = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.activations = torch.nn.ModuleList(_ACTIVATION_MODULES[activation]() for _ in range(depth))
        self.head = torch.nn.Linear(width, num_classes)
        self.norms = torch.nn.ModuleList(norm_layer(width) for _ in range(depth)) if batchnorm else None
        self.residual = residual
        with torch.no_grad():
            for layer in [*self.linears, self.head]:
                layer.weight.normal_(0.0, gain / math.sqrt(layer.in_features))
                layer.bias.zero_()

    def forward(self, x):
        h = flatten(x)
        for i, (linear, act) in enumerate(zip(self.linears, self.activations, strict=True)):
            z = linear(h)
            u = act(self.norms[i](z) if self.norms is not None else z)
            h = h + u if self.residual and i > 0 else u
        return self.head(h)

    @property
    def layers(self) -> list[torch.nn.Linear]:
        """Every linear layer from input to output (the weights whose gradients we measure)."""
        return [*self.linears, self.head]


# --------------------------------------------------------------------------- the Module and Sequential APIs


def kaiming_init_(module: torch.nn.Module) -> torch.nn.Module:
    """He-normal weights ``N(0, 2/fan_in)`` for every ``Linear``/``Conv2d``, zero biases; BN to (1, 0).

    PyTorch's own default draws ``U(±1/sqrt(fan_in))``, a variance of ``1/(3 fan_in)``:
    six times smaller than He's ``2/fan_in``.
    """
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear | torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            if layer.bias is not None:
                torch.nn.init.zeros_(layer.bias)
        elif isinstance(layer, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            torch.nn.init.ones_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    return module


class TwoLayerFC(torch.nn.Module):
    """``fc2(relu(fc1(flatten(x))))`` with He-normal weights and zero biases."""

    def __init__(self, input_size: int, hidden_size: int, num_classes: int):
        super().__init__()
        self.fc1 = torch.nn.Linear(input_size, hidden_size)
        self.fc2 = torch.nn.Linear(hidden_size, num_classes)
        kaiming_init_(self)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(flatten(x))))


class ThreeLayerConvNet(torch.nn.Module):
    """conv 5×5 (pad 2) → ReLU → conv 3×3 (pad 1) → ReLU → fc, for ``size``×``size`` images."""

    def __init__(self, in_channel: int, channel_1: int, channel_2: int, num_classes: int, size: int = 32):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(in_channel, channel_1, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(channel_1, channel_2, 3, padding=1)
        self.fc = torch.nn.Linear(channel_2 * size * size, num_classes)
        kaiming_init_(self)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(flatten(h))


SEQUENTIAL_INITS = ("default", "he")


def _initialize(module: torch.nn.Module, init: str) -> torch.nn.Module:
    if init not in SEQUENTIAL_INITS:
        raise ValueError(f"init must be one of {SEQUENTIAL_INITS}, not {init!r}")
    return kaiming_init_(module) if init == "he" else module


def sequential_two_layer_fc(
    hidden_size: int, input_size: int = 3 * 32 * 32, num_classes: int = 10, init: str = "default"
):
    """:class:`TwoLayerFC` as an ``nn.Sequential`` of named layers.

    ``init="default"`` keeps PyTorch's initialization, ``U(±1/sqrt(fan_in))`` for weights and biases, as the
    assignment's Sequential part does; ``init="he"`` gives the Module versions' He-normal weights and zero biases.
    """
    layers = OrderedDict(
        flatten=torch.nn.Flatten(),
        fc1=torch.nn.Linear(input_size, hidden_size),
        relu1=torch.nn.ReLU(),
        fc2=torch.nn.Linear(hidden_size, num_classes),
    )
    return _initialize(torch.nn.Sequential(layers), init)


def sequential_convnet(
    channel_1: int, channel_2: int, in_channel: int = 3, num_classes: int = 10, size: int = 32, init: str = "default"
):
    """:class:`ThreeLayerConvNet` as an ``nn.Sequential`` of named layers (``init`` as in the two-layer one)."""
    layers = OrderedDict(
        conv1=torch.nn.Conv2d(in_channel, channel_1, 5, padding=2),
        relu1=torch.nn.ReLU(),
        conv2=torch.nn.Conv2d(channel_1, channel_2, 3, padding=1),
        relu2=torch.nn.ReLU(),
        flatten=torch.nn.Flatten(),
        fc=torch.nn.Linear(channel_2 * size * size, num_classes),
    )
    return _initialize(torch.nn.Sequential(layers), init)


def conv_bn_net(widths=(64, 128, 256), convs_per_block: int = 2, in_channel: int = 3, num_classes: int = 10):
    """A small VGG-style network: blocks of (conv 3×3 → BatchNorm → ReLU) × ``convs_per_block``
    followed by 2×2 max-pooling, then global max-pooling and a linear layer. He-normal weights.
    """
    layers = OrderedDict()
    channels = in_channel
    for i, width in enumerate(widths, start=1):
        for j in range(1, convs_per_block + 1):
            layers[f"conv{i}_{j}"] = torch.nn.Conv2d(channels, width, 3, padding=1, bias=False)
            layers[f"bn{i}_{j}"] = torch.nn.BatchNorm2d(width)
            layers[f"relu{i}_{j}"] = torch.nn.ReLU(inplace=True)
            channels = width
        layers[f"pool{i}"] = torch.nn.MaxPool2d(2)
    layers["global_pool"] = torch.nn.AdaptiveMaxPool2d(1)
    layers["flatten"] = torch.nn.Flatten()
    layers["fc"] = torch.nn.Linear(channels, num_classes)
    return kaiming_init_(torch.nn.Sequential(layers))


def small_cnn(channels=(16, 32), norm_layer=None, norm_after_relu: bool = False, num_classes: int = 10, size: int = 32):
    """Two blocks of conv 3×3 → [norm] → ReLU → max-pool 2×2, then a linear layer (He-normal weights).

    The small network of the optimizer and Batch Normalization comparisons. ``norm_layer``
    (``torch.nn.BatchNorm2d``, :class:`dlfoundations.batchnorm.BatchNorm`, a GroupNorm factory, ...)
    is called with the number of channels; ``norm_after_relu=True`` puts it after the ReLU instead.

    A convolution has a bias unless a norm layer follows it directly: that layer subtracts the
    per-channel mean, bias included, and its own shift β takes the bias's place (the ReLU's
    threshold). With the norm after the ReLU the convolution keeps its bias, which is then the
    ReLU's only learnable threshold, so both placements can shift where each ReLU cuts off. Biases
    start at zero.

    The weights are stored ``channels_last`` (NHWC): on a CPU, a training step of this network then
    takes 1.3–1.6× less time (``benchmarks/README.md``), with the same results up to rounding; inputs
    need no conversion, since a convolution with NHWC weights returns NHWC activations.
    """
    layers = OrderedDict()
    previous = 3
    conv_bias = norm_layer is None or norm_after_relu
    for i, width in enumerate(channels, start=1):
        layers[f"conv{i}"] = torch.nn.Conv2d(previous, width, 3, padding=1, bias=conv_bias)
        act = torch.nn.ReLU()
        if norm_layer is not None and not norm_after_relu:
            layers[f"norm{i}"] = norm_layer(width)
        layers[f"relu{i}"] = act
        if norm_layer is not None and norm_after_relu:
            layers[f"norm{i}"] = norm_layer(width)
        layers[f"pool{i}"] = torch.nn.MaxPool2d(2)
        previous = width
    layers["flatten"] = torch.nn.Flatten()
    side = size // 2 ** len(channels)
    layers["fc"] = torch.nn.Linear(previous * side * side, num_classes)
    return kaiming_init_(torch.nn.Sequential(layers)).to(memory_format=torch.channels_last)


# --------------------------------------------------------------------------- LeNet-5


_POOL_MODULES = {"max": torch.nn.MaxPool2d, "avg": torch.nn.AvgPool2d}


class LeNet5(torch.nn.Module):
    """LeNet-5 (LeCun et al., 1998) adapted to ``in_channels``×32×32 images such as CIFAR-10's.

    C1: 6 filters 5×5 (32 → 28), S2: 2×2 pooling (→ 14), C3: 16 filters 5×5 (→ 10), S4: 2×2 pooling
    (→ 5), C5: 120 filters 5×5 (→ 1×1, so a fully connected layer), F6: 84 units, then ``num_classes``
    scores. The original's partial C3 connections, trainable subsampling and RBF outputs are replaced
    by full connections, plain pooling (``"max"`` or ``"avg"``) and a linear layer; ``activation``
    is ``"relu"``, ``"tanh"`` or ``"sigmoid"``. PyTorch's default initialization.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, activation: str = "relu", pooling: str = "max"):
        super().__init__()
        if activation not in _ACTIVATION_MODULES:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATION_MODULES)}, not {activation!r}")
        if pooling not in _POOL_MODULES:
            raise ValueError(f"pooling must be one of {sorted(_POOL_MODULES)}, not {pooling!r}")
        self.c1 = torch.nn.Conv2d(in_channels, 6, 5)
        self.s2 = _POOL_MODULES[pooling](2)
        self.c3 = torch.nn.Conv2d(6, 16, 5)
        self.s4 = _POOL_MODULES[pooling](2)
        self.c5 = torch.nn.Conv2d(16, 120, 5)
        self.f6 = torch.nn.Linear(120, 84)
        self.output = torch.nn.Linear(84, num_classes)
        self.act = _ACTIVATION_MODULES[activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1:] != (self.c1.in_channels, 32, 32):
            raise ValueError(f"LeNet5 expects images (N, {self.c1.in_channels}, 32, 32), got {tuple(x.shape)}")
        h = self.s2(self.act(self.c1(x)))  # (N, 6, 14, 14)
        h = self.s4(self.act(self.c3(h)))  # (N, 16, 5, 5)
        h = self.act(self.c5(h)).flatten(1)  # (N, 120)
        return self.output(self.act(self.f6(h)))
