"""Optuna search shared by processes (``dlfoundations.tune``), on the CPU in the quick profile."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

optuna = pytest.importorskip("optuna")

from dlfoundations import tune  # noqa: E402

CIFAR10_ROOT = os.environ.get("CIFAR10_ROOT")  # read before tests/conftest.py hides it from each test
needs_data = pytest.mark.skipif(not CIFAR10_ROOT, reason="set CIFAR10_ROOT to a folder holding CIFAR-10")


def tune_process(tmp_path, *args):
    env = {**os.environ, "DLF_PROFILE": "quick", "DLF_DEVICE": "cpu", "CIFAR10_ROOT": CIFAR10_ROOT or ""}
    command = [sys.executable, "-m", "dlfoundations.tune", "--space", "fc", *args]
    return subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def trials(storage_url, study="shared"):
    return optuna.load_study(study_name=study, storage=storage_url).trials


def heartbeats(tmp_path):
    """How many trials have recorded a heartbeat. Optuna only fails a stale trial once it has one:
    a process killed between starting a trial and its first heartbeat leaves the trial RUNNING."""
    with sqlite3.connect(tmp_path / "study.db") as db:
        return db.execute("SELECT count(*) FROM trial_heartbeats").fetchone()[0]


@needs_data
def test_two_processes_share_one_sqlite_study(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    processes = [tune_process(tmp_path, "--study", "shared", "--storage", url, "--trials", "2") for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    done = trials(url)
    assert len({t.number for t in done}) == 4 == len(done)
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    assert all(t.state in finished for t in done), [t.state for t in done]
    assert len({t.user_attrs["seed"] for t in done}) == 4, "every trial records its own seed"
    assert all(t.user_attrs["epochs"] >= 1 for t in done)


@needs_data
def test_a_killed_process_leaves_the_study_usable(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    victim = tune_process(tmp_path, "--study", "shared", "--storage", url, "--trials", "3", "--heartbeat", "1")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until it is inside a trial that has sent a heartbeat
        time.sleep(0.5)
        try:
            if any(t.state == optuna.trial.TrialState.RUNNING for t in trials(url)) and heartbeats(tmp_path):
                break
        except KeyError:  # the study does not exist yet
            continue
    else:
        victim.kill()
        pytest.fail("the process never started a trial")
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    time.sleep(3)  # past the grace period (2 heartbeats) of the killed trial
    restart = tune_process(tmp_path, "--study", "shared", "--storage", url, "--trials", "1", "--heartbeat", "1")
    output = restart.communicate(timeout=300)[0]
    assert restart.returncode == 0, output
    states = [t.state for t in trials(url)]
    assert states.count(optuna.trial.TrialState.FAIL) == 1, states
    assert optuna.trial.TrialState.RUNNING not in states
    assert states[-1] in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def test_a_bad_storage_url_names_itself(tmp_path):
    with pytest.raises(tune.StorageError, match="'nosuchdb://x/y'.*sqlite:///"):
        tune.open_storage("nosuchdb://x/y")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dlfoundations.tune",
            "--study",
            "s",
            "--space",
            "fc",
            "--trials",
            "1",
            "--storage",
            "postgresql://nobody@127.0.0.1:1/none",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "DLF_PROFILE": "quick"},
    )
    assert result.returncode != 0
    assert "postgresql://nobody@127.0.0.1:1/none" in result.stderr and "Traceback" not in result.stderr


@needs_data
def test_an_exported_study_reads_as_a_results_file(tmp_path, monkeypatch):
    from dlfoundations import data, results

    monkeypatch.setenv("DLF_PROFILE", "quick")
    monkeypatch.setenv("DLF_DEVICE", "cpu")
    cifar = data.load_cifar10(CIFAR10_ROOT, device="cpu")
    study = tune.run("exported", "memory", "fc", 2, dataset=cifar)
    meta, records = results.load(tune.export(study, tmp_path / "search.json", "fc"))
    assert meta["kind"] == "search" and len(meta["trials"]) == 2
    best = max((t for t in study.trials if t.value is not None), key=lambda t: t.value)
    assert records[0].val == [best.value] and records[0].settings == best.params and records[0].test == []
    assert "Optuna study 'exported'" in results.table(records, meta)
