"""Convolution and pooling from scratch, each checked against ``torch.nn.functional``.

Everything follows PyTorch's definitions, so that the results can be compared number for number:

* :func:`conv2d` is a *cross-correlation* (the kernel is not flipped), with zero padding and the
  output size :func:`output_size` ``= ⌊(n + 2p − k)/s⌋ + 1``. It is written twice: as a loop over
  output positions (:func:`conv2d_loops`, readable) and as one matrix product over the columns of
  :func:`im2col` (:func:`conv2d`, fast). Both are built from differentiable tensor operations, so
  autograd gives their backward pass (and :func:`conv2d_backward` writes it out).
* :func:`convolve2d` is the *true* convolution of the textbook formula
  ``(f ∗ g)[i, j] = Σ_m Σ_n f[i − m, j − n] g[m, n]``, for one channel; it equals a
  cross-correlation with the flipped kernel.
* :func:`max_pool2d` and :func:`avg_pool2d` take the maximum or the mean of every window.
* :func:`receptive_field` follows a stack of convolutions and poolings back to the input.
* :func:`dilate` spreads a kernel out with zeros (a dilated convolution is :func:`conv2d` with it).
* :func:`conv2d_backward` and :func:`max_pool2d_backward` are the backward passes written out: the input
  gradient of a convolution is a full convolution of the upstream gradient with the kernel, and max
  pooling sends each window's gradient to its maximum. :class:`Conv2dFunction` and
  :class:`MaxPool2dFunction` wrap them for ``torch.autograd.gradcheck``; :func:`learn_kernel` fits a
  filter by gradient descent with them.

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


# --------------------------------------------------------------------------- backward passes, written out


def dilate(x: torch.Tensor, factor: IntPair) -> torch.Tensor:
    """Put ``factor − 1`` zeros between neighbouring entries of the last two dimensions.

    ``(…, h, w)`` becomes ``(…, (h − 1)·d_h + 1, (w − 1)·d_w + 1)``. On a kernel this makes the kernel of a
    *dilated* convolution: ``conv2d(x, dilate(w, d))`` is ``F.conv2d(x, w, dilation=d)``, ``k×k`` weights
    spread over ``d(k − 1) + 1`` pixels. On the upstream gradient of a convolution with stride ``s`` it puts
    back, as zeros, the outputs that the stride skipped: that is how :func:`conv2d_backward` handles a stride.
    """
    dh, dw = _pair(factor, "factor")
    if dh < 1 or dw < 1:
        raise ValueError(f"dilate: the factor must be at least 1, not {(dh, dw)}")
    x = torch.as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"dilate: expected at least two dimensions (…, H, W), got shape {tuple(x.shape)}")
    h, w = x.shape[-2:]
    out = x.new_zeros(*x.shape[:-2], (h - 1) * dh + 1, (w - 1) * dw + 1)
    out[..., ::dh, ::dw] = x
    return out


def conv2d_backward(
    dout: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, stride: IntPair = 1, padding: IntPair = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(dx, dweight, dbias)``: the gradients of a loss ``L`` with respect to the input, the filters and the
    bias of :func:`conv2d`, given the upstream gradient ``dout = ∂L/∂out`` (the output's shape).

    * ``dbias[f] = Σ_{n,i,j} dout[n, f, i, j]``: the bias is added at every output position.
    * ``dweight[f, c, u, v] = Σ_{n,i,j} dout[n, f, i, j] · x̃[n, c, i·s + u, j·s + v]``: every window, weighted by
      its upstream gradient and summed over positions (parameter sharing); one product with :func:`im2col`.
    * ``dx``: an input pixel receives ``w[f, c, u, v] · dout[n, f, i, j]`` from every output whose window
      covers it. That is the *full* convolution (the true, flipping one) of the upstream gradient with the
      kernel, so it is computed as a cross-correlation (:func:`conv2d`) of ``dout``, stride-dilated by
      :func:`dilate` and padded with ``k − 1`` zeros, with the kernel flipped in both directions and its
      ``F`` and ``C`` axes swapped. Rows and columns that no window reached get 0, and the border that
      ``padding`` added is cut off.

    ``dx`` has the shape of ``x``, ``dweight`` that of ``weight`` and ``dbias`` is ``(F,)``.
    """
    x, weight = _tensors(x, weight)
    dout = torch.as_tensor(dout, dtype=x.dtype, device=x.device)  # the upstream gradient in the input's dtype
    unbatched = x.ndim == 3
    if unbatched:
        x, dout = x.unsqueeze(0), dout.unsqueeze(0)
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    _check_conv(x, weight, None, (ph, pw))
    (n, _, h, w), (f, _, kh, kw) = x.shape, weight.shape
    expected = (n, f, output_size(h, kh, sh, ph), output_size(w, kw, sw, pw))
    if tuple(dout.shape) != expected:
        raise ValueError(
            f"conv2d_backward: dout must have the shape of the convolution's output {expected}, not "
            f"{tuple(dout.shape)} (input {tuple(x.shape)}, filters {tuple(weight.shape)}, stride {(sh, sw)}, "
            f"padding {(ph, pw)})"
        )
    dbias = dout.sum(dim=(0, 2, 3))
    columns = im2col(x, (kh, kw), (sh, sw), (ph, pw))  # (N, C·kH·kW, H_out·W_out)
    dweight = torch.einsum("nfp,nkp->fk", dout.flatten(2), columns).reshape(weight.shape)
    flipped = weight.flip(2, 3).transpose(0, 1)  # (C, F, kH, kW)
    full = conv2d(dilate(dout, (sh, sw)), flipped, padding=(kh - 1, kw - 1))  # rows 0 … (H_out − 1)·s + kH − 1
    grown = F.pad(full, (0, w + 2 * pw - full.shape[3], 0, h + 2 * ph - full.shape[2]))  # the padded input's size
    dx = grown[:, :, ph : ph + h, pw : pw + w]
    return (dx.squeeze(0) if unbatched else dx), dweight, dbias


def max_pool2d_backward(
    dout: torch.Tensor, x: torch.Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0
) -> torch.Tensor:
    """``dx = ∂L/∂x`` of :func:`max_pool2d`, given ``dout = ∂L/∂out`` (the pooled shape).

    Each window passes its upstream gradient, whole, to the input that holds the window's maximum (its
    argmax); the other inputs of the window get nothing from it. Where windows overlap (stride smaller than
    the kernel) an input collects the gradients of every window it wins. A tie goes to the first maximum
    in the window's row-major order, as PyTorch's CPU kernel does.
    """
    x, unbatched = _batched(torch.as_tensor(x))
    dout = torch.as_tensor(dout, dtype=x.dtype, device=x.device)
    dout = dout.unsqueeze(0) if unbatched else dout
    windows = _pool_windows(x, kernel_size, stride, padding, float("-inf"), "max_pool2d_backward")
    n, c, ho, wo, kh, kw = windows.shape
    if tuple(dout.shape) != (n, c, ho, wo):
        raise ValueError(
            f"max_pool2d_backward: dout must have the pooled shape {(n, c, ho, wo)}, not {tuple(dout.shape)}"
        )
    (sh, sw), (ph, pw) = (kh, kw) if stride is None else _pair(stride, "stride"), _pair(padding, "padding")
    winner = windows.reshape(n, c, ho, wo, kh * kw).argmax(dim=-1)  # row-major index a·kW + b in each window
    rows = torch.arange(ho, device=x.device).view(-1, 1) * sh + winner // kw  # in the padded input
    cols = torch.arange(wo, device=x.device).view(1, -1) * sw + winner % kw
    hp, wp = x.shape[2] + 2 * ph, x.shape[3] + 2 * pw
    dx = torch.zeros(n, c, hp * wp, dtype=dout.dtype, device=x.device)
    dx = dx.scatter_add(2, (rows * wp + cols).flatten(2), dout.flatten(2)).view(n, c, hp, wp)
    dx = dx[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]]
    return dx.squeeze(0) if unbatched else dx


class Conv2dFunction(torch.autograd.Function):
    """:func:`conv2d` with :func:`conv2d_backward` as its backward pass, in place of autograd's.

    ``Conv2dFunction.apply(x, weight, bias, stride, padding)`` (``bias`` may be None) behaves like
    ``conv2d``, so ``torch.autograd.gradcheck`` can test the hand-written gradients against finite differences.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, stride=1, padding=0):
        ctx.save_for_backward(x, weight)
        ctx.geometry = (stride, padding)
        return conv2d(x, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, dout):
        x, weight = ctx.saved_tensors
        dx, dweight, dbias = conv2d_backward(dout, x, weight, *ctx.geometry)
        needs = ctx.needs_input_grad
        return (dx if needs[0] else None, dweight if needs[1] else None, dbias if needs[2] else None, None, None)


class MaxPool2dFunction(torch.autograd.Function):
    """:func:`max_pool2d` with :func:`max_pool2d_backward` as its backward pass:
    ``MaxPool2dFunction.apply(x, kernel_size, stride, padding)``."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=None, padding=0):
        ctx.save_for_backward(x)
        ctx.geometry = (kernel_size, stride, padding)
        return max_pool2d(x, kernel_size, stride, padding)

    @staticmethod
    def backward(ctx, dout):
        (x,) = ctx.saved_tensors
        return max_pool2d_backward(dout, x, *ctx.geometry), None, None, None


def learn_kernel(
    x: torch.Tensor, target: torch.Tensor, kernel_size: IntPair, lr: float, steps: int, padding: IntPair = 0
) -> tuple[torch.Tensor, list[float]]:
    """Filters ``w`` (no bias) fitted by plain gradient descent so that ``conv2d(x, w, padding=padding)``
    matches ``target`` (``(N, F, H_out, W_out)``) in mean squared error.

    Starts from zeros and takes ``steps`` steps ``w ← w − lr · ∂L/∂w`` with the gradient of
    :func:`conv2d_backward`. Returns ``w`` ``(F, C, kH, kW)`` and the loss ``L`` before every step and after
    the last (``steps + 1`` values, in the squared units of ``target``).
    """
    x, target = _tensors(x, target)
    _check_images(x, "learn_kernel")
    kh, kw = _pair(kernel_size, "kernel_size")
    if steps < 0 or not lr > 0:
        raise ValueError(f"learn_kernel: need steps ≥ 0 and lr > 0, got steps={steps}, lr={lr}")
    weight = torch.zeros(target.shape[1], x.shape[1], kh, kw, dtype=x.dtype, device=x.device)
    losses = []
    for step in range(steps + 1):
        out = conv2d(x, weight, padding=padding)
        if out.shape != target.shape:
            raise ValueError(
                f"learn_kernel: the target {tuple(target.shape)} must have the shape of the convolution's output "
                f"{tuple(out.shape)} (input {tuple(x.shape)}, kernel {(kh, kw)}, padding {padding})"
            )
        residual = out - target
        losses.append(residual.pow(2).mean().item())
        if step == steps:
            break
        _, dweight, _ = conv2d_backward(2 * residual / residual.numel(), x, weight, padding=padding)
        weight = weight - lr * dweight
    return weight, losses
