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
