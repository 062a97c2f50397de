"""Chapter 10's search on Optuna: any number of processes, on any number of machines, share one study.

    python -m dlfoundations.tune --study fc --space fc --trials 12 --profile standard

Each process runs ``--trials`` trials of the chapter's search space (:data:`SPACES`, the report's grids)
with Optuna's TPE sampler and a median pruner: every trial reports its validation accuracy after each
epoch, and a trial whose accuracy falls below the median of earlier trials at the same epoch is
stopped. Processes that name the same ``--study`` and ``--storage`` share the study: start as many as
there are cores, GPUs or machines. Storages (``--storage``):

* ``sqlite:///path/to/file.db`` — one machine (the default, ``_build/optuna.db``; no server);
* ``postgresql://user:password@host/db`` — many machines; a server for a lab is one command, e.g.
  ``docker run -d -p 5432:5432 -e POSTGRES_PASSWORD=secret postgres:16`` (needs ``pip install psycopg2-binary``);
* ``journal:/shared/path/study.log`` — Optuna's journal file, for machines that share a filesystem;
* ``memory`` — inside one Python process only (what chapter 10 uses).

A process that dies mid-trial (killed, out of memory, a lost node) leaves that trial ``RUNNING``; each
process sends a heartbeat, and the next process to start marks trials whose heartbeat stopped as
``FAIL``, so the study stays usable and a restart simply continues. (Optuna only fails a trial that has
sent at least one heartbeat: one killed in the instant between starting and its first beat stays
``RUNNING`` and is merely ignored; ``summary`` counts it.) ``--export`` writes the study's best
configuration as a results file (``kind: "search"``) like the other experiments of the course.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

DEFAULT_STORAGE = "sqlite:///_build/optuna.db"
SPACES = ("fc", "conv")
OPEN_ATTEMPTS = 3  # a storage that two processes create at the same moment may fail once
STARTUP_TRIALS = 3  # random trials before TPE models the results (Optuna's default, 10, exceeds small searches)


class StorageError(ValueError):
    """The ``--storage`` URL cannot be opened; the message names it and says what works."""


def open_storage(url: str, heartbeat: int = 60):
    """An Optuna storage for ``url`` (sqlite/postgresql/mysql URL or ``journal:PATH``), with heartbeats."""
    import optuna

    grace = 2 * heartbeat
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats are "experimental"
    if url == "memory":
        return None  # optuna's in-memory storage
    try:
        if url.startswith("journal:"):
            path = Path(url.removeprefix("journal:"))
            path.parent.mkdir(parents=True, exist_ok=True)
            backend = optuna.storages.journal.JournalFileBackend(str(path))
            return optuna.storages.JournalStorage(backend)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(OPEN_ATTEMPTS):
            try:
                return optuna.storages.RDBStorage(
                    url,
                    heartbeat_interval=heartbeat,
                    grace_period=grace,
                    engine_kwargs={"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {},
                )
            except Exception:  # two processes creating the same new database race on its tables: try again
                if attempt == OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(1.0 + attempt)
    except Exception as error:  # a typo, a missing driver, an unreachable server
        raise StorageError(
            f"cannot open the Optuna storage {url!r} ({type(error).__name__}: {error}). Use "
            f"sqlite:///path/file.db (one machine), postgresql://user:password@host/db (many machines) "
            f"or journal:/shared/path/file.log (a shared filesystem)."
        ) from error


def load_study(name: str, storage, seed: int = 0):
    """Create the study, or join it when another process already did (TPE sampler, median pruner)."""
    import optuna

    # TPE draws its first STARTUP_TRIALS at random, then models good and bad trials. In memory (one process)
    # the sampler's seed is the profile's, so a chapter is reproducible; processes sharing a study differ.
    sampler_seed = seed if storage is None else seed + os.getpid()
    sampler = optuna.samplers.TPESampler(n_startup_trials=STARTUP_TRIALS, seed=sampler_seed)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    for attempt in range(3):
        try:
            return optuna.create_study(
                study_name=name,
                storage=storage,
                direction="maximize",
                sampler=sampler,
                pruner=pruner,
                load_if_exists=True,
            )
        except optuna.exceptions.DuplicatedStudyError:  # two processes created it at the same moment
            if attempt == 2:
                raise
            time.sleep(0.5)


def suggest(trial, space: str, profile: str | None = None) -> dict:
    """One configuration from the chapter's grids (the same values random search draws from)."""
    from . import experiments

    if space == "fc":
        grid = {**experiments.FC_GRID, "hidden": list(experiments.tuning(profile).fc_hidden)}
    elif space == "conv":
        grid = experiments.CONV_GRID
    else:
        raise ValueError(f"unknown search space {space!r}; use one of {SPACES}")
    return {name: trial.suggest_categorical(name, values) for name, values in grid.items()}


def objective(trial, dataset, space: str, profile: str | None = None) -> float:
    """Train one configuration epoch by epoch, reporting validation accuracy so the pruner can stop it."""
    import optuna

    from . import experiments

    s = experiments.tuning(profile)
    params = suggest(trial, space, profile)
    seed = s.seed + 1000 + trial.number  # never the seeds finalists are re-trained with
    trial.set_user_attr("seed", seed)
    small = experiments.subset(dataset, s.search_images)
    device = small.x_train.device
    if space == "fc":
        model, optimizer = experiments.fc_adam_setup(
            device, params["hidden"], params["lr"], params["weight_decay"], seed
        )
    else:
        model, optimizer = experiments.convnet_adam_setup(
            device, s.wide_channels, params["lr"], params["weight_decay"], seed
        )
    for epoch in range(s.search_epochs):
        run = experiments.fit(model, optimizer, small, 1, seed + 7919 * epoch, evaluate_test=False)
        trial.set_user_attr("epochs", epoch + 1)
        trial.report(run.val, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned(f"validation accuracy {run.val:.3f} below the median after epoch {epoch + 1}")
    return run.val


def summary(study) -> dict:
    """Finished, pruned and failed trials, epochs spent, and the best trial."""
    import optuna

    states = [t.state for t in study.trials]
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(finished, key=lambda t: t.value) if finished else None
    return {
        "complete": states.count(optuna.trial.TrialState.COMPLETE),
        "pruned": states.count(optuna.trial.TrialState.PRUNED),
        "failed": states.count(optuna.trial.TrialState.FAIL),
        "running": states.count(optuna.trial.TrialState.RUNNING),
        "epochs": sum(t.user_attrs.get("epochs", 0) for t in study.trials),
        "best_val": best.value if best else None,
        "best_params": best.params if best else None,
        "best_seed": best.user_attrs.get("seed") if best else None,
    }


def export(study, path: Path, space: str, profile: str | None = None) -> Path:
    """The study as a results file (:mod:`dlfoundations.results`): its best trial as one record, every trial in meta.

    The record reads like the chapter's own searches (validation accuracy of the best configuration, its
    seed, images and epochs; no test accuracy: a search never looks at the test set), so chapter 10's
    table of results files shows it beside them.
    """
    import optuna

    from . import config, experiments, results

    s = experiments.tuning(profile)
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not finished:
        raise ValueError(f"study {study.study_name!r} has no completed trial to export")
    best = max(finished, key=lambda t: t.value)
    seconds = best.duration.total_seconds() / max(1, best.user_attrs.get("epochs", 1))
    record = experiments.Record(
        experiment=f"Optuna study {study.study_name!r} ({space}): best of {len(study.trials)} trials",
        chapter="10",
        report=experiments.REPORT_FC_BEST if space == "fc" else experiments.REPORT_CONV_BEST,
        target=None,
        seeds=[best.user_attrs["seed"]],
        val=[best.value],
        best_val=[best.value],
        test=[],
        best_checkpoint_test=[],
        seconds_per_epoch=[seconds],
        epochs=best.user_attrs.get("epochs", s.search_epochs),
        train_images=s.search_images,
        profile=s.profile,
        device=str(config.device()),
        settings=dict(best.params),
    )
    meta = {**results.metadata(config.device()), "kind": "search", "study": study.study_name, **summary(study)}
    meta["trials"] = [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": t.params,
            "seed": t.user_attrs.get("seed"),
            "epochs": t.user_attrs.get("epochs", 0),
        }
        for t in study.trials
    ]
    return results.save(path, [record], meta)


def run(
    study_name: str,
    storage_url: str,
    space: str,
    trials: int,
    heartbeat: int = 60,
    dataset=None,
    profile: str | None = None,
):
    """Join (or create) the study and run ``trials`` trials in this process (sizes of ``profile``, default the
    current run profile); returns the study."""
    import optuna

    from . import config, data

    storage = open_storage(storage_url, heartbeat)
    study = load_study(study_name, storage, config.settings(profile).seed)
    if dataset is None:
        dataset = data.load_cifar10(device=config.device(), profile=profile)
    study.optimize(
        lambda trial: objective(trial, dataset, space, profile), n_trials=trials, catch=(), gc_after_trial=True
    )
    optuna.logging.get_logger("optuna").info("this process finished %d trials", trials)
    return study


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--study", required=True, help="the study's name; processes with the same name share it")
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help=f"default: {DEFAULT_STORAGE}")
    parser.add_argument("--space", choices=SPACES, required=True)
    parser.add_argument("--trials", type=int, required=True, help="trials this process runs")
    parser.add_argument("--profile", choices=["quick", "standard", "full"], help="default: DLF_PROFILE")
    parser.add_argument("--heartbeat", type=int, default=60, help="seconds between a running trial's heartbeats")
    parser.add_argument("--export", type=Path, help="also write the study as a results file here")
    args = parser.parse_args(argv)
    try:
        study = run(args.study, args.storage, args.space, args.trials, args.heartbeat, profile=args.profile)
    except StorageError as error:
        sys.exit(f"dlfoundations.tune: {error}")
    info = summary(study)
    print(json.dumps(info, default=str))
    if args.export:
        print(f"wrote {export(study, args.export, args.space, args.profile)}")


if __name__ == "__main__":
    main()
