"""Data augmentation for whole batches of image tensors, on the tensors' own device.

Every function takes a batch ``(B, C, H, W)`` of any dtype and returns a batch of the same
shape and dtype. Random choices are made **per image** (each image its own offset, its own
flip) by one tensor operation for the whole batch, with no Python loop over images, and the
random numbers are drawn on the images' device: pass a ``torch.Generator`` created on that
device (``torch.Generator(device=images.device)``), so that a GPU pipeline never waits for
the host.

* :func:`random_crop`: torchvision's ``RandomCrop(H, padding)``: pad with zeros, cut a window;
* :func:`random_translate`: the same with reflected borders (no black edges);
* :func:`flip` / :func:`random_flip`: horizontal mirror images (``RandomHorizontalFlip``);
* :func:`alternating_flip`: airbench's variant, each image mirrored on every other epoch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "alternating_flip",
    "crop",
    "flip",
    "is_channels_last",
    "random_crop",
    "random_flip",
    "random_offsets",
    "random_translate",
]


def _check(images: torch.Tensor) -> None:
    if images.ndim != 4:
        raise ValueError(f"expected a batch of images (B, C, H, W), got shape {tuple(images.shape)}")


def crop(images: torch.Tensor, padding: int, rows: torch.Tensor, cols: torch.Tensor, mode: str = "constant"):
    """Pad by ``padding`` (zeros, or ``mode="reflect"``) and cut, for image ``i``, the window whose
    top-left corner is at ``(rows[i], cols[i])`` of the padded image (offsets in ``0 … 2·padding``).

    ``rows = cols = padding`` gives the images back unchanged. The result keeps the memory layout of
    ``images``: a ``channels_last`` batch (see :func:`is_channels_last`) comes back ``channels_last``.
    """
    _check(images)
    if padding < 0:
        raise ValueError(f"padding must not be negative, not {padding}")
    b, c, h, w = images.shape
    if padding == 0:
        return images.clone()  # clone keeps the layout (torch.preserve_format)
    if mode == "reflect" and padding >= min(h, w):
        raise ValueError(f"reflect padding {padding} needs images larger than {padding} pixels, not {h}×{w}")
    source = images if images.is_floating_point() or mode == "constant" else images.float()
    padded = F.pad(source, (padding,) * 4, mode=mode)
    if mode == "constant":
        padded = padded.to(images.dtype)
    device = images.device
    rows = rows.to(device=device, dtype=torch.long)
    cols = cols.to(device=device, dtype=torch.long)
    r = (rows[:, None] + torch.arange(h, device=device))[:, :, None]  # (B, H, 1)
    q = (cols[:, None] + torch.arange(w, device=device))[:, None, :]  # (B, 1, W)
    batch = torch.arange(b, device=device)[:, None, None]  # (B, 1, 1)
    if is_channels_last(images):
        # gather whole pixels (all C channels at once) into a (B, H, W, C) tensor: viewed as (B, C, H, W),
        # that is the channels_last layout, with no extra copy
        return padded.permute(0, 2, 3, 1)[batch, r, q].permute(0, 3, 1, 2).to(images.dtype)
    return padded[batch[..., None], torch.arange(c, device=device)[None, :, None, None], r[:, None], q[:, None]].to(
        images.dtype
    )


def is_channels_last(images: torch.Tensor) -> bool:
    """Whether a batch ``(B, C, H, W)`` is stored ``channels_last`` (NHWC) rather than in the default NCHW order.

    A tensor whose strides fit both layouts (one channel, or one pixel) counts as NCHW.
    """
    return images.is_contiguous(memory_format=torch.channels_last) and not images.is_contiguous()


def random_offsets(
    count: int, padding: int, device: torch.device | str, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column offsets, each uniform on ``0 … 2·padding``, drawn on ``device``."""
    offsets = torch.randint(0, 2 * padding + 1, (2, count), device=device, generator=generator)
    return offsets[0], offsets[1]


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero-pad by ``padding`` and cut a random window of the original size, per image."""
    _check(images)
    rows, cols = random_offsets(len(images), padding, images.device, generator)
    return crop(images, padding, rows, cols)


def random_translate(images: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift every image by its own random ``-pad … pad`` pixels in each direction, reflecting at the borders."""
    _check(images)
    rows, cols = random_offsets(len(images), pad, images.device, generator)
    return crop(images, pad, rows, cols, mode="reflect")


def flip(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mirror (left–right) the images where ``mask`` (a boolean per image) is True."""
    _check(images)
    if mask.shape != (len(images),):
        raise ValueError(f"mask must hold one boolean per image ({len(images)}), got shape {tuple(mask.shape)}")
    mask = mask.to(device=images.device, dtype=torch.bool).view(-1, 1, 1, 1)
    return torch.where(mask, images.flip(-1), images)


def random_flip(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image with probability ½."""
    _check(images)
    mask = torch.rand(len(images), device=images.device, generator=generator) < 0.5
    return flip(images, mask)


def alternating_flip(images: torch.Tensor, epoch: int, first_mask: torch.Tensor) -> torch.Tensor:
    """airbench's flip: image ``i`` is mirrored in epoch 0 where ``first_mask[i]``, and then on every other epoch.

    ``first_mask`` is drawn once (at random, one boolean per image of the data set, indexed like
    the batch); over any two consecutive epochs every image is seen once mirrored and once not,
    where independent random flips would show some images the same way twice.
    """
    return flip(images, first_mask.to(torch.bool) ^ bool(epoch % 2))
