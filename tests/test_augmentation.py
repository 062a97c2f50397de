"""Batch augmentation: the same images as torchvision's per-image transforms, chosen per image."""

import pytest
import torch
import torchvision.transforms.v2.functional as TF

from dlfoundations import augmentation, data
from dlfoundations.batches import Batches


def images(n=16, size=8, seed=0, dtype=torch.uint8):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, 256, (n, 3, size, size), generator=generator).to(dtype)


def test_crop_equals_torchvision_pad_and_crop_for_fixed_offsets():
    x = images()
    rows = torch.tensor([0, 1, 2, 3, 4] * 3 + [2])
    cols = torch.tensor([4, 3, 2, 1, 0] * 3 + [0])
    out = augmentation.crop(x, 2, rows, cols)
    for i in range(len(x)):  # torchvision's RandomCrop(8, padding=2) with the top-left corner (rows[i], cols[i])
        padded = TF.pad(x[i], [2, 2, 2, 2], fill=0)
        expected = TF.crop(padded, int(rows[i]), int(cols[i]), 8, 8)
        assert torch.equal(out[i], expected)
    assert torch.equal(augmentation.crop(x, 2, torch.full((16,), 2), torch.full((16,), 2)), x)


def test_reflect_crop_equals_torchvision_reflect_padding():
    x = images(4)
    rows, cols = torch.tensor([0, 4, 1, 3]), torch.tensor([4, 0, 2, 2])
    out = augmentation.crop(x, 2, rows, cols, mode="reflect")
    assert out.dtype == torch.uint8
    for i in range(4):
        padded = TF.pad(x[i], [2, 2, 2, 2], padding_mode="reflect")
        assert torch.equal(out[i], TF.crop(padded, int(rows[i]), int(cols[i]), 8, 8))


def test_flip_mirrors_exactly_the_masked_images():
    x = images(6)
    mask = torch.tensor([True, False, True, False, False, True])
    out = augmentation.flip(x, mask)
    for i in range(6):
        assert torch.equal(out[i], TF.horizontal_flip(x[i]) if mask[i] else x[i])
    with pytest.raises(ValueError, match="one boolean per image"):
        augmentation.flip(x, mask[:3])


def window_of(out, original, padding, mode="constant"):
    """The (row, col) offsets of the window ``out`` within the padded ``original``, or None."""
    size = original.shape[-1]
    source = original.float() if mode == "reflect" else original
    padded = torch.nn.functional.pad(source, (padding,) * 4, mode=mode).to(original.dtype)
    for r in range(2 * padding + 1):
        for c in range(2 * padding + 1):
            if torch.equal(out, padded[:, r : r + size, c : c + size]):
                return r, c
    return None


def test_random_crop_is_a_window_of_each_padded_image_with_its_own_offset():
    x = images(64)
    out = augmentation.random_crop(x, 2, generator=torch.Generator().manual_seed(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    offsets = [window_of(o, i, 2) for o, i in zip(out, x, strict=True)]
    assert None not in offsets
    assert len(set(offsets)) > 10  # per image, not one offset for the batch


def test_random_translate_reflects_and_varies_per_image():
    x = images(64, dtype=torch.float32)
    out = augmentation.random_translate(x, 2, generator=torch.Generator().manual_seed(2))
    offsets = [window_of(o, i, 2, "reflect") for o, i in zip(out, x, strict=True)]
    assert None not in offsets and len(set(offsets)) > 10
    with pytest.raises(ValueError, match="reflect padding"):
        augmentation.random_translate(images(2, size=2), 2)


def test_offsets_are_uniform_and_independent():
    n, padding = 200_000, 4
    rows, cols = augmentation.random_offsets(n, padding, "cpu", torch.Generator().manual_seed(3))
    counts = torch.bincount(rows, minlength=9).double()
    expected = n / 9
    chi2 = ((counts - expected) ** 2 / expected).sum().item()
    assert chi2 < 26.1  # the 99.9% quantile of chi-squared with 8 degrees of freedom
    correlation = torch.corrcoef(torch.stack([rows.double(), cols.double()]))[0, 1].item()
    assert abs(correlation) < 0.01  # 4.5 standard errors of 1/sqrt(n)
    assert abs(rows.double().mean().item() - padding) < 0.02


def test_random_flip_flips_half_the_images_independently():
    n = 100_000
    x = torch.arange(2, dtype=torch.float32).view(1, 1, 1, 2).expand(n, 1, 1, 2).contiguous()
    out = augmentation.random_flip(x, generator=torch.Generator().manual_seed(4))
    flipped = out[:, 0, 0, 0] == 1
    assert abs(flipped.double().mean().item() - 0.5) < 0.01  # 6 standard errors
    pairs = flipped[0::2].double(), flipped[1::2].double()
    assert abs(torch.corrcoef(torch.stack(pairs))[0, 1].item()) < 0.02


def test_same_generator_seed_same_augmentation():
    x = images(32)
    a = augmentation.random_crop(x, 4, generator=torch.Generator().manual_seed(5))
    b = augmentation.random_crop(x, 4, generator=torch.Generator().manual_seed(5))
    c = augmentation.random_crop(x, 4, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_alternating_flip_alternates_per_image():
    x = images(32)
    first = torch.rand(32, generator=torch.Generator().manual_seed(7)) < 0.5
    epochs = [augmentation.alternating_flip(x, e, first) for e in range(4)]
    assert torch.equal(epochs[0], augmentation.flip(x, first))
    assert torch.equal(epochs[1], augmentation.flip(x, ~first))
    assert torch.equal(epochs[2], epochs[0]) and torch.equal(epochs[3], epochs[1])
    for i in range(32):  # over two epochs each image is seen once each way
        assert {epochs[0][i].flip(-1).equal(x[i]), epochs[1][i].flip(-1).equal(x[i])} == {True, False}


def test_augmentation_draws_on_the_images_device():
    x = images(8)
    generator = torch.Generator(device="cpu").manual_seed(0)
    assert augmentation.random_crop(x, 1, generator).device == x.device
    if torch.cuda.is_available():
        gpu = x.cuda()
        out = augmentation.random_flip(
            augmentation.random_crop(gpu, 4, torch.Generator("cuda")), torch.Generator("cuda")
        )
        assert out.is_cuda


def test_augmented_batches_are_crops_and_flips_of_the_originals():
    x = images(16, size=32)
    batches = Batches(x, torch.arange(16), 16, mean=(0,) * 3, std=(1 / 255,) * 3, augment=True, seed=3)
    (out, labels), _ = next(iter(batches)), None
    out = out.round().to(torch.uint8)
    for o, i in zip(out, x, strict=True):
        assert window_of(o, i, 4) is not None or window_of(o.flip(-1), i, 4) is not None
    assert torch.equal(labels, torch.arange(16))
    assert not hasattr(data, "random_crop_flip")


@pytest.mark.parametrize("mode", ["constant", "reflect"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_crop_keeps_the_channels_last_layout_and_the_same_pixels(mode, dtype):
    x = images(8, dtype=dtype)
    last = x.contiguous(memory_format=torch.channels_last)
    assert augmentation.is_channels_last(last) and not augmentation.is_channels_last(x)
    rows, cols = torch.tensor([0, 4, 1, 3, 2, 2, 0, 4]), torch.tensor([4, 0, 2, 2, 1, 3, 0, 4])
    out_first = augmentation.crop(x, 2, rows, cols, mode=mode)
    out_last = augmentation.crop(last, 2, rows, cols, mode=mode)
    assert torch.equal(out_last, out_first) and out_last.dtype == dtype
    assert augmentation.is_channels_last(out_last) and out_first.is_contiguous()
    g = torch.Generator().manual_seed(0)
    for batch in (  # each augmentation of a channels_last batch stays channels_last (GPU convolutions want NHWC)
        augmentation.random_translate(last, 2, g),
        augmentation.random_crop(last, 2, g),
        augmentation.random_flip(last, g),
        augmentation.alternating_flip(last, 1, torch.rand(8, generator=g) < 0.5),
        augmentation.crop(last, 0, rows, cols),
    ):
        assert augmentation.is_channels_last(batch)
