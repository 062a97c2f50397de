"""Dropout, penalties, early stopping and ensembles from scratch, checked against PyTorch and by statistics."""

import ast
import copy
from pathlib import Path

import pytest
import torch

from dlfoundations import regularization as reg


def test_dropout_drops_a_fraction_p_and_keeps_the_mean():
    n, p = 250_000, 0.3
    x = torch.rand(n, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 0.5
    out = reg.dropout(x, p, generator=torch.Generator().manual_seed(1))
    zeroed = (out == 0).double().mean().item()
    assert abs(zeroed - p) < 0.01
    # the mean is unbiased: |difference| below 4 standard errors of the masked mean
    standard_error = (out.std() / n**0.5).item()
    assert abs(out.mean().item() - x.mean().item()) < 4 * standard_error
    survivors = out != 0
    assert torch.allclose(out[survivors], x[survivors] / (1 - p))


def test_dropout_gradient_is_the_scaled_mask():
    p = 0.4
    x = torch.randn(1000, dtype=torch.float64, requires_grad=True)
    out = reg.dropout(x, p, generator=torch.Generator().manual_seed(2))
    out.sum().backward()
    mask = (out != 0).double()
    assert torch.allclose(x.grad, mask / (1 - p))


def test_dropout_is_the_identity_in_eval_mode_and_rejects_bad_p():
    x = torch.randn(5, 7)
    assert reg.dropout(x, 0.5, training=False) is x
    layer = reg.Dropout(0.5).eval()
    assert torch.equal(layer(x), x)
    assert not torch.equal(layer.train()(x), x)
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="dropping"):
            reg.dropout(x, bad)
    with pytest.raises(ValueError):
        reg.Dropout(1.0)


def test_same_generator_seed_same_mask():
    x = torch.ones(10_000)
    a = reg.dropout(x, 0.5, generator=torch.Generator().manual_seed(3))
    b = reg.dropout(x, 0.5, generator=torch.Generator().manual_seed(3))
    c = reg.dropout(x, 0.5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_dropout_matches_torch_statistics():
    x = torch.ones(250_000)
    ours = (reg.dropout(x, 0.2) == 0).float().mean().item()
    theirs = (torch.nn.functional.dropout(x, 0.2) == 0).float().mean().item()
    assert abs(ours - theirs) < 0.01


def small_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    ).double()


def test_penalties_act_on_weights_only():
    net = small_net()
    ws = reg.weights(net)
    assert [tuple(w.shape) for w in ws] == [(8, 6), (3, 8)]  # no biases, no BatchNorm scale/shift
    expected_l2 = 0.5 * sum((w**2).sum() for w in ws)
    expected_l1 = sum(w.abs().sum() for w in ws)
    assert torch.allclose(reg.l2_penalty(net), expected_l2)
    assert torch.allclose(reg.l1_penalty(net), expected_l1)
    t = torch.tensor([3.0, -4.0])
    assert reg.l2_penalty([t]).item() == 12.5 and reg.l1_penalty([t]).item() == 7.0
    groups = reg.parameter_groups(net, 0.1)
    assert groups[0]["weight_decay"] == 0.1 and groups[1]["weight_decay"] == 0.0
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == len(list(net.parameters()))
    every = reg.parameter_groups(net, 0.1, decay_biases=True)  # biases and BatchNorm's γ, β decayed too
    assert [id(p) for p in every[0]["params"]] == [id(p) for p in net.parameters()] and not every[1]["params"]
    torch.optim.SGD(every, lr=0.1)  # an empty group is fine
    with pytest.raises(ValueError):
        reg.l2_penalty([])


def test_penalty_gradients():
    w = torch.tensor([[0.5, -2.0], [0.0, 3.0]], requires_grad=True)
    reg.l2_penalty([w]).backward()
    assert torch.equal(w.grad, w.detach())
    w.grad = None
    reg.l1_penalty([w]).backward()
    assert torch.equal(w.grad, torch.sign(w.detach()))


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_weight_decay_equals_l2_penalty_in_the_loss(momentum):
    lam, lr = 0.05, 0.1
    x = torch.randn(32, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    y = torch.randint(0, 3, (32,), generator=torch.Generator().manual_seed(6))
    a, b = small_net(), small_net()
    opt_a = torch.optim.SGD(reg.parameter_groups(a, lam), lr=lr, momentum=momentum)
    opt_b = torch.optim.SGD(b.parameters(), lr=lr, momentum=momentum)
    for _ in range(20):
        for net, opt, penalty in ((a, opt_a, 0.0), (b, opt_b, lam)):
            loss = torch.nn.functional.cross_entropy(net(x), y)
            if penalty:
                loss = loss + penalty * reg.l2_penalty(net)
            opt.zero_grad()
            loss.backward()
            opt.step()
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.allclose(pa, pb, atol=1e-12)


def test_plain_sgd_weight_decay_is_multiplicative_shrinkage():
    w = torch.tensor([1.0, -2.0, 4.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1, weight_decay=0.5)
    for _ in range(10):
        w.grad = torch.zeros_like(w)  # no data gradient: only the decay acts
        opt.step()
    assert torch.allclose(w.detach(), torch.tensor([1.0, -2.0, 4.0], dtype=torch.float64) * (1 - 0.1 * 0.5) ** 10)


def test_adam_with_l2_differs_from_adamw():
    """Weights that only receive noise: AdamW shrinks them all alike, Adam+L2 by ``lr·λ/rms`` per step."""
    lam, lr, steps = 0.1, 1e-2, 500
    adam = reg.shrinkage_under_noise("adam", [0.01, 1.0, 10.0], lam, lr, steps)
    adamw = reg.shrinkage_under_noise("adamw", [0.01, 1.0, 10.0], lam, lr, steps)
    shrink = (1 - lr * lam) ** steps  # 0.606: AdamW's decoupled decay, the same for every scale
    assert all(abs(v - shrink) < 0.01 for v in adamw)
    assert abs(adam[0]) < 0.01  # small gradients: decayed to zero, about 60 times more than AdamW
    assert abs(adam[1] - shrink) < 0.02  # rms 1: the crossover, decayed about as much as AdamW
    assert adam[2] > shrink + 0.25  # large gradients: hardly decayed
    with pytest.raises(ValueError):
        reg.shrinkage_under_noise("sgd", [1.0], lam)


def test_early_stopping_restores_exactly_the_best_weights():
    net = small_net()
    stopper = reg.EarlyStopping(patience=2)
    metrics = [0.3, 0.5, 0.45, 0.52, 0.51, 0.50, 0.9]
    snapshots, stops = [], []
    for m in metrics:
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        snapshots.append(copy.deepcopy(net.state_dict()))
        stops.append(stopper.step(m, net))
    assert stops == [False, False, False, False, False, True, False]  # 0.9 resets the count
    assert stopper.stopped_step == 5
    assert stopper.best_step == 6 and stopper.best == 0.9
    fresh = small_net()
    stopper.restore(fresh)
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, snapshots[6][k])


def test_early_stopping_min_mode_and_min_delta():
    net = small_net()
    stopper = reg.EarlyStopping(patience=1, min_delta=0.1, mode="min")
    assert not stopper.step(1.0, net)
    assert stopper.step(0.95, net)  # better, but by less than min_delta
    assert stopper.best == 1.0 and stopper.best_step == 0
    with pytest.raises(RuntimeError):
        reg.EarlyStopping(3).restore(net)
    with pytest.raises(ValueError):
        reg.EarlyStopping(0)


def test_ensemble_predict_averages_softmax():
    nets = [small_net() for _ in range(3)]
    for i, net in enumerate(nets):
        torch.manual_seed(i + 10)
        for layer in net:
            if isinstance(layer, torch.nn.Linear):
                layer.reset_parameters()
    x = torch.randn(16, 6, dtype=torch.float64)
    probs = reg.ensemble_predict(nets, x)
    expected = sum(torch.softmax(n.eval()(x), 1) for n in nets) / 3
    assert torch.allclose(probs, expected)
    assert torch.allclose(probs.sum(1), torch.ones(16, dtype=torch.float64))
    nets[0].train()
    reg.ensemble_predict(nets, x)
    assert nets[0].training  # the mode is restored
    with pytest.raises(ValueError):
        reg.ensemble_predict([], x)


def test_regularization_is_a_teaching_module_importing_torch_only():
    source = Path(reg.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("." if node.level else node.module.split(".")[0])
    assert imported <= {"__future__", "copy", "math", "collections", "torch"}, imported


def test_adam_weight_decay_is_the_l2_penalty_in_the_loss():
    """``Adam(weight_decay=λ)`` adds λθ to the gradient: the same as λ·l2_penalty in the loss (unlike AdamW)."""
    x = torch.randn(16, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    w0 = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    a, b, c = (w0.clone().requires_grad_() for _ in range(3))
    opts = [
        torch.optim.Adam([a], lr=0.01, weight_decay=0.1),
        torch.optim.Adam([b], lr=0.01),
        torch.optim.AdamW([c], lr=0.01, weight_decay=0.1),
    ]
    for _ in range(20):
        for w, opt, penalty in zip((a, b, c), opts, (0.0, 0.1, 0.0), strict=True):
            loss = (x @ w).pow(2).mean() + penalty * reg.l2_penalty([w])
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert torch.allclose(a, b, atol=1e-12)
    assert (a - c).abs().max().item() > 1e-3  # decoupled decay takes other steps


def test_soft_threshold_is_the_proximal_step_of_l1_and_lands_on_zero():
    theta = torch.tensor([-1.0, -0.05, 0.0, 0.03, 0.1, 2.0], dtype=torch.float64)
    t = 0.1
    out = reg.soft_threshold(theta, t)
    assert torch.equal(out, torch.tensor([-0.9, 0.0, 0.0, 0.0, 0.0, 1.9], dtype=torch.float64))
    # the minimizer of ½(x − θ)² + t|x| for each entry, found on a fine grid
    grid = torch.linspace(-3, 3, 600_001, dtype=torch.float64)
    for value, got in zip(theta, out, strict=True):
        best = grid[torch.argmin(0.5 * (grid - value) ** 2 + t * grid.abs())]
        assert abs(best - got) < 2e-5
    with pytest.raises(ValueError):
        reg.soft_threshold(theta, -1.0)


def test_early_stopping_factors_match_gradient_descent_and_ridge_matches_its_solution():
    """On a quadratic, τ steps of gradient descent from 0 reach 1 − (1 − ηλ)^τ of the minimum along each eigenvector;
    the L2-regularized minimum reaches λ/(λ + α). With α = 1/(ητ) the two agree where ηλτ is small or large."""
    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(6, 6, dtype=torch.float64, generator=g))
    eigenvalues = torch.tensor([1e-3, 1e-2, 0.1, 1.0, 5.0, 9.0], dtype=torch.float64)
    hessian = q @ torch.diag(eigenvalues) @ q.T
    optimum = torch.randn(6, dtype=torch.float64, generator=g)
    lr, steps = 0.1, 50
    theta = torch.zeros(6, dtype=torch.float64)
    for _ in range(steps):
        theta = theta - lr * hessian @ (theta - optimum)
    reached = (q.T @ theta) / (q.T @ optimum)
    assert torch.allclose(reached, reg.early_stopping_factors(eigenvalues, lr, steps), atol=1e-10)
    alpha = 1 / (lr * steps)
    ridge = torch.linalg.solve(hessian + alpha * torch.eye(6, dtype=torch.float64), hessian @ optimum)
    assert torch.allclose((q.T @ ridge) / (q.T @ optimum), reg.ridge_factors(eigenvalues, alpha), atol=1e-10)
    x = lr * steps * eigenvalues
    es, l2 = reg.early_stopping_factors(eigenvalues, lr, steps), reg.ridge_factors(eigenvalues, alpha)
    small, large = x < 0.1, x > 20
    assert torch.all((es[small] / l2[small] - 1).abs() < 0.06)
    assert torch.all(es[large] > 0.95) and torch.all(l2[large] > 0.95)
    with pytest.raises(ValueError):
        reg.early_stopping_factors(eigenvalues, lr, -1)
