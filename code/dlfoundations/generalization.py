"""The experiments of the chapter *Overfitting and regularization*: one network, one budget, one technique at a time.

A small ConvNet (two conv 3×3 → ReLU → max-pool blocks, a hidden layer of ``hidden`` units, a
linear classifier) is trained with SGD + momentum on a subset of CIFAR-10's training images that
it can memorize. Every technique changes one thing and keeps the rest (model, optimizer, learning
rate, epochs, batch size) fixed:

* ``none``: nothing, the overfitting baseline;
* ``early stopping``: the baseline's runs, with :class:`~dlfoundations.regularization.EarlyStopping`
  watching the validation accuracy; the weights it restores are evaluated (the runs continue to the
  end, so the same runs also show what happens after the stop);
* ``weight decay``: SGD's ``weight_decay`` on the weights (not biases; ``Technique.decay_biases`` decays them too);
* ``L1``: ``λ·Σ|w|`` added to the loss;
* ``dropout``: :class:`~dlfoundations.regularization.Dropout` before the classifier and in the hidden layer;
* ``augmentation``: per-image random crops (4 pixels of zero padding) and flips;
* ``ensemble``: the average of the softmax outputs of ``ensemble`` baselines trained from different seeds.

The sizes of each profile are in :data:`BUDGETS`. ``python -m dlfoundations.generalization
--profile standard --seeds 3 --out results/generalization-standard-cpu.json`` runs every technique
over several seeds and writes a results file of kind ``"generalization"``, saved after every technique.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import torch

from . import config, models, regularization, results, search, training

KIND = "generalization"
DERIVED = ("early stopping", "ensemble")  # evaluated from the runs of other techniques


@dataclasses.dataclass(frozen=True)
class Budget:
    """Everything every technique shares in one profile, and each technique's strength."""

    train_images: int  # the first images of the training split: few enough to memorize
    epochs: int
    seeds: int  # of every technique in the committed results file (python -m dlfoundations.generalization)
    channels: tuple[int, int]
    hidden: int
    batch_size: int = 64
    lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 1e-2  # SGD's coupled weight decay (λ of λ·½Σw²) on the weights
    l1: float = 3e-4  # λ of λ·Σ|w|
    dropout: float = 0.5  # probability of dropping a unit of the hidden layer
    input_dropout: float = 0.25  # ... and of the flattened convolution features
    patience: int = 3  # epochs without a better validation accuracy before early stopping
    ensemble: int = 3  # members of an ensemble
    probe_images: int = 1000  # training images whose accuracy is measured after every epoch
    l1_sweep: tuple[float, ...] = (1e-4, 3e-4, 1e-3)  # the chapter's L1 strengths (besides 0)
    chapter_seeds: int | None = None  # seeds the chapter itself trains (None: ``seeds``)
    profile: str = ""  # the run profile this budget belongs to (its records say so)

    @property
    def notebook_seeds(self) -> int:
        return self.seeds if self.chapter_seeds is None else self.chapter_seeds


BUDGETS: dict[str, Budget] = {
    # nbval: 1,000 images, a narrow network, a few epochs; every technique for 2 seeds in about a minute
    "quick": Budget(
        profile="quick",
        train_images=1_000,
        epochs=8,
        seeds=2,
        channels=(8, 16),
        hidden=64,
        ensemble=2,
        probe_images=500,
        l1_sweep=(3e-4, 1e-3),  # besides 0; the comparison's 3e-4 is reused, so one extra run
    ),
    # a 2-core CPU: 5,000 images, long enough at lr 0.01 for the baseline to memorize them (~99.5% in 20 epochs;
    # lr 0.02 stays noisy near 95%); the committed file has 3 seeds of every technique (about 20 min on one
    # thread), the chapter trains one
    "standard": Budget(
        profile="standard",
        train_images=5_000,
        epochs=20,
        seeds=3,
        chapter_seeds=1,
        channels=(16, 32),
        hidden=128,
        lr=0.01,
        l1_sweep=(3e-4, 1e-3),  # as in quick: one run beyond the comparison's
    ),
    # a GPU: a wider network, 30 epochs, 5 seeds
    "full": Budget(
        profile="full", train_images=5_000, epochs=30, seeds=5, channels=(32, 64), hidden=256, lr=0.01, ensemble=5
    ),
}


def budget(profile: str | None = None) -> Budget:
    """The budget of ``profile`` (default: the current run profile)."""
    return BUDGETS[config.settings(profile).profile]


@dataclasses.dataclass(frozen=True)
class Technique:
    """What one trained technique changes relative to the baseline."""

    name: str
    description: str
    weight_decay: float = 0.0
    l1: float = 0.0
    dropout: float = 0.0
    input_dropout: float = 0.0
    augment: bool = False
    optimizer: str = "sgd"  # "sgd", "adam" (decay added to the gradient) or "adamw" (decoupled)
    lr: float | None = None  # None: the budget's
    decay_biases: bool = False  # weight decay on every parameter, biases too (not just the weights)


def techniques(b: Budget) -> dict[str, Technique]:
    """The trained techniques of the comparison, with the budget's strengths."""
    return {
        "none": Technique("none", "no regularization"),
        "weight decay": Technique(
            "weight decay", f"SGD weight decay λ = {b.weight_decay:g}", weight_decay=b.weight_decay
        ),
        "L1": Technique("L1", f"λ·Σ|w| with λ = {b.l1:g}", l1=b.l1),
        "dropout": Technique(
            "dropout",
            f"dropout p = {b.input_dropout:g} (features), {b.dropout:g} (hidden)",
            dropout=b.dropout,
            input_dropout=b.input_dropout,
        ),
        "augmentation": Technique("augmentation", "random crop (pad 4) + horizontal flip", augment=True),
    }


def network(b: Budget, dropout: float = 0.0, input_dropout: float = 0.0) -> torch.nn.Sequential:
    """conv 3×3 → ReLU → pool, twice; [dropout] → linear → ReLU → [dropout] → linear. He-normal weights."""
    c1, c2 = b.channels
    layers = OrderedDict(
        conv1=torch.nn.Conv2d(3, c1, 3, padding=1),
        relu1=torch.nn.ReLU(),
        pool1=torch.nn.MaxPool2d(2),
        conv2=torch.nn.Conv2d(c1, c2, 3, padding=1),
        relu2=torch.nn.ReLU(),
        pool2=torch.nn.MaxPool2d(2),
        flatten=torch.nn.Flatten(),
    )
    if input_dropout:
        layers["drop1"] = regularization.Dropout(input_dropout)
    layers["fc1"] = torch.nn.Linear(c2 * 8 * 8, b.hidden)
    layers["relu3"] = torch.nn.ReLU()
    if dropout:
        layers["drop2"] = regularization.Dropout(dropout)
    layers["fc2"] = torch.nn.Linear(b.hidden, 10)
    return models.kaiming_init_(torch.nn.Sequential(layers))


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


@dataclasses.dataclass
class Outcome:
    """One seeded run of one technique (accuracies as fractions)."""

    technique: str
    seed: int
    train_loss: list[float]  # mean data loss of every epoch (penalties excluded)
    probe_train: list[float]  # accuracy on the first ``probe_images`` training images after every epoch
    val_curve: list[float]  # validation accuracy after every epoch
    train: float  # final weights, all training images (clean, eval mode)
    val: float
    test: float
    seconds: float
    stop_epoch: int | None  # the epoch (0-based) after which early stopping would have stopped, if any
    best_epoch: int  # the epoch of the best validation accuracy
    early: dict  # train/val/test of the weights early stopping restores
    state: dict = dataclasses.field(repr=False, default_factory=dict)  # final weights, on the CPU

    @property
    def gap(self) -> float:
        return self.train - self.test


def accuracy(model: torch.nn.Module, dataset, split: str, limit: int | None = None) -> float:
    """Accuracy on a split (or on its first ``limit`` images), quietly, in eval mode."""
    x, y = dataset.split(split)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    from .batches import Batches

    batches = Batches(x, y, 500, mean=dataset.mean, std=dataset.std)
    return training.check_accuracy(batches, model, split=split, verbose=False)


def splits(model: torch.nn.Module, dataset) -> dict:
    return {split: accuracy(model, dataset, split) for split in ("train", "val", "test")}


def train_run(
    dataset,
    technique: Technique,
    seed: int,
    b: Budget,
    on_epoch: Callable[[int, float, float], None] | None = None,
) -> tuple[Outcome, torch.nn.Module]:
    """Train ``technique`` from ``seed`` for the budget's epochs; returns the outcome and the model.

    After every epoch: the training-probe and validation accuracies, and one step of early stopping
    (which only records where it would stop; the run goes on).
    """
    config.seed_everything(seed)
    device = dataset.x_train.device
    model = network(b, technique.dropout, technique.input_dropout).to(device)
    optimizer = optimizer_for(model, technique, b)
    batches = dataset.batches("train", b.batch_size, shuffle=True, augment=technique.augment, seed=seed)
    stopper = regularization.EarlyStopping(b.patience)
    probe, val = [], []

    def after_epoch(epoch: int, history: training.History) -> None:
        probe.append(accuracy(model, dataset, "train", b.probe_images))
        val.append(accuracy(model, dataset, "val"))
        if stopper.stopped_step is None:  # after the stop the stopper only remembers its choice
            stopper.step(val[-1], model)
        if on_epoch is not None:
            on_epoch(epoch, probe[-1], val[-1])

    penalty = (lambda m: technique.l1 * regularization.l1_penalty(m)) if technique.l1 else None
    history = training.train(
        model,
        optimizer,
        batches,
        dataset.batches("val", 500),
        epochs=b.epochs,
        print_every=len(batches),  # the recorded losses are checked for divergence once per epoch
        verbose=False,
        step=training.Step(penalty=penalty),
        on_epoch=after_epoch,
    )
    n = len(dataset.y_train)
    sizes = [min(b.batch_size, n - start) for start in range(0, n, b.batch_size)]  # each epoch's batches
    losses = [
        sum(loss * n for loss, n in zip(history.losses[e * len(sizes) : (e + 1) * len(sizes)], sizes, strict=True)) / n
        for e in range(b.epochs)
    ]
    seconds = history.wall_seconds
    # the validation accuracies of the final and the restored weights were measured above already
    final = {"train": accuracy(model, dataset, "train"), "val": val[-1], "test": accuracy(model, dataset, "test")}
    if stopper.best_step == b.epochs - 1:  # the best weights are the final ones
        early = dict(final)
    else:
        best = stopper.restore(network(b, technique.dropout, technique.input_dropout).to(device))
        early = {"train": accuracy(best, dataset, "train"), "val": stopper.best}
        early["test"] = accuracy(best, dataset, "test")
    outcome = Outcome(
        technique=technique.name,
        seed=seed,
        train_loss=losses,
        probe_train=probe,
        val_curve=val,
        train=final["train"],
        val=final["val"],
        test=final["test"],
        seconds=seconds,
        stop_epoch=stopper.stopped_step,
        best_epoch=stopper.best_step,
        early=early,
        state={k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()},
    )
    return outcome, model


def rebuild(outcome: Outcome, b: Budget, device) -> torch.nn.Module:
    """The model of a finished run, from its saved weights."""
    model = network(b).to(device)
    model.load_state_dict({k: v for k, v in outcome.state.items()})
    return model


def ensemble_accuracy(members: list[torch.nn.Module], dataset, split: str) -> float:
    """Accuracy of :func:`~dlfoundations.regularization.ensemble_predict` on a split."""
    x, y = dataset.split(split)
    from .batches import Batches

    correct = 0
    for images, labels in Batches(x, y, 500, mean=dataset.mean, std=dataset.std):
        correct += int((regularization.ensemble_predict(members, images).argmax(1) == labels).sum())
    return correct / len(y)


def ensemble_growth(members: list[torch.nn.Module], dataset, split: str) -> list[float]:
    """Accuracies of the ensembles of the first 1, 2, …, ``len(members)`` members on a split.

    The same as :func:`ensemble_accuracy` of ``members[:k]`` for every ``k``, but each member sees the images once.
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


def sparsity(model: torch.nn.Module, threshold: float = 1e-3) -> float:
    """Fraction of the weights (not biases) whose magnitude is below ``threshold``."""
    ws = regularization.weights(model)
    return sum(int((w.detach().abs() < threshold).sum()) for w in ws) / sum(w.numel() for w in ws)


def weight_norm(model: torch.nn.Module) -> float:
    """Euclidean norm of all the weights (not biases) together."""
    return math.sqrt(2 * float(regularization.l2_penalty(model).detach()))


def bias_norm(model: torch.nn.Module) -> float:
    """Euclidean norm of all the parameters that are not weights (the biases here) together."""
    decayed = {id(p) for p in regularization.weights(model)}
    rest = [p.detach() for p in model.parameters() if id(p) not in decayed]
    return math.sqrt(sum(float((p * p).sum()) for p in rest))


# --------------------------------------------------------------------------- records


def record(name: str, description: str, rows: list[dict], dataset, b: Budget, extra: dict | None = None) -> dict:
    """A results-file record: per-seed train/val/test accuracies and gaps of one technique."""
    return {
        "technique": name,
        "description": description,
        "seeds": [r["seed"] for r in rows],
        "train": [r["train"] for r in rows],
        "val": [r["val"] for r in rows],
        "test": [r["test"] for r in rows],
        "gap": [r["train"] - r["test"] for r in rows],
        "epochs": [r["epochs"] for r in rows],
        "seconds": [r.get("seconds", 0.0) for r in rows],
        "train_images": len(dataset.y_train),
        "val_images": len(dataset.y_val),
        "test_images": len(dataset.y_test),
        "profile": b.profile,
        "device": str(dataset.x_train.device),
        "budget": dataclasses.asdict(b),
        **(extra or {}),
    }


def trained_record(technique: Technique, outcomes: list[Outcome], dataset, b: Budget) -> dict:
    rows = [
        {"seed": o.seed, "train": o.train, "val": o.val, "test": o.test, "epochs": b.epochs, "seconds": o.seconds}
        for o in outcomes
    ]
    return record(
        technique.name, technique.description, rows, dataset, b, {"technique_settings": dataclasses.asdict(technique)}
    )


def early_stopping_record(outcomes: list[Outcome], dataset, b: Budget) -> dict:
    """The baseline's runs as early stopping would have ended them (best validation weights restored)."""
    rows = []
    for o in outcomes:
        stop = o.stop_epoch if o.stop_epoch is not None else b.epochs - 1
        rows.append({"seed": o.seed, **o.early, "epochs": stop + 1, "seconds": o.seconds * (stop + 1) / b.epochs})
    extra = {"best_epoch": [o.best_epoch + 1 for o in outcomes], "patience": b.patience}
    return record("early stopping", f"patience {b.patience}, best weights restored", rows, dataset, b, extra)


def member_seeds(seed: int, seeds: int, size: int) -> list[int]:
    """The member seeds of ensemble ``seed``: ``seed, seed + seeds, seed + 2·seeds, …`` (disjoint ensembles)."""
    return [seed + k * seeds for k in range(size)]


def ensemble_record(baseline: dict[int, Outcome], seeds: list[int], dataset, b: Budget) -> dict:
    """Ensembles of ``b.ensemble`` baselines each; ensemble ``i`` uses :func:`member_seeds`."""
    device = dataset.x_train.device
    rows = []
    for seed in seeds:
        members = [baseline[s] for s in member_seeds(seed, len(seeds), b.ensemble)]
        nets = [rebuild(m, b, device) for m in members]
        scores = {split: ensemble_accuracy(nets, dataset, split) for split in ("train", "val", "test")}
        rows.append(
            {"seed": seed, **scores, "epochs": b.epochs * len(nets), "seconds": sum(m.seconds for m in members)}
        )
    extra = {
        "members": [member_seeds(s, len(seeds), b.ensemble) for s in seeds],
        "member_test": [[baseline[s].test for s in member_seeds(seed, len(seeds), b.ensemble)] for seed in seeds],
    }
    return record("ensemble", f"{b.ensemble} baselines, softmax averaged", rows, dataset, b, extra)


ORDER = ("none", "early stopping", "weight decay", "L1", "dropout", "augmentation", "ensemble")


def run_technique(
    dataset, name: str, seeds, b: Budget, outcomes: dict[str, list[Outcome]] | None = None, verbose: bool = False
) -> list[Outcome]:
    """The runs of one trained technique for ``seeds``, reusing those already in ``outcomes`` (and adding new ones)."""
    outcomes = {} if outcomes is None else outcomes
    done = {o.seed: o for o in outcomes.setdefault(name, [])}
    technique = techniques(b)[name]
    for seed in seeds:
        if seed in done:
            continue
        outcome, _ = train_run(dataset, technique, seed, b)
        if verbose:
            print(
                f"{name:>13}, seed {seed}: train {100 * outcome.train:.1f}%, val {100 * outcome.val:.1f}%,"
                f" test {100 * outcome.test:.1f}% ({outcome.seconds:.0f} s)",
                flush=True,
            )
        outcomes[name].append(outcome)
        done[seed] = outcome
    return [done[seed] for seed in seeds]


def ensemble_seeds(seeds, b: Budget) -> list[int]:
    """Every member seed of the ensembles of ``seeds`` (the seeds themselves first)."""
    seeds = list(seeds)
    extra = sorted({m for s in seeds for m in member_seeds(s, len(seeds), b.ensemble)} - set(seeds))
    return seeds + extra


def compare(
    dataset,
    b: Budget,
    seeds,
    only: list[str] | None = None,
    save: Callable[[list[dict]], None] | None = None,
    verbose: bool = True,
    outcomes: dict[str, list[Outcome]] | None = None,
) -> tuple[list[dict], dict[str, list[Outcome]]]:
    """Every technique of :data:`ORDER` (or ``only`` those) for every seed; ``save(records)`` after each.

    Runs already in ``outcomes`` (technique name → outcomes) are reused, not repeated. Returns the
    records and the outcomes of every trained technique (the baseline's include the extra ensemble
    members, beyond ``seeds``).
    """
    seeds = list(seeds)
    wanted = [name for name in ORDER if only is None or name in only]
    trained = techniques(b)
    records: list[dict] = []
    outcomes = {} if outcomes is None else outcomes
    for name in wanted:
        if name in ("none", "early stopping"):
            runs = run_technique(dataset, "none", seeds, b, outcomes, verbose)
            if name == "none":
                records.append(trained_record(trained["none"], runs, dataset, b))
            else:
                records.append(early_stopping_record(runs, dataset, b))
        elif name == "ensemble":
            runs = run_technique(dataset, "none", ensemble_seeds(seeds, b), b, outcomes, verbose)
            records.append(ensemble_record({o.seed: o for o in runs}, seeds, dataset, b))
        else:
            runs = run_technique(dataset, name, seeds, b, outcomes, verbose)
            records.append(trained_record(trained[name], runs, dataset, b))
        if save is not None:
            save(records)
    return records, outcomes


def l1_sweep(dataset, b: Budget, seed: int, outcomes: dict[str, list[Outcome]], threshold: float = 1e-3) -> list[dict]:
    """L1 strengths 0 and ``b.l1_sweep`` for one seed, then weight decay: accuracy and the fraction of small weights.

    Runs already in ``outcomes`` (the baseline for λ = 0, the comparison's L1 and weight decay runs) are reused.
    """
    device = dataset.x_train.device
    rows = []
    for lam in (0.0, *b.l1_sweep):
        if lam == 0.0:
            outcome = run_technique(dataset, "none", [seed], b, outcomes)[0]
        elif lam == b.l1:
            outcome = run_technique(dataset, "L1", [seed], b, outcomes)[0]
        else:
            outcome, _ = train_run(dataset, Technique("L1", f"λ = {lam:g}", l1=lam), seed, b)
        rows.append(("L1", lam, outcome))
    rows.append(("L2", b.weight_decay, run_technique(dataset, "weight decay", [seed], b, outcomes)[0]))
    table = []
    for penalty, lam, outcome in rows:
        model = rebuild(outcome, b, device)
        table.append(
            {
                "penalty": penalty,
                "lambda": lam,
                "val": outcome.val,
                "test": outcome.test,
                "below": sparsity(model, threshold),
                "norm": weight_norm(model),
            }
        )
    return table


def sweep_table(rows: list[dict]) -> str:
    """Markdown for :func:`l1_sweep`'s rows."""
    from .book import markdown_table

    header = ["penalty", "λ", "val.", "test", "weights below 1e-3", "‖w‖"]
    body = [
        [
            r["penalty"],
            f"{r['lambda']:g}",
            f"{100 * r['val']:.1f}%",
            f"{100 * r['test']:.1f}%",
            f"{100 * r['below']:.1f}%",
            f"{r['norm']:.1f}",
        ]
        for r in rows
    ]
    return markdown_table(header, body)


def table(records: list[dict]) -> str:
    """Markdown: one row per technique, train/validation/test accuracy and the gap, mean ± std over seeds."""
    from .book import markdown_table

    header = ["technique", "setting", "train", "val.", "test", "gap (train − test)", "seeds", "epochs"]
    rows = []
    for r in records:
        epochs = search.mean_std(r["epochs"])[0]
        rows.append(
            [
                r["technique"],
                r["description"],
                results.percent(r["train"]),
                results.percent(r["val"]),
                results.percent(r["test"]),
                results.percent(r["gap"]),
                len(r["seeds"]),
                f"{epochs:.0f}" if r["technique"] != "early stopping" else f"{epochs:.1f} (stopped)",
            ]
        )
    return markdown_table(header, rows)


def by_name(records: list[dict]) -> dict[str, dict]:
    return {r["technique"]: r for r in records}


def load_cifar(b: Budget, device=None):
    """CIFAR-10 with the budget's training subset and the profile's validation and test images."""
    from . import data

    return data.load_cifar10(device=device, num_train=b.train_images, profile=b.profile or None)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=sorted(BUDGETS), required=True)
    parser.add_argument("--seeds", type=int, help="seeds per technique (default: the budget's)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="+", choices=ORDER, help="only these techniques")
    parser.add_argument("--threads", type=int, help="torch threads (1 avoids oversubscribing a shared CPU)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from . import results

    b = budget(args.profile)
    first = config.settings(args.profile).seed
    seeds = list(range(first, first + (args.seeds or b.seeds)))
    dataset = load_cifar(b)
    meta = {**results.metadata(dataset.x_train.device), "profile": args.profile, "budget": dataclasses.asdict(b)}
    config.describe(dataset.source, args.profile, dataset.x_train.device)

    def save(records):
        results.write(args.out, KIND, records, {**meta, "complete": len(records) == len(args.only or ORDER)})
        print(f"wrote {len(records)} records to {args.out}", flush=True)

    compare(dataset, b, seeds, args.only, save)
    return args.out


if __name__ == "__main__":
    main()
