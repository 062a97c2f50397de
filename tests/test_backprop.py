import numpy as np
import pytest
import torch

from dlfoundations import backprop

CONFIGS = [
    (hidden, loss, output)
    for hidden in ("sigmoid", "tanh", "relu")
    for loss, output in (("cross_entropy", "identity"), ("mse", "identity"), ("mse", "sigmoid"))
]


def random_problem(seed, hidden, loss, output, h=1e-3):
    """A random network and batch; for ReLU, redrawn until no unit is near its kink."""
    rng = np.random.default_rng(seed)
    while True:
        sizes = [int(n) for n in rng.integers(2, 7, size=rng.integers(2, 5))]
        net = backprop.MLP.create(sizes, hidden, output, loss, seed=int(rng.integers(1 << 30)))
        x = rng.normal(size=(int(rng.integers(1, 6)), sizes[0]))
        y = rng.integers(0, sizes[-1], len(x)) if loss == "cross_entropy" else rng.normal(size=(len(x), sizes[-1]))
        if hidden != "relu" or backprop.kink_crossings(net, x, h) == 0:
            return net, x, y


@pytest.mark.parametrize("hidden, loss, output", CONFIGS)
@pytest.mark.parametrize("seed", range(4))
def test_gradient_check_on_random_shapes(seed, hidden, loss, output):
    net, x, y = random_problem(seed, hidden, loss, output)
    assert max(backprop.gradient_check(net, x, y)) < 1e-7


@pytest.mark.parametrize("hidden, loss, output", CONFIGS)
def test_backward_agrees_with_autograd(hidden, loss, output):
    net, x, y = random_problem(11, hidden, loss, output)
    for ours, theirs in zip(net.backward(x, y), backprop.torch_gradients(net, x, y), strict=True):
        assert backprop.relative_error(ours, theirs) < 1e-10


def test_a_wrong_backward_is_caught(monkeypatch):
    rng = np.random.default_rng(0)
    net = backprop.MLP.create([3, 4, 2], "tanh", seed=1)
    x, y = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
    tanh, _ = backprop.ACTIVATIONS["tanh"]
    monkeypatch.setitem(backprop.ACTIVATIONS, "tanh", (tanh, lambda z: np.ones_like(z)))  # forget h'(z)
    assert max(backprop.gradient_check(net, x, y)) > 1e-3


def test_softmax_is_stable_and_normalized():
    z = np.array([[1000.0, 1001.0, 999.0], [-5.0, 0.0, 5.0]])
    p = backprop.softmax(z)
    assert np.isfinite(p).all() and np.allclose(p.sum(axis=1), 1)
    np.testing.assert_allclose(p[0], backprop.softmax(z[:1] - 1000)[0])


def test_relative_error_matches_cs231n():
    assert backprop.relative_error([1.0, 2.0], [1.0, 2.0]) == 0
    assert backprop.relative_error([1.0], [3.0]) == pytest.approx(0.5)
    assert backprop.relative_error([0.0], [1e-9]) == pytest.approx(1e-9 / 1e-8)


def test_numerical_gradient_of_a_polynomial_and_zero_directions():
    p = np.array([1.5, -2.0])
    grad = backprop.numerical_gradient(lambda: p[0] ** 3 + 0 * p[1], p)
    np.testing.assert_allclose(grad, [3 * 1.5**2, 0.0], rtol=1e-10)
    assert grad[1] == 0.0  # an unused parameter gets exactly zero
    np.testing.assert_array_equal(p, [1.5, -2.0])  # restored


def test_numerical_gradient_error_is_fourth_order():
    p = np.array([0.7])
    error = [abs(backprop.numerical_gradient(lambda: np.sin(p[0]), p, h)[0] - np.cos(0.7)) for h in (0.1, 0.05)]
    assert 15 < error[0] / error[1] < 17  # halving h divides the error by 2⁴


def test_kink_crossings_sees_units_in_every_layer():
    x = np.array([[1.0, -0.5], [0.3, 2.0]])
    net = backprop.MLP.create([2, 3, 3, 2], "relu", seed=0)
    for b in net.b[:-1]:
        b += 10.0  # every hidden unit far on: no perturbation of 2e-3 switches one off
    assert backprop.kink_crossings(net, x) == 0
    zs, _ = net.forward(x)
    net.b[1][0] -= zs[1][0, 0] - 1e-4  # a second-layer unit just above its kink on the first example
    assert net.forward(x)[0][1][0, 0] == pytest.approx(1e-4)
    before = [p.copy() for p in net.params]
    assert backprop.kink_crossings(net, x) > 0
    for p, q in zip(net.params, before, strict=True):
        np.testing.assert_array_equal(p, q)  # every parameter restored


def test_training_lowers_the_loss_on_spirals():
    x, y = backprop.spiral(points_per_class=50, classes=3, seed=0)
    assert x.shape == (150, 2) and set(y) == {0, 1, 2}
    net = backprop.MLP.create([2, 32, 3], "relu", seed=0)
    before = net.loss_value(x, y)
    for _ in range(300):
        net.sgd_step(x, y, 0.5)
    assert net.loss_value(x, y) < before / 2


def test_errors_are_clear():
    with pytest.raises(ValueError, match="activations must be among"):
        backprop.MLP.create([2, 2], "swish")
    with pytest.raises(ValueError, match="loss must be one of"):
        backprop.MLP.create([2, 2], loss="hinge")
    with pytest.raises(ValueError, match=r"expected inputs \(N, 2\)"):
        backprop.MLP.create([2, 2]).forward(np.zeros((3, 5)))


def test_graph_lines_and_timing():
    w = torch.randn(3, 2, requires_grad=True)
    loss = torch.relu(torch.randn(4, 3) @ w).sum()
    lines = backprop.graph_lines(loss)
    assert lines[0] == "SumBackward0" and any("leaf of shape (3, 2)" in line for line in lines)
    model = torch.nn.Linear(8, 3)
    forward_s, both_s = backprop.forward_backward_times(model, torch.randn(16, 8), torch.randint(0, 3, (16,)), 2)
    assert 0 < forward_s and 0 < both_s


def test_timing_runs_on_the_threads_asked_and_restores_them():
    seen = []

    class Spy(torch.nn.Linear):
        def forward(self, x):
            seen.append(torch.get_num_threads())
            return super().forward(x)

    before = torch.get_num_threads()
    backprop.forward_backward_times(Spy(8, 3), torch.randn(16, 8), torch.randint(0, 3, (16,)), 2)
    assert set(seen) == {1} and torch.get_num_threads() == before
    seen.clear()
    backprop.forward_backward_times(Spy(8, 3), torch.randn(16, 8), torch.randint(0, 3, (16,)), 2, threads=None)
    assert set(seen) == {before}
