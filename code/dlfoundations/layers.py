"""Convolution and pooling from scratch, each checked against ``torch.nn.functional``.

Everything follows PyTorch's definitions, so that the results can be compared number for number:

* :func:`conv2d` is a *cross-correlation* (the kernel is not flipped), with zero padding and the
  output size :func:`output_size` ``= ⌊(n + 2p − k)/s⌋ + 1``. It is written twice: as a loop over
  output positions (:func:`conv2d_loops`, readable) and as one matrix product over the columns of
  :func:`im2col` (:func:`conv2d`, fast). Both are built from differentiable tensor operations, so
  autograd gives their backward pass.
* :func:`convolve2d` is the *true* convolution of the textbook formula
  ``(f ∗ g)[i, j] = Σ_m Σ_n f[i − m, j − n] g[m, n]``, for one channel; it equals a
  cross-correlation with the flipped kernel.
* :func:`max_pool2d` and :func:`avg_pool2d` take the maximum or the mean of every window.
* :func:`receptive_field` follows a stack of convolutions and poolings back to the input.

Shapes are NCHW: ``x`` is ``(N, C, H, W)``, a filter bank ``(F, C, kH, kW)``, a bias ``(F,)``.
This module depends on torch only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F

IntPair = int | tuple[int, int]


def _pair(value: IntPair, name: str) -> tuple[int, int]:
    """``3`` → ``(3, 3)``; ``(3, 5)`` stays; anything else is an error naming ``name``."""
    try:
        pair = (value, value) if hasattr(value, "__index__") else tuple(value)
        if len(pair) != 2:
            raise TypeError
        return (pair[0].__index__(), pair[1].__index__())
    except (TypeError, AttributeError, RuntimeError):
        raise ValueError(f"{name} must be an int or a pair of ints, not {value!r}") from None


def output_size(n: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Positions a window of size ``kernel`` takes along a side of length ``n``: ``⌊(n + 2p − k)/s⌋ + 1``.

    The same rule holds for convolution and pooling, one dimension at a time. A window that does not
    fit in the padded input is an error, not an empty output.
    """
    if stride < 1 or padding < 0 or kernel < 1:
        raise ValueError(f"need kernel ≥ 1, stride ≥ 1 and padding ≥ 0, got {kernel}, {stride}, {padding}")
    if n + 2 * padding < kernel:
        raise ValueError(f"a kernel of size {kernel} is larger than the padded input ({n} + 2·{padding})")
    return (n + 2 * padding - kernel) // stride + 1


def _tensors(x, *others):
    """``x`` as a tensor, and the other arguments as tensors of its dtype and device unless they are tensors."""
    x = torch.as_tensor(x)
    convert = [
        v if v is None or isinstance(v, torch.Tensor) else torch.as_tensor(v, dtype=x.dtype, device=x.device)
        for v in others
    ]
    return (x, *convert)


def _check_images(x: torch.Tensor, where: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{where}: expected images (N, C, H, W) or one image (C, H, W), got shape {tuple(x.shape)}")


def _batched(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """One image ``(C, H, W)`` becomes a batch of one, as ``torch.nn.functional`` allows; says whether it was."""
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _check_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: tuple[int, int]) -> None:
    _check_images(x, "conv2d")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected filters (F, C, kH, kW), got shape {tuple(weight.shape)}")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"conv2d: the input {tuple(x.shape)} has {x.shape[1]} channels but the filters "
            f"{tuple(weight.shape)} expect {weight.shape[1]} (shapes are (N, C, H, W) and (F, C, kH, kW))"
        )
    padded = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    if weight.shape[2] > padded[0] or weight.shape[3] > padded[1]:
        raise ValueError(
            f"conv2d: the kernel {tuple(weight.shape[2:])} of the filters {tuple(weight.shape)} is larger "
            f"than the padded input {padded} (input {tuple(x.shape)}, padding {padding})"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"conv2d: the bias must have shape ({weight.shape[0]},), one per filter, not {tuple(bias.shape)}"
        )


def pad(x: torch.Tensor, padding: IntPair, mode: str = "zeros") -> torch.Tensor:
    """Add ``padding`` rows above and below and columns left and right of every image.

    ``mode="zeros"`` (what :func:`conv2d` uses) fills with 0; ``mode="circular"`` wraps the image
    around, as if it tiled the plane, which makes a convolution commute exactly with ``torch.roll``.
    """
    ph, pw = _pair(padding, "padding")
    if mode == "zeros":
        return F.pad(x, (pw, pw, ph, ph))
    if mode == "circular":
        rows = torch.cat([x[..., x.shape[-2] - ph :, :], x, x[..., :ph, :]], dim=-2)
        return torch.cat([rows[..., rows.shape[-1] - pw :], rows, rows[..., :pw]], dim=-1)
    raise ValueError(f"mode must be 'zeros' or 'circular', not {mode!r}")


def im2col(x: torch.Tensor, kernel_size: IntPair, stride: IntPair = 1, padding: IntPair = 0) -> torch.Tensor:
    """Every ``kH×kW`` window of the zero-padded images as one column: ``(N, C·kH·kW, H_out·W_out)``.

    The rows are ordered like a flattened filter ``(C, kH, kW)`` and the columns like the output
    positions, row by row: the layout of ``torch.nn.functional.unfold``.
    """
    _check_images(x, "im2col")
    (kh, kw), (sh, sw) = _pair(kernel_size, "kernel_size"), _pair(stride, "stride")
    padding = _pair(padding, "padding")
    n, c, h, w = x.shape
    ho, wo = output_size(h, kh, sh, padding[0]), output_size(w, kw, sw, padding[1])
    windows = pad(x, padding).unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, H_out, W_out, kH, kW)
    return windows.permute(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, ho * wo)


def conv2d_loops(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
) -> torch.Tensor:
    """Cross-correlation ``out[n, f, i, j] = b[f] + Σ_c Σ_a Σ_b w[f, c, a, b] · x̃[n, c, i·s + a, j·s + b]``.

    ``x̃`` is ``x`` with ``padding`` zeros on every side. One loop iteration per output position:
    cut out the window under the filters, multiply elementwise, sum over ``(c, a, b)``.
    """
    x, weight, bias = _tensors(x, weight, bias)
    x, unbatched = _batched(x)
    (sh, sw), padding = _pair(stride, "stride"), _pair(padding, "padding")
    _check_conv(x, weight, bias, padding)
    kh, kw = weight.shape[2:]
    ho, wo = output_size(x.shape[2], kh, sh, padding[0]), output_size(x.shape[3], kw, sw, padding[1])
    padded = pad(x, padding)
    rows = []
    for i in range(ho):
        row = []
        for j in range(wo):
            window = padded[:, None, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (N, 1, C, kH, kW)
            row.append((window * weight).sum(dim=(2, 3, 4)))  # (N, F)
        rows.append(torch.stack(row, dim=-1))  # (N, F, W_out)
    out = torch.stack(rows, dim=-2)  # (N, F, H_out, W_out)
    out = out if bias is None else out + bias.view(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
) -> torch.Tensor:
    """The same cross-correlation as :func:`conv2d_loops`, as one matrix product (im2col).

    The ``F`` filters, flattened, are the rows of an ``(F, C·kH·kW)`` matrix; :func:`im2col` makes
    every window a column. Their product holds every output value at once.
    """
    x, weight, bias = _tensors(x, weight, bias)
    x, unbatched = _batched(x)
    (sh, sw), padding = _pair(stride, "stride"), _pair(padding, "padding")
    _check_conv(x, weight, bias, padding)
    kh, kw = weight.shape[2:]
    ho, wo = output_size(x.shape[2], kh, sh, padding[0]), output_size(x.shape[3], kw, sw, padding[1])
    columns = im2col(x, (kh, kw), (sh, sw), padding)  # (N, C·kH·kW, H_out·W_out)
    out = (weight.reshape(weight.shape[0], -1) @ columns).reshape(x.shape[0], weight.shape[0], ho, wo)
    out = out if bias is None else out + bias.view(1, -1, 1, 1)
    return out.squeeze(0) if unbatched else out


def convolve2d(f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """True convolution of one image ``f`` (H, W) with a kernel ``g`` (2M+1, 2N+1), same size as ``f``.

    ``(f ∗ g)[i, j] = Σ_{m=−M..M} Σ_{n=−N..N} f[i − m, j − n] · g[m, n]``, with the kernel indexed from
    its centre and ``f`` taken as 0 outside the image. The loop runs over the kernel's entries: each
    adds the image, shifted by ``(m, n)``, times ``g[m, n]``. It equals
    ``conv2d(f, g.flip(0, 1), padding=(M, N))``: a convolution is a cross-correlation with the
    flipped kernel.
    """
    f, g = _tensors(f, g)
    if f.ndim != 2 or g.ndim != 2:
        raise ValueError(
            f"convolve2d takes one image (H, W) and one kernel (kH, kW), got {tuple(f.shape)}, {tuple(g.shape)}"
        )
    if g.shape[0] % 2 == 0 or g.shape[1] % 2 == 0:
        raise ValueError(f"convolve2d indexes the kernel from its centre: its sides must be odd, not {tuple(g.shape)}")
    big_m, big_n = g.shape[0] // 2, g.shape[1] // 2
    h, w = f.shape
    padded = F.pad(f, (big_n, big_n, big_m, big_m))  # f[i - m, j - n] = padded[i - m + M, j - n + N]
    out = torch.zeros_like(f * g[0, 0])
    for m in range(-big_m, big_m + 1):
        for n in range(-big_n, big_n + 1):
            shifted = padded[big_m - m : big_m - m + h, big_n - n : big_n - n + w]
            out = out + shifted * g[m + big_m, n + big_n]
    return out


def _pool_windows(
    x: torch.Tensor, kernel_size: IntPair, stride: IntPair | None, padding: IntPair, fill: float, where: str
):
    _check_images(x, where)
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"{where}: padding {(ph, pw)} must be at most half the kernel {(kh, kw)}")
    for n, k, s, p in ((x.shape[2], kh, sh, ph), (x.shape[3], kw, sw, pw)):
        output_size(n, k, s, p)  # raises when the window does not fit
    padded = F.pad(x, (pw, pw, ph, ph), value=fill)
    return padded.unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, H_out, W_out, kH, kW)


def max_pool2d(
    x: torch.Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> torch.Tensor:
    """The maximum of every ``kernel_size`` window, channel by channel; ``stride`` defaults to the kernel.

    Padding (at most half the kernel) counts as −∞, so it never wins, as in ``F.max_pool2d``.
    """
    x, unbatched = _batched(torch.as_tensor(x))
    out = _pool_windows(x, kernel_size, stride, padding, float("-inf"), "max_pool2d").amax(dim=(-2, -1))
    return out.squeeze(0) if unbatched else out


def avg_pool2d(
    x: torch.Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> torch.Tensor:
    """The mean of every ``kernel_size`` window, channel by channel; ``stride`` defaults to the kernel.

    Padding counts as zeros in the mean (``F.avg_pool2d``'s default ``count_include_pad=True``).
    """
    x, unbatched = _batched(torch.as_tensor(x))
    out = _pool_windows(x, kernel_size, stride, padding, 0.0, "avg_pool2d").mean(dim=(-2, -1))
    return out.squeeze(0) if unbatched else out


def _kernel_and_stride(layer: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """``(kernel, stride)`` of one layer: a pair of ints, or a module with ``kernel_size``/``stride``."""
    if isinstance(layer, torch.nn.Module):
        if not hasattr(layer, "kernel_size"):  # activations, flatten, ...: no spatial extent
            return (1, 1), (1, 1)
        kernel, stride = _pair(layer.kernel_size, "kernel_size"), _pair(layer.stride or layer.kernel_size, "stride")
        dilation = _pair(getattr(layer, "dilation", 1), "dilation")
        return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)), stride
    kernel, stride = layer
    return _pair(kernel, "kernel"), _pair(stride, "stride")


def receptive_field(layers: Iterable[Any]) -> int | tuple[int, int]:
    """Side of the input region that one output of a stack of layers can see.

    ``layers`` holds ``(kernel, stride)`` pairs or modules (``nn.Conv2d``, ``nn.MaxPool2d``, ... and
    layers without a ``kernel_size``, which count as 1×1). With ``j`` the distance in input pixels
    between neighbouring positions of the current layer (the product of the strides so far), every
    layer adds ``(k − 1)·j``: ``r ← r + (k − 1)·j``, then ``j ← j·s``. An int when the field is
    square, else ``(height, width)``.
    """
    field, jump = [1, 1], [1, 1]
    for layer in layers:
        kernel, stride = _kernel_and_stride(layer)
        for d in range(2):
            field[d] += (kernel[d] - 1) * jump[d]
            jump[d] *= stride[d]
    return field[0] if field[0] == field[1] else (field[0], field[1])
