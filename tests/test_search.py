import math

import pytest

from dlfoundations import search


def test_grid_covers_every_combination_in_order():
    configs = search.grid(hidden=[4000, 5000, 6000], lr=[1e-1, 1e-2, 1e-3, 1e-4], weight_decay=[1e-3, 1e-4, 1e-5])
    assert len(configs) == 36 and len({tuple(c.values()) for c in configs}) == 36
    assert configs[0] == {"hidden": 4000, "lr": 1e-1, "weight_decay": 1e-3}
    assert configs[-1] == {"hidden": 6000, "lr": 1e-4, "weight_decay": 1e-5}
    with pytest.raises(ValueError, match="no values given for 'lr'"):
        search.grid(lr=[])


def test_sample_is_seeded_without_replacement():
    configs = search.grid(a=range(10))
    picked = search.sample(configs, 4, seed=1)
    assert picked == search.sample(configs, 4, seed=1) and len({c["a"] for c in picked}) == 4
    assert search.sample(configs, 99) == configs


def test_random_configs_are_log_uniform():
    configs = search.random_configs({"lr": (1e-5, 1e-1), "hidden": [10, 20]}, 2000, seed=0)
    exponents = [math.log10(c["lr"]) for c in configs]
    assert min(exponents) >= -5 and max(exponents) <= -1
    below = sum(e < -3 for e in exponents) / len(exponents)  # half the orders of magnitude
    assert 0.45 < below < 0.55
    assert {c["hidden"] for c in configs} == {10, 20}
    with pytest.raises(ValueError, match="0 < low < high"):
        search.random_configs({"lr": (0, 1)}, 1)


def test_run_sorts_best_first_and_tables():
    rows = search.run(search.grid(x=[1, 2, 3]), lambda c: {"val": -((c["x"] - 2) ** 2), "s": 0.5}, verbose=False)
    assert [r["x"] for r in rows] == [2, 1, 3] or [r["x"] for r in rows] == [2, 3, 1]
    assert search.best(rows, ["x"]) == {"x": 2}
    text = search.table([{"lr": 1e-4, "val": 0.574}], percent=["val"])
    assert "| 0.0001 | 57.4% |" in text
    with pytest.raises(KeyError, match="must return 'val'"):
        search.run([{"x": 1}], lambda c: {"acc": 1.0}, verbose=False)


def test_mean_std():
    assert search.mean_std([0.5]) == (0.5, 0.0)
    mean, std = search.mean_std([1.0, 2.0, 3.0])
    assert mean == 2.0 and std == pytest.approx(1.0)


def test_t_critical_matches_the_t_distribution():
    import torch

    from dlfoundations import search

    torch.manual_seed(0)
    for df in (2, 4, 9):
        samples = torch.distributions.StudentT(df).sample((400_000,)).abs()
        empirical = torch.quantile(samples[:100_000], 0.95).item()  # |t| < t_crit with probability 0.95
        assert abs(search.t_critical(df) / empirical - 1) < 0.03, df
    assert search.t_critical(11) == search.t_critical(10) and search.t_critical(100) == 1.96
    import pytest

    with pytest.raises(ValueError):
        search.t_critical(0)
