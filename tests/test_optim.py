import math

import pytest
import torch

from dlfoundations import landscapes, optim

START = [-1.5, 2.0]
CASES = {
    "SGD": lambda x0: optim.SGD(x0, 1e-3),
    "Momentum": lambda x0: optim.Momentum(x0, 1e-3, 0.9),
    "Nesterov": lambda x0: optim.Nesterov(x0, 1e-3, 0.8),
    "Adagrad": lambda x0: optim.Adagrad(x0, 0.5),
    "RMSProp": lambda x0: optim.RMSProp(x0, 0.01, alpha=0.9),
    "Adam": lambda x0: optim.Adam(x0, 0.05, betas=(0.8, 0.99)),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(
    "surface, x0",
    [(landscapes.ROSENBROCK, START), (landscapes.ELONGATED_BOWL, [-8.0, 5.0]), (landscapes.CUBIC_SADDLES, [0.5, 0.3])],
    ids=["rosenbrock", "bowl", "saddles"],
)
def test_matches_torch_optim_step_for_step(name, surface, x0):
    path = CASES[name](x0).run(surface.grad, 200)
    assert torch.isfinite(path).all()
    same_gradients = optim.torch_path(CASES[name](x0), surface.f, x0, 200, gradient=surface.grad)
    torch.testing.assert_close(path, same_gradients)
    by_autograd = optim.torch_path(CASES[name](x0), surface.f, x0, 100)  # rounding differs slightly
    torch.testing.assert_close(path[:101], by_autograd)


def test_matrix_parameters_match_torch_too():
    target = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def loss(w):
        return ((w - target) ** 2).sum() + (w**4).sum()

    def grad(w):
        return 2 * (w - target) + 4 * w**3

    for make in CASES.values():
        x0 = torch.zeros(4, 3)
        torch.testing.assert_close(make(x0).run(grad, 50), optim.torch_path(make(x0), loss, x0, 50))


def test_trajectory_records_every_point():
    sgd = optim.SGD([1.0, 2.0], 0.1)
    sgd.step(torch.tensor([1.0, 0.0]))
    sgd.step(torch.tensor([0.0, 1.0]))
    assert sgd.t == 2
    torch.testing.assert_close(sgd.path, torch.tensor([[1.0, 2.0], [0.9, 2.0], [0.9, 1.9]], dtype=torch.float64))


def test_momentum_has_the_lecture_form():
    m = optim.Momentum([0.0], lr=0.1, momentum=0.5)
    m.step(torch.tensor([1.0]))  # v0 = γ g0 = 0.1
    m.step(torch.tensor([1.0]))  # v1 = 0.5 * 0.1 + 0.1 = 0.15
    torch.testing.assert_close(m.path.ravel(), torch.tensor([0.0, -0.1, -0.25], dtype=torch.float64))


def test_momentum_differs_from_torch_after_a_learning_rate_change():
    ours = optim.Momentum([1.0], lr=0.1, momentum=0.9)
    p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    theirs = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    for t in range(4):
        if t == 2:
            ours.lr = theirs.param_groups[0]["lr"] = 0.01
        ours.step(torch.tensor([1.0]))
        p.grad = torch.tensor([1.0], dtype=torch.float64)
        theirs.step()
    # ours:  v = 0.1, 0.19, then 0.9 * 0.19 + 0.01 = 0.181, 0.1729
    # torch: b = 1, 1.9, 2.71, 3.439 times lr = 0.1, 0.19, then 0.0271, 0.03439
    assert ours.x.item() == pytest.approx(1 - (0.1 + 0.19 + 0.181 + 0.1729))
    assert p.item() == pytest.approx(1 - (0.1 + 0.19 + 0.0271 + 0.03439))


def test_adaptive_step_sizes_on_a_constant_gradient():
    def g(x):
        return torch.full_like(x, 5.0)

    steps = optim.Adagrad([0.0], 0.2, eps=0.0).run(g, 16).diff(dim=0).abs().ravel()
    torch.testing.assert_close(steps, 0.2 / torch.arange(1, 17, dtype=torch.float64).sqrt())
    steps = optim.RMSProp([0.0], 0.2, alpha=0.5, eps=0.0).run(g, 5).diff(dim=0).abs().ravel()
    torch.testing.assert_close(steps, 0.2 / (1 - 0.5 ** torch.arange(1, 6, dtype=torch.float64)).sqrt())
    adam = optim.Adam([0.0, 0.0], 0.3, eps=0.0)
    adam.step(torch.tensor([7.0, -0.001]))
    torch.testing.assert_close(adam.x, torch.tensor([-0.3, 0.3], dtype=torch.float64))


def test_errors_are_clear():
    with pytest.raises(ValueError, match="learning rate must be positive"):
        optim.SGD([0.0], 0.0)
    with pytest.raises(ValueError, match="gradient shape"):
        optim.SGD([0.0, 0.0], 0.1).step(torch.zeros(3))
    with pytest.raises(TypeError, match="no torch.optim counterpart"):

        class Odd(optim.Optimizer):
            def displacement(self, g):
                return g

        optim.torch_counterpart(Odd([0.0], 0.1), torch.zeros(1))


def test_family_has_every_method():
    members = optim.family([0.0, 0.0], 0.1, 0.2, 0.3, 0.4, 0.5)
    assert list(members) == ["SGD", "Momentum", "Nesterov", "Adagrad", "RMSProp", "Adam"]
    assert [m.lr for m in members.values()] == [0.1, 0.2, 0.2, 0.3, 0.4, 0.5]
    assert members["Nesterov"].nesterov and not members["Momentum"].nesterov


@pytest.mark.parametrize(
    "ours, scheduler, options",
    [
        (lambda e: optim.step_decay(0.3, e, 0.1, 7), torch.optim.lr_scheduler.StepLR, {"step_size": 7, "gamma": 0.1}),
        (lambda e: optim.exponential_decay(0.3, e, 0.9), torch.optim.lr_scheduler.ExponentialLR, {"gamma": 0.9}),
        (
            lambda e: optim.cosine_decay(0.3, e, 20, 0.01),
            torch.optim.lr_scheduler.CosineAnnealingLR,
            {"T_max": 20, "eta_min": 0.01},
        ),
    ],
)
def test_schedules_match_torch(ours, scheduler, options):
    expected = optim.torch_schedule(scheduler, 21, lr0=0.3, **options)
    assert [ours(e) for e in range(21)] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_cosine_endpoints():
    assert optim.cosine_decay(2.0, 0, 10) == 2.0
    assert optim.cosine_decay(2.0, 10, 10, lr_min=0.5) == pytest.approx(0.5)
    assert optim.cosine_decay(2.0, 5, 10) == pytest.approx(1.0)
    assert math.isclose(optim.step_decay(1.0, 29, 0.5, 10), 0.25)


def test_nesterov_lookahead_points_are_pytorchs_iterates():
    surface = landscapes.ROSENBROCK
    theta, u = optim.nesterov_lookahead(surface.grad, [-1.5, 2.0], 1e-3, 0.9, 200)
    pytorch_form = optim.Nesterov([-1.5, 2.0], lr=1e-3, momentum=0.9).run(surface.grad, 200)
    torch.testing.assert_close(theta + 0.9 * u, pytorch_form)
    reference = optim.torch_path(optim.Nesterov([-1.5, 2.0], 1e-3, 0.9), surface.f, [-1.5, 2.0], 200)
    torch.testing.assert_close(pytorch_form, reference)
    assert (theta - pytorch_form).abs().max() > 1e-4
