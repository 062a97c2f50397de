"""The CIFAR-10 experiments of chapters 07–10, runnable from a notebook or from :mod:`dlfoundations.reproduce`.

Every experiment trains with a given seed and returns a :class:`Run`: final and
best validation accuracy, test accuracy of the final weights (and of the best
validation checkpoint, to show what picking it costs), and seconds per epoch.
:func:`repeat` runs several seeds and collects them in a :class:`Record`, the
unit that :mod:`dlfoundations.results` saves and tabulates.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable

import torch

from . import config, distributed, models, search, training


@dataclasses.dataclass
class Run:
    """What one seeded training run measured (accuracies as fractions)."""

    seed: int
    val: float  # validation accuracy of the final weights
    best_val: float  # best validation accuracy over the run's checks
    test: float | None  # test accuracy of the final weights (None during a search)
    best_checkpoint_test: float | None  # test accuracy of the weights at the best validation check
    seconds_per_epoch: float
    epochs: int
    history: training.History | None = dataclasses.field(default=None, repr=False)
    state: dict | None = dataclasses.field(default=None, repr=False)  # the final weights, on the CPU


@dataclasses.dataclass
class Record:
    """One experiment over several seeds, with the figures it is compared against."""

    experiment: str
    chapter: str
    report: float | None  # the HW9 report's best validation accuracy, in percent
    target: float | None  # the assignment's target, in percent
    seeds: list[int]
    val: list[float]
    best_val: list[float]
    test: list[float]
    best_checkpoint_test: list[float]
    seconds_per_epoch: list[float]
    epochs: int
    train_images: int
    profile: str
    device: str
    settings: dict = dataclasses.field(default_factory=dict)

    def summary(self, field: str) -> tuple[float, float]:
        """Mean and standard deviation over seeds of one of the per-seed lists."""
        return search.mean_std(getattr(self, field))


def evaluate(model: torch.nn.Module, dataset, split: str, state: dict | None = None) -> float:
    """Accuracy of ``model`` (or of a copy holding ``state``) on a split, quietly."""
    if state is not None:
        model = copy.deepcopy(model)
        model.load_state_dict(state)
    return training.check_accuracy(dataset.batches(split, 500), model, split=split, verbose=False)


def fit(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    dataset,
    epochs: int,
    seed: int,
    batch_size: int = 64,
    print_every: int = 100,
    augment: bool = False,
    scheduler=None,
    scheduler_interval: str = "epoch",
    evaluate_test: bool = True,
    label_smoothing: float = 0.0,
    verbose: bool = False,
) -> Run:
    """Train with :func:`dlfoundations.training.train`, keeping the best validation checkpoint.

    Under ``torchrun`` the model is wrapped in ``DistributedDataParallel`` and each process trains on
    its shard of every batch (:mod:`dlfoundations.distributed`); evaluation uses the whole splits.
    """
    batches = distributed.shard(dataset.batches("train", batch_size, shuffle=True, seed=seed, augment=augment))
    history = training.train(
        distributed.wrap(model),
        optimizer,
        batches,
        dataset.batches("val", 500),
        epochs=epochs,
        print_every=print_every,
        scheduler=scheduler,
        scheduler_interval=scheduler_interval,
        keep_best=True,
        label_smoothing=label_smoothing,
        verbose=verbose,
    )
    if history.best_state is not None:  # a DistributedDataParallel wrapper prefixes every name with "module."
        history.best_state = {k.removeprefix("module."): v for k, v in history.best_state.items()}
    return Run(
        seed=seed,
        val=history.final_val_accuracy,
        best_val=history.best_val_accuracy,
        test=evaluate(model, dataset, "test") if evaluate_test else None,
        best_checkpoint_test=evaluate(model, dataset, "test", history.best_state) if evaluate_test else None,
        seconds_per_epoch=history.seconds_per_epoch,
        epochs=epochs,
        history=history,
        state=cpu_state(model.state_dict()),
    )


def cpu_state(state: dict) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}


# --------------------------------------------------------------------------- one-epoch runs (chapters 07–09)


def _sgd(lr: float, nesterov: bool = False):
    return lambda params: torch.optim.SGD(params, lr=lr, momentum=0.9 if nesterov else 0.0, nesterov=nesterov)


@dataclasses.dataclass(frozen=True)
class OneEpoch:
    """A one-epoch experiment of the API chapters."""

    chapter: str
    build: Callable[[], object]
    lr: float
    report: float
    target: float | None
    nesterov: bool = False
    barebones: Callable | None = None  # the model function of a barebones run


ONE_EPOCH: dict[str, OneEpoch] = {
    "barebones two-layer FC (hidden 4000, SGD 1e-2)": OneEpoch(
        "07", lambda: models.init_two_layer_fc(4000), 1e-2, 42.9, 40, barebones=models.two_layer_fc
    ),
    "barebones ConvNet (32, 16; SGD 3e-3)": OneEpoch(
        "07", lambda: models.init_three_layer_convnet(32, 16), 3e-3, 47.0, 42, barebones=models.three_layer_convnet
    ),
    "Module two-layer FC (hidden 4000, SGD 1e-2)": OneEpoch(
        "08", lambda: models.TwoLayerFC(3 * 32 * 32, 4000, 10), 1e-2, 47.5, 40
    ),
    "Module ConvNet (32, 16; SGD 3e-3)": OneEpoch(
        "08", lambda: models.ThreeLayerConvNet(3, 32, 16, 10), 3e-3, 50.6, 45
    ),
    "Sequential two-layer FC (hidden 4000, Nesterov 1e-2)": OneEpoch(
        "09", lambda: models.sequential_two_layer_fc(4000), 1e-2, 47.4, None, nesterov=True
    ),
    "Sequential ConvNet (32, 16; Nesterov 1e-2)": OneEpoch(
        "09", lambda: models.sequential_convnet(32, 16), 1e-2, 54.6, 55, nesterov=True
    ),
}


def one_epoch(name: str, dataset, seed: int, print_every: int = 100, verbose: bool = False) -> Run:
    """Train the named experiment of :data:`ONE_EPOCH` for one epoch (batch 64) from ``seed``."""
    spec = ONE_EPOCH[name]
    config.seed_everything(seed)
    built = spec.build()
    if spec.barebones is None:
        model = built.to(dataset.x_train.device)
        return fit(model, _sgd(spec.lr, spec.nesterov)(model.parameters()), dataset, 1, seed, print_every=print_every)
    params = [p.detach().to(dataset.x_train.device).requires_grad_() for p in built]
    distributed.average_gradients(params)  # under torchrun: each process has a shard of every batch
    history = training.train_barebones(
        spec.barebones,
        params,
        distributed.shard(dataset.batches("train", 64, shuffle=True, seed=seed)),
        dataset.batches("val", 500),
        learning_rate=spec.lr,
        print_every=print_every,
        verbose=verbose,
    )
    test = training.check_accuracy(dataset.batches("test", 500), spec.barebones, params, split="test", verbose=False)
    state = cpu_state({f"param{i}": p for i, p in enumerate(params)})
    return Run(
        seed,
        history.final_val_accuracy,
        history.best_val_accuracy,
        test,
        None,
        history.seconds_per_epoch,
        1,
        state=state,
    )


# --------------------------------------------------------------------------- chapter 10: the report's searches


def fc_adam_setup(device, hidden: int, lr: float, weight_decay: float, seed: int):
    """The report's two-layer network (``nn.Sequential``) and its Adam optimizer, seeded."""
    config.seed_everything(seed)
    model = models.sequential_two_layer_fc(hidden).to(device)
    return model, torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def convnet_adam_setup(device, channels, lr: float, weight_decay: float, seed: int):
    """The report's wide three-layer ConvNet and its Adam optimizer, seeded."""
    config.seed_everything(seed)
    model = models.sequential_convnet(*channels).to(device)
    return model, torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def fc_adam(dataset, hidden: int, lr: float, weight_decay: float, epochs: int, seed: int, **options) -> Run:
    """The report's two-layer network (``nn.Sequential``) trained with Adam."""
    model, optimizer = fc_adam_setup(dataset.x_train.device, hidden, lr, weight_decay, seed)
    return fit(model, optimizer, dataset, epochs, seed, **options)


def convnet_adam(dataset, channels, lr: float, weight_decay: float, epochs: int, seed: int, **options) -> Run:
    """The report's wide three-layer ConvNet trained with Adam."""
    model, optimizer = convnet_adam_setup(dataset.x_train.device, channels, lr, weight_decay, seed)
    return fit(model, optimizer, dataset, epochs, seed, **options)


# --------------------------------------------------------------------------- chapter 10: what the course teaches


@dataclasses.dataclass(frozen=True)
class Recipe:
    """BatchNorm ConvNet, He init, Nesterov SGD, one-cycle learning rate, crop + flip augmentation."""

    widths: tuple[int, ...] = (64, 128, 256)
    convs_per_block: int = 2
    batch_size: int = 128
    peak_lr: float = 0.1
    weight_decay: float = 5e-4
    warmup: float = 0.2  # fraction of the steps spent raising the rate
    augment: bool = True


def one_cycle(optimizer: torch.optim.Optimizer, recipe: Recipe, steps: int):
    """The recipe's schedule: from peak/25 linearly up to the peak over ``warmup·steps``, then linearly down."""
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=recipe.peak_lr,
        total_steps=steps,
        pct_start=recipe.warmup,
        anneal_strategy="linear",
        cycle_momentum=False,
        div_factor=25.0,
        final_div_factor=1e3,
    )


def tuned_convnet(dataset, epochs: int, seed: int, recipe: Recipe = Recipe(), **options) -> Run:
    """Train :func:`dlfoundations.models.conv_bn_net` with the recipe; the rate rises linearly then falls to 0."""
    config.seed_everything(seed)
    model = models.conv_bn_net(recipe.widths, recipe.convs_per_block).to(dataset.x_train.device)
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=recipe.peak_lr, momentum=0.9, nesterov=True, weight_decay=recipe.weight_decay
    )
    steps = epochs * math.ceil(len(dataset.y_train) / recipe.batch_size)
    scheduler = one_cycle(optimizer, recipe, steps)
    return fit(
        model,
        optimizer,
        dataset,
        epochs,
        seed,
        batch_size=recipe.batch_size,
        augment=recipe.augment,
        scheduler=scheduler,
        scheduler_interval="iteration",
        **options,
    )


def repeat(
    experiment: str,
    chapter: str,
    train: Callable[[int], Run],
    seeds,
    dataset,
    report: float | None = None,
    target: float | None = None,
    settings: dict | None = None,
) -> tuple[Record, list[Run]]:
    """Run ``train(seed)`` for every seed and collect the results in a :class:`Record`."""
    runs = [train(seed) for seed in seeds]
    record = Record(
        experiment=experiment,
        chapter=chapter,
        report=report,
        target=target,
        seeds=list(seeds),
        val=[r.val for r in runs],
        best_val=[r.best_val for r in runs],
        test=[r.test for r in runs],
        best_checkpoint_test=[r.best_checkpoint_test for r in runs if r.best_checkpoint_test is not None],
        seconds_per_epoch=[r.seconds_per_epoch for r in runs],
        epochs=runs[0].epochs,
        train_images=len(dataset.y_train),
        profile=config.settings().profile,
        device=str(dataset.x_train.device),
        settings=settings or {},
    )
    return record, runs


# --------------------------------------------------------------------------- chapter 10 as a whole

FC_GRID = {"hidden": [4000, 5000, 6000], "lr": [1e-1, 1e-2, 1e-3, 1e-4], "weight_decay": [1e-3, 1e-4, 1e-5]}
CONV_GRID = {"lr": [1e-3, 3e-4, 1e-4], "weight_decay": [1e-4, 1e-5]}
REPORT_FC_BEST = 57.4  # hidden 4000, lr 1e-4, weight decay 1e-4, best of ~70 validation checks
REPORT_CONV_BEST = 66.3  # channels (128, 64), lr 1e-4, weight decay 1e-5
TARGET_TUNED = 70.0  # CS231n: at least 70% validation accuracy within 10 epochs


def subset(dataset, num_train: int):
    """The same data set with only its first ``num_train`` training images."""
    return dataclasses.replace(dataset, x_train=dataset.x_train[:num_train], y_train=dataset.y_train[:num_train])


def fc_search(dataset, s: config.Settings, verbose: bool = True) -> list[dict]:
    """Adam on the report's two-layer grid (a sample of ``s.search_trials``), ranked by final validation accuracy."""
    small = subset(dataset, s.search_images)

    def objective(c):
        run = fc_adam(small, c["hidden"], c["lr"], c["weight_decay"], s.search_epochs, s.seed, evaluate_test=False)
        return {"val": run.val, "best_val": run.best_val, "s/epoch": run.seconds_per_epoch}

    return search.run(search.sample(fc_grid(s), s.search_trials, s.seed), objective, verbose=verbose)


def fc_grid(s: config.Settings) -> list[dict]:
    """The report's grid, with the profile's hidden widths (tiny ones in ``quick``)."""
    return search.grid(**{**FC_GRID, "hidden": list(s.fc_hidden)})


def conv_search(dataset, s: config.Settings, verbose: bool = True) -> list[dict]:
    """Adam on the wide ConvNet over :data:`CONV_GRID` (a third of ``s.search_trials``, at least 2)."""
    small = subset(dataset, s.search_images)

    def objective(c):
        run = convnet_adam(
            small, s.wide_channels, c["lr"], c["weight_decay"], s.search_epochs, s.seed, evaluate_test=False
        )
        return {"val": run.val, "best_val": run.best_val, "s/epoch": run.seconds_per_epoch}

    trials = max(2, s.search_trials // 3)
    return search.run(search.sample(search.grid(**CONV_GRID), trials, s.seed), objective, verbose=verbose)


def finalist_seeds(s: config.Settings) -> list[int]:
    return [s.seed + i for i in range(s.final_seeds)]


def fc_finalist(dataset, s: config.Settings, best: dict) -> tuple[Record, list[Run]]:
    small = subset(dataset, s.search_images)
    return repeat(
        f"two-layer FC, Adam (hidden {best['hidden']}, lr {best['lr']:g}, wd {best['weight_decay']:g})",
        "10",
        lambda seed: fc_adam(small, best["hidden"], best["lr"], best["weight_decay"], s.search_epochs, seed),
        finalist_seeds(s),
        small,
        REPORT_FC_BEST,
        None,
        dict(best),
    )


def conv_finalist(dataset, s: config.Settings, best: dict) -> tuple[Record, list[Run]]:
    small = subset(dataset, s.search_images)
    c1, c2 = s.wide_channels
    return repeat(
        f"wide ConvNet ({c1}, {c2}), Adam (lr {best['lr']:g}, wd {best['weight_decay']:g})",
        "10",
        lambda seed: convnet_adam(small, s.wide_channels, best["lr"], best["weight_decay"], s.search_epochs, seed),
        finalist_seeds(s),
        small,
        REPORT_CONV_BEST,
        None,
        dict(best),
    )


def tuned_recipe(s: config.Settings) -> Recipe:
    """The profile's recipe; the peak rate scales with the batch size (0.1 at 128)."""
    return Recipe(
        widths=tuple(s.tuned_widths),
        convs_per_block=s.tuned_convs,
        batch_size=s.tuned_batch,
        peak_lr=0.1 * s.tuned_batch / 128,
    )


def tuned_finalist(dataset, s: config.Settings) -> tuple[Record, list[Run]]:
    recipe = tuned_recipe(s)
    widths = "-".join(map(str, recipe.widths))
    return repeat(
        f"BN ConvNet {widths} ×{recipe.convs_per_block}, Nesterov one-cycle, crop+flip",
        "10",
        lambda seed: tuned_convnet(dataset, s.tuned_epochs, seed, recipe),
        finalist_seeds(s),
        dataset,
        None,
        TARGET_TUNED,
        dataclasses.asdict(recipe),
    )


def one_epoch_record(name: str, dataset, seeds) -> tuple[Record, list[Run]]:
    spec = ONE_EPOCH[name]
    return repeat(
        name, spec.chapter, lambda seed: one_epoch(name, dataset, seed), seeds, dataset, spec.report, spec.target
    )


def print_runs(runs: list[Run]) -> None:
    """One line per seed: final validation and test accuracy, seconds per epoch."""
    for run in runs:
        test = "—" if run.test is None else f"{100 * run.test:.1f}%"
        print(f"seed {run.seed}: val {100 * run.val:.1f}%, test {test}, {run.seconds_per_epoch:.1f} s/epoch")
