"""Chapter 02b's LeNet-5 over seeds: ``python -m dlfoundations.experiments lenet`` at tiny sizes, and its file."""

import dataclasses
import json

import pytest

from dlfoundations import config, data, experiments, results

TINY = ["--profile", "quick", "--epochs", "1", "--train-images", "64", "--val-images", "50", "--test-images", "100"]


@pytest.fixture
def tiny_cifar(tiny_root, monkeypatch):
    root, _ = tiny_root
    monkeypatch.setenv("CIFAR10_ROOT", str(root))
    return root


def test_every_profile_has_a_setup_and_the_recipe_is_the_same_in_all():
    assert set(experiments.LENET) == set(config.PROFILES)
    recipes = {json.dumps(s.settings(), sort_keys=True) for s in experiments.LENET.values()}
    assert len(recipes) == 1
    for setup in experiments.LENET.values():
        assert 1 <= setup.chapter_seeds <= setup.seeds and setup.epochs >= 1


def test_the_command_writes_a_lenet_file_of_the_runs_the_chapter_trains(tiny_cifar, tmp_path):
    out = tmp_path / "lenet.json"
    assert experiments.main(["lenet", *TINY, "--seeds", "2", "--out", str(out)]) == out
    meta, records = experiments.lenet_load(out)
    assert results.kind_of(out) == experiments.LENET_KIND
    (record,) = records
    assert record.seeds == [0, 1] and record.chapter == "02b" and record.experiment == experiments.LENET_NAME
    assert (record.profile, record.epochs, record.train_images) == ("quick", 1, 64)
    assert record.settings == experiments.LENET["quick"].settings() and len(record.threads) == 2
    assert all(0 <= a <= 1 for a in record.val + record.test) and record.best_val == record.val
    assert meta["profile"] == "quick" and (meta["val_images"], meta["test_images"]) == (50, 100)
    # the command trains exactly what the chapter's call trains
    dataset = data.load_cifar10(device="cpu", profile="quick", num_train=64, num_val=50, num_test=100)
    setup = dataclasses.replace(experiments.LENET["quick"], epochs=1)
    run, net = experiments.lenet(dataset, 1, setup)
    assert (run.val, run.test) == (record.val[1], record.test[1])
    assert run.test == experiments.evaluate(net, dataset, "test")


def test_append_adds_seeds_and_refuses_one_the_file_holds(tiny_cifar, tmp_path):
    out = tmp_path / "lenet.json"
    experiments.main(["lenet", *TINY, "--seeds", "1", "--out", str(out)])
    experiments.main(["lenet", *TINY, "--seeds", "1", "--first-seed", "1", "--append", "--out", str(out)])
    meta, (record,) = experiments.lenet_load(out)
    assert record.seeds == [0, 1] and len(record.test) == 2 and len(meta["appended"]) == 1
    with pytest.raises(SystemExit, match=r"already holds seed\(s\) \[1\]"):
        experiments.main(["lenet", *TINY, "--seeds", "1", "--first-seed", "1", "--append", "--out", str(out)])


def test_the_command_refuses_uncommitted_code(tiny_cifar, tmp_path, monkeypatch):
    monkeypatch.delenv(results.ALLOW_DIRTY_VARIABLE, raising=False)
    monkeypatch.setattr(results, "git_commit", lambda: "0" * 40 + "+dirty")
    with pytest.raises(SystemExit, match="uncommitted changes"):
        experiments.main(["lenet", *TINY, "--seeds", "1", "--out", str(tmp_path / "x.json")])
    assert not (tmp_path / "x.json").exists()
    experiments.main(["lenet", *TINY, "--seeds", "1", "--allow-dirty", "--out", str(tmp_path / "x.json")])
    meta, _ = experiments.lenet_load(tmp_path / "x.json")
    assert meta["dirty"] is True


def test_main_names_its_commands():
    with pytest.raises(SystemExit, match="lenet"):
        experiments.main([])
    with pytest.raises(SystemExit, match="lenet"):
        experiments.main(["train"])


def record(profile, epochs, images, test, settings=None):
    return experiments.Record(
        experiment=experiments.LENET_NAME,
        chapter="02b",
        report=None,
        target=None,
        seeds=list(range(len(test))),
        val=test,
        best_val=test,
        test=test,
        best_checkpoint_test=test,
        seconds_per_epoch=[10.0] * len(test),
        epochs=epochs,
        train_images=images,
        profile=profile,
        device="cpu",
        settings=experiments.LENET[profile].settings() if settings is None else settings,
    )


def write(path, records, date, commit="a" * 40):
    meta = {"device": "cpu", "device_name": "x86_64", "date": date, "commit": commit}
    results.write(path, experiments.LENET_KIND, [dataclasses.asdict(r) for r in records], meta)


def test_the_chapter_reads_the_newest_record_of_its_profile_at_the_profile_s_sizes(tmp_path):
    assert experiments.lenet_committed(tmp_path) == [] and experiments.lenet_reference("standard", tmp_path) is None
    epochs, images = experiments.LENET["standard"].epochs, config.settings("standard").num_train
    write(tmp_path / "old.json", [record("standard", epochs, images, [0.50, 0.52])], "2026-01-01")
    write(tmp_path / "new.json", [record("standard", epochs, images, [0.55, 0.56, 0.54])], "2026-02-01")
    write(tmp_path / "short.json", [record("standard", 1, images, [0.40])], "2026-03-01")  # not the profile's size
    stale = record("standard", epochs, images, [0.1], settings={"lr": 0.1})
    write(tmp_path / "stale.json", [stale], "2026-04-01")  # another recipe
    results.write(tmp_path / "other.json", "course", [], {"date": "2026-05-01"})  # another kind
    found = experiments.lenet_committed(tmp_path)
    assert [path.name for _, _, path in found] == ["short.json", "new.json", "old.json"]
    ref, meta, path = experiments.lenet_reference("standard", tmp_path)
    assert path.name == "new.json" and ref.test == [0.55, 0.56, 0.54] and meta["date"] == "2026-02-01"
    assert experiments.lenet_reference("quick", tmp_path) is None
    table = experiments.lenet_table(found)
    assert table.count("\n") == 4 and "55.0 ± 1.0%" in table and "`aaaaaaa`" in table


def test_the_summary_sentence_says_what_is_committed_or_that_nothing_is(tmp_path):
    missing = experiments.lenet_summary("standard", tmp_path)
    assert "not run yet" in missing and "--profile standard" in missing
    epochs, images = experiments.LENET["standard"].epochs, config.settings("standard").num_train
    write(tmp_path / "lenet.json", [record("standard", epochs, images, [0.541, 0.540, 0.571])], "2026-02-01")
    text = experiments.lenet_summary("standard", tmp_path)
    assert "55.1 ± 1.8%" in text and "seeds 0, 1, 2" in text and "`results/lenet.json`" in text
    assert "`aaaaaaa`" in text and "49,000 training images" in text


def test_the_module_runs_as_a_command():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "dlfoundations.experiments", "lenet", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "--profile" in done.stdout and "--allow-dirty" in done.stdout
