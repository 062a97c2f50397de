import math

import pytest
import torch

from dlfoundations import initializers, models


def test_fans_follow_torch_layout():
    assert initializers.fans(torch.empty(128, 64)) == (64, 128)
    assert initializers.fans(torch.empty(128, 64, 3, 3)) == (576, 1152)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        initializers.fans(torch.empty(5))


def test_variance_rules_and_bounds():
    assert initializers.xavier_variance(32, 64) == pytest.approx(2 / 96)
    assert initializers.he_variance(200) == 0.01
    b = initializers.uniform_bound(0.02)
    assert b**2 / 3 == pytest.approx(0.02)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (initializers.xavier_uniform_, torch.nn.init.xavier_uniform_),
        (initializers.xavier_normal_, torch.nn.init.xavier_normal_),
        (lambda w: initializers.he_normal_(w), lambda w: torch.nn.init.kaiming_normal_(w, nonlinearity="relu")),
        (lambda w: initializers.he_uniform_(w), lambda w: torch.nn.init.kaiming_uniform_(w, nonlinearity="relu")),
        (
            lambda w: initializers.he_normal_(w, "fan_out"),
            lambda w: torch.nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
        ),
    ],
)
@pytest.mark.parametrize("shape", [(300, 200), (32, 16, 5, 5)])
def test_bit_identical_to_torch(ours, theirs, shape):
    torch.manual_seed(3)
    a = ours(torch.empty(shape))
    torch.manual_seed(3)
    b = theirs(torch.empty(shape))
    assert torch.equal(a, b)


def test_statistics_of_the_initializers():
    torch.manual_seed(0)
    w = initializers.xavier_normal_(torch.empty(400, 600))
    assert w.var().item() == pytest.approx(2 / 1000, rel=0.02)
    w = initializers.he_uniform_(torch.empty(400, 600))
    assert w.var().item() == pytest.approx(2 / 600, rel=0.02)
    assert w.abs().max().item() <= math.sqrt(6 / 600)
    with pytest.raises(ValueError, match="fan_in"):
        initializers.he_normal_(torch.empty(3, 3), mode="fan")


def test_initialize_schemes():
    model = models.DeepMLP(in_features=50, width=40, depth=3, activation="relu")
    initializers.initialize(model, "zeros")
    assert all((layer.weight == 0).all() for layer in model.layers)
    torch.manual_seed(0)
    initializers.initialize(model, "normal 0.5")
    assert model.linears[1].weight.std().item() == pytest.approx(0.5, rel=0.05)
    initializers.initialize(model, "he")
    assert model.linears[1].weight.std().item() == pytest.approx(math.sqrt(2 / 40), rel=0.05)
    assert all((layer.bias == 0).all() for layer in model.layers)
    with pytest.raises(ValueError, match="scheme must be"):
        initializers.initialize(model, "orthogonal")


def test_forward_statistics_reproduce_the_slides_first_layer():
    outputs = initializers.forward_statistics([500] * 3, 0.01, seed=0)
    assert len(outputs) == 3 and outputs[1].shape == (1000, 500)
    assert outputs[1].std().item() == pytest.approx(0.2135, abs=0.01)
    assert outputs[2].std().item() / outputs[1].std().item() == pytest.approx(math.sqrt(500) * 0.01, rel=0.05)


def _glorot_formulas(widths, variances):
    """Var(s^l), Var(∂L/∂s^l) and Var(∂L/∂W^l) of a linear network, with Var(x) = Var(g^L) = 1."""
    forward = [n * v for n, v in zip(widths[:-1], variances, strict=True)]
    backward = [n * v for n, v in zip(widths[1:], variances, strict=True)]
    layers = range(len(variances))  # layer k + 1 at index k
    activations = [math.prod(forward[: k + 1]) for k in layers]
    backprop = [math.prod(backward[k + 1 :]) for k in layers]
    weight_gradients = [(activations[k - 1] if k else 1.0) * backprop[k] for k in layers]
    return {"activations": activations, "backprop": backprop, "weight_gradients": weight_gradients}


@pytest.mark.parametrize(
    "widths, variances",
    [([128] * 5, [1 / 128] * 4), ([64, 32, 128], [0.02, 0.005]), ([256, 128, 64, 32], [1 / 400, 1 / 80, 0.05])],
)
def test_linear_network_variances_follow_glorots_formulas(widths, variances):
    measured = initializers.linear_network_variances(widths, variances, examples=2000, draws=4, seed=1)
    formulas = _glorot_formulas(widths, variances)
    assert set(measured) == set(formulas)
    for key, values in measured.items():
        assert values == pytest.approx(formulas[key], rel=0.06), key


def test_weight_gradient_variance_is_the_same_in_equal_layers_whatever_the_variance():
    for variance in (1 / 64, 1 / (3 * 64), 2 / 64):
        weight_gradients = initializers.linear_network_variances([64] * 7, [variance] * 6, draws=4)["weight_gradients"]
        assert max(weight_gradients) / min(weight_gradients) < 1.1
    # widths that halve: the ratio n_(l-1) v_l / (n_(l+1) v_(l+1)) is 2 under Xavier
    widths = [512, 256, 128, 64, 32]
    variances = [initializers.xavier_variance(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)]
    weight_gradients = initializers.linear_network_variances(widths, variances, draws=4)["weight_gradients"]
    ratios = [b / a for a, b in zip(weight_gradients[:-1], weight_gradients[1:], strict=True)]
    assert ratios == pytest.approx([2.0] * 3, rel=0.08)


def test_linear_network_variances_is_seeded_and_checks_its_arguments():
    a = initializers.linear_network_variances([20, 30, 10], [0.05, 0.03], examples=50, draws=1, seed=3)
    b = initializers.linear_network_variances([20, 30, 10], [0.05, 0.03], examples=50, draws=1, seed=3)
    assert a == b
    with pytest.raises(ValueError, match="one variance per weight matrix"):
        initializers.linear_network_variances([20, 30, 10], [0.05])
    with pytest.raises(ValueError, match="positive"):
        initializers.linear_network_variances([20, 30], [0.0])
