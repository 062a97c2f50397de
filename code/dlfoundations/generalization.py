"""The experiments of the chapter *Overfitting and regularization*: one network, one budget, one technique at a time.

A small ConvNet (two conv 3×3 → ReLU → max-pool blocks, a hidden layer of ``hidden`` units, a
linear classifier) is trained with SGD + momentum on a subset of CIFAR-10's training images that
it can memorize. Every technique changes one thing and keeps the rest (model, optimizer, learning
rate, epochs, batch size) fixed:

* ``none``: nothing, the overfitting baseline;
* ``early stopping``: the baseline's runs, with :class:`~dlfoundations.regularization.EarlyStopping`
  watching the validation accuracy or loss; the weights it restores are evaluated (the runs continue
  to the end, so the same runs also show what happens after the stop);
* ``weight decay``: SGD's ``weight_decay`` on the weights (not biases; ``Technique.decay_biases`` decays them too);
* ``L1``: ``λ·Σ|w|`` added to the loss;
* ``dropout``: :class:`~dlfoundations.regularization.Dropout` after the hidden layer (rate ``p``) and on the
  flattened convolution features (rate ``p/2``);
* ``augmentation``: per-image random crops (4 pixels of zero padding) and flips;
* ``ensemble``: the average of the softmax outputs of ``ensemble`` baselines trained from different seeds;
* ``Adam + L2`` and ``AdamW``: Adam with the decay added to the gradient, and with decoupled decay.

**Choose on validation, test once.** :func:`study` runs the chapter's whole measurement in parts, each run a
record of a results file of kind ``"generalization"``:

1. ``selection``: every setting of each technique's grid (the same number of settings per technique:
   :attr:`Budget.grid_size`) for ``Budget.selection_seeds`` seeds, measured on the validation images only;
   early stopping's rule (patience, and whether it watches accuracy or loss) is chosen from the baseline's
   validation curves;
2. ``test``: the setting :func:`choose` picked on validation, trained again from fresh seeds
   (``first_test_seed`` on) and measured once on the test images; paired with the baseline of the same seed;
3. ``ensemble``: disjoint ensembles of ``test`` baselines (more baselines are trained as members);
4. ``capacity``, ``train size`` and ``label noise``: sweeps on the first ``sweep_seeds`` selection seeds (no test
   images), for the chapter's under- and overfitting section.

The sizes of each profile are in :data:`BUDGETS`. ``python -m dlfoundations.generalization --profile standard
--threads 1 --out results/generalization-standard-cpu.json`` writes the file after every run and, given
``--resume``, continues a file that an interrupted command left.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import statistics
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
import torch.nn.functional as F

from . import config, models, regularization

KIND = "generalization"
FORMAT = 2  # meta["format"] of the files :func:`study` writes (1: the per-technique records of earlier versions)
STUDIES = (
    "selection",
    "test",
    "ensemble member",
    "ensemble",
    "ensemble growth",
    "capacity",
    "train size",
    "label noise",
)
TUNED = ("weight decay", "L1", "dropout", "Adam + L2", "AdamW")  # techniques with a grid
COMPARED = ("none", "early stopping", "weight decay", "L1", "dropout", "augmentation", "ensemble")
COMMAND = "python -m dlfoundations.generalization --profile standard --threads 1 --out results/{file}"


@dataclasses.dataclass(frozen=True)
class Budget:
    """Everything every technique shares in one profile, each technique's grid, and the sweeps."""

    train_images: int  # the first images of the training split: few enough to memorize
    val_images: int  # the last images of CIFAR-10's 50,000 training images (never among the training subsets)
    test_images: int  # the first images of the test split
    epochs: int
    channels: tuple[int, int]
    hidden: int
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    probe_images: int = 500  # training images whose accuracy and loss are measured after every epoch
    selection_seeds: int = 2  # seeds of every setting of every grid (validation only)
    test_seeds: int = 5  # fresh seeds of each chosen setting (the test images are used here only)
    first_test_seed: int = 100
    ensemble: int = 3  # members of an ensemble
    # the grids, the same number of settings for every tuned technique
    # (four settings each: with three, Adam + L2 chose the strongest and L1 and dropout the weakest of their grids)
    weight_decay: tuple[float, ...] = (3e-4, 1e-3, 3e-3, 1e-2)  # SGD's coupled weight decay (λ of λ·½Σw²)
    l1: tuple[float, ...] = (3e-5, 1e-4, 3e-4, 1e-3)  # λ of λ·Σ|w|
    dropout: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75)  # hidden layer; the convolution features get half
    patience: tuple[int, ...] = (1, 2, 3, 5, 8)  # early stopping, watching validation accuracy or loss
    adam_lr: float = 1e-3
    adam_l2: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)  # Adam(weight_decay=λ): λθ added to the gradient
    adamw: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)  # AdamW(weight_decay=λ): θ ← (1 − ηλ)θ each step
    # the sweeps (the first ``sweep_seeds`` selection seeds, validation images only)
    sweep_seeds: int = 1
    widths: tuple[float, ...] = (0.125, 0.25, 0.5, 2.0)  # channels and hidden units times this (1 = the baseline)
    train_sizes: tuple[int, ...] = (1_250, 2_500, 10_000)  # besides ``train_images``
    label_noise: tuple[float, ...] = (0.0, 0.5, 1.0)  # fraction of training labels replaced by random ones
    label_noise_images: int = 1_000
    label_noise_epochs: int = 40  # random labels: 100% of 1,000 images after about 25 epochs (seed 0)
    profile: str = ""  # the run profile this budget belongs to (its records say so)

    @property
    def grid_size(self) -> int:
        sizes = {len(self.weight_decay), len(self.l1), len(self.dropout), len(self.adam_l2), len(self.adamw)}
        if len(sizes) != 1:
            raise ValueError(f"every tuned technique needs a grid of the same size, not {sorted(sizes)}")
        return sizes.pop()

    @property
    def selection_seed_list(self) -> list[int]:
        first = config.settings(self.profile or None).seed
        return list(range(first, first + self.selection_seeds))

    @property
    def sweep_seed_list(self) -> list[int]:
        return self.selection_seed_list[: self.sweep_seeds]

    @property
    def test_seed_list(self) -> list[int]:
        return list(range(self.first_test_seed, self.first_test_seed + self.test_seeds))

    @property
    def member_seed_list(self) -> list[int]:
        """The extra baselines the ensembles need beyond the test seeds."""
        start = self.first_test_seed + self.test_seeds
        return list(range(start, start + self.test_seeds * (self.ensemble - 1)))


BUDGETS: dict[str, Budget] = {
    # nbval: the whole study at a toy size (one selection seed, two test seeds, grids of two), in about 30 s
    "quick": Budget(
        profile="quick",
        train_images=500,
        val_images=250,
        test_images=500,
        epochs=8,
        channels=(4, 8),
        hidden=32,
        lr=0.02,
        probe_images=100,
        selection_seeds=1,
        test_seeds=2,
        ensemble=2,
        weight_decay=(3e-3, 1e-2),
        l1=(1e-4, 3e-4),
        dropout=(0.25, 0.5),
        patience=(1, 3),
        adam_l2=(1e-3, 1e-2),
        adamw=(0.1, 1.0),
        widths=(0.5,),
        train_sizes=(250,),
        label_noise=(0.0, 1.0),
        label_noise_images=250,
        label_noise_epochs=16,
    ),
    # a 2-core CPU, one thread: 5,000 images, long enough at lr 0.01 for the baseline to memorize them; the
    # committed file (``python -m dlfoundations.generalization --profile standard``) takes about an hour
    "standard": Budget(
        profile="standard",
        train_images=5_000,
        val_images=2_500,
        test_images=10_000,
        epochs=20,
        channels=(16, 32),
        hidden=128,
    ),
    # a GPU: a wider network, 30 epochs, more validation images and seeds
    "full": Budget(
        profile="full",
        train_images=5_000,
        val_images=5_000,
        test_images=10_000,
        epochs=30,
        channels=(32, 64),
        hidden=256,
        selection_seeds=3,
        test_seeds=10,
    ),
}


def budget(profile: str | None = None) -> Budget:
    """The budget of ``profile`` (default: the current run profile)."""
    return BUDGETS[config.settings(profile).profile]


# --------------------------------------------------------------------------- what one run changes


@dataclasses.dataclass(frozen=True)
class Technique:
    """What one run changes relative to the baseline (``None``: the budget's value)."""

    name: str
    weight_decay: float = 0.0
    l1: float = 0.0
    dropout: float = 0.0  # hidden layer
    input_dropout: float = 0.0  # flattened convolution features
    augment: bool = False
    optimizer: str = "sgd"  # "sgd", "adam" (decay added to the gradient) or "adamw" (decoupled)
    lr: float | None = None
    decay_biases: bool = False  # weight decay on every parameter, biases too (not just the weights)
    width: float = 1.0  # channels and hidden units times this
    train_images: int | None = None
    epochs: int | None = None
    label_noise: float = 0.0  # fraction of the training labels replaced by uniformly random ones

    @property
    def description(self) -> str:
        """A short name of the setting (``"λ = 0.001"``, ``"p = 0.5"``), for tables."""
        parts = []
        if self.weight_decay:
            parts.append(f"λ = {self.weight_decay:g}" + (" (biases too)" if self.decay_biases else ""))
        if self.l1:
            parts.append(f"λ₁ = {self.l1:g}")
        if self.dropout or self.input_dropout:
            parts.append(f"p = {self.dropout:g} (features {self.input_dropout:g})")
        if self.augment:
            parts.append("crop (pad 4) + flip")
        if self.optimizer != "sgd":
            optimizer = {"adam": "Adam", "adamw": "AdamW"}.get(self.optimizer, self.optimizer)
            parts.append(f"{optimizer}, lr {self.lr:g}")
        if self.width != 1.0:
            parts.append(f"width ×{self.width:g}")
        if self.train_images is not None:
            parts.append(f"{self.train_images:,} images")
        if self.label_noise:
            parts.append(f"{100 * self.label_noise:g}% random labels")
        return ", ".join(parts) or "no regularization"


def knob(technique: Technique) -> float:
    """The strength a tuned technique's grid varies (λ, λ₁ or the dropout rate); 0 for the others."""
    if technique.l1:
        return technique.l1
    if technique.dropout:
        return technique.dropout
    return technique.weight_decay


def dropout_setting(p: float) -> Technique:
    """Dropout of rate ``p`` after the hidden layer and ``p/2`` on the convolution features."""
    return Technique("dropout", dropout=p, input_dropout=p / 2)


def grids(b: Budget) -> dict[str, list[Technique]]:
    """Every tuned technique's settings, in grid order (weakest first)."""
    adam = {"optimizer": "adam", "lr": b.adam_lr}
    return {
        "weight decay": [Technique("weight decay", weight_decay=lam) for lam in b.weight_decay],
        "L1": [Technique("L1", l1=lam) for lam in b.l1],
        "dropout": [dropout_setting(p) for p in b.dropout],
        "Adam + L2": [Technique("Adam + L2", weight_decay=lam, **adam) for lam in b.adam_l2],
        "AdamW": [Technique("AdamW", weight_decay=lam, optimizer="adamw", lr=b.adam_lr) for lam in b.adamw],
    }


BASELINE = Technique("none")
AUGMENTATION = Technique("augmentation", augment=True)


def adam_baseline(b: Budget) -> Technique:
    """Adam without any decay, the reference of the two Adam grids."""
    return Technique("Adam", optimizer="adam", lr=b.adam_lr)


def techniques(b: Budget) -> dict[str, list[Technique]]:
    """Every trained technique of the study and its settings: the baseline, augmentation (one setting each), Adam
    without decay, and the grids of :func:`grids`. (Early stopping and ensembles reuse the baseline's runs.)"""
    return {"none": [BASELINE], "augmentation": [AUGMENTATION], "Adam": [adam_baseline(b)], **grids(b)}


def network(b: Budget, technique: Technique = BASELINE) -> torch.nn.Sequential:
    """conv 3×3 → ReLU → pool, twice; [dropout] → linear → ReLU → [dropout] → linear. He-normal weights."""
    c1, c2 = (max(1, round(c * technique.width)) for c in b.channels)
    hidden = max(1, round(b.hidden * technique.width))
    layers = OrderedDict(
        conv1=torch.nn.Conv2d(3, c1, 3, padding=1),
        relu1=torch.nn.ReLU(),
        pool1=torch.nn.MaxPool2d(2),
        conv2=torch.nn.Conv2d(c1, c2, 3, padding=1),
        relu2=torch.nn.ReLU(),
        pool2=torch.nn.MaxPool2d(2),
        flatten=torch.nn.Flatten(),
    )
    if technique.input_dropout:
        layers["drop1"] = regularization.Dropout(technique.input_dropout)
    layers["fc1"] = torch.nn.Linear(c2 * 8 * 8, hidden)
    layers["relu3"] = torch.nn.ReLU()
    if technique.dropout:
        layers["drop2"] = regularization.Dropout(technique.dropout)
    layers["fc2"] = torch.nn.Linear(hidden, 10)
    # NHWC weights, as models.small_cnn: on a CPU a training step takes about 1.5x less time (benchmarks/README.md)
    return models.kaiming_init_(torch.nn.Sequential(layers)).to(memory_format=torch.channels_last)


def optimizer_for(model: torch.nn.Module, technique: Technique, b: Budget) -> torch.optim.Optimizer:
    """SGD with momentum (or Adam/AdamW); weight decay acts on the weights only (unless ``decay_biases``)."""
    lr = technique.lr if technique.lr is not None else b.lr
    groups = regularization.parameter_groups(model, technique.weight_decay, technique.decay_biases)
    if technique.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=b.momentum)
    if technique.optimizer == "adam":
        return torch.optim.Adam(groups, lr=lr)
    if technique.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    raise ValueError(f"optimizer must be 'sgd', 'adam' or 'adamw', not {technique.optimizer!r}")


# --------------------------------------------------------------------------- data


def load_cifar(b: Budget, device=None):
    """CIFAR-10 for the study: the first training images (as many as the largest subset any run trains on),
    ``b.val_images`` validation images and the first ``b.test_images`` test images.

    The validation images are CS231n's (the last 1,000 training images) and, where the budget asks for more,
    the training images that follow the largest training subset: never among the images any run trains on.
    """
    from . import data

    train = max(b.train_images, *b.train_sizes, b.label_noise_images)
    extra = max(b.val_images - data.VAL_POOL, 0)  # validation images taken from the training files
    full = data.load_cifar10(
        device=device,
        num_train=train + extra,
        num_val=min(b.val_images, data.VAL_POOL),
        num_test=b.test_images,
        profile=b.profile or None,
    )
    x_val = torch.cat([full.x_train[train:], full.x_val])
    y_val = torch.cat([full.y_train[train:], full.y_val])
    return dataclasses.replace(
        full, x_train=full.x_train[:train], y_train=full.y_train[:train], x_val=x_val, y_val=y_val
    )


def training_subset(dataset, technique: Technique, b: Budget):
    """The data set a run of ``technique`` trains on: its first training images, labels partly randomized."""
    n = technique.train_images or b.train_images
    if n > len(dataset.y_train):
        raise ValueError(f"the run needs {n:,} training images, the data set has {len(dataset.y_train):,}")
    labels = dataset.y_train[:n]
    if technique.label_noise:
        labels = noisy_labels(labels, technique.label_noise)
    return dataclasses.replace(dataset, x_train=dataset.x_train[:n], y_train=labels)


def noisy_labels(labels: torch.Tensor, fraction: float, seed: int = 0) -> torch.Tensor:
    """``labels`` with the first ``round(fraction·n)`` of a fixed random order of the images relabelled
    uniformly at random (a new label may equal the old one by chance, 1 in 10). The same for every
    training seed: every run fits the same corrupted labels."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"the label-noise fraction must lie in [0, 1], not {fraction}")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)[: round(fraction * len(labels))]
    noisy = labels.clone()
    noisy[order.to(labels.device)] = torch.randint(0, 10, (len(order),), generator=generator).to(labels.device)
    return noisy


# --------------------------------------------------------------------------- measuring


def evaluate(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, mean, std) -> tuple[float, float]:
    """``(accuracy, mean cross-entropy)`` of ``model`` in eval mode on uint8 ``images``, 500 at a time."""
    from .batches import Batches

    was_training = model.training
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for x, y in Batches(images, labels, 500, mean=mean, std=std):
            scores = model(x)
            correct += int((scores.argmax(1) == y).sum())
            loss += float(F.cross_entropy(scores, y, reduction="sum"))
    model.train(was_training)
    return correct / len(labels), loss / len(labels)


def accuracy(model: torch.nn.Module, dataset, split: str, limit: int | None = None) -> float:
    """Accuracy on a split (or on its first ``limit`` images), in eval mode."""
    x, y = dataset.split(split)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return evaluate(model, x, y, dataset.mean, dataset.std)[0]


def weight_stats(model: torch.nn.Module) -> dict:
    """The weights (not biases): how many, how many exactly zero, the fraction below 1e-3 and the norm."""
    ws = [w.detach() for w in regularization.weights(model)]
    n = sum(w.numel() for w in ws)
    return {
        "weights": n,
        "exact_zeros": sum(int((w == 0).sum()) for w in ws),
        "below_1e-3": sum(int((w.abs() < 1e-3).sum()) for w in ws) / n,
        "norm": math.sqrt(sum(float((w * w).sum()) for w in ws)),
    }


def weight_norm(model: torch.nn.Module) -> float:
    """Euclidean norm of all the weights (not biases) together."""
    return math.sqrt(2 * float(regularization.l2_penalty(model).detach()))


def bias_norm(model: torch.nn.Module) -> float:
    """Euclidean norm of all the parameters that are not weights (the biases here) together."""
    decayed = {id(p) for p in regularization.weights(model)}
    rest = [p.detach() for p in model.parameters() if id(p) not in decayed]
    return math.sqrt(sum(float((p * p).sum()) for p in rest))


# --------------------------------------------------------------------------- early stopping on a curve


@dataclasses.dataclass(frozen=True)
class StopRule:
    """Early stopping's setting: watch validation ``"accuracy"`` (higher is better) or ``"loss"``, wait ``patience``."""

    metric: str
    patience: int

    def __post_init__(self):
        if self.metric not in ("accuracy", "loss"):
            raise ValueError(f"early stopping watches 'accuracy' or 'loss', not {self.metric!r}")

    @property
    def curve(self) -> str:
        return "val_acc" if self.metric == "accuracy" else "val_loss"

    def stopper(self) -> regularization.EarlyStopping:
        return regularization.EarlyStopping(self.patience, mode="max" if self.metric == "accuracy" else "min")

    def __str__(self) -> str:
        return f"{self.metric}, patience {self.patience}"


def stopping_point(curves: dict, rule: StopRule) -> tuple[int, int]:
    """``(epochs trained, restored epoch)`` (1-based) of early stopping with ``rule`` on a run's curves.

    Replays :class:`~dlfoundations.regularization.EarlyStopping` on the validation curve it watches; a run
    that never stops trains every epoch.
    """
    stopper, dummy = rule.stopper(), torch.nn.Identity()
    for value in curves[rule.curve]:
        if stopper.step(value, dummy):
            break
    return stopper.steps, stopper.best_step + 1


# --------------------------------------------------------------------------- one run


@dataclasses.dataclass
class Outcome:
    """One seeded run (accuracies as fractions, losses as mean cross-entropy in nats).

    ``curves`` holds one value per epoch: ``train_loss`` and ``running_acc`` (the epoch's training batches as
    trained on: augmented, with dropout), ``probe_acc``/``probe_loss`` (the first ``probe_images`` training
    images, eval mode, not augmented), ``val_acc``/``val_loss``, and for augmentation ``augmented_acc`` (the
    probe images augmented anew each epoch, eval mode).
    """

    technique: Technique
    seed: int
    curves: dict[str, list[float]]
    train: float  # final weights, all its training images (their labels as trained on), eval mode
    val: float
    val_loss: float
    test: float | None  # measured only where asked (the test part of the study)
    seconds: float
    weights: dict  # :func:`weight_stats` of the final weights
    early: dict | None = None  # the stop rule's epochs and its restored weights' accuracies
    state: dict | None = dataclasses.field(default=None, repr=False)  # final weights on the CPU, if kept

    @property
    def gap(self) -> float:
        return self.train - self.test if self.test is not None else float("nan")


def train_run(
    dataset,
    technique: Technique,
    seed: int,
    b: Budget,
    *,
    measure_test: bool = False,
    stop_rule: StopRule | None = None,
    keep_state: bool = False,
) -> tuple[Outcome, torch.nn.Module]:
    """Train ``technique`` from ``seed`` and measure it after every epoch; returns the outcome and the model.

    The test images are touched only with ``measure_test`` (the final weights, and the weights ``stop_rule``
    restores). ``stop_rule`` only records where early stopping would have stopped; the run goes on.
    """
    from . import training

    config.seed_everything(seed)
    data = training_subset(dataset, technique, b)
    device = data.x_train.device
    model = network(b, technique).to(device)
    optimizer = optimizer_for(model, technique, b)
    batches = data.batches("train", b.batch_size, shuffle=True, augment=technique.augment, seed=seed)
    probe_x, probe_y = data.x_train[: b.probe_images], data.y_train[: b.probe_images]
    augment_generator = torch.Generator(device=device).manual_seed(seed + 1)
    stopper = stop_rule.stopper() if stop_rule is not None else None
    names = ("train_loss", "running_acc", "probe_acc", "probe_loss", "val_acc", "val_loss")
    curves: dict[str, list[float]] = {name: [] for name in names + (("augmented_acc",) if technique.augment else ())}
    start = time.perf_counter()
    for epoch in range(technique.epochs or b.epochs):
        model.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        for x, y in batches:
            scores = model(x)
            loss = F.cross_entropy(scores, y)
            objective = loss + technique.l1 * regularization.l1_penalty(model) if technique.l1 else loss
            optimizer.zero_grad(set_to_none=True)
            objective.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(y)
            correct += (scores.detach().argmax(1) == y).sum()
        epoch_loss = float(loss_sum) / len(data.y_train)
        if not math.isfinite(epoch_loss):
            raise training.DivergenceError(
                f"{technique.name} ({technique.description}), seed {seed}: the training loss is {epoch_loss} in "
                f"epoch {epoch + 1}; lower the learning rate or the strength of the technique"
            )
        curves["train_loss"].append(epoch_loss)
        curves["running_acc"].append(int(correct) / len(data.y_train))
        for name, (x, y) in (("probe", (probe_x, probe_y)), ("val", data.split("val"))):
            acc, loss_value = evaluate(model, x, y, data.mean, data.std)
            curves[f"{name}_acc"].append(acc)
            curves[f"{name}_loss"].append(loss_value)
        if technique.augment:
            from . import augmentation

            views = augmentation.random_flip(augmentation.random_crop(probe_x, 4, augment_generator), augment_generator)
            curves["augmented_acc"].append(evaluate(model, views, probe_y, data.mean, data.std)[0])
        if stopper is not None and stopper.stopped_step is None:  # after the stop it only remembers its choice
            stopper.step(curves[stop_rule.curve][-1], model)
    config.synchronize(device)
    seconds = time.perf_counter() - start
    train = evaluate(model, data.x_train, data.y_train, data.mean, data.std)[0]
    test = accuracy(model, data, "test") if measure_test else None
    early = None
    if stopper is not None:
        stopped = stopper.stopped_step + 1 if stopper.stopped_step is not None else len(curves["val_acc"])
        best = stopper.restore(network(b, technique).to(device))
        early = {
            "metric": stop_rule.metric,
            "patience": stop_rule.patience,
            "epochs": stopped,
            "restored": stopper.best_step + 1,
            "train": evaluate(best, data.x_train, data.y_train, data.mean, data.std)[0],
            "val": curves["val_acc"][stopper.best_step],
            "test": accuracy(best, data, "test") if measure_test else None,
        }
    outcome = Outcome(
        technique=technique,
        seed=seed,
        curves=curves,
        train=train,
        val=curves["val_acc"][-1],
        val_loss=curves["val_loss"][-1],
        test=test,
        seconds=seconds,
        weights=weight_stats(model),
        early=early,
        state={k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()} if keep_state else None,
    )
    return outcome, model


def rebuild(state: dict, b: Budget, device, technique: Technique = BASELINE) -> torch.nn.Module:
    """The model of a finished run, from its saved weights (``Outcome.state``)."""
    model = network(b, technique).to(device)
    model.load_state_dict(state)
    return model


# --------------------------------------------------------------------------- ensembles


def ensemble_accuracy(members: list[torch.nn.Module], dataset, split: str) -> float:
    """Accuracy of :func:`~dlfoundations.regularization.ensemble_predict` on a split."""
    return ensemble_growth(members, dataset, split)[-1]


def ensemble_growth(members: list[torch.nn.Module], dataset, split: str) -> list[float]:
    """Accuracies of the ensembles of the first 1, 2, …, ``len(members)`` members on a split.

    Each member sees the images once; the ensemble of the first ``k`` averages their softmax outputs
    (:func:`~dlfoundations.regularization.ensemble_predict`).
    """
    x, y = dataset.split(split)
    from .batches import Batches

    correct = torch.zeros(len(members), dtype=torch.long)
    for images, labels in Batches(x, y, 500, mean=dataset.mean, std=dataset.std):
        total = None
        for k, member in enumerate(members):
            probs = regularization.ensemble_predict([member], images)
            total = probs if total is None else total + probs
            correct[k] += int(((total / (k + 1)).argmax(1) == labels).sum())
    return [int(c) / len(y) for c in correct]


def member_seeds(b: Budget, seed: int) -> list[int]:
    """The baselines of the ensemble of test seed ``seed``: itself and ``ensemble − 1`` extra seeds (disjoint)."""
    i = b.test_seed_list.index(seed)
    extra = b.member_seed_list
    return [seed] + [extra[i + k * b.test_seeds] for k in range(b.ensemble - 1)]


# --------------------------------------------------------------------------- records


def setting_key(technique: Technique | dict) -> str:
    """A run's setting as canonical JSON (what :func:`choose` groups by and resuming compares)."""
    fields = dataclasses.asdict(technique) if isinstance(technique, Technique) else technique
    return json.dumps(fields, sort_keys=True)


def run_record(study: str, outcome: Outcome, dataset, b: Budget) -> dict:
    """A results-file record of one run."""
    technique = outcome.technique
    record = {
        "study": study,
        "technique": technique.name,
        "setting": dataclasses.asdict(technique),
        "description": technique.description,
        "knob": knob(technique),
        "seed": outcome.seed,
        "train": outcome.train,
        "val": outcome.val,
        "val_loss": outcome.val_loss,
        "test": outcome.test,
        "curves": outcome.curves,
        "weights": outcome.weights,
        "parameters": models.count_parameters(network(b, technique)),
        "seconds": outcome.seconds,
        "train_images": technique.train_images or b.train_images,
        "val_images": len(dataset.y_val),
        "test_images": len(dataset.y_test) if outcome.test is not None else 0,
        "epochs": technique.epochs or b.epochs,
    }
    if outcome.early is not None:
        record["early"] = outcome.early
    return record


def technique_of(record: dict) -> Technique:
    return Technique(**record["setting"])


def select(records: list[dict], study: str, technique: str | None = None) -> list[dict]:
    """The records of ``study`` (and of ``technique``), in file order."""
    return [r for r in records if r.get("study") == study and (technique is None or r["technique"] == technique)]


def by_setting(records: list[dict]) -> dict[str, list[dict]]:
    """Records grouped by :func:`setting_key`, in order of first appearance."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(setting_key(r["setting"]), []).append(r)
    return groups


def mean(values: Iterable[float]) -> float:
    return statistics.fmean(values)


def choose(records: list[dict], technique: str) -> Technique:
    """The setting of ``technique`` whose ``selection`` runs have the highest mean **validation** accuracy.

    Ties go to the setting that comes first in the file (grid order: the weakest). Only ``"val"`` is read:
    a test accuracy in the records, if any, plays no part.
    """
    groups = by_setting(select(records, "selection", technique))
    if not groups:
        raise ValueError(f"no selection runs of {technique!r}: run the study's selection part first")
    best = max(groups.values(), key=lambda runs: mean(r["val"] for r in runs))  # max keeps the first of ties
    return technique_of(best[0])


def stop_rules(b: Budget) -> list[StopRule]:
    """Early stopping's grid: watching accuracy, then loss, each with every patience (shortest first)."""
    return [StopRule(metric, p) for metric in ("accuracy", "loss") for p in b.patience]


def stop_rule_rows(records: list[dict], b: Budget) -> list[dict]:
    """Every rule of :func:`stop_rules` replayed on the baseline's selection runs: mean epochs trained, restored
    epoch, and the restored weights' validation accuracy and loss."""
    runs = select(records, "selection", "none")
    rows = []
    for rule in stop_rules(b):
        points = [stopping_point(r["curves"], rule) for r in runs]
        rows.append(
            {
                "rule": rule,
                "epochs": mean(p[0] for p in points),
                "restored": mean(p[1] for p in points),
                "val": mean(r["curves"]["val_acc"][p[1] - 1] for r, p in zip(runs, points, strict=True)),
                "val_loss": mean(r["curves"]["val_loss"][p[1] - 1] for r, p in zip(runs, points, strict=True)),
            }
        )
    return rows


def choose_stop_rule(records: list[dict], b: Budget) -> StopRule:
    """The early-stopping rule whose restored weights have the highest mean validation accuracy on the baseline's
    selection runs; ties go to the **longer** patience, then to the earlier metric of :func:`stop_rules` (accuracy
    before loss).

    A longer patience watches every epoch a shorter one watches and more, so on the runs it is chosen from its
    restored weights are never worse; a tie says only that on these seeds the extra epochs found nothing better.
    On fresh seeds they may, so the tie goes to the rule that keeps looking (the shortest patience, chosen on a
    tie, stopped the standard study's test runs while their validation accuracy was still to rise).
    """
    if not select(records, "selection", "none"):
        raise ValueError("no selection runs of the baseline: run the study's selection part first")
    rows = stop_rule_rows(records, b)
    return max(rows, key=lambda row: (row["val"], row["rule"].patience))["rule"]


# --------------------------------------------------------------------------- the study


@dataclasses.dataclass(frozen=True)
class Job:
    """One run of the study."""

    study: str
    technique: Technique
    seed: int
    measure_test: bool = False
    stop_rule: StopRule | None = None
    keep_state: bool = False

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.study, setting_key(self.technique), self.seed)


def record_key(record: dict) -> tuple[str, str, int]:
    return (record["study"], setting_key(record["setting"]), record["seed"])


def selection_jobs(b: Budget) -> list[Job]:
    """The baseline, every grid setting and Adam without decay, each on every selection seed."""
    settings = [BASELINE, *itertools.chain.from_iterable(grids(b).values()), adam_baseline(b)]
    return [Job("selection", t, seed) for t in settings for seed in b.selection_seed_list]


def test_jobs(records: list[dict], b: Budget) -> list[Job]:
    """The baseline (with the chosen early-stopping rule), augmentation and every technique's chosen setting, each
    on every test seed; then the ensembles' extra members. Needs the selection runs."""
    rule = choose_stop_rule(records, b)
    chosen = [choose(records, name) for name in TUNED]
    jobs = [Job("test", BASELINE, s, True, rule, keep_state=True) for s in b.test_seed_list]
    jobs += [Job("test", t, s, True) for t in (AUGMENTATION, *chosen) for s in b.test_seed_list]
    jobs += [Job("ensemble member", BASELINE, s, True, keep_state=True) for s in b.member_seed_list]
    return jobs


def sweep_jobs(b: Budget) -> list[Job]:
    """The capacity, training-set-size and label-noise sweeps, on the sweep seeds."""
    jobs = []
    for seed in b.sweep_seed_list:
        jobs += [Job("capacity", Technique("none", width=w), seed) for w in b.widths]
        jobs += [Job("train size", Technique("none", train_images=n), seed) for n in b.train_sizes]
        jobs += [
            Job(
                "label noise",
                Technique("none", train_images=b.label_noise_images, epochs=b.label_noise_epochs, label_noise=f),
                seed,
            )
            for f in b.label_noise
        ]
    return jobs


def ensemble_records(states: dict[int, dict], dataset, b: Budget) -> list[dict]:
    """One record per test seed: the disjoint ensemble of :func:`member_seeds`; and one of kind
    ``ensemble growth``: test accuracy of the ensemble of the first ``k`` of all the baselines, for every k."""
    dataset = training_subset(dataset, BASELINE, b)  # the images the members trained on
    device = dataset.x_train.device
    nets = {seed: rebuild(state, b, device) for seed, state in states.items()}
    records = []
    for seed in b.test_seed_list:
        members = [nets[s] for s in member_seeds(b, seed)]
        scores = {split: ensemble_accuracy(members, dataset, split) for split in ("train", "val", "test")}
        records.append(
            {
                "study": "ensemble",
                "technique": "ensemble",
                "setting": {"members": member_seeds(b, seed)},
                "description": f"{b.ensemble} baselines, softmax averaged",
                "seed": seed,
                **scores,
                "train_images": len(dataset.y_train),
                "val_images": len(dataset.y_val),
                "test_images": len(dataset.y_test),
                "epochs": b.epochs,
            }
        )
    order = b.test_seed_list + b.member_seed_list
    growth = ensemble_growth([nets[s] for s in order], dataset, "test")
    records.append(
        {
            "study": "ensemble growth",
            "technique": "ensemble",
            "setting": {"members": order},
            "seed": order[0],
            "test": growth,
            "member_test": [accuracy(nets[s], dataset, "test") for s in order],
            "test_images": len(dataset.y_test),
        }
    )
    return records


def study(
    dataset,
    b: Budget,
    records: list[dict] | None = None,
    save: Callable[[list[dict]], None] | None = None,
    parts: Iterable[str] = ("selection", "test", "sweeps"),
    log: Callable[[str], None] | None = None,
) -> list[dict]:
    """The chapter's measurement: ``selection``, then ``test`` (chosen settings, the ensembles), then ``sweeps``.

    Runs whose records ``records`` already holds (same study, setting and seed) are not repeated; ``save(records)``
    is called after every run. The test part needs the selection part's records (it trains what they chose).
    Returns all the records.
    """
    parts = set(parts)
    unknown = parts - {"selection", "test", "sweeps"}
    if unknown:
        raise ValueError(f"unknown parts {sorted(unknown)}: choose from selection, test, sweeps")
    records = list(records or [])
    if b.grid_size < 1:
        raise ValueError("every tuned technique needs at least one setting")

    def run(jobs: list[Job]) -> dict[int, dict]:
        done = {record_key(r) for r in records}
        states = {}
        for job in jobs:
            if job.key in done and not job.keep_state:
                continue
            outcome, _ = train_run(
                dataset, job.technique, job.seed, b, measure_test=job.measure_test, stop_rule=job.stop_rule,
                keep_state=job.keep_state,
            )  # fmt: skip
            if job.keep_state:
                states[job.seed] = outcome.state
            if job.key in done:  # re-trained for its weights only (an interrupted run resumed)
                continue
            records.append(run_record(job.study, outcome, dataset, b))
            done.add(job.key)
            if log is not None:
                test = "" if outcome.test is None else f", test {100 * outcome.test:.1f}%"
                log(
                    f"{job.study}: {job.technique.name} ({job.technique.description}), seed {job.seed}: train "
                    f"{100 * outcome.train:.1f}%, val {100 * outcome.val:.1f}%{test} ({outcome.seconds:.0f} s)"
                )
            if save is not None:
                save(records)
        return states

    if "selection" in parts:
        run(selection_jobs(b))
    if "test" in parts:
        jobs = test_jobs(records, b)
        if not select(records, "ensemble"):  # the ensembles need the baselines' weights
            states = run(jobs)
            records.extend(ensemble_records(states, dataset, b))
            if save is not None:
                save(records)
        else:
            run([dataclasses.replace(j, keep_state=False) for j in jobs])
    if "sweeps" in parts:
        run(sweep_jobs(b))
    return records


def complete(records: list[dict], b: Budget) -> bool:
    """Whether ``records`` hold every run of every part of the study."""
    keys = {record_key(r) for r in records if r.get("study") in STUDIES}
    if not {j.key for j in selection_jobs(b) + sweep_jobs(b)} <= keys:
        return False
    return {j.key for j in test_jobs(records, b)} <= keys and bool(select(records, "ensemble"))


# --------------------------------------------------------------------------- analysis


def paired(values: dict[int, float], reference: dict[int, float]) -> dict:
    """Mean difference ``values − reference`` over the shared seeds, its standard error and the two-sided p-value
    of the paired t-test (NaN where it cannot be computed)."""
    from .speedrun import t_two_sided_p

    seeds = sorted(set(values) & set(reference))
    diffs = [values[s] - reference[s] for s in seeds]
    diff = mean(diffs) if diffs else float("nan")
    stderr = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else float("nan")
    p = float("nan")
    if len(diffs) > 1:
        p = t_two_sided_p(diff / stderr, len(diffs) - 1) if stderr > 0 else float(diff == 0)
    return {"pairs": len(seeds), "difference": diff, "stderr": stderr, "p": p}


def comparison(records: list[dict], alpha: float = 0.05) -> list[dict]:
    """One row per technique of :data:`COMPARED`: its chosen setting, per-seed train/val/test accuracy of the test
    runs, and the paired difference in test accuracy from the baseline of the same seed. ``clear`` marks the
    differences that survive Holm's correction over the rows at family-wise level ``alpha``; ``stopped`` counts the
    early-stopping runs that its rule ended before their last epoch (0 for the other rows)."""
    from .speedrun import holm

    base = {r["seed"]: r for r in select(records, "test", "none")}
    if not base:
        raise ValueError("no test runs of the baseline: run the study's test part first")
    rows = []
    for name in COMPARED:
        if name == "early stopping":
            runs = [{**r, **{k: r["early"][k] for k in ("train", "val", "test")}} for r in base.values()]
            early = next(iter(base.values()))["early"]
            setting = f"{early['metric']}, patience {early['patience']}"
        elif name == "ensemble":
            runs = select(records, "ensemble")
            setting = runs[0]["description"] if runs else ""
        else:
            runs = select(records, "test", name)
            setting = runs[0]["description"] if runs else ""
        if not runs:
            raise ValueError(f"no test runs of {name!r}: run the study's test part first")
        rows.append(
            {
                "technique": name,
                "setting": setting,
                "seeds": [r["seed"] for r in runs],
                "train": [r["train"] for r in runs],
                "val": [r["val"] for r in runs],
                "test": [r["test"] for r in runs],
                "gap": [r["train"] - r["test"] for r in runs],
                "epochs": [r["early"]["epochs"] if name == "early stopping" else r["epochs"] for r in runs],
                # early stopping: how many runs it ended before their last epoch (the others trained them all)
                "stopped": sum(r["early"]["epochs"] < r["epochs"] for r in runs) if name == "early stopping" else 0,
                **paired({r["seed"]: r["test"] for r in runs}, {s: r["test"] for s, r in base.items()}),
                "clear": False,
            }
        )
    tested = [r for r in rows if r["technique"] != "none" and not math.isnan(r["p"])]
    for row, reject in zip(tested, holm([r["p"] for r in tested], alpha), strict=True):
        row["clear"] = reject
    return rows


def _points(value: float) -> str:
    return "—" if math.isnan(value) else f"{100 * value:.1f}"


def comparison_table(rows: list[dict]) -> str:
    """Markdown for :func:`comparison`: accuracies as mean ± std over the test seeds, the paired difference from
    the baseline (± its standard error) and a ``*`` where it survives the Holm-corrected paired t-test; early
    stopping's epochs are those it trained, with how many of its runs it ended before their last epoch."""
    from .book import markdown_table
    from .results import percent

    header = [
        "technique",
        "chosen on validation",
        "train",
        "val.",
        "test",
        "gap",
        "test − baseline (points, ± s.e.)",
        "epochs",
    ]
    body = []
    for r in rows:
        epochs = mean(r["epochs"])
        body.append(
            [
                r["technique"],
                r["setting"],
                percent(r["train"]),
                percent(r["val"]),
                percent(r["test"]),
                percent(r["gap"]),
                ""
                if r["technique"] == "none"
                else f"{100 * r['difference']:+.1f} ± {_points(r['stderr'])}" + (" *" if r["clear"] else ""),
                f"{epochs:.1f} ({r['stopped']} of {len(r['epochs'])} stopped early)"
                if r["technique"] == "early stopping"
                else f"{epochs:.0f}",
            ]
        )
    return markdown_table(header, body)


def grid_rows(records: list[dict], technique: str) -> list[dict]:
    """The selection runs of one technique, one row per setting: knob, mean train and validation accuracy,
    validation loss and weight statistics, and whether :func:`choose` picked it."""
    chosen = setting_key(choose(records, technique))
    rows = []
    for key, runs in by_setting(select(records, "selection", technique)).items():
        rows.append(
            {
                "technique": technique,
                "knob": runs[0]["knob"],
                "description": runs[0]["description"],
                "seeds": len(runs),
                "train": mean(r["train"] for r in runs),
                "val": mean(r["val"] for r in runs),
                "val_std": statistics.stdev([r["val"] for r in runs]) if len(runs) > 1 else float("nan"),
                "val_loss": mean(r["val_loss"] for r in runs),
                "exact_zeros": mean(r["weights"]["exact_zeros"] for r in runs),
                "below": mean(r["weights"]["below_1e-3"] for r in runs),
                "norm": mean(r["weights"]["norm"] for r in runs),
                "chosen": key == chosen,
            }
        )
    return rows


def grid_table(records: list[dict], techniques: Iterable[str] = TUNED) -> str:
    """Markdown: every setting of every grid, its mean training and validation accuracy over the selection seeds,
    the chosen one in bold; the baseline's runs (and Adam's without decay) as the reference rows."""
    from .book import markdown_table

    body = []
    for name in ("none", "Adam", *techniques):
        rows = grid_rows(records, name) if name in TUNED else _reference_rows(records, name)
        for r in rows:
            mark = "**" if r["chosen"] else ""
            body.append(
                [
                    name,
                    f"{mark}{r['description']}{mark}",
                    f"{100 * r['train']:.1f}%",
                    f"{mark}{100 * r['val']:.1f}%{mark}",
                    f"{r['val_loss']:.2f}",
                    f"{r['norm']:.1f}",
                ]
            )
    header = ["technique", "setting", "train", "val.", "val. loss", "‖w‖"]
    return markdown_table(header, body)


def stop_rule_table(rows: list[dict], chosen: StopRule | None = None) -> str:
    """Markdown for :func:`stop_rule_rows` (the chosen rule in bold)."""
    from .book import markdown_table

    body = []
    for r in rows:
        mark = "**" if r["rule"] == chosen else ""
        body.append(
            [
                f"{mark}{r['rule'].metric}{mark}",
                f"{mark}{r['rule'].patience}{mark}",
                f"{r['epochs']:.1f}",
                f"{r['restored']:.1f}",
                f"{100 * r['val']:.1f}%",
                f"{r['val_loss']:.2f}",
            ]
        )
    header = ["watches", "patience", "epochs trained", "restored epoch", "val. accuracy", "val. loss"]
    return markdown_table(header, body)


def sparsity_table(records: list[dict]) -> str:
    """Markdown: the weights of the baseline and of every L2 and L1 setting (selection runs, means over seeds):
    fraction below 1e-3, exact zeros, norm, validation accuracy."""
    from .book import markdown_table

    rows = [("none", r) for r in _reference_rows(records, "none")]
    rows += [(name, r) for name in ("weight decay", "L1") for r in grid_rows(records, name)]
    body = [
        [
            name,
            r["description"],
            f"{100 * r['val']:.1f}%",
            f"{100 * r['below']:.2f}%",
            f"{r['exact_zeros']:.0f}",
            f"{r['norm']:.1f}",
        ]
        for name, r in rows
    ]
    header = ["penalty", "setting", "val.", "weights below 1e-3", "weights exactly 0", "‖w‖"]
    return markdown_table(header, body)


def _reference_rows(records: list[dict], name: str) -> list[dict]:
    runs = select(records, "selection", name)
    if not runs:
        return []
    return [
        {
            "description": runs[0]["description"],
            "train": mean(r["train"] for r in runs),
            "val": mean(r["val"] for r in runs),
            "val_loss": mean(r["val_loss"] for r in runs),
            "norm": mean(r["weights"]["norm"] for r in runs),
            "below": mean(r["weights"]["below_1e-3"] for r in runs),
            "exact_zeros": mean(r["weights"]["exact_zeros"] for r in runs),
            "chosen": False,
        }
    ]


def sweep_rows(records: list[dict], study_name: str) -> list[dict]:
    """One row per setting of a sweep (``capacity``, ``train size``, ``label noise``), the baseline's selection
    runs of the same seeds included where they are a point of the sweep: parameters, training images, mean
    train/val accuracy."""
    runs = select(records, study_name)
    if study_name in ("capacity", "train size"):
        seeds = {r["seed"] for r in runs}
        runs = runs + [r for r in select(records, "selection", "none") if r["seed"] in seeds]
    rows = []
    for runs_of in by_setting(runs).values():
        t = technique_of(runs_of[0])
        rows.append(
            {
                "width": t.width,
                "train_images": runs_of[0]["train_images"],
                "label_noise": t.label_noise,
                "parameters": runs_of[0]["parameters"],
                "seeds": len(runs_of),
                "train": mean(r["train"] for r in runs_of),
                "val": mean(r["val"] for r in runs_of),
                "train_curve": [mean(c) for c in zip(*(r["curves"]["probe_acc"] for r in runs_of), strict=True)],
                "val_curve": [mean(c) for c in zip(*(r["curves"]["val_acc"] for r in runs_of), strict=True)],
            }
        )
    sort_by = {"capacity": "parameters", "train size": "train_images", "label noise": "label_noise"}[study_name]
    return sorted(rows, key=lambda r: r[sort_by])


def adam_comparison(records: list[dict]) -> dict:
    """Test accuracies of the chosen Adam + L2 and AdamW settings, and the paired difference AdamW − (Adam + L2)."""
    runs = {name: {r["seed"]: r for r in select(records, "test", name)} for name in ("Adam + L2", "AdamW")}
    if not all(runs.values()):
        raise ValueError("no test runs of Adam + L2 and AdamW: run the study's test part first")
    return {
        name: {
            "setting": next(iter(rs.values()))["description"],
            "test": [r["test"] for r in rs.values()],
            "train": [r["train"] for r in rs.values()],
            "norm": [r["weights"]["norm"] for r in rs.values()],
        }
        for name, rs in runs.items()
    } | {
        "paired": paired(
            {s: r["test"] for s, r in runs["AdamW"].items()}, {s: r["test"] for s, r in runs["Adam + L2"].items()}
        )
    }


# --------------------------------------------------------------------------- plots


def plot_curves(curves: dict, title: str | None = None, rules: Iterable[StopRule] = ()):
    """Accuracy (left) and loss (right) per epoch of one run: the training probe dashed, validation solid; a star
    where validation accuracy peaks, a triangle where validation loss bottoms out, a dotted line where each of
    ``rules`` stops."""
    import matplotlib.pyplot as plt

    epochs = range(1, len(curves["val_acc"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(epochs, [100 * a for a in curves["probe_acc"]], "--", color="C0", label="training images")
    left.plot(epochs, [100 * a for a in curves["val_acc"]], "o-", color="C1", ms=3, label="validation images")
    right.plot(epochs, curves["probe_loss"], "--", color="C0", label="training images")
    right.plot(epochs, curves["val_loss"], "o-", color="C1", ms=3, label="validation images")
    best_acc = max(range(len(curves["val_acc"])), key=lambda e: curves["val_acc"][e])
    best_loss = min(range(len(curves["val_loss"])), key=lambda e: curves["val_loss"][e])
    for ax, key, scale in ((left, "val_acc", 100), (right, "val_loss", 1)):
        ax.plot(
            best_acc + 1, scale * curves[key][best_acc], "*", color="k", ms=13, zorder=5, label="best val. accuracy"
        )
        ax.plot(best_loss + 1, scale * curves[key][best_loss], "v", color="C3", ms=9, zorder=5, label="least val. loss")
        for i, rule in enumerate(rules):
            stopped, _ = stopping_point(curves, rule)
            ax.axvline(stopped, color=f"C{4 + i}", ls=":", label=f"stops ({rule})")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    left.set(ylabel="accuracy (%)", title="accuracy")
    right.set(ylabel="cross-entropy (nats)", title="loss")
    right.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _ticks_at(ax, values, fmt: str = "{:g}") -> None:
    """Ticks at exactly ``values``, labelled plainly (no 10^x minor ticks on log axes)."""
    ax.set_xticks(list(values))
    ax.set_xticklabels([fmt.format(v) for v in values])
    ax.minorticks_off()


def plot_grids(records: list[dict], techniques: Iterable[str] = TUNED):
    """Mean training (dashed) and validation (solid) accuracy against each technique's strength, the chosen
    setting ringed, and the validation accuracy without the technique (the baseline, or Adam without decay) as a
    grey line."""
    import matplotlib.pyplot as plt

    techniques = list(techniques)
    fig, axes = plt.subplots(1, len(techniques), figsize=(3.1 * len(techniques), 3.2), sharey=True)
    reference = {"none": select(records, "selection", "none"), "Adam": select(records, "selection", "Adam")}
    for ax, name in zip(axes, techniques, strict=True):
        rows = grid_rows(records, name)
        x = [r["knob"] for r in rows]
        ax.plot(x, [100 * r["train"] for r in rows], "--", color="C0", label="train")
        ax.plot(x, [100 * r["val"] for r in rows], "o-", color="C1", label="val.")
        chosen = next(r for r in rows if r["chosen"])
        ax.plot(chosen["knob"], 100 * chosen["val"], "o", ms=14, mfc="none", color="k", label="chosen")
        ref = reference["Adam" if name.startswith("Adam") else "none"]
        if ref:
            ax.axhline(100 * mean(r["val"] for r in ref), color="grey", lw=1, label="val. without it")
        if name != "dropout":
            ax.set_xscale("log")
        _ticks_at(ax, x)
        ax.set(title=name, xlabel="p" if name == "dropout" else "λ")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy (%)")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_sweeps(records: list[dict]):
    """Training (dashed) and validation (solid) accuracy against parameters, training images and label noise."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
    for ax, name, key, label, fmt in (
        (axes[0], "capacity", "parameters", "parameters", "{:,}"),
        (axes[1], "train size", "train_images", "training images", "{:,}"),
        (axes[2], "label noise", "label_noise", "fraction of random labels", "{:g}"),
    ):
        rows = sweep_rows(records, name)
        x = [r[key] for r in rows]
        ax.plot(x, [100 * r["train"] for r in rows], "s--", color="C0", label="train (its own labels)")
        ax.plot(x, [100 * r["val"] for r in rows], "o-", color="C1", label="val.")
        if name != "label noise":
            ax.set_xscale("log")
        _ticks_at(ax, x, fmt)
        ax.set(xlabel=label, title=name)
        ax.tick_params(axis="x", labelrotation=30 if name == "capacity" else 0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy (%)")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- the results file


def read(path: str | Path) -> tuple[dict, list[dict]]:
    """``(meta, records)`` of a results file :func:`study` wrote; an error saying how to re-create one of an older
    format."""
    from . import results

    meta, records = results.read(path, KIND)
    if meta.get("format") != FORMAT:
        raise results.ResultsFileError(
            f"{path} holds the regularization chapter's results in format {meta.get('format', 1)}, this code reads "
            f"format {FORMAT} (validation-chosen settings, tested once): re-create it with "
            f"{COMMAND.format(file=Path(path).name)}"
        )
    return meta, records


def committed(profile: str = "standard") -> tuple[Path, dict, list[dict]]:
    """The committed results file of ``profile`` (``results/generalization-<profile>-*.json``) and its contents."""
    from . import results

    files = [f for f in results.available(kind=KIND) if f.name.startswith(f"generalization-{profile}")]
    if not files:
        raise FileNotFoundError(
            f"no committed {profile} results of kind {KIND!r} in {results.RESULTS_DIR}: create them with "
            f"{COMMAND.format(file=f'generalization-{profile}-cpu.json')}"
        )
    meta, records = read(files[0])
    return files[0], meta, records


def main(argv: list[str] | None = None) -> Path:
    """The command line: :func:`study` at a profile's budget, written to ``--out`` after every run; returns the
    path. ``--resume`` continues a file the same code and budget started; ``--allow-dirty`` writes a trial file
    from uncommitted code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=sorted(BUDGETS), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--parts", nargs="+", choices=("selection", "test", "sweeps"), help="only these parts")
    parser.add_argument("--resume", action="store_true", help="continue --out: skip the runs it already holds")
    parser.add_argument("--threads", type=int, help="torch threads (1 avoids oversubscribing a shared CPU)")
    parser.add_argument(
        "--allow-dirty", action="store_true", help="write even from uncommitted code (a trial file, never committed)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from . import results

    b = budget(args.profile)
    dataset = load_cifar(b)
    meta = {
        **results.metadata(dataset.x_train.device, allow_dirty=args.allow_dirty or None),
        "format": FORMAT,
        "profile": args.profile,
        "budget": dataclasses.asdict(b),
        "data": results.portable(dataset.source),
    }
    records: list[dict] = []
    earlier = 0.0  # seconds of the sessions that wrote the file before this one
    if args.out.exists():
        if not args.resume:
            raise SystemExit(
                f"{args.out} exists: pass --resume to continue it, or delete it (or choose another --out) "
                "to start afresh"
            )
        old_meta, records = read(args.out)
        if old_meta["budget"] != json.loads(json.dumps(meta["budget"])) or old_meta.get("commit") != meta["commit"]:
            raise SystemExit(
                f"{args.out} was written with another budget or commit ({old_meta.get('commit')}): "
                "resume only from the code that started it"
            )
        meta["started"] = old_meta.get("started", old_meta["date"])
        earlier = old_meta.get("seconds", 0.0)
    config.describe(dataset.source, args.profile, dataset.x_train.device)
    start = time.perf_counter()

    def save(current: list[dict]) -> None:
        results.write(
            args.out,
            KIND,
            current,
            {**meta, "seconds": earlier + time.perf_counter() - start, "complete": complete(current, b)},
        )

    records = study(dataset, b, records, save, args.parts or ("selection", "test", "sweeps"), log=print)
    save(records)
    print(f"wrote {len(records)} records to {args.out} ({time.perf_counter() - start:.0f} s)", flush=True)
    return args.out


if __name__ == "__main__":
    main()
