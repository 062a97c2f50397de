import math

import pytest
import torch

from dlfoundations import models, training
from dlfoundations.batches import Batches


def blobs(n=600, dim=12, classes=3, seed=0):
    """Three well separated Gaussian clouds, as uint8 'images' (1, dim, 1) for Batches."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    centres = torch.randint(40, 216, (classes, dim), generator=g).float()
    x = centres[y] + 12 * torch.randn(n, dim, generator=g)
    return x.clamp(0, 255).to(torch.uint8).view(n, 1, dim, 1), y


def loaders(seed=0):
    x, y = blobs(seed=seed)
    make = lambda xs, ys, shuffle: Batches(xs, ys, 32, mean=(0.5,), std=(0.25,), shuffle=shuffle, seed=seed)  # noqa: E731
    return make(x[:500], y[:500], True), make(x[500:], y[500:], False)


def test_barebones_loss_falls_and_history_is_complete(capsys):
    torch.manual_seed(0)
    train, val = loaders()
    params = models.init_two_layer_fc(hidden=16, input_dim=12, num_classes=3)
    history = training.train_barebones(
        models.two_layer_fc, params, train, val, learning_rate=0.05, epochs=3, print_every=5
    )
    assert len(history.losses) == 3 * len(train)
    assert sum(history.losses[-5:]) / 5 < 0.5 * sum(history.losses[:5]) / 5
    assert history.final_val_accuracy > 0.9
    assert history.val_iterations[0] == 0 and history.val_iterations[-1] == 3 * len(train) - 1
    assert history.images == 3 * 500 and history.images_per_second > 0
    out = capsys.readouterr().out
    assert "Iteration 0, loss =" in out and "Got " in out and " / 100 correct (" in out


def test_module_training_with_scheduler():
    torch.manual_seed(0)
    train, val = loaders()
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = training.train(
        model, optimizer, train, val, epochs=2, print_every=100, scheduler=scheduler, verbose=False
    )
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.025)  # halved after each of the 2 epochs
    assert history.losses[-1] < history.losses[0]
    assert history.best_val_accuracy > 0.9


def test_check_accuracy_counts_and_restores_mode(capsys):
    x = torch.eye(4).view(4, 1, 4, 1).to(torch.uint8)
    y = torch.tensor([0, 1, 2, 0])
    loader = Batches(x, y, 2, mean=(0,), std=(1 / 255,))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Identity())
    model.train()
    assert training.check_accuracy(loader, model) == 0.75  # argmax of one-hot rows: 0, 1, 2, 3
    assert model.training
    assert "Got 3 / 4 correct (75.00%)" in capsys.readouterr().out
    assert training.check_accuracy(loader, lambda x, p: x.flatten(1) @ p[0], [torch.eye(4)], verbose=False) == 0.75


def test_divergence_stops_with_a_readable_error():
    torch.manual_seed(0)
    train, val = loaders()
    params = models.init_two_layer_fc(hidden=16, input_dim=12, num_classes=3)
    with pytest.raises(
        training.DivergenceError,
        match=r"at iteration \d+: the loss is (nan|inf) \(learning rate 1e\+06\)\. Lower the learning rate",
    ):
        training.train_barebones(
            models.two_layer_fc, params, train, val, learning_rate=1e6, epochs=5, print_every=1000, verbose=False
        )


def test_divergence_is_caught_at_print_points_off_the_cpu(monkeypatch):
    """Off the CPU, losses are checked when copied to the host at print points; emulate a CUDA batch."""

    class CudaLike(torch.Tensor):  # a CPU tensor that reports a CUDA device
        @property
        def device(self):
            return torch.device("cuda")

    class OnCuda:
        def __init__(self, loader):
            self.loader = loader

        def __len__(self):
            return len(self.loader)

        def __iter__(self):
            for x, y in self.loader:
                yield x.as_subclass(CudaLike), y

    monkeypatch.setattr(training.config, "synchronize", lambda device: None)
    calls = []

    def step(x, y):
        calls.append(1)
        return torch.tensor(float("nan") if len(calls) == 3 else 1.0)

    train, _ = loaders()
    with pytest.raises(training.DivergenceError, match="at iteration 2: the loss is nan"):
        training._run(step, lambda: 0.0, OnCuda(train), epochs=1, print_every=5, hint="", verbose=False, progress=False)
    assert len(calls) == 6  # noticed at the next print point (iteration 5), not at once


def test_training_time_counts_every_step_and_no_validation(monkeypatch):
    """A fake clock: each step takes 1 s and each validation 100 s; only steps may be counted."""
    now = [0.0]
    monkeypatch.setattr(training.time, "perf_counter", lambda: now[0])

    def step(x, y):
        now[0] += 1.0
        return torch.tensor(1.0)

    def evaluate():
        now[0] += 100.0
        return 0.5

    train, _ = loaders()  # 16 batches per epoch; print points 0, 6, 12 | 18, 24, 30, 31
    history = training._run(step, evaluate, train, epochs=2, print_every=6, hint="", verbose=False, progress=False)
    assert history.train_seconds == 2 * len(train)
    assert history.images_per_second == 1000 / (2 * len(train))


def test_softmax_regression_batch_sizes():
    x, y = blobs()
    features = (x.flatten(1).float() - 128) / 64
    full = training.fit_softmax_regression(features, y, len(y), 0.5, epochs=5, num_classes=3)
    mini = training.fit_softmax_regression(features, y, 32, 0.5, epochs=5, num_classes=3)
    assert full["updates"] == 5 and mini["updates"] == 5 * 19
    assert full["examples"][-1] == mini["examples"][-1] == 5 * 600
    assert full["loss"][0] == pytest.approx(math.log(3))  # zeros: uniform probabilities
    assert mini["loss"][-1] < full["loss"][-1] < full["loss"][0]
    with pytest.raises(ValueError, match="batch_size must lie in 1..600"):
        training.fit_softmax_regression(features, y, 0, 0.1, epochs=1)
    with pytest.raises(training.DivergenceError, match="batch size 600"):
        training.fit_softmax_regression(features * 1e30, y, 600, 1e30, epochs=3, num_classes=3)


def test_softmax_regression_synchronizes_around_every_timed_update(monkeypatch):
    calls = []
    monkeypatch.setattr(training.config, "synchronize", calls.append)
    x, y = blobs()
    features = (x.flatten(1).float() - 128) / 64
    fit = training.fit_softmax_regression(features, y, 100, 0.1, epochs=2, num_classes=3)
    assert fit["updates"] == 12 and calls == [features.device] * 2 * fit["updates"]


class _Blobs:
    """Just enough of a CIFAR10 object for train_sgd."""

    def __init__(self):
        x, y = blobs()
        self.x_train, self.y_train, self.x_val, self.y_val = x[:500], y[:500], x[500:], y[500:]

    def batches(self, name, batch_size=64, **options):
        x, y = (self.x_train, self.y_train) if name == "train" else (self.x_val, self.y_val)
        return Batches(x, y, batch_size, mean=(0.5,), std=(0.25,), **options)


def test_train_sgd_with_clipping_weight_decay_and_tracker():
    from dlfoundations import diagnostics

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    tracker = diagnostics.UpdateTracker([model[1]])
    history = training.train_sgd(model, _Blobs(), lr=0.05, epochs=2, step=training.Step(clip_norm=0.5, tracker=tracker))
    assert len(tracker.history) == len(history.losses) == 2 * 8
    assert history.final_val_accuracy > 0.9
    norms = {}
    for decay in (0.0, 0.5):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
        training.train_sgd(model, _Blobs(), lr=0.05, epochs=2, weight_decay=decay, step=training.Step(clip_value=0.1))
        norms[decay] = model[1].weight.norm().item()
    assert norms[0.5] < norms[0.0]


def test_clip_norm_bounds_every_step(monkeypatch):
    seen = []
    original = torch.optim.SGD.step

    def spy(self, *args, **kwargs):
        seen.append(torch.cat([p.grad.flatten() for g in self.param_groups for p in g["params"]]).norm().item())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "step", spy)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    training.train_sgd(model, _Blobs(), lr=0.05, epochs=1, step=training.Step(clip_norm=1e-3))
    assert max(seen) <= 1e-3 * (1 + 1e-5)


@pytest.mark.parametrize("schedule, lrd", [([2, 4], 0.1), ([1], 0.5), ([], 0.3)])
def test_adjust_learning_rate_equals_multistep_lr(schedule, lrd):
    w = torch.zeros(1, requires_grad=True)
    ours = torch.optim.SGD([w], lr=1.0)
    theirs = torch.optim.SGD([w], lr=1.0)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(theirs, milestones=schedule, gamma=lrd)
    for epoch in range(6):
        training.adjust_learning_rate(ours, lrd, epoch, schedule)  # at the start of the epoch
        expected = lrd ** sum(m <= epoch for m in schedule)
        assert ours.param_groups[0]["lr"] == pytest.approx(expected)
        assert theirs.param_groups[0]["lr"] == pytest.approx(expected)
        theirs.step()  # (no gradient: the weights stay put)
        scheduler.step()  # at the end of the epoch


def test_keep_best_and_per_iteration_scheduler():
    torch.manual_seed(0)
    train, val = loaders()
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 / (1 + step))
    history = training.train(
        model,
        optimizer,
        train,
        val,
        epochs=2,
        print_every=3,
        scheduler=scheduler,
        scheduler_interval="iteration",
        keep_best=True,
        verbose=False,
        step=training.Step(label_smoothing=0.1),
    )
    steps = 2 * len(train)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 / (1 + steps))
    assert history.epochs == 2 and history.seconds_per_epoch > 0
    best = copy_with(model, history.best_state)
    assert training.check_accuracy(val, best, verbose=False) == history.best_val_accuracy
    with pytest.raises(ValueError, match="scheduler_interval"):
        training.train(model, optimizer, train, val, scheduler=scheduler, scheduler_interval="batch")


def copy_with(model, state):
    import copy

    clone = copy.deepcopy(model)
    clone.load_state_dict(state)
    return clone


def _blob_mlp():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


@pytest.mark.parametrize("name", sorted(training.OPTIMIZERS))
def test_run_optimizer_trains_with_every_optimizer(name):
    lr = {"SGD": 0.1, "Momentum": 0.02, "Nesterov": 0.02, "Adagrad": 0.05}.get(name, 0.01)
    history = training.run_optimizer(_blob_mlp, _Blobs(), name, lr, epochs=3, seed=1)
    assert training.final_loss(history) < 0.5 * history.losses[0]
    again = training.run_optimizer(_blob_mlp, _Blobs(), name, lr, epochs=3, seed=1)
    assert again.losses == history.losses  # seeded: reproducible


@pytest.mark.parametrize("schedule", sorted(training.SCHEDULES))
def test_run_optimizer_with_schedules_and_divergence(schedule):
    history = training.run_optimizer(_blob_mlp, _Blobs(), "Momentum", 0.02, epochs=2, schedule=schedule)
    assert math.isfinite(training.final_loss(history))
    diverged = training.run_optimizer(_blob_mlp, _Blobs(), "SGD", 1e30, epochs=2)
    assert diverged.losses == [math.inf] and diverged.final_val_accuracy == 0.0


def test_pick_learning_rate_returns_the_lowest_loss():
    best, losses = training.pick_learning_rate(_blob_mlp, _Blobs(), "SGD", [1e-4, 0.1], epochs=2)
    assert best == min(losses, key=losses.get) == 0.1


def test_pick_learning_rate_trains_at_the_given_batch_size(monkeypatch):
    sizes = []
    run = training.run_optimizer

    def recording(*args, batch_size=64, **kwargs):
        sizes.append(batch_size)
        return run(*args, batch_size=batch_size, **kwargs)

    monkeypatch.setattr(training, "run_optimizer", recording)
    training.pick_learning_rate(_blob_mlp, _Blobs(), "SGD", [1e-3, 0.1], epochs=1, batch_size=16)
    assert sizes == [16, 16]


def test_one_cycle_schedule_keeps_the_momentum():
    param = torch.nn.Parameter(torch.zeros(2))
    opt = training.OPTIMIZERS["Momentum"]([param], 0.1)
    scheduler = training.SCHEDULES["one-cycle"](opt, 20)
    momenta, rates = [], []
    for _ in range(20):
        opt.step()
        scheduler.step()
        momenta.append(opt.param_groups[0]["momentum"])
        rates.append(opt.param_groups[0]["lr"])
    assert set(momenta) == {0.9}  # only the learning rate cycles
    assert max(rates) > 10 * min(rates)


def test_smoothness_along_path_and_batch_size_runs():
    out = training.smoothness_along_path(_blob_mlp, _Blobs(), 0.05, steps=20, every=5, seed=0)
    assert out["step"] == [0, 5, 10, 15] and len(out["loss"]) == 20
    assert all(b > 0 for b in out["beta"])
    model, history = training.train_with_batch_size(_blob_mlp, _Blobs(), 4, 0.01, epochs=1, seed=0)
    assert len(history.losses) == 125 and isinstance(model, torch.nn.Module)


@pytest.mark.parametrize("total", [30, 158, 160])
def test_step_decay_drops_twice_after_each_of_the_first_two_thirds(total):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = training.OPTIMIZERS["Momentum"]([param], 0.1)
    scheduler = training.SCHEDULES["step decay"](opt, total)
    rates = []
    for _ in range(total):  # the rate each of the run's iterations uses
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    assert sorted(set(rates), reverse=True) == pytest.approx([0.1, 0.03, 0.009])
    drops = [i for i in range(1, total) if rates[i] < rates[i - 1]]
    assert len(drops) == 2 and all(abs(d - k * total / 3) <= 2 for d, k in zip(drops, [1, 2], strict=True))
