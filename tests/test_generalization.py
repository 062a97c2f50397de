"""The regularization chapter's study: choose on validation, test once; on a tiny synthetic data set."""

import dataclasses
import json
import math
import statistics

import pytest
import torch

from dlfoundations import data, generalization, regularization, results
from dlfoundations.batches import Batches

TINY = generalization.Budget(
    train_images=48,
    val_images=24,
    test_images=24,
    epochs=3,
    channels=(2, 4),
    hidden=8,
    batch_size=16,
    probe_images=16,
    selection_seeds=2,
    test_seeds=2,
    ensemble=2,
    weight_decay=(1e-3, 1e-2),
    l1=(1e-4, 1e-3),
    dropout=(0.25, 0.5),
    patience=(1, 2),
    adam_l2=(1e-3, 1e-2),
    adamw=(0.1, 1.0),
    widths=(0.5,),
    train_sizes=(24, 64),  # 64: more images than the baseline trains on
    label_noise=(0.0, 1.0),
    label_noise_images=24,
    label_noise_epochs=2,
)


def fake_cifar(n_train=48, n_val=24, n_test=24, seed=0):
    g = torch.Generator().manual_seed(seed)

    def images(n):
        return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)

    def labels(n):
        return torch.randint(0, 10, (n,), generator=g)

    return data.CIFAR10(
        images(n_train),
        labels(n_train),
        images(n_val),
        labels(n_val),
        images(n_test),
        labels(n_test),
        mean=(0.5,) * 3,
        std=(0.25,) * 3,
        source="synthetic",
    )


@pytest.fixture(scope="module")
def tiny_study():
    """The whole study at the tiny budget (a few seconds), shared by the tests that read it."""
    return generalization.study(fake_cifar(n_train=64), TINY)


def test_budgets_give_every_tuned_technique_the_same_grid_and_enough_seeds():
    assert set(generalization.BUDGETS) == {"quick", "standard", "full"}
    assert {name: b.profile for name, b in generalization.BUDGETS.items()} == {n: n for n in generalization.BUDGETS}
    standard = generalization.BUDGETS["standard"]
    assert standard.train_images == 5_000 and standard.test_seeds >= 5 and standard.selection_seeds >= 2
    assert standard.val_images >= 2_500  # σ of a validation accuracy at most 1 point
    for b in generalization.BUDGETS.values():
        assert b.grid_size >= 2 and b.ensemble >= 2 and min(b.patience) >= 1
        # the test seeds and the ensembles' extra members are fresh: no selection seed among them
        assert not set(b.selection_seed_list) & set(b.test_seed_list + b.member_seed_list)
    every = generalization.techniques(TINY)
    assert set(every) == {"none", "augmentation", "Adam", *generalization.TUNED}
    assert all(len(every[name]) == TINY.grid_size for name in generalization.TUNED)
    with pytest.raises(ValueError, match="same size"):
        dataclasses.replace(TINY, l1=(1e-4,)).grid_size  # noqa: B018


def test_network_uses_our_dropout_He_init_and_the_width():
    net = generalization.network(TINY, generalization.dropout_setting(0.5))
    drops = [m for m in net if isinstance(m, regularization.Dropout)]
    assert [d.p for d in drops] == [0.25, 0.5]
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert not any(isinstance(m, regularization.Dropout) for m in generalization.network(TINY))
    wide = generalization.network(TINY, generalization.Technique("none", width=2.0))
    assert (wide.conv1.out_channels, wide.conv2.out_channels, wide.fc1.out_features) == (4, 8, 16)


def test_optimizer_decays_weights_only():
    net = generalization.network(TINY)
    technique = generalization.Technique("wd", weight_decay=0.1)
    opt = generalization.optimizer_for(net, technique, TINY)
    decayed = [g for g in opt.param_groups if g["weight_decay"] > 0]
    assert len(decayed) == 1 and all(p.ndim >= 2 for p in decayed[0]["params"])
    everything = generalization.optimizer_for(net, dataclasses.replace(technique, decay_biases=True), TINY)
    decayed = [g for g in everything.param_groups if g["weight_decay"] > 0]
    assert len(decayed[0]["params"]) == len(list(net.parameters()))  # biases too
    assert isinstance(
        generalization.optimizer_for(net, dataclasses.replace(technique, optimizer="adamw"), TINY), torch.optim.AdamW
    )
    with pytest.raises(ValueError):
        generalization.optimizer_for(net, dataclasses.replace(technique, optimizer="lbfgs"), TINY)


def test_train_run_records_accuracy_and_loss_curves_and_no_test_unless_asked():
    cifar = fake_cifar()
    outcome, model = generalization.train_run(cifar, generalization.BASELINE, 0, TINY)
    assert set(outcome.curves) == {"train_loss", "running_acc", "probe_acc", "probe_loss", "val_acc", "val_loss"}
    assert all(len(c) == TINY.epochs for c in outcome.curves.values())
    assert outcome.test is None and math.isnan(outcome.gap)
    acc, loss = generalization.evaluate(model, cifar.x_val, cifar.y_val, cifar.mean, cifar.std)
    assert (outcome.val, outcome.val_loss) == pytest.approx((acc, loss))
    # the mean cross-entropy of the whole split, as torch computes it in one call
    x, y = next(iter(Batches(cifar.x_val, cifar.y_val, 1000, mean=cifar.mean, std=cifar.std)))
    with torch.no_grad():
        assert loss == pytest.approx(torch.nn.functional.cross_entropy(model.eval()(x), y).item(), rel=1e-5)
    again, _ = generalization.train_run(cifar, generalization.BASELINE, 0, TINY)
    assert again.curves == outcome.curves  # seeded
    augmented, _ = generalization.train_run(cifar, generalization.AUGMENTATION, 0, TINY, measure_test=True)
    assert len(augmented.curves["augmented_acc"]) == TINY.epochs and augmented.test is not None


def test_train_run_restores_what_the_stop_rule_chose():
    cifar = fake_cifar()
    rule = generalization.StopRule("loss", 1)
    outcome, _ = generalization.train_run(cifar, generalization.BASELINE, 0, TINY, measure_test=True, stop_rule=rule)
    epochs, restored = generalization.stopping_point(outcome.curves, rule)
    assert (outcome.early["epochs"], outcome.early["restored"]) == (epochs, restored)
    assert outcome.early["val"] == outcome.curves["val_acc"][restored - 1]
    assert outcome.curves["val_loss"][restored - 1] == min(outcome.curves["val_loss"][:epochs])
    assert outcome.early["test"] is not None


def test_stopping_point_replays_early_stopping():
    curves = {
        "val_acc": [0.3, 0.5, 0.4, 0.45, 0.6, 0.5, 0.5, 0.5],
        "val_loss": [2.0, 1.5, 1.6, 1.7, 1.8, 1.4, 1.9, 2.0],
    }
    assert generalization.stopping_point(curves, generalization.StopRule("accuracy", 1)) == (3, 2)
    assert generalization.stopping_point(curves, generalization.StopRule("accuracy", 3)) == (8, 5)
    assert generalization.stopping_point(curves, generalization.StopRule("loss", 2)) == (4, 2)
    assert generalization.stopping_point(curves, generalization.StopRule("loss", 3)) == (5, 2)
    assert generalization.stopping_point(curves, generalization.StopRule("loss", 4)) == (8, 6)
    with pytest.raises(ValueError, match="accuracy"):
        generalization.StopRule("error", 2)


def selection_record(technique, val, test, seed=0):
    return {
        "study": "selection",
        "technique": technique.name,
        "setting": dataclasses.asdict(technique),
        "seed": seed,
        "val": val,
        "test": test,
    }


def test_choose_follows_validation_not_test():
    weak, mid, strong = (generalization.Technique("weight decay", weight_decay=lam) for lam in (1e-4, 1e-3, 1e-2))
    records = [
        selection_record(weak, val=0.50, test=0.60, seed=0),  # the best on test
        selection_record(weak, val=0.52, test=0.61, seed=1),
        selection_record(mid, val=0.55, test=0.50, seed=0),  # the best on validation (mean 0.54)
        selection_record(mid, val=0.53, test=0.50, seed=1),
        selection_record(strong, val=0.56, test=0.40, seed=0),  # best single run, worse mean (0.52)
        selection_record(strong, val=0.48, test=0.40, seed=1),
        {**selection_record(strong, val=0.9, test=0.9), "study": "test"},  # not a selection run
    ]
    assert generalization.choose(records, "weight decay") == mid
    by_test = max(records[:6], key=lambda r: r["test"])
    assert generalization.technique_of(by_test) != mid  # the test set would have picked another
    tie = [selection_record(weak, 0.5, 0.1), selection_record(mid, 0.5, 0.9)]
    assert generalization.choose(tie, "weight decay") == weak  # ties: the first in grid order
    with pytest.raises(ValueError, match="selection"):
        generalization.choose(records, "L1")


def test_choose_stop_rule_reads_validation_curves_only():
    b = dataclasses.replace(TINY, patience=(1, 3))
    curves = {"val_acc": [0.30, 0.40, 0.38, 0.39, 0.45, 0.44], "val_loss": [2.0, 1.8, 1.9, 2.0, 2.1, 2.2]}
    records = [{**selection_record(generalization.BASELINE, 0.44, 0.1), "curves": curves}]
    rows = generalization.stop_rule_rows(records, b)
    assert [str(r["rule"]) for r in rows] == [
        "accuracy, patience 1",
        "accuracy, patience 3",
        "loss, patience 1",
        "loss, patience 3",
    ]
    assert [r["val"] for r in rows] == [0.40, 0.45, 0.40, 0.40]
    assert generalization.choose_stop_rule(records, b) == generalization.StopRule("accuracy", 3)
    # a tie goes to the longer patience (it watched more epochs), then to accuracy before loss
    b = dataclasses.replace(TINY, patience=(1, 2, 4))
    curves = {"val_acc": [0.30, 0.40, 0.38, 0.37, 0.36, 0.35], "val_loss": [2.0, 1.8, 1.9, 2.0, 2.1, 2.2]}
    records = [{**selection_record(generalization.BASELINE, 0.35, 0.1), "curves": curves}]
    assert len({r["val"] for r in generalization.stop_rule_rows(records, b)}) == 1  # all six rules tie
    assert generalization.choose_stop_rule(records, b) == generalization.StopRule("accuracy", 4)


def test_the_study_chooses_on_validation_and_tests_only_the_choice(tiny_study):
    records = tiny_study
    assert generalization.complete(records, TINY)
    # the selection part never touches the test images
    assert all(r["test"] is None for r in generalization.select(records, "selection"))
    for name in generalization.TUNED:
        groups = generalization.by_setting(generalization.select(records, "selection", name))
        assert len(groups) == TINY.grid_size
        assert all(len(runs) == TINY.selection_seeds for runs in groups.values())
        best = max(groups.values(), key=lambda runs: sum(r["val"] for r in runs))
        tested = generalization.select(records, "test", name)
        assert {generalization.setting_key(r["setting"]) for r in tested} == {
            generalization.setting_key(best[0]["setting"])
        }
        assert sorted(r["seed"] for r in tested) == TINY.test_seed_list
        assert all(r["test"] is not None for r in tested)
    rule = generalization.choose_stop_rule(records, TINY)
    for r in generalization.select(records, "test", "none"):
        assert (r["early"]["metric"], r["early"]["patience"]) == (rule.metric, rule.patience)


def test_the_study_records_sweeps_and_ensembles(tiny_study):
    records = tiny_study
    assert len(generalization.select(records, "capacity")) == len(TINY.widths) * TINY.sweep_seeds
    noise = generalization.select(records, "label noise")
    assert {r["setting"]["label_noise"] for r in noise} == set(TINY.label_noise)
    assert all(r["epochs"] == TINY.label_noise_epochs and r["train_images"] == 24 for r in noise)
    assert all(r["test"] is None for r in noise + generalization.select(records, "capacity"))
    capacity = generalization.sweep_rows(records, "capacity")
    assert [r["width"] for r in capacity] == [0.5, 1.0]  # the baseline's selection runs are the width-1 point
    assert [r["seeds"] for r in capacity] == [TINY.sweep_seeds] * 2  # of the same seeds
    assert capacity[0]["parameters"] < capacity[1]["parameters"]
    ensembles = generalization.select(records, "ensemble")
    assert [r["setting"]["members"] for r in ensembles] == [[100, 102], [101, 103]]
    assert all(r["train_images"] == TINY.train_images for r in ensembles)  # what the members trained on
    sizes = generalization.sweep_rows(records, "train size")
    assert [r["train_images"] for r in sizes] == [24, 48, 64]
    growth = generalization.select(records, "ensemble growth")[0]
    assert len(growth["test"]) == len(growth["member_test"]) == TINY.test_seeds * TINY.ensemble
    assert growth["test"][0] == growth["member_test"][0]
    by_seed = {r["seed"]: r for r in generalization.select(records, "test", "none")}
    assert growth["member_test"][:2] == [by_seed[100]["test"], by_seed[101]["test"]]


def test_comparison_pairs_seeds_and_marks_clear_differences(tiny_study):
    rows = generalization.comparison(tiny_study)
    assert [r["technique"] for r in rows] == list(generalization.COMPARED)
    none = rows[0]
    assert none["seeds"] == TINY.test_seed_list
    for r in rows[1:]:
        assert r["seeds"] == TINY.test_seed_list and r["pairs"] == TINY.test_seeds
        diffs = [t - b for t, b in zip(r["test"], none["test"], strict=True)]
        assert r["difference"] == pytest.approx(sum(diffs) / len(diffs))
    table = generalization.comparison_table(rows)
    assert table.count("\n") == len(rows) + 1
    early = rows[list(generalization.COMPARED).index("early stopping")]
    runs = generalization.select(tiny_study, "test", "none")
    assert early["stopped"] == sum(r["early"]["epochs"] < r["epochs"] for r in runs)
    assert f"({early['stopped']} of {TINY.test_seeds} stopped early)" in table
    # a made-up difference of 5 ± 0.1 points over 5 seeds is clear, one of 0.1 ± 5 is not
    ref = {s: 0.5 for s in range(5)}
    big = generalization.paired({s: 0.55 + 0.001 * (-1) ** s for s in range(5)}, ref)
    small = generalization.paired({s: 0.5 + 0.05 * (-1) ** s for s in range(5)}, ref)
    assert big["p"] < 0.001 < 0.5 < small["p"]
    diffs = [0.05 + 0.001 * (-1) ** s for s in range(5)]
    assert big["difference"] == pytest.approx(statistics.fmean(diffs))
    assert big["stderr"] == pytest.approx(statistics.stdev(diffs) / 5**0.5)


def test_tables_and_plots_of_the_chapter(tiny_study):
    import matplotlib

    matplotlib.use("Agg")
    table = generalization.grid_table(tiny_study)
    assert table.count("**") == 2 * 2 * len(generalization.TUNED)  # the chosen setting of each, in bold
    fig = generalization.plot_curves(tiny_study[0]["curves"], rules=[generalization.StopRule("loss", 1)])
    assert len(fig.axes) == 2
    assert len(generalization.plot_grids(tiny_study).axes) == len(generalization.TUNED)
    assert len(generalization.plot_sweeps(tiny_study).axes) == 3
    adam = generalization.adam_comparison(tiny_study)
    assert adam["paired"]["pairs"] == TINY.test_seeds


def test_load_cifar_validates_on_images_no_run_trains_on(tiny_root, monkeypatch):
    root, (train_x, _, test_x, _) = tiny_root  # 1,200 training images: 200 + the 1,000-image validation pool
    monkeypatch.setenv("CIFAR10_ROOT", str(root))
    b = dataclasses.replace(
        TINY, profile="quick", train_images=60, train_sizes=(90,), label_noise_images=30, val_images=1_050
    )
    cifar = generalization.load_cifar(b, device="cpu")
    assert len(cifar.y_train) == 90 and len(cifar.y_val) == 1_050 and len(cifar.y_test) == b.test_images
    assert torch.equal(cifar.x_train, torch.from_numpy(train_x[:90]))
    # the 50 images after the largest training subset, then CS231n's validation images (the last 1,000)
    assert torch.equal(cifar.x_val[:50], torch.from_numpy(train_x[90:140]))
    assert torch.equal(cifar.x_val[50:], torch.from_numpy(train_x[200:]))
    assert torch.equal(cifar.x_test, torch.from_numpy(test_x[: b.test_images]))
    subset = generalization.training_subset(cifar, generalization.BASELINE, b)
    assert len(subset.y_train) == 60
    with pytest.raises(ValueError, match="training images"):
        generalization.training_subset(cifar, generalization.Technique("none", train_images=500), b)


def test_noisy_labels_replace_a_fraction_and_are_the_same_for_every_run():
    labels = torch.arange(10).repeat(100)
    noisy = generalization.noisy_labels(labels, 0.5)
    changed = (noisy != labels).float().mean().item()
    assert 0.5 * 0.9 - 0.06 < changed < 0.5 * 0.9 + 0.06  # a new label equals the old one 1 time in 10
    assert torch.equal(noisy, generalization.noisy_labels(labels, 0.5))
    assert torch.equal(generalization.noisy_labels(labels, 0.0), labels)
    with pytest.raises(ValueError):
        generalization.noisy_labels(labels, 1.5)


def test_ensemble_growth_matches_ensemble_predict():
    cifar = fake_cifar()
    nets = [generalization.network(TINY) for _ in range(3)]
    growth = generalization.ensemble_growth(nets, cifar, "test")
    x, y = cifar.split("test")
    batch = next(iter(Batches(x, y, 500, mean=cifar.mean, std=cifar.std)))[0]
    for k in (1, 2, 3):
        expected = (regularization.ensemble_predict(nets[:k], batch).argmax(1) == y).float().mean().item()
        assert growth[k - 1] == pytest.approx(expected)


def test_decaying_biases_shrinks_them():
    cifar = fake_cifar()
    wd = generalization.Technique("weight decay", weight_decay=0.5)
    runs = [generalization.train_run(cifar, t, 0, TINY)[1] for t in (wd, dataclasses.replace(wd, decay_biases=True))]
    norms = [generalization.bias_norm(net) for net in runs]
    assert 0 < norms[1] < norms[0]
    with torch.no_grad():
        for p in runs[0].parameters():
            p.fill_(1.0)
    n_biases = sum(p.numel() for p in runs[0].parameters() if p.ndim == 1)
    assert generalization.bias_norm(runs[0]) == pytest.approx(n_biases**0.5)


def test_weight_stats_count_exact_zeros():
    net = generalization.network(TINY)
    with torch.no_grad():
        for w in regularization.weights(net):
            w.fill_(1.0)
        net.fc2.weight.zero_()
        net.fc1.weight[0, :5] = 5e-4
    stats = generalization.weight_stats(net)
    assert stats["exact_zeros"] == net.fc2.weight.numel()
    assert stats["below_1e-3"] * stats["weights"] == pytest.approx(stats["exact_zeros"] + 5)
    assert stats["norm"] == pytest.approx(generalization.weight_norm(net))


def test_results_file_round_trip_and_old_format_refused(tmp_path, tiny_study):
    path = results.write(tmp_path / "g.json", generalization.KIND, tiny_study, {"format": generalization.FORMAT})
    meta, back = generalization.read(path)
    assert back == json.loads(json.dumps(tiny_study))
    assert generalization.comparison(back)[0]["test"] == generalization.comparison(tiny_study)[0]["test"]
    old = results.write(tmp_path / "old.json", generalization.KIND, [{"technique": "none"}], {})
    with pytest.raises(results.ResultsFileError, match="python -m dlfoundations.generalization"):
        generalization.read(old)


def test_main_writes_resumes_and_refuses_to_overwrite(tmp_path, monkeypatch):
    small = dataclasses.replace(TINY, profile="quick", selection_seeds=1, train_sizes=(24,), label_noise=(1.0,))
    monkeypatch.setitem(generalization.BUDGETS, "quick", small)
    monkeypatch.setattr(generalization, "load_cifar", lambda b, device=None: fake_cifar())
    out = tmp_path / "g.json"
    argv = ["--profile", "quick", "--out", str(out), "--allow-dirty", "--parts", "selection"]
    generalization.main(argv)
    meta, first = generalization.read(out)
    assert meta["format"] == generalization.FORMAT and not meta["complete"]
    with pytest.raises(SystemExit, match="--resume"):
        generalization.main(argv)
    trained = []
    original = generalization.train_run
    monkeypatch.setattr(generalization, "train_run", lambda *a, **k: trained.append(a[2]) or original(*a, **k))
    generalization.main([*argv[:-2], "--resume"])
    meta, records = generalization.read(out)
    assert meta["complete"] and records[: len(first)] == first
    # the selection runs were not repeated: only the test seeds, the ensembles' and the sweeps' runs were trained
    assert set(trained) == set(small.test_seed_list + small.member_seed_list + small.selection_seed_list)
    assert trained.count(small.sweep_seed_list[0]) == len(generalization.sweep_jobs(small))


def test_committed_results_match_the_code():
    try:
        path, meta, records = generalization.committed("standard")
    except results.ResultsFileError as error:
        pytest.skip(f"the committed file awaits its re-run: {error}")
    standard = generalization.BUDGETS["standard"]
    assert meta["budget"] == json.loads(json.dumps(dataclasses.asdict(standard))), f"{path} predates the budget"
    assert meta["complete"] and generalization.complete(records, standard)


def test_the_network_is_channels_last_and_computes_what_a_contiguous_copy_does():
    net = generalization.network(TINY)
    assert net.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    plain = generalization.network(TINY).to(memory_format=torch.contiguous_format)
    plain.load_state_dict(net.state_dict())
    x = torch.randn(4, 3, 32, 32)
    torch.testing.assert_close(net(x), plain(x), rtol=1e-5, atol=1e-5)
