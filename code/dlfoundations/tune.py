"""Chapter 10's search on Optuna: any number of processes, on any number of machines, share one study.

    python -m dlfoundations.tune --study fc --space fc --trials 12 --profile standard

Each process runs ``--trials`` trials of the chapter's search space (:data:`SPACES`, the report's grids)
with Optuna's TPE sampler and a median pruner: every trial reports its validation accuracy after each
epoch, and a trial whose best accuracy so far falls below the median of the *completed* trials at the
same epoch is stopped. Processes that name the same ``--study`` and ``--storage`` share the study: start
as many as there are cores, GPUs or machines. Storages (``--storage``):

* ``sqlite:///path/to/file.db`` — one machine (the default, ``_build/optuna.db``; no server);
* ``postgresql://user:password@host/db`` — many machines; a server for a lab is one command, e.g.
  ``docker run -d -p 5432:5432 -e POSTGRES_PASSWORD=secret postgres:16`` (needs ``pip install psycopg2-binary``);
* ``journal:/shared/path/study.log`` — Optuna's journal file, for machines that share a filesystem;
* ``memory`` — inside one Python process only (what chapter 10 uses).

A process that dies mid-trial (killed, out of memory, a lost node) leaves that trial ``RUNNING``. What
happens next depends on the storage:

* SQL storages (SQLite, PostgreSQL, MySQL): a thread of every process records a heartbeat of its
  running trial in the database every ``--heartbeat`` seconds. Optuna checks for stale trials only when
  a process (a new one, or one already running) starts its next trial: it then marks ``FAIL`` every
  ``RUNNING`` trial whose last heartbeat is older than the grace period (two heartbeats here, 120 s by
  default). Until then the dead trial stays ``RUNNING``. A trial killed before its first heartbeat has
  none to go stale and stays ``RUNNING`` until failed by hand.
* The journal file has no heartbeat (Optuna's ``JournalStorage`` does not implement one, as of Optuna
  5): the dead trial stays ``RUNNING`` until failed by hand.

Either way the study stays usable and a restart simply continues. The median pruner compares only
with completed trials and a process's ``--trials`` counts only its own, but the TPE sampler does see a
trial left ``RUNNING``: with the *constant liar* (:func:`load_study` turns it on; it is Optuna 5's default)
TPE counts every running trial as a poor result at its configuration. That keeps processes running at the
same time from all trying one configuration, and it also steers TPE away from a dead trial's
configuration for as long as that trial stays ``RUNNING``. :func:`summary` counts such trials as
``running``; once their process is known to be dead, ``study.tell(number, state=TrialState.FAIL)`` fails
one by hand, on any storage. ``--export`` writes the study's best trial as a results file of kind
``"search"`` (:func:`export`): the best of N trials, chosen on the same validation images that scored it,
so it is kept apart from the re-run finalists that chapter 10 compares.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
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
TRIAL_SEED_BASE = 1000  # trial n trains from seed + 1000 + n: never a finalist's seed + 100, 101, ...
KIND = "search"  # the kind of the results files :func:`export` writes (see :mod:`dlfoundations.results`)
EXPORT_PREFIX = "Optuna study "  # how the experiment name of an exported record begins (:func:`is_search_record`)


class StorageError(ValueError):
    """The ``--storage`` URL cannot be opened; the message names it and says what works."""


def open_storage(url: str, heartbeat: int = 60):
    """An Optuna storage for ``url``: an ``RDBStorage`` for a sqlite/postgresql/mysql URL, whose running trials
    record a heartbeat every ``heartbeat`` seconds (stale after two); a ``JournalStorage`` for ``journal:PATH``
    (no heartbeat: ``heartbeat`` is ignored); ``None`` (Optuna's in-memory storage) for ``"memory"``."""
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
        from sqlalchemy.exc import ArgumentError

        for attempt in range(OPEN_ATTEMPTS):
            try:
                return optuna.storages.RDBStorage(
                    url,
                    heartbeat_interval=heartbeat,
                    grace_period=grace,
                    engine_kwargs={"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {},
                )
            except (ImportError, ArgumentError):  # an unknown scheme, a missing driver: no retry can help
                raise
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
    # constant_liar: running trials count as poor results, so concurrent processes spread out (Optuna 5's
    # default; Optuna 4's was False). A dead trial left RUNNING therefore repels TPE until it is failed.
    sampler_seed = seed if storage is None else seed + os.getpid()
    sampler = optuna.samplers.TPESampler(n_startup_trials=STARTUP_TRIALS, seed=sampler_seed, constant_liar=True)
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


def trial_seed(t, number: int) -> int:
    """The seed of trial ``number`` (``t``: :class:`~dlfoundations.experiments.Tuning`), never a finalist's."""
    from . import experiments

    seed = t.seed + TRIAL_SEED_BASE + number
    if seed in experiments.finalist_seeds(t):
        raise ValueError(f"trial {number} would train from finalist seed {seed}; raise TRIAL_SEED_BASE")
    return seed


def train_epochs(params: dict, seed: int, dataset, space: str, profile: str | None = None):
    """Train one configuration of ``space`` from ``seed`` on the search's images, yielding the
    :class:`~dlfoundations.experiments.Run` of each epoch (validation only) as it ends."""
    from . import experiments

    s = experiments.tuning(profile)
    small = experiments.subset(dataset, s.search_images)
    device = small.x_train.device
    if space == "fc":
        model, optimizer = experiments.fc_adam_setup(
            device, params["hidden"], params["lr"], params["weight_decay"], seed
        )
    elif space == "conv":
        model, optimizer = experiments.convnet_adam_setup(
            device, s.wide_channels, params["lr"], params["weight_decay"], seed
        )
    else:
        raise ValueError(f"unknown search space {space!r}; use one of {SPACES}")
    for epoch in range(s.search_epochs):
        yield experiments.fit(model, optimizer, small, 1, seed + 7919 * epoch, evaluate_test=False)


def objective(trial, dataset, space: str, profile: str | None = None) -> float:
    """Train one configuration epoch by epoch, reporting validation accuracy so the pruner can stop it.

    The trial records its seed, the epochs it trained and its best validation check (user attributes
    ``seed``, ``epochs``, ``best_val``); its value is the validation accuracy of its final weights.
    """
    import optuna

    from . import experiments

    params = suggest(trial, space, profile)
    seed = trial_seed(experiments.tuning(profile), trial.number)
    trial.set_user_attr("seed", seed)
    best = best_reported = 0.0
    for epoch, run in enumerate(train_epochs(params, seed, dataset, space, profile)):
        best, best_reported = max(best, run.best_val), max(best_reported, run.val)
        trial.set_user_attr("epochs", epoch + 1)
        trial.set_user_attr("best_val", best)
        trial.report(run.val, epoch)
        if trial.should_prune():  # the median pruner compares the best value reported so far
            raise optuna.TrialPruned(
                f"best validation accuracy so far {best_reported:.3f} below the completed trials' median"
                f" after epoch {epoch + 1}"
            )
    return run.val


def replay(trial, dataset, space: str, profile: str | None = None, epochs: int | None = None) -> list[float]:
    """Train a finished trial's configuration again from the seed it recorded, for its first ``epochs``
    epochs (default: as many as it trained); returns the validation accuracy after each epoch, which on
    a CPU equals what the trial reported (``trial.intermediate_values``)."""
    epochs = trial.user_attrs["epochs"] if epochs is None else epochs
    runs = train_epochs(trial.params, trial.user_attrs["seed"], dataset, space, profile)
    return [run.val for run in itertools.islice(runs, epochs)]


def summary(study) -> dict:
    """Completed, pruned, failed and still running trials, epochs spent, and the best completed trial."""
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


def is_search_record(record) -> bool:
    """Whether a :class:`~dlfoundations.experiments.Record` is an exported study's best trial (a selection
    among trials, not a configuration re-run from fresh seeds)."""
    return record.experiment.startswith(EXPORT_PREFIX)


def export(study, path: Path, space: str, profile: str | None = None, allow_dirty: bool | None = None) -> Path:
    """The study as a results file of kind :data:`KIND` (``"search"``): its best trial as one record, every
    trial in meta; returns the path.

    The record is the best of N trials, chosen on the validation images that scored it, so its validation
    accuracy is biased upwards like a search's winner, and it has no test accuracy (a search never looks at
    the test set). Its experiment name says so (:func:`is_search_record`), and its kind keeps it out of the
    ``"course"`` files whose finalists chapter 10 compares; :func:`read_export` reads it back.
    ``allow_dirty``: as for :func:`dlfoundations.results.metadata`.
    """
    import optuna

    from . import config, experiments, results

    s = experiments.tuning(profile)
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not finished:
        raise ValueError(f"study {study.study_name!r} has no completed trial to export")
    best = max(finished, key=lambda t: t.value)
    epochs = best.user_attrs.get("epochs", s.search_epochs)
    record = experiments.Record(
        experiment=(
            f"{EXPORT_PREFIX}{study.study_name!r} ({space}): best of {len(finished)} completed trials,"
            f" chosen on validation, not re-run"
        ),
        chapter="10",
        report=experiments.REPORT_FC_BEST if space == "fc" else experiments.REPORT_CONV_BEST,
        target=None,
        seeds=[best.user_attrs["seed"]],
        val=[best.value],
        best_val=[best.user_attrs.get("best_val", best.value)],
        test=[],
        best_checkpoint_test=[],
        seconds_per_epoch=[best.duration.total_seconds() / max(1, epochs)],
        epochs=epochs,
        train_images=s.search_images,
        profile=s.profile,
        device=str(config.device()),
        settings=dict(best.params),
    )
    meta = {
        **results.metadata(config.device(), allow_dirty=allow_dirty),
        "study": study.study_name,
        "selection": f"the completed trial with the best final validation accuracy, of {len(finished)}",
        **summary(study),
    }
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
    return results.write(path, KIND, [dataclasses.asdict(record)], meta)


def read_export(path: Path) -> tuple[dict, list]:
    """``(meta, records)`` of a file written by :func:`export` (records as
    :class:`~dlfoundations.experiments.Record`); an error naming the file if it is of another kind."""
    from . import experiments, results

    meta, raw = results.read(path, KIND)
    return meta, [experiments.Record(**entry) for entry in raw]


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
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=60,
        help="SQL storages: seconds between a running trial's heartbeats (stale after two); the journal has none",
    )
    parser.add_argument("--export", type=Path, help="also write the study's best trial as a results file here")
    from . import results

    results.add_allow_dirty(parser)
    args = parser.parse_args(argv)
    if args.export:  # before any trial: a file from uncommitted code is refused at once, not after the search
        from . import config, results

        try:
            results.metadata(config.device(), allow_dirty=args.allow_dirty)
        except results.DirtyTreeError as error:
            sys.exit(f"dlfoundations.tune: {error}")
    try:
        study = run(args.study, args.storage, args.space, args.trials, args.heartbeat, profile=args.profile)
    except StorageError as error:
        sys.exit(f"dlfoundations.tune: {error}")
    info = summary(study)
    print(json.dumps(info, default=str))
    if args.export:
        print(f"wrote {export(study, args.export, args.space, args.profile, args.allow_dirty)}")


if __name__ == "__main__":
    main()
