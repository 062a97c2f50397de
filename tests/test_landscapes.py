import pytest
import torch

from dlfoundations import landscapes


@pytest.mark.parametrize("surface", list(landscapes.SURFACES.values()), ids=lambda s: s.name)
def test_gradient_and_hessian_match_autograd(surface):
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        x = torch.randn(surface.dim, dtype=torch.float64, generator=generator) * 2
        torch.testing.assert_close(surface.grad(x), torch.autograd.functional.jacobian(surface.f, x))
        torch.testing.assert_close(surface.hessian(x), torch.autograd.functional.hessian(surface.f, x))


@pytest.mark.parametrize("surface", list(landscapes.SURFACES.values()), ids=lambda s: s.name)
def test_stated_minimum_is_stationary_and_a_minimum(surface):
    if surface.minimum is None:
        return
    assert surface.grad(surface.minimum).abs().max() < 1e-4
    assert landscapes.classify(surface, surface.minimum) == "minimum"


def test_surfaces_accept_numbers_lists_and_grids():
    assert landscapes.PARABOLA(5.0).item() == -24
    assert landscapes.SHIFTED_BOWL([5, 0]).item() == 0
    grid = torch.zeros(2, 3, 4, dtype=torch.float64)
    assert landscapes.ROSENBROCK.f(grid).shape == (3, 4)


def test_cubic_saddles_has_three_saddles_and_the_slides_point_is_not_stationary():
    s = landscapes.CUBIC_SADDLES
    for point, value in [((0, 0.25), 0), ((-2, 0.375), 2), ((2, -0.625), 6)]:
        assert s.grad(point).abs().max() < 1e-12
        assert s(point).item() == pytest.approx(value)
        assert landscapes.classify(s, point) == "saddle"
        assert torch.linalg.det(s.hessian(point)).item() == pytest.approx(-((3 * point[0] ** 2 - 4) ** 2))
    assert s.grad([-2, 0.125]).abs().max() > 1


def test_classify_kinds():
    assert landscapes.classify(landscapes.SADDLE, [0, 0]) == "saddle"
    assert landscapes.classify(landscapes.ELONGATED_BOWL, [1, 1]) == "minimum"
    assert landscapes.classify(landscapes.QUARTIC, [0.0]) == "degenerate"  # an inflection point
    assert landscapes.classify(landscapes.QUARTIC, [10.0]) == "maximum"  # f'' < 0 there


def test_newton_solves_a_quadratic_in_one_step_and_finds_saddles():
    path = landscapes.newton(landscapes.SHIFTED_BOWL, [-9, 6], steps=1)
    torch.testing.assert_close(path[-1], torch.tensor([5.0, 0.0], dtype=torch.float64))
    end = landscapes.newton(landscapes.CUBIC_SADDLES, [0.3, 0.1], steps=10)[-1]
    torch.testing.assert_close(end, torch.tensor([0.0, 0.25], dtype=torch.float64))


def test_newton_with_a_tolerance_stops_after_the_first_short_step():
    full = landscapes.newton(landscapes.QUARTIC, [-6.0], steps=200)
    early = landscapes.newton(landscapes.QUARTIC, [-6.0], steps=200, tol=1e-10)
    assert 10 < len(early) < len(full)  # it stopped, and not at once
    torch.testing.assert_close(early, full[: len(early)])  # the same iterates up to there
    steps = (early[1:] - early[:-1]).abs().ravel()
    assert steps[-1] < 1e-10 and (steps[:-1] >= 1e-10).all()
    torch.testing.assert_close(early[-1], torch.tensor(landscapes.QUARTIC.minimum, dtype=torch.float64))
    never = landscapes.newton(landscapes.QUARTIC, [-5.0], steps=30, tol=1e-10)
    assert len(never) == 31  # still wandering near x = 0 after 30 steps
    with pytest.raises(ValueError, match="tol must be a positive"):
        landscapes.newton(landscapes.QUARTIC, [-5.0], steps=3, tol=0.0)


def test_newton_says_where_the_hessian_is_singular():
    with pytest.raises(ValueError, match=r"Hessian of the quartic is singular there \(after 0 steps\)"):
        landscapes.newton(landscapes.QUARTIC, [0.0], steps=3)  # f''(0) = 0: an inflection point
    with pytest.raises(ValueError, match=r"x = \[25\.0\]"):
        landscapes.newton(landscapes.QUARTIC, [25.0], steps=3)  # the other inflection point
    assert len(landscapes.newton(landscapes.QUARTIC, [25.001], steps=3)) == 4  # next to it, a step is defined
