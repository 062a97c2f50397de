"""The experiments of chapters 07–10 are defined once, run by the chapters and by ``reproduce`` alike."""

import dataclasses
import json
import re
from pathlib import Path

import pytest
import torch

from dlfoundations import data, experiments, reproduce, results, search, training

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"
NOTEBOOKS = {"07": "07_pytorch_barebones", "08": "08_pytorch_module_api", "09": "09_pytorch_sequential_api"}


def source(stem: str) -> str:
    notebook = json.loads((CHAPTERS / f"{stem}.ipynb").read_text())
    return "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("chapter", sorted(NOTEBOOKS))
def test_every_experiment_a_chapter_reports_is_one_reproduce_runs(chapter):
    code = source(NOTEBOOKS[chapter])
    assert f'experiments.chapter_runs("{chapter}"' in code
    assert reproduce.plan([chapter]) == list(experiments.experiments_of(chapter)) != []
    # the chapter does not train a one-epoch model of its own beside the package's definition
    assert not re.search(r"epochs=S\.epochs", code)
    for name in re.findall(r'"([^"\n]+\((?:hidden|32, 16)[^"\n]*\))"', code):
        assert name in experiments.ONE_EPOCH, name


def test_chapter_10_reports_what_reproduce_runs():
    import inspect

    code = source("10_tuning_cifar10")
    assert "experiments.chapter10_records(" in Path(reproduce.__file__).read_text()
    plan = inspect.getsource(experiments.chapter10_records)
    for function in ("fc_search", "conv_search", "tuned_finalist", "finalists"):
        assert f"experiments.{function}(" in code and f"{function}(" in plan, function
    for function in ("fc_finalist", "conv_finalist"):  # the report's picks, at its size
        assert f"{function}(dataset, t, REPORT_" in plan, function


def test_specs_hold_the_assignments_settings():
    specs = experiments.ONE_EPOCH
    assert {s.chapter for s in specs.values()} == {"07", "08", "09"} and len(specs) == 6
    assert all(s.epochs == 1 and s.batch_size == 64 and s.normalization == "assignment" for s in specs.values())
    sequential = [s for s in specs.values() if s.api == "sequential"]
    assert [s.init for s in sequential] == ["default", "default"] and all(s.nesterov for s in sequential)
    assert [s.lr for s in sequential] == [1e-2, 1e-2]
    with pytest.raises(ValueError, match="He's rule only"):
        experiments.OneEpoch("07", "barebones", "fc", 1e-2, 42.9, 40, init="default").build()
    spec = specs["Sequential ConvNet (32, 16; Nesterov 1e-2)"]
    assert spec.settings()["init"] == "default" and spec.build().fc.in_features == 16 * 32 * 32


def test_normalizations(tiny_root):
    root, _ = tiny_root
    dataset = data.load_cifar10(root, device="cpu", num_train=200, num_val=100, num_test=100, download=False)
    same = experiments.normalized(dataset, "data")
    theirs = experiments.normalized(dataset, "assignment")
    assert same is dataset and theirs.std == data.ASSIGNMENT_STD and theirs.mean == data.ASSIGNMENT_MEAN
    x, _ = next(iter(theirs.batches("train", 200)))
    y, _ = next(iter(dataset.batches("train", 200)))
    ratio = (x.std(dim=(0, 2, 3)) / y.std(dim=(0, 2, 3))).tolist()
    expected = [a / b for a, b in zip(dataset.std, data.ASSIGNMENT_STD, strict=True)]
    assert ratio == pytest.approx(expected, rel=1e-4)


def test_history_records_training_accuracy():
    torch.manual_seed(0)
    x = torch.randn(256, 2)
    y = (x[:, 0] > 0).long()
    batches = [(x[i : i + 32], y[i : i + 32]) for i in range(0, 256, 32)]
    model = torch.nn.Linear(2, 2)
    history = training.train(
        model,
        torch.optim.SGD(model.parameters(), lr=0.5),
        batches,
        batches[:2],
        epochs=3,
        print_every=8,
        verbose=False,
    )
    assert len(history.train_accuracies) == len(history.val_accuracies) == 4  # iterations 0, 8, 16, 23
    assert history.train_accuracies[0] in (0.0, 1 / 32 * round(32 * history.train_accuracies[0]))
    assert history.final_train_accuracy > 0.9 and history.train_accuracies[-1] > history.train_accuracies[0]
    params = [torch.zeros(2, 2, requires_grad=True)]
    bare = training.train_barebones(
        lambda v, p: v @ p[0], params, batches, batches[:2], 0.5, print_every=4, verbose=False
    )
    assert len(bare.train_accuracies) == 3 and bare.final_train_accuracy > 0.9
    assert training.History().final_train_accuracy != training.History().final_train_accuracy  # nan


def record(name, best_val, **changes):
    spec = experiments.ONE_EPOCH.get(name)
    fields = dict(
        experiment=name,
        chapter="09",
        report=spec.report if spec else None,
        target=spec.target if spec else None,
        seeds=[0, 1, 2],
        val=best_val,
        best_val=best_val,
        test=best_val,
        best_checkpoint_test=[],
        seconds_per_epoch=[1.0] * 3,
        epochs=1,
        train_images=49000,
        profile="standard",
        device="cpu",
        settings=spec.settings() if spec else {},
    )
    return experiments.Record(**{**fields, **changes})


def test_committed_comparison_and_floor(tmp_path):
    conv = "Sequential ConvNet (32, 16; Nesterov 1e-2)"
    fc = "Sequential two-layer FC (hidden 4000, Nesterov 1e-2)"
    old = results.metadata("cpu") | {"date": "2026-01-01T00:00:00+00:00"}
    new = results.metadata("cpu") | {"date": "2026-02-01T00:00:00+00:00"}
    results.save(tmp_path / "a.json", [record(conv, [0.50, 0.51, 0.52]), record(fc, [0.37, 0.38, 0.39])], old)
    results.save(tmp_path / "b.json", [record(conv, [0.55, 0.56, 0.57])], new)
    stale = results.metadata("cpu") | {"date": "2026-03-01T00:00:00+00:00"}  # newest, but run the old way
    results.save(tmp_path / "c.json", [record(conv, [0.3] * 3, settings={})], stale)
    found = results.committed([conv, fc, "missing"], tmp_path)
    assert found[conv][0].best_val == [0.55, 0.56, 0.57] and found[fc][1].name == "a.json" and "missing" not in found
    assert "b.json" in results.provenance(found) and "49,000 training images" in results.provenance(found)
    text = results.comparison(
        [(conv, 54.6, 55), (fc, 47.4, None), ("missing", None, None)],
        {n: r for n, (r, _) in found.items()},
        {conv: experiments.Run(0, 0.5, 0.52, 0.49, None, 1.0, 1)},
    )
    assert all(line.count("|") <= 7 for line in text.splitlines())  # six columns at most
    assert f"| {conv} | 54.6% | ≥55% | 52.0 / 50.0%, 49.0% | 56.0 ± 1.0%, 56.0 ± 1.0% (3 seeds) | 56.0 ± 1.0% |" in text
    assert "| missing | — | — | — | not run yet | — |" in text
    assert results.floor(conv, "quick", tmp_path)[0] == experiments.QUICK_FLOOR["conv"]
    assert results.floor(conv, "standard", tmp_path) == (0.55, "the assignment's target, met by results/b.json")
    assert results.floor(fc, "standard", tmp_path)[0] == pytest.approx(0.35)  # 40% missed: worst seed less 2
    value, why = results.floor("Module ConvNet (32, 16; SGD 3e-3)", "standard", tmp_path)
    assert value == pytest.approx(0.40) and "no committed results" in why


def test_finalists_use_fresh_seeds_and_pick_by_mean_validation(tiny_root, monkeypatch):
    monkeypatch.setenv("DLF_PROFILE", "quick")
    import dataclasses

    root, _ = tiny_root
    dataset = data.load_cifar10(root, device="cpu", num_train=200, num_val=100, num_test=100, download=False)
    s = dataclasses.replace(experiments.tuning(), search_images=100, search_trials=4, final_seeds=2, fc_hidden=(8, 16))
    rows = experiments.fc_search(dataset, s, verbose=False)
    assert s.seed not in experiments.finalist_seeds(s)  # the search trained from s.seed
    (record, runs), candidates = experiments.finalists(dataset, s, rows, "fc", top=3)
    assert len(candidates) == 3 == experiments.finalist_configs(s, "fc") and record.seeds == [100, 101]
    assert record.seeds == experiments.finalist_seeds(s)
    means = [c.summary("val")[0] for c, _ in candidates]
    assert record.summary("val")[0] == max(means)
    assert [c.settings for c, _ in candidates] == [{k: r[k] for k in experiments.FC_GRID} for r in rows[:3]]
    assert len(record.train) == 2 and all(0 <= t <= 1 for t in record.train)
    # only the pick is tested, and its test accuracies are those of a run that tests as it ends
    assert None not in record.test and len(record.best_checkpoint_test) == 2
    assert all(set(c.test) == {None} and c.best_checkpoint_test == [] for c, _ in candidates if c is not record)
    tested, _ = experiments.fc_finalist(dataset, s, record.settings)
    assert tested.test == record.test and tested.best_checkpoint_test == record.best_checkpoint_test


def test_search_and_finalist_sizes_per_profile():
    t = experiments.TUNING
    conv = {p: experiments.search_trials(t[p], "conv") for p in t}
    assert conv == {"quick": 2, "standard": 2, "full": len(search.grid(**experiments.CONV_GRID))}
    assert experiments.search_trials(t["full"], "fc") == len(search.grid(**experiments.FC_GRID))
    assert experiments.finalist_configs(t["quick"], "conv") == 2  # a search smaller than TOP_CONFIGS: all of it
    assert experiments.finalist_configs(t["full"], "conv") == experiments.TOP_CONFIGS


def test_lr_range_test_finds_the_useful_range():
    torch.manual_seed(0)
    x = torch.randn(512, 3, 2, 2)
    y = (x.flatten(1).sum(1) > 0).long()

    class Tiny:
        def batches(self, split, batch_size, shuffle, seed):
            order = torch.randperm(512, generator=torch.Generator().manual_seed(seed))
            return [(x[order[i : i + batch_size]], y[order[i : i + batch_size]]) for i in range(0, 512, batch_size)]

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
    out = experiments.lr_range_test(model, lambda p: torch.optim.SGD(p, lr=0.0), Tiny(), low=1e-4, high=1e3, steps=80)
    lrs, smoothed = out["lrs"], out["smoothed"]
    assert lrs[0] == pytest.approx(1e-4) and all(b > a for a, b in zip(lrs, lrs[1:], strict=False))
    assert len(lrs) < 80  # stopped once the loss blew up
    assert min(smoothed) < 0.6 * smoothed[0] and 1e-2 < out["steepest"] < 1e2


def test_jpeg_reencoding_and_trend(tiny_root, monkeypatch):
    monkeypatch.setenv("DLF_PROFILE", "quick")
    root, _ = tiny_root
    dataset = data.load_cifar10(root, device="cpu", num_train=60, num_val=20, num_test=20, download=False)
    images = dataset.x_train[:20]
    errors = {q: experiments.mean_absolute_error(experiments.jpeg(images, q), images) for q in (95, 10)}
    assert 0 < errors[95] < errors[10] and experiments.jpeg(images, 50).dtype == torch.uint8
    outcomes = experiments.jpeg_records(dataset, [0], num_train=40, qualities=(10,))
    (plain, _), (coarse, _) = outcomes
    assert plain.settings["jpeg_quality"] is None and plain.settings["mae_levels"] == 0
    assert coarse.settings["mae_levels"] == pytest.approx(
        experiments.mean_absolute_error(experiments.jpeg(dataset.x_train[:40], 10), dataset.x_train[:40])
    )
    assert coarse.train_images == 40 and "quality 10" in coarse.experiment and coarse.chapter == "09"
    fake = [
        record("a", [0.50] * 3, settings={"mae_levels": 0.0}),
        record("b", [0.48] * 3, settings={"mae_levels": 4.0}),
        record("c", [0.46] * 3, settings={"mae_levels": 8.0}),
    ]
    trend = experiments.jpeg_trend(fake)
    assert trend["slope"] == pytest.approx(-0.5) and trend["intercept"] == pytest.approx(50.0)
    assert trend["gain"] == pytest.approx(0.5 * experiments.MIRROR_MAE)


def test_comparison_figure_and_range_plot():
    import matplotlib

    matplotlib.use("Agg")
    from dlfoundations import plots

    ax = plots.results_comparison([("a", [0.5, 0.52, 0.54], 54.6, 55), ("b", [], None, 70), ("c", [0.3], 42.9, None)])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b", "a"]
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "ours: mean ± std",
        "ours: each seed",
        "report",
        "target",
    }
    result = {"lrs": [1e-4, 1e-3, 1e-2], "losses": [2.3, 2.0, 5.0], "smoothed": [2.3, 2.1, 3.0], "steepest": 1e-3}
    ax = plots.lr_range(result, marks=[1e-3])
    assert ax.get_xscale() == "log" and len(ax.lines) == 4


def test_reproduce_plans_chapters_in_the_order_given():
    assert reproduce.plan(["09", "07"]) == [*experiments.experiments_of("09"), *experiments.experiments_of("07")]
    assert reproduce.plan(["09", "09", "10"]) == list(experiments.experiments_of("09"))


def test_a_cut_off_full_size_run_resumes_with_the_finalists_it_lacks():
    t = experiments.tuning("full")
    names = [
        experiments.fc_finalist_name(experiments.REPORT_FC_CONFIG),
        experiments.conv_finalist_name(t, experiments.REPORT_CONV_CONFIG),
        experiments.tuned_name(t),
    ]
    assert list(experiments.chapter10_records(None, t, searched=False, done=names)) == []  # nothing trained
    assert names[0] == "two-layer FC, Adam (hidden 4000, lr 0.0001, wd 0.0001)"  # what full-cpu-10.json holds


def test_the_best_check_s_test_accuracy_is_measured_again_only_for_other_weights(tiny_root, monkeypatch):
    root, _ = tiny_root
    dataset = data.load_cifar10(root, device="cpu", num_train=100, num_val=50, num_test=100, download=False)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 10))
    passes = []
    evaluate = experiments.evaluate
    monkeypatch.setattr(experiments, "evaluate", lambda *a, **k: passes.append(1) or evaluate(*a, **k))
    same = {k: v.clone() for k, v in model.state_dict().items()}
    test, best = experiments.test_accuracies(model, dataset, same)
    assert test == best and len(passes) == 1  # the same weights: one pass
    other = {k: torch.zeros_like(v) for k, v in same.items()}  # scores all 0: argmax is class 0
    test, best = experiments.test_accuracies(model, dataset, other)
    assert len(passes) == 3 and best == pytest.approx((dataset.y_test == 0).float().mean().item())
    assert test == experiments.evaluate(model, dataset, "test")  # the model itself is untouched


def test_adam_is_fused_on_the_cpu_and_matches_the_default():
    import copy

    torch.manual_seed(0)
    fused_net = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5))
    plain_net = copy.deepcopy(fused_net)
    fused = experiments.adam(fused_net.parameters(), lr=1e-2, weight_decay=1e-3)
    plain = torch.optim.Adam(plain_net.parameters(), lr=1e-2, weight_decay=1e-3)
    assert fused.defaults["fused"] is True and not plain.defaults["fused"]
    start = [p.detach().clone() for p in fused_net.parameters()]
    x, y = torch.randn(32, 20), torch.randint(0, 5, (32,))
    for _ in range(30):
        for net, optimizer in ((fused_net, fused), (plain_net, plain)):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            optimizer.step()
    for p, q, p0 in zip(fused_net.parameters(), plain_net.parameters(), start, strict=True):
        assert not torch.equal(p, p0)  # trained
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)
    for setup in (
        lambda: experiments.fc_adam_setup("cpu", 8, 1e-3, 1e-4, 0),
        lambda: experiments.convnet_adam_setup("cpu", (4, 2), 1e-3, 1e-4, 0),
    ):
        assert setup()[1].defaults["fused"] is True


def test_each_one_change_run_differs_from_its_base_in_what_its_name_says(tiny_root):
    for name, (base, changes) in experiments.ONE_CHANGE.items():
        spec = experiments.ONE_EPOCH[base]
        changed = {
            k: v for k, v in dataclasses.replace(spec, **changes).settings().items() if spec.settings().get(k) != v
        }
        assert changed and changed == changes, name  # exactly the named change, and it reaches the settings
        assert spec.chapter in ("08", "09")
    report = experiments.ONE_EPOCH["Sequential ConvNet (32, 16; Nesterov 1e-2)"]
    report = dataclasses.replace(report, momentum=0.5, weight_decay=1e-4)
    group = report.optimizer([torch.nn.Parameter(torch.zeros(1))]).param_groups[0]
    assert (group["momentum"], group["weight_decay"], group["nesterov"]) == (0.5, 1e-4, True)
    default = dataclasses.replace(experiments.ONE_EPOCH["Module two-layer FC (hidden 4000, SGD 1e-2)"], init="default")
    torch.manual_seed(0)
    weight = default.build().fc1.weight  # PyTorch's U(±1/sqrt(fan_in)): variance 1/(3 fan_in), not He's 2/fan_in
    assert abs(weight.var().item() * 3 * weight.shape[1] - 1) < 0.02
    root, _ = tiny_root
    dataset = data.load_cifar10(root, device="cpu", num_train=200, num_val=100, num_test=100, download=False)
    name = "Sequential ConvNet, Nesterov 0.5 + weight decay 1e-4 (the report's optimizer)"
    record, _ = experiments.one_change_record(name, dataset, [0])
    assert record.experiment == name and record.chapter == "09" and record.settings["momentum"] == 0.5
    assert record.settings["weight_decay"] == 1e-4 and len(record.val) == 1


def test_a_cut_off_one_change_run_resumes_with_the_changes_it_lacks(quick_root, monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_ROOT", str(quick_root))
    first, *rest = experiments.ONE_CHANGE
    base, _ = experiments.ONE_CHANGE[first]
    spec = experiments.ONE_EPOCH[base]
    out = tmp_path / "changes.json"
    three = dict(val=[0.4] * 3, best_val=[0.4] * 3, test=[0.4] * 3, best_checkpoint_test=[0.4] * 3)
    done = experiments.Record(
        first,
        spec.chapter,
        spec.report,
        spec.target,
        [0, 1, 2],
        **three,
        seconds_per_epoch=[1.0] * 3,
        epochs=1,
        train_images=10,
        profile="quick",
        device="cpu",
    )
    results.save(out, [done], results.metadata("cpu"))
    trained = []

    def fake(name, dataset, seeds, profile=None):
        trained.append(name)
        return dataclasses.replace(done, experiment=name), []

    monkeypatch.setattr(experiments, "one_change_record", fake)
    reproduce.main(["--profile", "quick", "--only", "changes", "--seeds", "3", "--append", "--out", str(out)])
    assert trained == rest  # the finished change is not trained again
    assert [r.experiment for r in results.load(out)[1]] == [first, *rest]


def test_stored_finalists_are_the_runs_finalists_would_train(tiny_root, monkeypatch, tmp_path):
    """``experiments finalists`` stores every sampled configuration's finalist runs; read back, they give the
    candidates, the pick and its test accuracies that training them gives (CPU runs are deterministic)."""
    root, _ = tiny_root
    monkeypatch.setenv("CIFAR10_ROOT", str(root))
    monkeypatch.setenv("DLF_PROFILE", "quick")
    tiny = dataclasses.replace(
        experiments.TUNING["quick"],
        search_images=100,
        search_trials=4,
        final_seeds=2,
        fc_hidden=(8, 16),
        wide_channels=(4, 2),
        stored_finalists="finalists.json",
    )
    monkeypatch.setitem(experiments.TUNING, "quick", tiny)
    out = tmp_path / "finalists.json"
    assert (
        experiments.main(
            ["finalists", "--profile", "quick", "--threads", "1", "--test-images", "100", "--out", str(out)]
        )
        == out
    )
    assert results.kind_of(out) == experiments.FINALISTS_KIND
    t = experiments.tuning("quick")
    dataset = data.load_cifar10(device="cpu", profile="quick", num_train=200, num_test=100)
    meta, stored = experiments.stored_finalists(t, dataset, tmp_path)
    assert meta["tuning"]["search_images"] == 100 and meta["train_images"] == 100
    sampled = {"fc": experiments.search_configs(t, "fc"), "conv": experiments.search_configs(t, "conv")}
    assert len(stored) == len(sampled["fc"]) + len(sampled["conv"]) == 4 + 2
    assert all(sorted(runs) == experiments.finalist_seeds(t) for runs in stored.values())
    fields = ("experiment", "settings", "seeds", "val", "best_val", "train", "test", "best_checkpoint_test")
    for kind, search_of in (("fc", experiments.fc_search), ("conv", experiments.conv_search)):
        rows = search_of(dataset, t, verbose=False)
        assert [{k: r[k] for k in sampled[kind][0]} for r in rows] != [] and len(rows) == len(sampled[kind])
        (live, live_runs), live_candidates = experiments.finalists(dataset, t, rows, kind)
        (read, read_runs), read_candidates = experiments.finalists(dataset, t, rows, kind, stored=stored)
        assert all(r.state is not None for r in live_runs) and all(r.state is None for r in read_runs)
        for (a, _), (b, _) in zip(live_candidates, read_candidates, strict=True):
            assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
        assert read.experiment == live.experiment and None not in read.test  # the pick only is tested
        assert [r.history.val_accuracies for r in read_runs] == [r.history.val_accuracies for r in live_runs]
        assert [r.history.losses for r in read_runs] == [r.history.losses for r in live_runs]
    # a file made at other sizes or from another seed is not read
    assert experiments.stored_finalists(dataclasses.replace(t, seed=1), dataset, tmp_path) is None
    assert experiments.stored_finalists(dataclasses.replace(t, search_epochs=2), dataset, tmp_path) is None
    # the BatchNorm ConvNet's sizes do not enter the finalists
    assert experiments.stored_finalists(dataclasses.replace(t, tuned_epochs=7), dataset, tmp_path) is not None
    # a stored file that lacks a configuration: every candidate is trained
    rows = experiments.fc_search(dataset, t, verbose=False)
    top = {k: rows[0][k] for k in experiments.FC_GRID}
    partial = {k: v for k, v in stored.items() if json.loads(k) != {"kind": "fc", **top}}
    assert len(partial) == len(stored) - 1
    _, candidates = experiments.finalists(dataset, t, rows, "fc", stored=partial)
    assert all(r.state is not None for _, runs in candidates for r in runs)
