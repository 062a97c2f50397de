import numpy as np
import pytest
import torch

from dlfoundations import backprop, batchnorm, models


@pytest.mark.parametrize("shape", [(7, 3), (16, 1), (3, 4, 2, 5), (2, 2, 3, 3)])
def test_backward_matches_finite_differences(shape):
    g = torch.Generator().manual_seed(len(shape) * 10 + shape[1])
    arrays = [
        (torch.randn(shape, generator=g, dtype=torch.float64) * 2 + 0.5).numpy(),
        (torch.rand(shape[1], generator=g, dtype=torch.float64) + 0.5).numpy(),
        torch.randn(shape[1], generator=g, dtype=torch.float64).numpy(),
    ]
    r = torch.randn(shape, generator=g, dtype=torch.float64)

    def loss():
        return float((batchnorm.forward(*map(torch.from_numpy, arrays))[0] * r).sum())

    _, cache = batchnorm.forward(*map(torch.from_numpy, arrays))
    analytic = batchnorm.backward(r, cache)
    for a, p in zip(analytic, arrays, strict=True):
        assert backprop.relative_error(a.numpy(), backprop.numerical_gradient(loss, p)) < 1e-7


@pytest.mark.parametrize("shape", [(9, 4), (5, 3, 4, 4)])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_module_matches_torch(shape, momentum):
    reference = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(shape[1], momentum=momentum)
    reference = reference.double()
    ours = batchnorm.BatchNorm(shape[1], momentum=momentum).double()
    with torch.no_grad():
        reference.weight.uniform_(0.5, 2.0)
        reference.bias.normal_()
        ours.gamma.copy_(reference.weight)
        ours.beta.copy_(reference.bias)
    g = torch.Generator().manual_seed(1)
    for step in range(4):
        x = torch.randn(shape, generator=g, dtype=torch.float64) * (step + 1) - step
        up = torch.randn(shape, generator=g, dtype=torch.float64)
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        ya, yb = ours(xa), reference(xb)
        (ya * up).sum().backward()
        (yb * up).sum().backward()
        torch.testing.assert_close(ya, yb)
        torch.testing.assert_close(xa.grad, xb.grad)
    torch.testing.assert_close(ours.gamma.grad, reference.weight.grad)
    torch.testing.assert_close(ours.beta.grad, reference.bias.grad)
    torch.testing.assert_close(ours.running_mean, reference.running_mean)
    torch.testing.assert_close(ours.running_var, reference.running_var)
    ours.eval()
    reference.eval()
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    torch.testing.assert_close(ours(xa), reference(xb))
    ours(xa).sum().backward()
    reference(xb).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad)


def test_running_statistics_formula():
    x = torch.tensor([[1.0], [3.0], [8.0]], dtype=torch.float64)
    rm, rv = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    batchnorm.forward(x, torch.ones(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64), rm, rv, momentum=0.25)
    assert rm.item() == pytest.approx(0.25 * 4.0)
    assert rv.item() == pytest.approx(0.75 + 0.25 * np.var([1, 3, 8], ddof=1))


def test_training_output_is_standardized_and_errors():
    y, _ = batchnorm.forward(torch.randn(100, 3) * 5 + 2, torch.ones(3), torch.zeros(3))
    torch.testing.assert_close(y.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(0, unbiased=False), torch.ones(3), atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="more than one value"):
        batchnorm.forward(torch.randn(1, 3), torch.ones(3), torch.zeros(3))
    with pytest.raises(ValueError, match=r"\(N, D\) or \(N, C, H, W\)"):
        batchnorm.forward(torch.randn(2, 3, 4), torch.ones(3), torch.zeros(3))
    with pytest.raises(ValueError, match="running statistics"):
        batchnorm.forward(torch.randn(4, 3), torch.ones(3), torch.zeros(3), training=False)


def test_standardizing_keeps_the_shape_of_the_distribution():
    """BN sets mean 0 and variance 1 per feature; skewness and ties survive, so ReLU outputs stay non-Gaussian."""
    z = torch.randn(2000, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    relu = torch.relu(z)
    y, _ = batchnorm.forward(relu, torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64), eps=0.0)
    torch.testing.assert_close(y.mean(0), torch.zeros(4, dtype=torch.float64))
    torch.testing.assert_close(y.var(0, unbiased=False), torch.ones(4, dtype=torch.float64))

    def skewness(a):
        centred = a - a.mean(0)
        return (centred**3).mean(0) / centred.pow(2).mean(0) ** 1.5

    torch.testing.assert_close(skewness(y), skewness(relu))  # unchanged by standardizing
    assert (skewness(y) > 1.2).all()  # a rectified normal's is 1.64, a Gaussian's 0
    assert torch.equal(y == y.min(0).values, relu == 0)  # the zeros share one value


def test_deep_mlp_accepts_our_batchnorm():
    torch.manual_seed(0)
    model = models.DeepMLP(in_features=12, width=10, depth=3, batchnorm=True, norm_layer=batchnorm.BatchNorm)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(64, 12), torch.randint(0, 10, (64,))
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_training_losses_agree_for_the_two_implementations_in_float64():
    torch.manual_seed(0)
    batches = [(torch.randn(8, 3, 6, 6), torch.randint(0, 10, (8,))) for _ in range(5)]
    curves = []
    for layer in [torch.nn.BatchNorm2d, batchnorm.BatchNorm]:
        torch.manual_seed(1)
        model = models.small_cnn((4, 4), norm_layer=layer, size=6)
        curves.append(batchnorm.training_losses(model, batches, lr=0.1))
        assert next(model.parameters()).dtype == torch.float64
    assert len(curves[0]) == 5 and curves[0][-1] < curves[0][0]  # it trains
    assert max(abs(a - b) for a, b in zip(*curves, strict=True)) < 1e-12
