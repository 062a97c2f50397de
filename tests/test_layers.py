"""dlfoundations.layers against torch.nn.functional: values, gradients, shapes and error messages."""

import ast
import random
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dlfoundations import layers

TOLERANCE = {torch.float32: 1e-6, torch.float64: 1e-12}


def random_conv_case(seed: int, dtype: torch.dtype):
    """Random non-square images, kernels, strides and paddings; weights scaled so outputs are O(1)."""
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    n, c, f = rng.randint(1, 3), rng.randint(1, 4), rng.randint(1, 5)
    kh, kw = rng.randint(1, 5), rng.randint(1, 5)
    stride = (rng.randint(1, 3), rng.randint(1, 3))
    padding = (rng.randint(0, 2), rng.randint(0, 2))
    h = rng.randint(max(1, kh - 2 * padding[0]), 12)
    w = rng.randint(max(1, kw - 2 * padding[1]), 12)
    x = torch.randn(n, c, h, w, generator=generator, dtype=dtype)
    weight = torch.randn(f, c, kh, kw, generator=generator, dtype=dtype) / (c * kh * kw) ** 0.5
    bias = torch.randn(f, generator=generator, dtype=dtype)
    return x, weight, bias, stride, padding


def assert_equal_to(actual, expected, dtype):
    tolerance = TOLERANCE[dtype]
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    torch.testing.assert_close(actual, expected, rtol=tolerance, atol=tolerance)


# --------------------------------------------------------------------------- convolution


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", range(25))
def test_conv2d_equals_torch_on_random_shapes(seed, dtype):
    x, weight, bias, stride, padding = random_conv_case(seed, dtype)
    expected = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    assert_equal_to(layers.conv2d(x, weight, bias, stride, padding), expected, dtype)
    assert_equal_to(layers.conv2d_loops(x, weight, bias, stride, padding), expected, dtype)
    assert_equal_to(layers.conv2d(x, weight, None, stride, padding), F.conv2d(x, weight, None, stride, padding), dtype)


@pytest.mark.parametrize("seed", range(10))
def test_im2col_equals_unfold(seed):
    x, weight, _, stride, padding = random_conv_case(seed, torch.float64)
    kernel = tuple(weight.shape[2:])
    expected = F.unfold(x, kernel, stride=stride, padding=padding)
    assert torch.equal(layers.im2col(x, kernel, stride, padding), expected)


def test_conv2d_matches_the_cs231n_reference_output():
    """The published check of CS231n's conv_forward_naive (assignment 2): linspace inputs, stride 2, pad 1."""
    x = torch.linspace(-0.1, 0.5, 2 * 3 * 4 * 4, dtype=torch.float64).reshape(2, 3, 4, 4)
    w = torch.linspace(-0.2, 0.3, 3 * 3 * 4 * 4, dtype=torch.float64).reshape(3, 3, 4, 4)
    b = torch.linspace(-0.1, 0.2, 3, dtype=torch.float64)
    correct = torch.tensor(
        [
            [
                [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
                [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
                [[0.50813986, 0.54309974], [0.64082444, 0.67101435]],
            ],
            [
                [[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
                [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
                [[2.36270298, 2.36904306], [2.38090835, 2.38247847]],
            ],
        ],
        dtype=torch.float64,
    )
    for conv in (layers.conv2d, layers.conv2d_loops):
        torch.testing.assert_close(conv(x, w, b, stride=2, padding=1), correct, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("conv", [layers.conv2d, layers.conv2d_loops], ids=["im2col", "loops"])
def test_conv2d_backward_passes_gradcheck(conv):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 6, 5, generator=generator, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 2, generator=generator, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, generator=generator, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: conv(x, w, b, stride=(2, 1), padding=(1, 2)), (x, w, b))


@pytest.mark.parametrize("seed", range(8))
def test_conv2d_gradients_equal_those_of_torch(seed):
    x, weight, bias, stride, padding = random_conv_case(seed, torch.float64)
    grads = []
    for conv in (F.conv2d, layers.conv2d, layers.conv2d_loops):
        inputs = [t.clone().requires_grad_() for t in (x, weight, bias)]
        out = conv(*inputs, stride=stride, padding=padding)
        upstream = torch.linspace(-1, 1, out.numel(), dtype=torch.float64).reshape(out.shape)
        grads.append(torch.autograd.grad((out * upstream).sum(), inputs))
    for ours in grads[1:]:
        for a, b in zip(ours, grads[0], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_conv2d_accepts_non_tensors_and_keeps_the_dtype():
    x = [[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]]
    out = layers.conv2d(torch.tensor(x, dtype=torch.float64), [[[[1.0, -1.0]]]])
    assert out.dtype == torch.float64 and out.tolist() == [[[[-1.0, -1.0], [-1.0, -1.0]]]]


def test_conv2d_errors_name_the_shapes():
    x = torch.zeros(2, 3, 8, 8)
    with pytest.raises(ValueError, match=r"\(2, 3, 8, 8\).*3 channels.*\(4, 2, 3, 3\)"):
        layers.conv2d(x, torch.zeros(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"kernel \(9, 3\).*larger than the padded input \(8, 8\)"):
        layers.conv2d(x, torch.zeros(4, 3, 9, 3))
    with pytest.raises(ValueError, match=r"larger than the padded input \(10, 10\)"):
        layers.conv2d_loops(x, torch.zeros(4, 3, 11, 3), padding=1)
    layers.conv2d(x, torch.zeros(4, 3, 10, 3), padding=1)  # fits once padded
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        layers.conv2d(x, torch.zeros(4, 3, 3, 3), torch.zeros(3))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        layers.conv2d(torch.zeros(8, 8), torch.zeros(4, 3, 3, 3))
    with pytest.raises(ValueError, match="stride"):
        layers.conv2d(x, torch.zeros(4, 3, 3, 3), stride=(1, 2, 3))


def test_every_output_channel_is_a_sum_over_input_channels_plus_its_bias():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 7, 6, generator=generator, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 3, generator=generator, dtype=torch.float64)
    b = torch.randn(4, generator=generator, dtype=torch.float64)
    out = layers.conv2d(x, w, b, padding=1)
    for f in range(4):
        per_channel = sum(layers.conv2d(x[:, c : c + 1], w[f : f + 1, c : c + 1], padding=1) for c in range(3))
        torch.testing.assert_close(out[:, f : f + 1], per_channel + b[f], rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- true convolution


def test_convolve2d_follows_the_formula_literally():
    generator = torch.Generator().manual_seed(2)
    f = torch.randn(5, 6, generator=generator, dtype=torch.float64)
    g = torch.randn(3, 5, generator=generator, dtype=torch.float64)
    big_m, big_n = 1, 2

    def value(i, j):
        total = 0.0
        for m in range(-big_m, big_m + 1):
            for n in range(-big_n, big_n + 1):
                if 0 <= i - m < 5 and 0 <= j - n < 6:
                    total += f[i - m, j - n].item() * g[m + big_m, n + big_n].item()
        return total

    expected = torch.tensor([[value(i, j) for j in range(6)] for i in range(5)], dtype=torch.float64)
    torch.testing.assert_close(layers.convolve2d(f, g), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel", [(1, 1), (3, 3), (5, 3), (1, 7)])
def test_convolution_is_cross_correlation_with_the_flipped_kernel(kernel):
    generator = torch.Generator().manual_seed(3)
    f = torch.randn(9, 8, generator=generator, dtype=torch.float64)
    g = torch.randn(*kernel, generator=generator, dtype=torch.float64)
    padding = (kernel[0] // 2, kernel[1] // 2)
    flipped = layers.conv2d(f[None, None], g.flip(0, 1)[None, None], padding=padding)[0, 0]
    torch.testing.assert_close(layers.convolve2d(f, g), flipped, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        flipped, F.conv2d(f[None, None], g.flip(0, 1)[None, None], padding=padding)[0, 0], rtol=1e-12, atol=1e-12
    )


def test_an_impulse_reproduces_the_kernel_under_convolution_and_flips_it_under_cross_correlation():
    g = torch.arange(1.0, 16.0, dtype=torch.float64).reshape(3, 5)
    impulse = torch.zeros(7, 9, dtype=torch.float64)
    impulse[3, 4] = 1.0
    assert torch.equal(layers.convolve2d(impulse, g)[2:5, 2:7], g)
    correlated = layers.conv2d(impulse[None, None], g[None, None], padding=(1, 2))[0, 0]
    assert torch.equal(correlated[2:5, 2:7], g.flip(0, 1))


def test_convolve2d_rejects_even_kernels_and_batches():
    with pytest.raises(ValueError, match="odd"):
        layers.convolve2d(torch.zeros(5, 5), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="one image"):
        layers.convolve2d(torch.zeros(1, 5, 5), torch.zeros(3, 3))


# --------------------------------------------------------------------------- pooling


def random_pool_case(seed: int, dtype: torch.dtype):
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    kernel = (rng.randint(1, 4), rng.randint(1, 4))
    stride = rng.choice([None, (rng.randint(1, 3), rng.randint(1, 3))])
    padding = (rng.randint(0, kernel[0] // 2), rng.randint(0, kernel[1] // 2))
    h, w = rng.randint(kernel[0], 11), rng.randint(kernel[1], 11)
    x = torch.randn(rng.randint(1, 3), rng.randint(1, 4), h, w, generator=generator, dtype=dtype)
    return x, kernel, stride, padding


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", range(25))
def test_pooling_equals_torch_on_random_shapes(seed, dtype):
    x, kernel, stride, padding = random_pool_case(seed, dtype)
    assert_equal_to(layers.max_pool2d(x, kernel, stride, padding), F.max_pool2d(x, kernel, stride, padding), dtype)
    assert_equal_to(layers.avg_pool2d(x, kernel, stride, padding), F.avg_pool2d(x, kernel, stride, padding), dtype)


def test_max_pool2d_matches_the_cs231n_reference_output():
    """The published check of CS231n's max_pool_forward_naive: linspace input, 2×2 windows, stride 2."""
    x = torch.linspace(-0.3, 0.4, 2 * 3 * 4 * 4, dtype=torch.float64).reshape(2, 3, 4, 4)
    correct = torch.tensor(
        [
            [
                [[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
                [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
                [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]],
            ],
            [
                [[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
                [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
                [[0.32631579, 0.34105263], [0.38526316, 0.4]],
            ],
        ],
        dtype=torch.float64,
    )
    torch.testing.assert_close(layers.max_pool2d(x, 2, 2), correct, rtol=1e-7, atol=1e-8)
    torch.testing.assert_close(layers.max_pool2d(x, kernel_size=2), correct, rtol=1e-7, atol=1e-8)


def test_pooling_gradients_equal_those_of_torch():
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(2, 3, 9, 8, generator=generator, dtype=torch.float64)
    for ours, theirs in [(layers.max_pool2d, F.max_pool2d), (layers.avg_pool2d, F.avg_pool2d)]:
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        ours(a, (3, 2), (2, 2), 1).pow(2).sum().backward()
        theirs(b, (3, 2), (2, 2), 1).pow(2).sum().backward()
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-12, atol=1e-12)


def test_pooling_errors():
    with pytest.raises(ValueError, match="at most half"):
        layers.max_pool2d(torch.zeros(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        layers.avg_pool2d(torch.zeros(1, 1, 3, 8), 4)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        layers.max_pool2d(torch.zeros(8, 8), 2)


# --------------------------------------------------------------------------- sizes and receptive fields


def test_output_size_is_the_shape_torch_produces():
    for n in range(1, 12):
        for k in range(1, 6):
            for s in range(1, 4):
                for p in range(3):
                    if n + 2 * p < k:
                        with pytest.raises(ValueError, match="larger than the padded input"):
                            layers.output_size(n, k, s, p)
                        continue
                    out = F.conv2d(torch.zeros(1, 1, n, n + 1), torch.zeros(1, 1, k, k), stride=s, padding=p)
                    assert out.shape[2] == layers.output_size(n, k, s, p) == (n + 2 * p - k) // s + 1
    with pytest.raises(ValueError, match="stride"):
        layers.output_size(8, 3, 0)


def measured_field(net: torch.nn.Module, size: int = 64) -> tuple[int, int]:
    """Rows and columns of the input that the centre output depends on (non-zero gradient)."""
    x = torch.rand(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    out = net(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows, cols = (x.grad[0, 0] != 0).nonzero(as_tuple=True)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_receptive_field_is_what_a_gradient_sees():
    """Positive weights and average pooling: every input in the field gets a non-zero gradient."""
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 1, 5, bias=False),
        torch.nn.ReLU(),
        torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(1, 1, (3, 5), bias=False, dilation=(1, 2)),
        torch.nn.AvgPool2d(3, stride=1),
    ).double()
    for layer in net:
        if isinstance(layer, torch.nn.Conv2d):
            torch.nn.init.uniform_(layer.weight, 0.5, 1.0)
    field = layers.receptive_field(net)
    assert field == (5 + 1 + 2 * 2 + 2 * 2, 5 + 1 + 8 * 2 + 2 * 2)
    assert measured_field(net) == field


def test_receptive_field_of_pairs():
    assert layers.receptive_field([]) == 1
    assert layers.receptive_field([(3, 1)] * 3) == 7  # three 3×3 convolutions see as far as one 7×7
    assert layers.receptive_field([(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)]) == 32  # LeNet-5 sees it all
    assert layers.receptive_field([((3, 1), (1, 1)), ((2, 2), (2, 2))]) == (4, 2)


def test_circular_padding_equals_torch():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float64).reshape(2, 3, 4, 5)
    assert torch.equal(layers.pad(x, (2, 3), mode="circular"), F.pad(x, (3, 3, 2, 2), mode="circular"))
    assert torch.equal(layers.pad(x, 1), F.pad(x, (1, 1, 1, 1)))
    with pytest.raises(ValueError, match="mode"):
        layers.pad(x, 1, mode="reflect")


def test_the_module_imports_torch_only():
    tree = ast.parse(Path(layers.__file__).read_text())
    modules = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    modules |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert modules <= {"torch", "__future__", "collections", "typing"}, modules


def test_one_unbatched_image_works_as_in_torch():
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(3, 7, 6, generator=generator, dtype=torch.float64)
    w = torch.randn(2, 3, 3, 3, generator=generator, dtype=torch.float64)
    for conv in (layers.conv2d, layers.conv2d_loops):
        out = conv(x, w, None, 2, 1)
        assert out.shape == (2, 4, 3)
        torch.testing.assert_close(out, F.conv2d(x, w, None, 2, 1), rtol=1e-12, atol=1e-12)
    assert torch.equal(layers.max_pool2d(x, 2), F.max_pool2d(x, 2))
    torch.testing.assert_close(layers.avg_pool2d(x, 3, 2, 1), F.avg_pool2d(x, 3, 2, 1), rtol=1e-12, atol=1e-12)


def test_integer_like_sizes_are_accepted_and_floats_refused():
    x = torch.randn(1, 1, 6, 6)
    expected = F.conv2d(x, torch.ones(1, 1, 3, 3), stride=2)
    assert torch.equal(layers.conv2d(x, torch.ones(1, 1, 3, 3), stride=torch.tensor(2)), expected)
    with pytest.raises(ValueError, match="stride"):
        layers.conv2d(x, torch.ones(1, 1, 3, 3), stride=2.0)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.max_pool2d(x, 1.5)


# --------------------------------------------------------------------------- backward passes


def autograd_gradients(function, inputs, upstream):
    leaves = [t.clone().requires_grad_() for t in inputs]
    return torch.autograd.grad((function(*leaves) * upstream).sum(), leaves)


@pytest.mark.parametrize("seed", range(20))
def test_conv2d_backward_equals_autograd_on_random_shapes(seed):
    x, weight, bias, stride, padding = random_conv_case(seed, torch.float64)
    out = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    expected = autograd_gradients(lambda *t: F.conv2d(*t, stride=stride, padding=padding), (x, weight, bias), upstream)
    ours = layers.conv2d_backward(upstream, x, weight, stride, padding)
    for a, b in zip(ours, expected, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "kernel", "stride", "padding"),
    [
        ((2, 3, 7, 6), (3, 3), 2, 1),  # stride 2 with padding: the last row and column reach no window
        ((1, 2, 9, 8), (3, 2), (2, 1), (1, 0)),
        ((2, 1, 5, 7), (1, 1), 1, 0),  # 1×1
        ((1, 2, 6, 5), (5, 4), 3, 2),  # kernel almost as large as the padded input
    ],
)
def test_the_hand_written_backward_passes_gradcheck(shape, kernel, stride, padding):
    generator = torch.Generator().manual_seed(sum(shape))
    x = torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, shape[1], *kernel, generator=generator, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, generator=generator, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *t: layers.Conv2dFunction.apply(*t, stride, padding), (x, w, b))
    assert torch.autograd.gradcheck(lambda *t: layers.Conv2dFunction.apply(*t, None, stride, padding), (x, w))
    pool_padding = tuple(min(p, k // 2) for p, k in zip(layers._pair(padding, ""), kernel, strict=True))
    assert torch.autograd.gradcheck(lambda t: layers.MaxPool2dFunction.apply(t, kernel, stride, pool_padding), (x,))


def test_the_input_gradient_is_a_full_convolution_with_the_kernel():
    """Stride 1, one channel: ∂L/∂x is the notes' (true) convolution of the padded upstream gradient with w."""
    generator = torch.Generator().manual_seed(6)
    x = torch.randn(1, 1, 8, 9, generator=generator, dtype=torch.float64)
    w = torch.randn(1, 1, 3, 5, generator=generator, dtype=torch.float64)
    dout = torch.randn(1, 1, 6, 5, generator=generator, dtype=torch.float64)
    dx, _, _ = layers.conv2d_backward(dout, x, w)
    full = layers.convolve2d(F.pad(dout[0, 0], (2, 2, 1, 1)), w[0, 0])  # the same size as the padded dout
    torch.testing.assert_close(dx[0, 0], full, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_max_pool2d_backward_equals_autograd_on_random_shapes(seed):
    x, kernel, stride, padding = random_pool_case(seed, torch.float64)
    out = F.max_pool2d(x, kernel, stride, padding)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    (expected,) = autograd_gradients(lambda t: F.max_pool2d(t, kernel, stride, padding), (x,), upstream)
    torch.testing.assert_close(layers.max_pool2d_backward(upstream, x, kernel, stride, padding), expected)


def test_max_pooling_sends_the_gradient_to_the_argmax_only():
    x = torch.tensor([[[[1.0, 5.0, 2.0, 2.0], [3.0, 4.0, 2.0, 2.0]]]])
    dx = layers.max_pool2d_backward(torch.tensor([[[[10.0, 20.0]]]]), x, 2)
    # the 5 wins its window; the tie of 2s goes to the first in row-major order, as in torch
    assert dx.tolist() == [[[[0.0, 10.0, 20.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]
    leaf = x.clone().requires_grad_()
    (F.max_pool2d(leaf, 2) * torch.tensor([[[[10.0, 20.0]]]])).sum().backward()
    assert torch.equal(leaf.grad, dx)
    overlapping = torch.zeros(1, 1, 5, 5)
    overlapping[0, 0, 2, 2] = 1.0  # the maximum of all nine 3×3 windows
    assert layers.max_pool2d_backward(torch.ones(1, 1, 3, 3), overlapping, 3, 1)[0, 0, 2, 2] == 9.0


def test_backward_passes_accept_one_image_and_check_shapes():
    generator = torch.Generator().manual_seed(7)
    x = torch.randn(2, 6, 5, generator=generator, dtype=torch.float64)
    w = torch.randn(4, 2, 3, 3, generator=generator, dtype=torch.float64)
    dx, dw, db = layers.conv2d_backward(torch.ones(4, 3, 3), x, w, 2, 1)
    batched = layers.conv2d_backward(torch.ones(1, 4, 3, 3), x[None], w, 2, 1)
    assert dx.shape == x.shape and torch.equal(dx, batched[0][0]) and torch.equal(dw, batched[1])
    assert db.tolist() == [9.0] * 4
    assert layers.max_pool2d_backward(torch.ones(2, 3, 2), x, 2).shape == x.shape
    with pytest.raises(ValueError, match=r"dout must have the shape of the convolution's output \(1, 4, 3, 3\)"):
        layers.conv2d_backward(torch.ones(1, 4, 4, 2), x[None], w, 2, 1)
    with pytest.raises(ValueError, match=r"dout must have the pooled shape \(1, 2, 3, 2\)"):
        layers.max_pool2d_backward(torch.ones(1, 2, 2, 2), x[None], 2)


# --------------------------------------------------------------------------- 1×1, dilation, learning a kernel


def test_a_one_by_one_convolution_is_a_matrix_product_over_channels():
    generator = torch.Generator().manual_seed(8)
    x = torch.randn(2, 5, 4, 3, generator=generator, dtype=torch.float64)
    w = torch.randn(7, 5, 1, 1, generator=generator, dtype=torch.float64)
    b = torch.randn(7, generator=generator, dtype=torch.float64)
    per_pixel = (w[:, :, 0, 0] @ x.flatten(2) + b[:, None]).reshape(2, 7, 4, 3)
    torch.testing.assert_close(layers.conv2d(x, w, b), per_pixel, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dilation", [1, 2, 3, (2, 1)])
def test_a_dilated_kernel_gives_torch_s_dilated_convolution_and_its_receptive_field(dilation):
    generator = torch.Generator().manual_seed(9)
    x = torch.randn(2, 3, 11, 12, generator=generator, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 2, generator=generator, dtype=torch.float64)
    spread = layers.dilate(w, dilation)
    d = layers._pair(dilation, "")
    assert spread.shape[2:] == (2 * d[0] + 1, d[1] + 1)
    assert torch.count_nonzero(spread) == torch.count_nonzero(w)
    expected = F.conv2d(x, w, stride=2, padding=1, dilation=dilation)
    torch.testing.assert_close(layers.conv2d(x, spread, stride=2, padding=1), expected, rtol=1e-12, atol=1e-12)
    module = torch.nn.Conv2d(3, 4, (3, 2), dilation=dilation)
    assert layers.receptive_field([module]) == layers.receptive_field([(spread.shape[2:], 1)])


def test_dilate_errors():
    with pytest.raises(ValueError, match="at least 1"):
        layers.dilate(torch.ones(3, 3), 0)
    with pytest.raises(ValueError, match="two dimensions"):
        layers.dilate(torch.ones(3), 2)


def test_learn_kernel_recovers_an_edge_filter_from_noise_images():
    generator = torch.Generator().manual_seed(10)
    sobel = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float64)
    x = torch.randn(8, 1, 12, 12, generator=generator, dtype=torch.float64)
    target = layers.conv2d(x, sobel[None, None], padding=1)
    weight, losses = layers.learn_kernel(x, target, 3, lr=0.1, steps=150, padding=1)
    assert len(losses) == 151 and losses[-1] < 1e-15 * losses[0]
    torch.testing.assert_close(weight[0, 0], sobel, rtol=0, atol=1e-8)
    # each step is the gradient step that autograd would take
    w = torch.zeros(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    F.mse_loss(F.conv2d(x, w, padding=1), target).backward()
    one_step, _ = layers.learn_kernel(x, target, 3, lr=0.1, steps=1, padding=1)
    torch.testing.assert_close(one_step, -0.1 * w.grad, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"target \(8, 1, 12, 12\) must have the shape.*\(8, 1, 10, 10\)"):
        layers.learn_kernel(x, target, 3, lr=0.1, steps=1)
