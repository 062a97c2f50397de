"""Accuracy checks and training loops: barebones (manual SGD) and ``nn.Module`` + ``torch.optim``.

Both loops share one driver, :func:`_run`, which records every iteration's
loss, checks validation accuracy every ``print_every`` iterations (and after
the last), measures training images per second, and stops a diverging run.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import config


class DivergenceError(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclasses.dataclass
class History:
    """What one training run measured."""

    losses: list[float] = dataclasses.field(default_factory=list)  # one per iteration
    val_iterations: list[int] = dataclasses.field(default_factory=list)
    val_accuracies: list[float] = dataclasses.field(default_factory=list)
    # accuracy on the training batches seen since the previous check (in train mode, while the weights moved):
    # a free estimate of training accuracy, one per validation check; empty for steps that return only a loss
    train_accuracies: list[float] = dataclasses.field(default_factory=list)
    images: int = 0  # training images processed
    train_seconds: float = 0.0  # time spent in training steps (validation excluded)
    wall_seconds: float = 0.0  # everything, validation included
    epochs: int = 0
    best_state: dict | None = None  # a copy of the weights at the best validation check (``keep_best``)

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / self.epochs if self.epochs else float("nan")

    @property
    def images_per_second(self) -> float:
        return self.images / self.train_seconds if self.train_seconds else float("nan")

    @property
    def best_val_accuracy(self) -> float:
        return max(self.val_accuracies)

    @property
    def final_val_accuracy(self) -> float:
        return self.val_accuracies[-1]

    @property
    def final_train_accuracy(self) -> float:
        """Running accuracy on the training batches of the last stretch before the final check."""
        return self.train_accuracies[-1] if self.train_accuracies else float("nan")


def check_accuracy(
    loader: Iterable,
    model: Callable,
    params: list[torch.Tensor] | None = None,
    split: str = "val",
    verbose: bool = True,
) -> float:
    """Fraction of correctly classified examples; prints ``Got N / M correct (P%)``.

    ``model`` is either a barebones function called as ``model(x, params)`` or
    an ``nn.Module`` (``params=None``), which is put in eval mode meanwhile.
    """
    was_training = isinstance(model, torch.nn.Module) and model.training
    if isinstance(model, torch.nn.Module):
        model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            scores = model(x) if params is None else model(x, params)
            correct += int((scores.argmax(dim=1) == y).sum())
            total += len(y)
    if was_training:
        model.train()
    if total == 0:
        raise ValueError("check_accuracy got an empty loader")
    accuracy = correct / total
    if verbose:
        print(f"Checking accuracy on the {split} set: Got {correct} / {total} correct ({100 * accuracy:.2f}%)")
    return accuracy


def _raise_diverged(iteration: int, loss: float, hint: str) -> None:
    raise DivergenceError(
        f"Training diverged at iteration {iteration}: the loss is {loss} {hint}. "
        f"Lower the learning rate (try a tenth), check that the inputs are normalized, "
        f"and re-initialize the weights before trying again."
    )


def _run(
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    evaluate: Callable[[], float],
    loader_train,
    epochs: int,
    print_every: int,
    hint: str,
    verbose: bool,
    progress: bool,
    on_epoch_end: Callable[[int, History], None] | None = None,
    on_evaluated: Callable[[History], None] | None = None,
) -> History:
    history = History()
    wall = time.perf_counter()
    per_epoch = len(loader_train)
    last = epochs * per_epoch - 1
    pending: list[torch.Tensor] = []  # losses not yet copied to the host (avoids a sync per step)
    correct: list[torch.Tensor] = []  # correct predictions per step, when ``step`` returns ``(loss, correct)``
    seen = 0  # training images since the previous check
    device = None
    iteration = 0
    bar = tqdm(total=last + 1, disable=not progress, leave=False, unit="it")
    tick = time.perf_counter()  # start of the current stretch of training steps
    for epoch in range(epochs):
        for x, y in loader_train:
            device = x.device
            out = step(x, y)
            if isinstance(out, tuple):
                out, right = out
                correct.append(right.detach())
            pending.append(out.detach())
            seen += len(y)
            if device.type == "cpu" and not math.isfinite(pending[-1].item()):  # free on the CPU
                _raise_diverged(iteration, pending[-1].item(), hint)
            history.images += len(y)
            bar.update()
            if iteration % print_every == 0 or iteration == last:
                config.synchronize(device)
                history.train_seconds += time.perf_counter() - tick
                values = torch.stack(pending).tolist()
                pending.clear()
                for offset, value in enumerate(values):
                    if not math.isfinite(value):
                        _raise_diverged(len(history.losses) + offset, value, hint)
                history.losses.extend(values)
                if correct:
                    history.train_accuracies.append(float(torch.stack(correct).sum()) / seen)
                    correct.clear()
                seen = 0
                if verbose:
                    print(f"Epoch {epoch}, Iteration {iteration}, loss = {values[-1]:.4f}")
                history.val_iterations.append(iteration)
                history.val_accuracies.append(evaluate())
                if on_evaluated is not None:
                    on_evaluated(history)
                if verbose:
                    print()
                tick = time.perf_counter()
            iteration += 1
        history.epochs += 1
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
    bar.close()
    history.wall_seconds = time.perf_counter() - wall
    return history


def train_barebones(
    model_fn: Callable,
    params: list[torch.Tensor],
    loader_train,
    loader_val,
    learning_rate: float,
    epochs: int = 1,
    print_every: int = 100,
    verbose: bool = True,
    progress: bool = False,
) -> History:
    """Plain SGD on a list of tensors: ``w -= lr * w.grad`` under ``torch.no_grad()``."""

    def step(x, y):
        scores = model_fn(x, params)
        loss = F.cross_entropy(scores, y)
        loss.backward()
        with torch.no_grad():
            for w in params:
                w -= learning_rate * w.grad
                w.grad.zero_()
        return loss, (scores.detach().argmax(dim=1) == y).sum()

    return _run(
        step,
        lambda: check_accuracy(loader_val, model_fn, params, verbose=verbose),
        loader_train,
        epochs,
        print_every,
        f"(learning rate {learning_rate:g})",
        verbose,
        progress,
    )


@dataclasses.dataclass(frozen=True)
class Step:
    """What a training step does besides forward, loss, backward and the optimizer's update.

    ``label_smoothing`` goes to the cross-entropy; ``penalty(model)`` (e.g. λ·Σ|w|) is added to the loss that is
    differentiated, not to the loss that is recorded; ``clip_norm`` rescales the gradient so that its total
    norm is at most that value (``torch.nn.utils.clip_grad_norm_``), ``clip_value`` clamps every entry
    (``clip_grad_value_``); ``tracker`` (:class:`dlfoundations.diagnostics.UpdateTracker`, ``InputDrift``) is
    called just before and after each update.
    """

    label_smoothing: float = 0.0
    penalty: Callable[[torch.nn.Module], torch.Tensor] | None = None
    clip_norm: float | None = None
    clip_value: float | None = None
    tracker: object | None = None


def train(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    loader_train,
    loader_val,
    epochs: int = 1,
    print_every: int = 100,
    scheduler=None,
    scheduler_interval: str = "epoch",
    keep_best: bool = False,
    verbose: bool = True,
    progress: bool = False,
    step: Step = Step(),
    on_epoch: Callable[[int, History], None] | None = None,
) -> History:
    """Train an ``nn.Module`` with a ``torch.optim`` optimizer (and an optional scheduler).

    The scheduler steps after every epoch, or after every iteration with
    ``scheduler_interval="iteration"`` (warm-up and one-cycle schedules).
    ``keep_best`` keeps a copy of the weights at the best validation check in
    ``history.best_state`` (to show what selecting a checkpoint on validation does).
    ``step`` says what else each step does (:class:`Step`: label smoothing, a penalty, clipping, a
    tracker); ``on_epoch(epoch, history)`` is called after every epoch (per-epoch measurements,
    early stopping's bookkeeping).
    """

    if scheduler_interval not in ("epoch", "iteration"):
        raise ValueError(f"scheduler_interval must be 'epoch' or 'iteration', not {scheduler_interval!r}")
    per_iteration = scheduler is not None and scheduler_interval == "iteration"
    tracker = step.tracker

    def one_step(x, y):
        model.train()
        scores = model(x)
        loss = F.cross_entropy(scores, y, label_smoothing=step.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        (loss + step.penalty(model) if step.penalty is not None else loss).backward()
        if step.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), step.clip_norm)
        if step.clip_value is not None:
            torch.nn.utils.clip_grad_value_(model.parameters(), step.clip_value)
        if tracker is not None:
            tracker.before()
        optimizer.step()
        if tracker is not None:
            tracker.after()
        if per_iteration:
            scheduler.step()
        return loss, (scores.detach().argmax(dim=1) == y).sum()

    def remember_best(history: History) -> None:
        if history.val_accuracies[-1] >= max(history.val_accuracies):
            history.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def epoch_end(epoch: int, history: History) -> None:
        if scheduler is not None and not per_iteration:
            scheduler.step()
        if on_epoch is not None:
            on_epoch(epoch, history)

    rates = ", ".join(f"{group['lr']:g}" for group in optimizer.param_groups)
    return _run(
        one_step,
        lambda: check_accuracy(loader_val, model, verbose=verbose),
        loader_train,
        epochs,
        print_every,
        f"(learning rate {rates})",
        verbose,
        progress,
        on_epoch_end=epoch_end,
        on_evaluated=remember_best if keep_best else None,
    )


def adjust_learning_rate(optimizer: torch.optim.Optimizer, lrd: float, epoch: int, schedule) -> None:
    """Multiply every learning rate by ``lrd`` when ``epoch`` is in ``schedule`` (call at each epoch's start).

    The step schedule of the training loop in EECS 498's adaptation of the CS231n notebook (the version
    the HW9 report solved); ``torch.optim.lr_scheduler.MultiStepLR`` with ``milestones=schedule,
    gamma=lrd``, stepped at each epoch's end, gives the same rates.
    """
    if epoch in schedule:
        for group in optimizer.param_groups:
            group["lr"] *= lrd


def train_sgd(
    model: torch.nn.Module,
    dataset,
    lr: float,
    epochs: int = 1,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    batch_size: int = 64,
    seed: int = 0,
    **options,
) -> History:
    """:func:`train` with SGD (momentum) on a :class:`dlfoundations.data.CIFAR10`, quietly.

    Shuffled training batches, validation on the whole validation split at the end
    of training; ``options`` go to :func:`train` (``step=Step(clip_norm=1.0)``, ...).
    """
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    options = {"print_every": 10**9, "verbose": False, **options}
    train_batches = dataset.batches("train", batch_size, shuffle=True, seed=seed)
    return train(model, optimizer, train_batches, dataset.batches("val", 500), epochs=epochs, **options)


def fit_softmax_regression(
    features: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    lr: float,
    epochs: int,
    seed: int = 0,
    evaluations_per_epoch: int = 20,
    num_classes: int = 10,
) -> dict:
    """Mini-batch SGD on softmax regression ``softmax(x W + b)``, starting from zeros.

    ``batch_size = len(features)`` is full-batch gradient descent, ``1`` is
    stochastic gradient descent. The loss on *all* of ``features`` is recorded
    about ``evaluations_per_epoch`` times per epoch, against the number of
    examples processed, so that methods with different batch sizes can share an
    x-axis. Returns ``examples``, ``loss``, ``updates`` and ``seconds`` (time
    spent in updates only; on a GPU the device is synchronized before both clock
    reads, so that the queued kernels of an update are charged to it).
    """
    n, d = features.shape
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must lie in 1..{n}, not {batch_size}")
    W = torch.zeros(d, num_classes, dtype=features.dtype, device=features.device, requires_grad=True)
    b = torch.zeros(num_classes, dtype=features.dtype, device=features.device, requires_grad=True)
    generator = torch.Generator().manual_seed(seed)
    per_epoch = math.ceil(n / batch_size)
    every = max(1, per_epoch // evaluations_per_epoch)

    def full_loss() -> float:
        with torch.no_grad():
            return F.cross_entropy(features @ W + b, labels).item()

    record = {"examples": [0], "loss": [full_loss()], "updates": 0, "seconds": 0.0}
    seen = 0
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator).to(features.device)
        for i in range(per_epoch):
            index = order[i * batch_size : (i + 1) * batch_size]
            config.synchronize(features.device)
            tick = time.perf_counter()
            loss = F.cross_entropy(features[index] @ W + b, labels[index])
            loss.backward()
            with torch.no_grad():
                for p in (W, b):
                    p -= lr * p.grad
                    p.grad = None
            config.synchronize(features.device)
            record["seconds"] += time.perf_counter() - tick
            record["updates"] += 1
            seen += len(index)
            if record["updates"] % every == 0 or i == per_epoch - 1:
                value = full_loss()
                if not math.isfinite(value):
                    _raise_diverged(record["updates"], value, f"(learning rate {lr:g}, batch size {batch_size})")
                record["examples"].append(seen)
                record["loss"].append(value)
    return record


# --------------------------------------------------------------------------- optimizer and schedule comparisons

OPTIMIZERS: dict[str, Callable] = {
    "SGD": lambda params, lr: torch.optim.SGD(params, lr=lr),
    "Momentum": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    "Nesterov": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
    "Adagrad": lambda params, lr: torch.optim.Adagrad(params, lr=lr),
    "RMSProp": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
    "Adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
}

SCHEDULES: dict[str, Callable] = {
    "constant": lambda opt, total: None,
    # two drops, after the first and the second third (``total // 3`` would add a third drop near the end)
    "step decay": lambda opt, total: torch.optim.lr_scheduler.StepLR(opt, step_size=math.ceil(total / 3), gamma=0.3),
    "cosine": lambda opt, total: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total),
    # the learning rate only: by default OneCycleLR would also cycle the momentum (0.95 → 0.85 → 0.95),
    # and the schedules would no longer differ in their learning rate alone
    "one-cycle": lambda opt, total: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=opt.param_groups[0]["lr"], total_steps=total, cycle_momentum=False
    ),
}


def run_optimizer(
    make_model: Callable[[], torch.nn.Module],
    dataset,
    optimizer: str,
    lr: float,
    epochs: int = 1,
    seed: int = 0,
    batch_size: int = 64,
    schedule: str = "constant",
) -> History:
    """Train ``make_model()`` (built after seeding with ``seed``) with one of :data:`OPTIMIZERS`.

    ``schedule`` names one of :data:`SCHEDULES`, stepped after every iteration. A run
    whose loss diverges returns a history with ``losses = [inf]`` and zero accuracy.
    """
    torch.manual_seed(seed)
    device = dataset.x_train.device
    model = make_model().to(device)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr)
    train_batches = dataset.batches("train", batch_size, shuffle=True, seed=seed)
    scheduler = SCHEDULES[schedule](opt, epochs * len(train_batches))
    try:
        return train(
            model,
            opt,
            train_batches,
            dataset.batches("val", 500),
            epochs=epochs,
            print_every=10**9,
            verbose=False,
            scheduler=scheduler,
            scheduler_interval="iteration",
        )
    except DivergenceError:
        history = History()
        history.losses, history.val_accuracies, history.val_iterations = [math.inf], [0.0], [0]
        return history


def final_loss(history: History, window: int = 10) -> float:
    """Mean training loss over the last ``window`` iterations (``inf`` for a diverged run)."""
    tail = history.losses[-window:]
    return sum(tail) / len(tail)


def pick_learning_rate(
    make_model, dataset, optimizer: str, rates, epochs: int = 1, seed: int = 0, batch_size: int = 64
) -> tuple[float, dict]:
    """The rate among ``rates`` with the lowest :func:`final_loss` after one run each, and all the losses.

    Each run trains with mini-batches of ``batch_size``, which should be the batch size the chosen rate
    will be used with.
    """
    losses = {
        lr: final_loss(run_optimizer(make_model, dataset, optimizer, lr, epochs, seed, batch_size=batch_size))
        for lr in rates
    }
    return min(losses, key=losses.get), losses


def smoothness_along_path(
    make_model, dataset, lr: float, steps: int, every: int, seed: int = 0, batch_size: int = 64
) -> dict:
    """Train ``make_model()`` with plain SGD and measure the landscape along the way.

    Every ``every`` iterations :func:`dlfoundations.diagnostics.gradient_predictiveness`
    probes the current batch at step sizes ``lr·(0.5, 1, 2, 4)``. Returns lists
    ``step``, ``loss_range``, ``gradient_change``, ``beta`` and every iteration's ``loss``.
    """
    from dlfoundations import diagnostics

    torch.manual_seed(seed)
    model = make_model().to(dataset.x_train.device).train()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    out: dict[str, list] = {"step": [], "loss_range": [], "gradient_change": [], "beta": [], "loss": []}
    iteration = 0
    while iteration < steps:
        for x, y in dataset.batches("train", batch_size, shuffle=True, seed=seed + iteration):
            if iteration % every == 0:
                probe = diagnostics.gradient_predictiveness(model, x, y, steps=tuple(lr * f for f in (0.5, 1, 2, 4)))
                out["step"].append(iteration)
                for key in ("loss_range", "gradient_change", "beta"):
                    out[key].append(probe[key])
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            out["loss"].append(loss.item())
            iteration += 1
            if iteration >= steps:
                break
    return out


def train_with_batch_size(make_model, dataset, batch_size: int, lr: float, epochs: int = 1, seed: int = 0):
    """SGD with momentum 0.9 at ``batch_size``; returns the model and its :class:`History`."""
    torch.manual_seed(seed)
    model = make_model().to(dataset.x_train.device)
    history = train_sgd(model, dataset, lr, epochs, batch_size=batch_size, seed=seed)
    return model, history
