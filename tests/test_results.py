import json
import re
import subprocess

import pytest
import torch

from dlfoundations import data, experiments, results


def record(**changes):
    fields = dict(
        experiment="wide ConvNet",
        chapter="10",
        report=66.3,
        target=None,
        seeds=[0, 1, 2],
        val=[0.60, 0.62, 0.64],
        best_val=[0.63, 0.65, 0.66],
        test=[0.59, 0.61, 0.60],
        best_checkpoint_test=[0.58, 0.60, 0.61],
        seconds_per_epoch=[3.0, 3.2, 3.1],
        epochs=10,
        train_images=49000,
        profile="full",
        device="cuda",
    )
    return experiments.Record(**{**fields, **changes})


def test_round_trip_and_table(tmp_path):
    meta = results.metadata("cpu")
    path = results.save(tmp_path / "full-test.json", [record(), record(experiment="FC", report=None)], meta)
    loaded_meta, loaded = results.load(path)
    assert loaded_meta["torch"] == torch.__version__ and loaded[0] == record()
    assert results.available(tmp_path) == [path] and results.available(tmp_path / "missing") == []
    text = results.table(loaded, loaded_meta)
    assert "| 10 | wide ConvNet | 66.3% | — | 62.0 ± 2.0% | 60.0 ± 1.0% | 3 | 10 | 3.1 |" in text
    assert "full, cuda" in text and "49,000 images" in text


def test_each_reader_takes_its_own_kind(tmp_path):
    """A speedrun file (or any other kind) beside the course's files changes nothing for either reader."""
    course = results.save(tmp_path / "standard-cpu.json", [record()], results.metadata("cpu"))
    legacy = tmp_path / "old.json"  # written before files had a kind: a course file
    legacy.write_text(json.dumps({k: v for k, v in json.loads(course.read_text()).items() if k != "kind"}))
    other = results.write(tmp_path / "speedrun-x.json", "speedrun", [{"tta_accuracy": 0.9}], {"config": {}})
    assert results.available(tmp_path) == [legacy, course]
    assert results.available(tmp_path, "speedrun") == [other]
    assert results.kind_of(other) == "speedrun" and results.load(legacy)[1] == [record()]
    with pytest.raises(results.ResultsFileError, match="kind 'speedrun', not 'course'"):
        results.load(other)
    assert results.metadata("cpu")["commit"] is None or len(results.metadata("cpu")["commit"]) >= 40


def test_malformed_files_name_the_problem(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(results.ResultsFileError, match="bad.json: not a results file"):
        results.load(bad)
    bad.write_text(json.dumps({"meta": {"schema": 99}, "records": []}))
    with pytest.raises(results.ResultsFileError, match="schema 99"):
        results.load(bad)
    entry = {k: v for k, v in vars(record()).items() if k != "test"}
    bad.write_text(json.dumps({"meta": {"schema": results.SCHEMA}, "records": [entry]}))
    with pytest.raises(results.ResultsFileError, match=r"record 0 lacks \['test'\]"):
        results.load(bad)


def test_committed_results_files_are_readable():
    for path in results.available():
        meta, records = results.load(path)
        assert records and all(len(r.val) == len(r.seeds) for r in records), path


def test_experiments_run_on_tiny_data(tiny_root, monkeypatch):
    monkeypatch.setenv("DLF_PROFILE", "quick")
    root, _ = tiny_root
    dataset = data.load_cifar10(root, device="cpu", num_train=200, num_val=100, num_test=100, download=False)
    rec, runs = experiments.one_epoch_record("Module ConvNet (32, 16; SGD 3e-3)", dataset, [0, 1])
    assert rec.seeds == [0, 1] and len(rec.test) == 2 and rec.chapter == "08" and rec.target == 45
    again = experiments.one_epoch("Module ConvNet (32, 16; SGD 3e-3)", dataset, 0)
    assert again.val == runs[0].val and again.test == runs[0].test  # deterministic given the seed
    bare = experiments.one_epoch("barebones two-layer FC (hidden 4000, SGD 1e-2)", dataset, 0)
    assert bare.best_checkpoint_test is None and 0 <= bare.test <= 1
    import dataclasses

    s = dataclasses.replace(
        experiments.tuning(),
        search_images=100,
        search_trials=2,
        final_seeds=2,
        wide_channels=(4, 2),
        tuned_widths=(4, 8),
        tuned_epochs=1,
    )
    rows = experiments.fc_search(dataset, s, verbose=False)
    assert len(rows) == 2 and rows[0]["val"] >= rows[1]["val"]
    rec, _ = experiments.tuned_finalist(dataset, s)
    assert rec.target == 70.0 and len(rec.val) == 2 and rec.train_images == 200


def test_merge_appends_seeds_to_the_same_run_and_refuses_repeats():
    settings = {"widths": (64, 128), "lr": 1e-4}
    old = [
        record(
            seeds=[100],
            val=[0.6],
            best_val=[0.61],
            test=[0.59],
            best_checkpoint_test=[0.58],
            seconds_per_epoch=[3.0],
            settings=settings,
        )
    ]
    listed = {"widths": [64, 128], "lr": 1e-4}  # as it reads back from JSON
    new = [
        record(
            seeds=[101],
            val=[0.7],
            best_val=[0.71],
            test=[0.69],
            best_checkpoint_test=[0.68],
            seconds_per_epoch=[4.0],
            settings=listed,
        ),
        record(experiment="other", seeds=[101]),
    ]
    merged = results.merge(old, new)
    assert [r.experiment for r in merged] == ["wide ConvNet", "other"]
    assert merged[0].seeds == [100, 101] and merged[0].val == [0.6, 0.7] and merged[0].seconds_per_epoch == [3.0, 4.0]
    assert old[0].seeds == [100]  # the old records are not changed in place
    with pytest.raises(results.ResultsFileError, match="already holds seed"):
        results.merge(merged, [record(seeds=[101], settings=settings)])
    assert len(results.merge(old, [record(seeds=[100], epochs=5)])) == 2  # another size is another run


def test_provenance_names_every_size_a_file_mixes(tmp_path):
    path = results.save(
        tmp_path / "mixed.json",
        [record(experiment="a", train_images=2500, epochs=2), record(experiment="b", train_images=49000)],
        results.metadata("cpu"),
    )
    found = {name: (r, path) for name, r in (("a", results.load(path)[1][0]), ("b", results.load(path)[1][1]))}
    text = results.provenance(found)
    assert "2,500 training images, 2 epoch(s)" in text and "49,000 training images, 10 epoch(s)" in text


def test_merge_keeps_threads_per_seed():
    old = [
        record(seeds=[100], val=[0.6], best_val=[0.6], test=[0.6], best_checkpoint_test=[0.6], seconds_per_epoch=[1])
    ]
    new = [
        record(seeds=[101], val=[0.7], best_val=[0.7], test=[0.7], best_checkpoint_test=[0.7], seconds_per_epoch=[2])
    ]
    new[0].threads = [1]
    merged = results.merge(old, new)  # the old record predates per-seed threads: unknown, not invented
    assert merged[0].seeds == [100, 101] and merged[0].threads == [None, 1]


DIRTY = "0123456789abcdef0123456789abcdef01234567+dirty"


def test_a_dirty_tree_writes_no_results_unless_allowed(monkeypatch):
    monkeypatch.setattr(results, "git_commit", lambda: DIRTY)
    monkeypatch.delenv(results.ALLOW_DIRTY_VARIABLE, raising=False)
    with pytest.raises(results.DirtyTreeError, match="--allow-dirty"):
        results.metadata("cpu")
    meta = results.metadata("cpu", allow_dirty=True)
    assert meta["commit"] == DIRTY and meta["dirty"] is True
    monkeypatch.setenv(results.ALLOW_DIRTY_VARIABLE, "1")
    assert results.metadata("cpu")["dirty"] is True
    monkeypatch.setattr(results, "git_commit", lambda: DIRTY.removesuffix("+dirty"))
    assert "dirty" not in results.metadata("cpu", allow_dirty=False)


def test_reproduce_refuses_a_dirty_tree_before_loading_data(monkeypatch, tmp_path):
    from dlfoundations import reproduce

    monkeypatch.setattr(results, "git_commit", lambda: DIRTY)
    monkeypatch.delenv(results.ALLOW_DIRTY_VARIABLE, raising=False)

    def no_data(*args, **kwargs):
        raise AssertionError("data loaded before the provenance check")

    monkeypatch.setattr(data, "load_cifar10", no_data)
    with pytest.raises(SystemExit, match="uncommitted changes"):
        reproduce.main(["--profile", "quick", "--only", "08", "--out", str(tmp_path / "x.json")])
    with pytest.raises(AssertionError, match="data loaded"):  # allowed: it goes on to the data
        reproduce.main(["--profile", "quick", "--only", "08", "--out", str(tmp_path / "x.json"), "--allow-dirty"])


def test_files_name_no_machine_paths(monkeypatch, tmp_path):
    root = str(results.REPOSITORY)
    argv = [f"{root}/code/dlfoundations/reproduce.py", "--out", f"{root}/results/x.json"]
    assert results.command_line(argv) == "python -m dlfoundations.reproduce --out results/x.json"
    assert results.command_line(["benchmarks/train.py", "--device", "cpu"]) == "benchmarks/train.py --device cpu"
    source = "/home/ada/.cache/dlfoundations/cifar10-jpeg-mirror/cifar-10-batches-py (from CIFAR10_ROOT)"
    assert results.portable(source) == "…/cifar10-jpeg-mirror/cifar-10-batches-py (from CIFAR10_ROOT)"
    assert results.portable("lr 1/2, widths 64/128") == "lr 1/2, widths 64/128"  # not a path
    path = results.write(tmp_path / "x.json", "speedrun", [], {"data": source, "appended": [{"data": source}]})
    assert "/home/" not in path.read_text()


# Files measured from uncommitted code, or before commands were stored relative to the repository, that still
# wait for their re-run from a clean commit (issue 26). The test below fails for any other file, and for a file
# listed here that no longer needs it, so the list only shrinks.
AWAITING_RERUN: set[str] = set()
MACHINE_PATH = re.compile(r"\"(/|[A-Za-z]:\\\\)(root|home|Users|work|tmp|mnt|opt)\b")


def provenance_problems(path) -> list[str]:
    """What is wrong with the provenance of a committed results file: dirty or missing commits, machine paths."""
    text = path.read_text()
    meta = json.loads(text)["meta"]
    commits = [meta.get("commit")] + [entry.get("commit") for entry in meta.get("appended", [])]
    problems = [f"commit {c!r} is not a clean commit" for c in commits if not results.is_clean_commit(c)]
    git = results.REPOSITORY / ".git"
    for commit in filter(results.is_clean_commit, commits):
        if (
            git.exists()
            and subprocess.run(
                ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=results.REPOSITORY, capture_output=True
            ).returncode
        ):
            problems.append(f"commit {commit} is not in this repository's history")
    if MACHINE_PATH.search(text):
        problems.append(f"a machine path: {MACHINE_PATH.search(text).group(0)}…")
    return problems


def test_every_committed_results_file_names_a_clean_commit():
    for path in sorted(results.RESULTS_DIR.glob("*.json")):
        problems = provenance_problems(path)
        if path.name in AWAITING_RERUN:
            assert problems, f"{path.name} is clean now: take it off AWAITING_RERUN"
        else:
            assert not problems, f"results/{path.name}: {problems}"


def test_change_effects_pair_each_change_with_its_base_by_seed(tmp_path):
    """A change that adds 5 points to every seed is beyond noise; one whose seeds go both ways is not; a change
    whose base is not committed is left out; differences are paired by seed, not by position in the file."""
    settings = {"lr": 0.01, "init": "default"}
    base = record(experiment="base", seeds=[0, 1, 2, 3], best_val=[0.40, 0.45, 0.50, 0.9], settings=settings)
    up = record(experiment="up", seeds=[2, 0, 1], best_val=[0.5501, 0.45, 0.4999], settings={**settings, "lr": 0.1})
    mixed = record(
        experiment="mixed", seeds=[0, 1, 2], best_val=[0.43, 0.43, 0.52], settings={**settings, "init": "he"}
    )
    orphan = record(experiment="orphan", seeds=[0, 1, 2])
    results.save(tmp_path / "x.json", [base, up, mixed, orphan], results.metadata("cpu"))
    changes = {"up": ("base", {"lr": 0.1}), "mixed": ("base", {"init": "he"}), "orphan": ("missing", {"x": 1})}
    rows = {r["name"]: r for r in results.change_effects(changes, directory=tmp_path)}
    assert set(rows) == {"up", "mixed"}  # +5 points on shuffled seeds; the base's seed 3 pairs with nothing
    assert rows["up"]["difference"] == pytest.approx(0.05, abs=1e-4) and rows["up"]["clear"]
    assert rows["up"]["base_mean"] == pytest.approx(0.45) and rows["up"]["seeds"] == 3
    assert rows["mixed"]["difference"] == pytest.approx(0.01) and not rows["mixed"]["clear"]
    table = results.change_table(list(rows.values()))
    assert "| up | lr 0.1 | 45.0% | 50.0% | +5.0 ± 0.0 |" in table and "| yes | 3 |" in table
    with pytest.raises(results.ResultsFileError, match="was not run as 'base'"):
        results.change_effects({"up": ("base", {"lr": 0.2})}, directory=tmp_path)  # the record says lr 0.1


def test_drop_seeds_takes_out_one_commits_runs_so_they_can_be_run_again(tmp_path):
    """A seed trained from uncommitted code leaves a course file (its lists, its appended entry) and can be
    appended again; other seeds, other runs and the clean commits stay; a speedrun file loses whole records."""
    clean, dirty = "a" * 40, "b" * 40 + "+dirty"
    meta = {"commit": "c" * 40, "appended": [{"commit": clean, "threads": 2}, {"commit": dirty, "threads": 1}]}
    fc = record(experiment="FC", threads=[2, 2, 1])
    path = results.save(tmp_path / "course.json", [record(), fc], meta)
    results.main(
        ["drop", str(path), "--seeds", "2", "--commit", dirty, "--reason", "uncommitted", "--experiment", "FC"]
    )
    after, (wide, fc_left) = results.load(path)
    assert wide == record()  # not named: untouched
    assert fc_left.seeds == [0, 1] and fc_left.test == fc.test[:2] and fc_left.threads == [2, 2]
    assert fc_left.seconds_per_epoch == fc.seconds_per_epoch[:2] and fc_left.best_val == fc.best_val[:2]
    assert [e["commit"] for e in after["appended"]] == [clean] and after["commit"] == "c" * 40
    assert after["dropped"][0]["seeds"] == [2] and after["dropped"][0]["runs"] == ["FC"]
    assert "+dirty" not in path.read_text()
    merged = results.merge(
        [wide, fc_left], [record(experiment="FC", seeds=[2], **{f: [0.5] for f in results.PER_SEED[1:-1]})]
    )
    assert merged[1].seeds == [0, 1, 2] and merged[1].test == [*fc.test[:2], 0.5]
    with pytest.raises(SystemExit, match="no appended entry"):  # once only
        results.main(["drop", str(path), "--seeds", "2", "--commit", dirty, "--reason", "again"])
    with pytest.raises(results.ResultsFileError, match="latest runs"):
        results.drop_seeds(path, [0], "c" * 40, "the top entry")

    runs = [{"seed": s, "accuracy": 0.9} for s in (0, 1, 2)]
    speed = results.write(tmp_path / "speed.json", "speedrun", runs, meta)
    results.drop_seeds(speed, [0, 1], dirty, "uncommitted")
    speed_meta, left = results.read(speed, "speedrun")
    assert left == [runs[2]] and [e["commit"] for e in speed_meta["appended"]] == [clean]
    with pytest.raises(results.ResultsFileError, match="no run of seed"):
        results.drop_seeds(speed, [5], clean, "absent")


def test_appending_keeps_the_earlier_commands_and_the_dropped_notes():
    old = {"date": "d0", "commit": "a" * 40, "threads": 2, "seconds": 5.0, "appended": [{"commit": "b" * 40}]}
    old["dropped"] = [{"seeds": [2], "runs": ["FC"], "reason": "uncommitted code"}]
    meta = results.carry_over({"commit": "c" * 40}, old)
    assert [e["commit"] for e in meta["appended"]] == ["b" * 40, "a" * 40] and meta["dropped"] == old["dropped"]
    assert set(results.carry_over({}, old, ("date", "commit"))["appended"][-1]) == {"date", "commit"}
    assert "dropped" not in results.carry_over({}, {"commit": "a" * 40})


def test_replay_records_runs_and_reads_them_back(tmp_path, monkeypatch):
    """A chapter's Replay: with DLF_RECORD=1 it trains and writes each run; then it reads them back, equal."""
    from dlfoundations import training

    trained = []

    def train(seed):
        trained.append(seed)
        h = training.History(losses=[2.3, 1.5, float("inf")], val_iterations=[0, 2], val_accuracies=[0.1, 0.4 + seed])
        h.epochs, h.train_seconds = 1, 0.5
        return h

    monkeypatch.setenv(results.RECORD_VARIABLE, "1")
    recorder = results.Replay(
        "99_demo", "standard", "/data/mirror/cifar-10-batches-py (from CIFAR10_ROOT)", directory=tmp_path
    )
    first = [recorder(lambda s=s: train(s), seed=s, sizes=(16, 32)) for s in (0, 1)]
    assert trained == [0, 1] and recorder.trained == 2 and recorder.read == 0
    assert results.kind_of(recorder.path) == results.REPLAY_KIND
    assert recorder.path.name == "replay-99_demo-standard.json"
    meta, records = results.read(recorder.path, results.REPLAY_KIND)
    assert meta["profile"] == "standard" and "DLF_RECORD=1" in meta["command"] and len(records) == 2
    monkeypatch.delenv(results.RECORD_VARIABLE)
    reader = results.Replay(
        "99_demo", "standard", "/data/mirror/cifar-10-batches-py (from CIFAR10_ROOT)", directory=tmp_path
    )
    again = [reader(lambda s=s: train(s), seed=s, sizes=[16, 32]) for s in (0, 1)]  # a tuple is stored as a list
    assert trained == [0, 1] and reader.read == 2 and reader.trained == 0
    assert again == first and isinstance(again[0], training.History) and again[0].seconds_per_epoch == 0.5
    text = reader.describe()
    assert "read both of these runs back" in text and "replay-99_demo-standard.json" in text
    assert "mirror/cifar-10-batches-py" in text and "another folder" not in text and "/data/" not in text
    elsewhere = results.Replay("99_demo", "standard", "/home/official/cifar-10-batches-py", directory=tmp_path)
    elsewhere(lambda: train(0), seed=0, sizes=[16, 32])
    assert "this run back" in elsewhere.describe() and "another folder (`…/official/cifar-10-batches-py`)" in (
        elsewhere.describe()
    )
    # a run the file lacks is trained; another profile reads nothing
    assert reader(lambda: train(2), seed=2, sizes=[16, 32]).val_accuracies == [0.1, 2.4] and trained[-1] == 2
    assert "trained the other 1" in reader.describe()
    other = results.Replay("99_demo", "quick", directory=tmp_path)
    other(lambda: train(0), seed=0, sizes=[16, 32])
    assert other.read == 0 and other.describe() == ""  # the page trained them: nothing to say
    # weights are never stored: a run read back has none, nor has one trained while recording
    from dlfoundations import experiments

    run = experiments.Run(3, 0.5, 0.6, None, None, 1.0, 2, history=train(0), state={"w": torch.zeros(1)})
    run.history.best_state = {"w": torch.ones(1)}
    back = results.from_plain(json.loads(json.dumps(results.to_plain(run))))
    assert back.state is None and back.history.best_state is None and back.history.losses == run.history.losses
    assert (back.seed, back.val, back.best_val, back.epochs) == (3, 0.5, 0.6, 2)
    monkeypatch.setenv(results.RECORD_VARIABLE, "1")
    assert results.Replay("99_other", "standard", directory=tmp_path)(lambda: run, seed=3).state is None
    monkeypatch.delenv(results.RECORD_VARIABLE)
    # recording refuses uncommitted code
    monkeypatch.setenv(results.RECORD_VARIABLE, "1")
    monkeypatch.delenv(results.ALLOW_DIRTY_VARIABLE, raising=False)
    monkeypatch.setattr(results, "git_commit", lambda: "0" * 40 + "+dirty")
    with pytest.raises(results.DirtyTreeError):
        results.Replay(
            "99_demo", "standard", "/data/mirror/cifar-10-batches-py (from CIFAR10_ROOT)", directory=tmp_path
        )
