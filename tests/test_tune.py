"""Optuna search shared by processes (``dlfoundations.tune``), on the CPU in the quick profile.

The processes read the synthetic quick-sized folder of ``tests/conftest.py`` (``quick_root``), so these tests
run in every ``make test``, with or without CIFAR-10.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings

import pytest

optuna = pytest.importorskip("optuna")

from dlfoundations import data, experiments, results, tune  # noqa: E402

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
RUNNING = optuna.trial.TrialState.RUNNING


def tune_process(tmp_path, root, *args):
    env = {**os.environ, "DLF_PROFILE": "quick", "DLF_DEVICE": "cpu", "CIFAR10_ROOT": str(root), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "dlfoundations.tune", "--space", "fc", *args]
    return subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def trials(storage_url, study="shared"):
    return optuna.load_study(study_name=study, storage=storage_url).trials


def heartbeats(tmp_path):
    """How many trials have recorded a heartbeat. Optuna only fails a stale trial once it has one:
    a process killed between starting a trial and its first heartbeat leaves the trial RUNNING."""
    with sqlite3.connect(tmp_path / "study.db") as db:
        return db.execute("SELECT count(*) FROM trial_heartbeats").fetchone()[0]


@pytest.fixture(scope="module")
def quick_data(quick_root):
    return data.load_cifar10(quick_root, device="cpu", profile="quick")


@pytest.fixture
def quick_profile(monkeypatch):
    monkeypatch.setenv("DLF_PROFILE", "quick")
    monkeypatch.setenv("DLF_DEVICE", "cpu")


def test_two_processes_share_one_sqlite_study(tmp_path, quick_root):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    processes = [
        tune_process(tmp_path, quick_root, "--study", "shared", "--storage", url, "--trials", "2") for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    done = trials(url)
    assert len({t.number for t in done}) == 4 == len(done)
    assert all(t.state in FINISHED for t in done), [t.state for t in done]
    quick = experiments.tuning("quick")
    assert [t.user_attrs["seed"] for t in done] == [tune.trial_seed(quick, t.number) for t in done]
    assert all(t.user_attrs["epochs"] >= 1 for t in done)


def test_a_killed_process_leaves_the_study_usable(tmp_path, quick_root, quick_data, quick_profile):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    args = ("--study", "shared", "--storage", url, "--heartbeat", "1")
    victim = tune_process(tmp_path, quick_root, *args, "--trials", "3")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until it is inside a trial that has sent a heartbeat
        time.sleep(0.2)
        try:
            if any(t.state == RUNNING for t in trials(url)) and heartbeats(tmp_path):
                break
        except (KeyError, sqlite3.OperationalError):  # the study or its tables do not exist yet
            continue
    else:
        victim.kill()
        pytest.fail("the process never started a trial")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    time.sleep(3)  # past the grace period (2 heartbeats of 1 s; SQLite's clock counts whole seconds)
    tune.run("shared", url, "fc", 1, heartbeat=1, dataset=quick_data)  # the restart (in this process: no imports)
    states = [t.state for t in trials(url)]
    assert states.count(optuna.trial.TrialState.FAIL) == 1, states
    assert RUNNING not in states
    assert states[-1] in FINISHED


def dead_trial(study, heartbeat: bool):
    """A RUNNING trial whose process is gone: what a process killed mid-trial leaves in the storage."""
    with warnings.catch_warnings():  # Optuna warns that heartbeats are meant for Study.optimize: here, by design
        warnings.simplefilter("ignore", UserWarning)
        trial = study.ask()
    if heartbeat:
        study._storage.record_heartbeat(trial._trial_id)  # one beat, then silence
    return trial.number


def state(url, number, study="stale"):
    return trials(url, study)[number].state


def test_a_stale_sql_trial_fails_after_the_grace_period_when_a_trial_starts(tmp_path, quick_data, quick_profile):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = tune.load_study("stale", tune.open_storage(url, heartbeat=1))
    dead = dead_trial(study, heartbeat=True)
    beat = time.monotonic()
    tune.run("stale", url, "fc", 1, heartbeat=60, dataset=quick_data)  # grace 120 s: the beat is too recent
    assert state(url, dead) == RUNNING, "failed before its grace period ran out"
    time.sleep(max(0.0, beat + 3 - time.monotonic()))  # 3 s after the beat (SQLite's clock counts whole seconds)
    assert state(url, dead) == RUNNING, "nothing fails a stale trial until a process starts a trial"
    tune.run("stale", url, "fc", 1, heartbeat=1, dataset=quick_data)  # grace 2 s: stale
    assert state(url, dead) == optuna.trial.TrialState.FAIL
    assert [t.state in FINISHED for t in trials(url, "stale")] == [False, True, True]


def test_a_journal_study_keeps_a_dead_trial_running(tmp_path, quick_data, quick_profile):
    """The journal has no heartbeat: a dead trial is never failed, and the study goes on without it."""
    url = f"journal:{tmp_path / 'study.log'}"
    storage = tune.open_storage(url, heartbeat=1)
    assert not isinstance(storage, optuna.storages._heartbeat.BaseHeartbeat)  # Optuna 5: no heartbeat to send
    study = tune.load_study("journal", storage)
    dead = dead_trial(study, heartbeat=False)
    study = tune.run("journal", url, "fc", 2, heartbeat=1, dataset=quick_data)  # a new storage, as a restart opens
    optuna.storages.fail_stale_trials(study)  # what Optuna runs before each trial: nothing to do on a journal
    states = [t.state for t in study.trials]
    assert states[dead] == RUNNING and [s in FINISHED for s in states] == [False, True, True], states
    info = tune.summary(study)
    assert info["running"] == 1 and info["failed"] == 0 and info["complete"] + info["pruned"] == 2
    # the remedy: once its process is known to be dead, fail the trial by hand (here from a fresh connection)
    restarted = tune.load_study("journal", tune.open_storage(url))
    restarted.tell(dead, state=optuna.trial.TrialState.FAIL)
    info = tune.summary(tune.load_study("journal", tune.open_storage(url)))
    assert info["running"] == 0 and info["failed"] == 1


def test_a_running_trial_repels_tpe_until_it_is_failed():
    """TPE's constant liar (on in :func:`tune.load_study`) counts a RUNNING trial as a poor result at its
    configuration: what spreads concurrent processes out also steers TPE away from a dead trial's configuration."""
    space = {"x": optuna.distributions.CategoricalDistribution(["good", "other"])}

    def next_choices(dead_trials: int, fail_them: bool) -> set[str]:
        study = tune.load_study("liar", tune.open_storage("memory"))
        for x, value in [("good", 0.6), ("other", 0.5), ("good", 0.3), ("other", 0.2)]:  # past the startup trials
            study.enqueue_trial({"x": x})
            study.tell(study.ask(space), value)
        dead = []
        for _ in range(dead_trials):  # trials of processes killed while they trained the best configuration
            study.enqueue_trial({"x": "good"})
            dead.append(study.ask(space).number)
        for number in dead if fail_them else ():
            study.tell(number, state=optuna.trial.TrialState.FAIL)
        chosen = set()
        for _ in range(10):  # failed at once, so that each draw sees the same finished and running trials
            trial = study.ask(space)
            chosen.add(trial.params["x"])
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return chosen

    assert next_choices(0, fail_them=False) == {"good"}
    assert next_choices(4, fail_them=False) == {"other"}  # the running trials count against "good"
    assert next_choices(4, fail_them=True) == {"good"}  # failed trials are ignored


def test_a_bad_storage_url_names_itself(capsys):
    with pytest.raises(tune.StorageError, match="'nosuchdb://x/y'.*sqlite:///"):
        tune.open_storage("nosuchdb://x/y")
    url = "postgresql://nobody@127.0.0.1:1/none"  # no driver installed, or no server: either way one message
    with pytest.raises(SystemExit) as stop:  # the command line prints the message alone, not a traceback
        tune.main(["--study", "s", "--space", "fc", "--trials", "1", "--storage", url])
    assert isinstance(stop.value.code, str) and url in stop.value.code and "sqlite:///" in stop.value.code


def test_trial_seeds_are_never_finalist_seeds():
    quick = experiments.tuning("quick")
    assert tune.trial_seed(quick, 0) not in experiments.finalist_seeds(quick)
    crowded = dataclasses.replace(quick, final_seeds=tune.TRIAL_SEED_BASE)  # finalists up to seed + 1099
    with pytest.raises(ValueError, match="finalist seed"):
        tune.trial_seed(crowded, 0)


def test_an_exported_study_is_a_search_record_kept_out_of_the_comparison(tmp_path, quick_data, quick_profile):
    study = tune.run("exported", "memory", "fc", 3, dataset=quick_data)
    path = tune.export(study, tmp_path / "search.json", "fc")
    meta, (record,) = tune.read_export(path)
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(completed, key=lambda t: t.value)
    assert results.kind_of(path) == tune.KIND and len(meta["trials"]) == 3
    assert record.val == [best.value] and record.settings == best.params and record.test == []
    assert record.best_val == [best.user_attrs["best_val"]] and record.best_val[0] >= best.value
    assert tune.is_search_record(record) and f"best of {len(completed)} completed trials" in record.experiment
    # chapter 10 compares the course files' records: the export is not among them
    assert results.available(tmp_path) == [] and results.committed(directory=tmp_path) == {}
    with pytest.raises(results.ResultsFileError, match="kind 'search'"):
        results.load(path)
    # chapter 10 lists it after the course files, in a table of its own (a row naming it, its value, no test)
    (row,) = [line for line in results.table([record], meta).splitlines() if record.experiment in line]
    assert f"| {results.percent(record.val)} | — |" in row
    # the recorded seed and parameters are what the trial trained: a replay reports the same accuracies
    assert tune.replay(best, quick_data, "fc") == [best.intermediate_values[e] for e in range(record.epochs)]
