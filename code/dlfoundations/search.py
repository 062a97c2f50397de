"""Hyperparameter search: grids, random samples, a loop that records every trial, and a sorted table.

A *configuration* is a plain dict such as ``{"lr": 1e-3, "weight_decay": 1e-4}``.
An *objective* maps a configuration to a dict of measurements (for example
``{"val": 0.52, "seconds": 31.0}``); :func:`run` calls it for every
configuration and returns one row per trial, configuration and measurements
together, best first.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Callable, Iterable


def grid(**axes: Iterable) -> list[dict]:
    """Every combination of the values given for each hyperparameter, in a fixed order."""
    if not axes:
        raise ValueError("grid() needs at least one hyperparameter, e.g. grid(lr=[1e-3, 1e-4])")
    names = list(axes)
    values = [list(v) for v in axes.values()]
    for name, options in zip(names, values, strict=True):
        if not options:
            raise ValueError(f"grid(): no values given for {name!r}")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def sample(configs: list[dict], trials: int, seed: int = 0) -> list[dict]:
    """``trials`` configurations drawn without replacement (all of them, in order, if ``trials`` ≥ their number)."""
    if trials >= len(configs):
        return list(configs)
    if trials < 1:
        raise ValueError(f"trials must be at least 1, not {trials}")
    chosen = sorted(random.Random(seed).sample(range(len(configs)), trials))
    return [configs[i] for i in chosen]


def random_configs(space: dict, trials: int, seed: int = 0) -> list[dict]:
    """Random search: a list is a set of choices, a ``(low, high)`` tuple a log-uniform range.

    ``random_configs({"lr": (1e-5, 1e-1), "hidden": [4000, 5000]}, 10)`` draws the
    learning rate on a log scale, which spreads trials evenly over orders of magnitude.
    """
    rng = random.Random(seed)
    configs = []
    for _ in range(trials):
        config = {}
        for name, spec in space.items():
            if isinstance(spec, tuple):
                low, high = spec
                if not 0 < low < high:
                    raise ValueError(f"{name}: a log-uniform range needs 0 < low < high, got {spec}")
                config[name] = math.exp(rng.uniform(math.log(low), math.log(high)))
            else:
                config[name] = rng.choice(list(spec))
        configs.append(config)
    return configs


def run(configs: list[dict], objective: Callable[[dict], dict], key: str = "val", verbose: bool = True) -> list[dict]:
    """Evaluate every configuration; rows (configuration + measurements) sorted by ``key``, best first."""
    rows = []
    for i, config in enumerate(configs, start=1):
        measured = objective(dict(config))
        if key not in measured:
            raise KeyError(f"the objective must return {key!r}; it returned {sorted(measured)}")
        rows.append({**config, **measured})
        if verbose:
            shown = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in config.items())
            print(f"[{i}/{len(configs)}] {shown}: {key} = {measured[key]:.4f}")
    return sorted(rows, key=lambda row: row[key], reverse=True)


def best(rows: list[dict], names: Iterable[str]) -> dict:
    """The configuration (only the hyperparameters ``names``) of the best row."""
    if not rows:
        raise ValueError("no trials to choose from")
    return {name: rows[0][name] for name in names}


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-2 or abs(value) >= 1e4 else f"{value:.3f}"
    return str(value)


def table(rows: list[dict], columns: list[str] | None = None, percent: Iterable[str] = ()) -> str:
    """A Markdown table of the rows in their order; columns in ``percent`` shown as percentages."""
    from .book import markdown_table

    columns = columns or list(rows[0])
    percent = set(percent)
    body = [[f"{100 * row[c]:.1f}%" if c in percent else _cell(row[c]) for c in columns] for row in rows]
    return markdown_table(columns, body)


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    values = list(values)
    if not values:
        raise ValueError("mean_std() of nothing")
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


# two-sided 95% quantiles of Student's t distribution, t_{0.975, df} (standard tables)
_T975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    12: 2.179,
    15: 2.131,
    20: 2.086,
    30: 2.042,
}


def t_critical(df: int) -> float:
    """``t_{0.975, df}``: a mean difference over ``df + 1`` paired values is significant at the 5% level
    (two-sided) when it exceeds this many standard errors. Between tabulated ``df`` the next smaller
    one is used (a slightly stricter test); above 30, 1.96."""
    if df < 1:
        raise ValueError(f"a t-test needs at least 1 degree of freedom, not {df}")
    if df > 30:
        return 1.96
    return _T975[max(k for k in _T975 if k <= df)]


def expected_max_normal(k: int, points: int = 20_001) -> float:
    """``E[max of k independent standard normals]``, by the integral of ``z k phi(z) Phi(z)^(k-1)``."""
    import torch

    z = torch.linspace(-8, 8, points, dtype=torch.float64)
    density = k * torch.exp(-(z**2) / 2) / (2 * torch.pi) ** 0.5
    return torch.trapezoid(z * density * torch.special.ndtr(z) ** (k - 1), z).item()
