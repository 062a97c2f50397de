"""The regularization chapter's experiment driver, on a tiny synthetic data set."""

import dataclasses
import json

import pytest
import torch

from dlfoundations import data, generalization, regularization, results
from dlfoundations.batches import Batches

TINY = generalization.Budget(
    train_images=48,
    epochs=3,
    seeds=2,
    channels=(2, 4),
    hidden=8,
    batch_size=16,
    ensemble=2,
    probe_images=32,
    patience=1,
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


def test_budgets_cover_every_profile_and_the_standard_one_is_the_issue_s():
    assert set(generalization.BUDGETS) == {"quick", "standard", "full"}
    standard = generalization.BUDGETS["standard"]
    assert standard.train_images == 5_000 and standard.seeds >= 3
    for b in generalization.BUDGETS.values():
        assert b.ensemble >= 2 and b.patience >= 1 and b.l1 in b.l1_sweep


def test_network_uses_our_dropout_and_He_init():
    net = generalization.network(TINY, dropout=0.5, input_dropout=0.25)
    drops = [m for m in net if isinstance(m, regularization.Dropout)]
    assert [d.p for d in drops] == [0.25, 0.5]
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert not any(isinstance(m, regularization.Dropout) for m in generalization.network(TINY))


def test_optimizer_decays_weights_only():
    net = generalization.network(TINY)
    technique = generalization.Technique("wd", "", weight_decay=0.1)
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


def test_train_run_records_curves_and_early_stopping():
    cifar = fake_cifar()
    outcome, model = generalization.train_run(cifar, generalization.techniques(TINY)["none"], 0, TINY)
    assert len(outcome.train_loss) == len(outcome.probe_train) == len(outcome.val_curve) == TINY.epochs
    assert 0 <= outcome.best_epoch < TINY.epochs
    assert outcome.val == pytest.approx(generalization.accuracy(model, cifar, "val"))
    assert outcome.early["val"] == pytest.approx(outcome.val_curve[outcome.best_epoch])
    again, _ = generalization.train_run(cifar, generalization.techniques(TINY)["none"], 0, TINY)
    assert again.val_curve == outcome.val_curve  # seeded


def test_compare_writes_every_technique_and_the_file_reads_back(tmp_path):
    cifar = fake_cifar()
    saved = []
    path = tmp_path / "gen.json"

    def save(records):
        saved.append(len(records))
        results.write(path, generalization.KIND, records, {**results.metadata("cpu")})

    records, outcomes = generalization.compare(cifar, TINY, [0, 1], save=save, verbose=False)
    assert [r["technique"] for r in records] == list(generalization.ORDER)
    assert saved == list(range(1, len(generalization.ORDER) + 1))  # saved after every technique
    assert len(outcomes["none"]) == 4  # 2 seeds + 2 extra ensemble members
    ensemble = generalization.by_name(records)["ensemble"]
    assert ensemble["members"] == [[0, 2], [1, 3]]
    for r in records:
        assert len(r["train"]) == len(r["val"]) == len(r["test"]) == 2
        assert r["gap"] == pytest.approx([a - b for a, b in zip(r["train"], r["test"], strict=True)])
    _, back = results.read(path, generalization.KIND)
    assert back == json.loads(json.dumps(records))  # tuples come back as lists
    assert path in results.available(tmp_path, kind="generalization")
    table = generalization.table(records)
    assert table.count("\n") == len(records) + 1 and "early stopping" in table


def test_ensemble_accuracy_matches_ensemble_predict():
    cifar = fake_cifar()
    nets = [generalization.network(TINY) for _ in range(2)]
    acc = generalization.ensemble_accuracy(nets, cifar, "test")
    x, y = cifar.split("test")
    batch = next(iter(Batches(x, y, 500, mean=cifar.mean, std=cifar.std)))[0]
    expected = (regularization.ensemble_predict(nets, batch).argmax(1) == y).float().mean().item()
    assert acc == pytest.approx(expected)


def test_ensemble_growth_matches_ensemble_accuracy():
    cifar = fake_cifar()
    nets = [generalization.network(TINY) for _ in range(3)]
    growth = generalization.ensemble_growth(nets, cifar, "test")
    assert growth == [generalization.ensemble_accuracy(nets[:k], cifar, "test") for k in (1, 2, 3)]


def test_decaying_biases_shrinks_them():
    cifar = fake_cifar()
    wd = dataclasses.replace(generalization.techniques(TINY)["weight decay"], weight_decay=0.5)
    runs = [generalization.train_run(cifar, t, 0, TINY)[1] for t in (wd, dataclasses.replace(wd, decay_biases=True))]
    norms = [generalization.bias_norm(net) for net in runs]
    assert 0 < norms[1] < norms[0]
    with torch.no_grad():
        for p in runs[0].parameters():
            p.fill_(1.0)
    n_biases = sum(p.numel() for p in runs[0].parameters() if p.ndim == 1)
    assert generalization.bias_norm(runs[0]) == pytest.approx(n_biases**0.5)


def test_sparsity_and_weight_norm():
    net = generalization.network(TINY)
    with torch.no_grad():
        for w in regularization.weights(net):
            w.zero_()
    assert generalization.sparsity(net) == 1.0 and generalization.weight_norm(net) == 0.0


def test_member_seeds_are_disjoint():
    groups = [generalization.member_seeds(s, 3, 3) for s in range(3)]
    flat = [s for g in groups for s in g]
    assert sorted(flat) == list(range(9))


def test_plots_of_the_chapter():
    import matplotlib

    matplotlib.use("Agg")
    from dlfoundations import plots

    run = generalization.Outcome(
        "none", 0, [2.0, 1.5, 1.2], [0.3, 0.5, 0.7], [0.3, 0.4, 0.35], 0.7, 0.35, 0.36, 1.0, 2, 1, {}
    )
    fig = plots.generalization_curves({"a": run})
    assert len(fig.axes[0].lines) == 4  # training, validation, best-epoch star, stop line
    fig = plots.ensemble_growth([1, 2], [0.4, 0.45], [0.4, 0.41])
    assert len(fig.axes[0].lines) == 2
    assert "weights below 1e-3" in generalization.sweep_table(
        [{"penalty": "L1", "lambda": 0.0, "val": 0.4, "test": 0.4, "below": 0.01, "norm": 3.0}]
    )


def test_every_budget_names_its_profile():
    assert {name: b.profile for name, b in generalization.BUDGETS.items()} == {n: n for n in generalization.BUDGETS}
    assert generalization.budget("standard").notebook_seeds == 1 < generalization.budget("standard").seeds
