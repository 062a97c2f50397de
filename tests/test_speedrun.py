import dataclasses
import json
import math
import os
import pathlib
import shutil
import statistics
import subprocess
import sys

import pytest
import torch

from dlfoundations import augmentation, optim, results, speedrun


def tiny_data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    patterns = torch.nn.functional.interpolate(torch.randn(10, 3, 4, 4, generator=g), size=32, mode="bilinear")
    x = torch.randn(n, 3, 32, 32, generator=g) * 0.25 + patterns[y]  # a learnable signal per class
    return speedrun.Data(x[: n - 64], y[: n - 64], x[n - 64 :], y[n - 64 :], "synthetic test tensors")


SMALL = speedrun.Config(widths=(8, 16, 16), epochs=8, batch_size=32, lookahead=False)


def test_network_shapes_and_parts():
    net = speedrun.SpeedNet(SMALL)
    x = torch.randn(4, 3, 32, 32)
    assert list(net(x).shape) == [4, 10]
    assert list(net.whiten(x).shape) == [4, 24, 31, 31]  # no padding: 31×31 → 15 → 7 → 3
    bn = net.groups[0].norm1
    assert not bn.weight.requires_grad and bn.bias.requires_grad
    assert bn.momentum == pytest.approx(0.4) and bn.eps == 1e-12
    assert speedrun.SpeedNet(dataclasses.replace(SMALL, bn_scale=True)).groups[0].norm1.weight.requires_grad


def test_dirac_convolutions_start_as_the_identity_on_their_inputs():
    conv = speedrun.Conv(8, 16, dirac=True)
    x = torch.randn(2, 8, 6, 6)
    torch.testing.assert_close(conv(x)[:, :8], x)
    assert conv(x)[:, 8:].abs().sum() > 0  # the other filters keep PyTorch's default init
    assert not torch.allclose(speedrun.Conv(8, 16, dirac=False)(x)[:, :8], x)


def test_logits_are_scaled_by_one_ninth():
    net = speedrun.SpeedNet(SMALL)
    x = torch.randn(3, 3, 32, 32)
    features = torch.amax(net.groups(torch.nn.functional.gelu(net.whiten(x))), dim=(2, 3))
    torch.testing.assert_close(net(x), net.head(features) / 9)


def test_whitening_layer_whitens_patches():
    x = torch.randn(64, 3, 16, 16) @ torch.randn(16, 16) + 0.3  # correlated pixels, non-zero mean
    w = speedrun.whitening_weights(x, eps=0.0)
    out = torch.nn.functional.conv2d(x, w[:12]).permute(1, 0, 2, 3).reshape(12, -1)
    second_moment = out @ out.T / out.shape[1]  # uncentred, as airbench computes it
    torch.testing.assert_close(second_moment, torch.eye(12), atol=1e-3, rtol=1e-3)
    assert torch.equal(w[12:], -w[:12])
    assert w[0].norm() < w[11].norm()  # largest-variance component first: the smallest filter
    centred = torch.nn.functional.conv2d(x, speedrun.whitening_weights(x, eps=0.0, centred=True)[:12])
    covariance = torch.cov(centred.permute(1, 0, 2, 3).reshape(12, -1))
    torch.testing.assert_close(covariance, torch.eye(12), atol=1e-3, rtol=1e-3)


def test_decoupled_hyperparameters_give_the_same_decay_to_both_groups():
    cfg = speedrun.Config()
    h = speedrun.sgd_hyperparameters(cfg)
    assert h["lr"] == pytest.approx(11.5 / (1024 * (1 + 1 / 0.15)))
    assert h["lr_bias"] == pytest.approx(64 * h["lr"])
    decay = 0.0153 * 1024 / (1024 * (1 + 1 / 0.15))
    assert h["lr"] * h["weight_decay"] == pytest.approx(decay)
    assert h["lr_bias"] * h["weight_decay_bias"] == pytest.approx(decay)
    # one SGD step with zero loss gradient removes exactly that fraction from a weight and a BN bias
    net = speedrun.SpeedNet(SMALL)
    with torch.no_grad():
        net.groups[0].norm1.bias.fill_(1.0)
    optimizer = torch.optim.SGD(speedrun.param_groups(net, SMALL), momentum=SMALL.momentum, nesterov=True)
    before = net.head.weight.detach().clone()
    for p in net.parameters():
        p.grad = torch.zeros_like(p) if p.requires_grad else None
    optimizer.step()
    decay = speedrun.sgd_hyperparameters(SMALL)["lr"] * speedrun.sgd_hyperparameters(SMALL)["weight_decay"]
    # Nesterov adds the momentum term once more on the first step: factor (1 + m)
    torch.testing.assert_close(net.head.weight, before * (1 - decay * (1 + SMALL.momentum)))
    torch.testing.assert_close(net.groups[0].norm1.bias, torch.full((8,), 1 - decay * (1 + SMALL.momentum)))


def test_param_groups_hold_every_trainable_parameter_once():
    net = speedrun.SpeedNet(SMALL)
    groups = speedrun.param_groups(net, SMALL)
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == sum(p.requires_grad for p in net.parameters())
    assert all(p.ndim == 1 for p in groups[0]["params"])  # BatchNorm biases only


def test_triangle_schedule_matches_airbench_and_one_cycle():
    values = [optim.triangle(s, 100, 0.2, 0.23, 0.07) for s in range(101)]
    assert values[0] == pytest.approx(0.2) and values[23] == pytest.approx(1.0) and values[100] == pytest.approx(0.07)
    assert values[10] == pytest.approx(0.2 + 0.8 * 10 / 23) and values[60] == pytest.approx(1 - 0.93 * 37 / 77)
    # OneCycleLR's linear variant is the same function (start 1/25, end 1/25000); it peaks at step
    # pct_start·total_steps − 1 and ends at total_steps − 1, so 101 steps with pct_start 31/101 peak at 30 of 100
    rates = optim.torch_schedule(
        torch.optim.lr_scheduler.OneCycleLR,
        100,
        max_lr=1.0,
        total_steps=101,
        pct_start=31 / 101,
        anneal_strategy="linear",
        cycle_momentum=False,
        div_factor=25.0,
        final_div_factor=1e3,
    )
    ours = [optim.triangle(s, 100, 1 / 25, 0.3, 1 / 25_000) for s in range(100)]
    torch.testing.assert_close(torch.tensor(rates), torch.tensor(ours), atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="at least one step"):
        optim.triangle(0, 0)


def test_augment_alternates_flips_and_translates_each_image():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 3, 8, 8)
    first = torch.rand(64, generator=g) < 0.5
    no_shift = dataclasses.replace(SMALL, translate=0)
    e0, e1, e2 = (speedrun.augment(x, no_shift, epoch, first, g) for epoch in range(3))
    assert torch.equal(e0, e2)
    for i in range(64):  # every image is mirrored in exactly one of two consecutive epochs
        mirrored = [torch.equal(e[i], x[i].flip(-1)) for e in (e0, e1)]
        assert sorted(mirrored) == [False, True]
    shifted = speedrun.augment(x, dataclasses.replace(SMALL, flip="none"), 0, first, g)
    offsets = set()
    for image, original in zip(shifted, x, strict=True):  # each image its own window of its reflected padding
        padded = torch.nn.functional.pad(original[None], (2,) * 4, mode="reflect")[0]
        hits = [(i, j) for i in range(5) for j in range(5) if torch.equal(image, padded[:, i : i + 8, j : j + 8])]
        assert hits
        offsets.add(hits[0])
    assert len(offsets) > 5
    with pytest.raises(ValueError, match="flip must be"):
        speedrun.augment(x, dataclasses.replace(SMALL, flip="sometimes"), 0, first, g)


def test_lookahead_averages_and_copies_back():
    net = torch.nn.Linear(3, 2)
    state = speedrun.Lookahead(net)
    start = net.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    state.update(net, decay=0.75)  # ema moves a quarter of the way, and the network takes it
    torch.testing.assert_close(net.weight, start + 0.25)
    with torch.no_grad():
        net.weight.add_(1.0)
    state.update(net, decay=1.0)  # decay 1: the network is reset to the average
    torch.testing.assert_close(net.weight, start + 0.25)


def test_six_view_tta_weights():
    net = speedrun.SpeedNet(SMALL).eval()
    x = torch.randn(2, 3, 32, 32)
    padded = torch.nn.functional.pad(x, (1,) * 4, mode="reflect")
    views = [x, padded[..., :32, :32], padded[..., 2:, 2:]]
    with torch.no_grad():
        pairs = [0.5 * (net(v) + net(v.flip(-1))) for v in views]
        expected = 0.5 * pairs[0] + 0.25 * pairs[1] + 0.25 * pairs[2]
        torch.testing.assert_close(speedrun.tta_logits(net, x, 2), expected)
        torch.testing.assert_close(speedrun.tta_logits(net, x, 1), pairs[0])
        torch.testing.assert_close(speedrun.tta_logits(net, x, 0), net(x))


def test_training_learns_and_never_waits_for_the_device_unless_asked(monkeypatch):
    data = tiny_data()
    result = speedrun.train(data, SMALL, seed=0, record_loss=True)
    assert result.steps == 8 * (192 // 32) and len(result.losses) == result.steps
    assert sum(result.losses[-3:]) < sum(result.losses[:3])
    assert result.tta_accuracy > 0.5 and result.seconds > 0 and result.train_images == 192
    calls = []
    original = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda self: calls.append(1) or original(self))
    speedrun.train(data, dataclasses.replace(SMALL, epochs=1), seed=0)
    assert calls == []  # no .item() in the training loop


def test_log_lines_wait_for_the_clock_where_reading_waits(monkeypatch):
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=2)
    events = []
    evaluate, item = speedrun.evaluate, torch.Tensor.item
    monkeypatch.setattr(speedrun, "evaluate", lambda *a, **k: events.append("evaluate") or evaluate(*a, **k))
    monkeypatch.setattr(torch.Tensor, "item", lambda self: events.append("item") or item(self))
    live = []
    speedrun.train(data, cfg, seed=0, log=live.append)  # on the CPU a read waits for nothing: as each epoch ends
    assert len(live) == 2 and events.index("item") < events.index("evaluate")
    events.clear()
    monkeypatch.setattr(speedrun, "reading_waits", lambda device: True)  # as on a GPU
    deferred = []
    speedrun.train(data, cfg, seed=0, log=deferred.append)
    assert "item" not in events[: events.index("evaluate")]  # nothing read while the clock runs
    assert deferred == [line.rsplit(", ", 1)[0] for line in live]  # the same lines, without the host's seconds
    assert deferred[0].startswith("epoch 1: step 6/12, last batch loss ")


def test_lookahead_and_whitening_bias_schedule_run():
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, lookahead=True, epochs=5, whiten_bias_epochs=1)
    result = speedrun.train(data, cfg, seed=0)
    assert result.tta_accuracy > 0.5


def test_training_is_deterministic_given_a_seed():
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=1)
    a, b = speedrun.train(data, cfg, seed=3, record_loss=True), speedrun.train(data, cfg, seed=3, record_loss=True)
    assert a.losses == b.losses and a.accuracy == b.accuracy
    c = speedrun.train(data, cfg, seed=4, record_loss=True)
    assert c.losses != a.losses


def test_ablations_switch_one_thing_each_and_profiles_scale():
    full = dataclasses.replace(SMALL, lookahead=True)
    ablations = speedrun.ablation_configs(full)
    base = ablations["airbench94 (all on)"]
    assert base == full
    for name, cfg in list(ablations.items())[1:]:
        changed = [f.name for f in dataclasses.fields(cfg) if getattr(cfg, f.name) != getattr(base, f.name)]
        assert len(changed) == 1, name
    cfg = speedrun.profile_config("full")
    assert cfg.batch_size == 1024 and cfg.widths == (64, 256, 256) and cfg.epochs == pytest.approx(9.9)
    assert cfg.lr == 11.5 and cfg.momentum == 0.85


# --------------------------------------------------------------------------- the GPU fast paths, on the CPU


def _train_steps(model, cfg, data, steps=30, batch=32):
    torch.manual_seed(0)
    optimizer = torch.optim.SGD(speedrun.param_groups(model, cfg), momentum=cfg.momentum, nesterov=True)
    losses = []
    for i in range(steps):
        index = torch.arange(i * batch, (i + 1) * batch) % len(data.y_train)
        with speedrun.autocast(cfg, torch.device("cpu")):
            logits = model(data.x_train[index]).float()
        loss = torch.nn.functional.cross_entropy(logits, data.y_train[index], reduction="sum")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item() / batch)
    return torch.tensor(losses)


def test_bf16_autocast_training_stays_close_to_fp32():
    data = tiny_data()
    cfg32 = dataclasses.replace(SMALL, half=False)
    cfg16 = dataclasses.replace(SMALL, half=True)
    torch.manual_seed(0)
    a = speedrun.build(cfg32, data, "cpu")
    b = speedrun.build(cfg16, data, "cpu")
    b.load_state_dict(a.state_dict())
    with speedrun.autocast(cfg32, torch.device("cpu")):
        assert a(data.x_test).dtype == torch.float32
    with speedrun.autocast(cfg16, torch.device("cpu")):
        assert b(data.x_test).dtype == torch.bfloat16
    fp32, bf16 = _train_steps(a, cfg32, data), _train_steps(b, cfg16, data)
    assert fp32[-5:].mean() < fp32[:5].mean()
    # bfloat16 keeps 8 bits of mantissa: over 30 steps the losses stay within 5% of fp32's
    torch.testing.assert_close(bf16, fp32, rtol=0.05, atol=0.02)


def test_fp16_autocast_training_stays_close_to_fp32():
    # airbench's own precision on the GPU; on a CPU float16 convolutions train slowly, so few small steps
    data = tiny_data()
    cfg32 = dataclasses.replace(SMALL, half=False)
    cfg16 = dataclasses.replace(SMALL, half=True, half_dtype="float16")
    torch.manual_seed(0)
    a = speedrun.build(cfg32, data, "cpu")
    b = speedrun.build(cfg16, data, "cpu")
    b.load_state_dict(a.state_dict())
    with speedrun.autocast(cfg16, torch.device("cpu")):
        assert b(data.x_test).dtype == torch.float16
    assert b.head.weight.dtype == torch.float32  # autocast: the weights (and the optimizer) stay in float32
    fp32, fp16 = _train_steps(a, cfg32, data, steps=8, batch=8), _train_steps(b, cfg16, data, steps=8, batch=8)
    # float16 keeps 11 bits of mantissa (bfloat16 8): over 8 steps the losses stay within 1% of fp32's
    torch.testing.assert_close(fp16, fp32, rtol=0.01, atol=0.005)
    assert speedrun.precision(cfg16, "cpu") == "float16 autocast"
    assert speedrun.precision(SMALL, "cpu") == "float32" and speedrun.precision(SMALL, "cuda") == "bfloat16 autocast"
    assert speedrun.precision(dataclasses.replace(SMALL, compile=True), "cpu") == "float32, compiled"
    with pytest.raises(ValueError, match="half_dtype must be one of"):
        speedrun.autocast(dataclasses.replace(SMALL, half_dtype="float8"), torch.device("cpu"))


def test_training_batches_keep_the_channels_last_layout(monkeypatch):
    data = tiny_data()
    data.x_train = data.x_train.contiguous(memory_format=torch.channels_last)  # as Data.from_cifar stores them
    seen = []
    original = speedrun.augment
    monkeypatch.setattr(speedrun, "augment", lambda *a, **k: seen.append(original(*a, **k)) or seen[-1])
    speedrun.train(data, dataclasses.replace(SMALL, epochs=1), seed=0)
    assert seen and all(augmentation.is_channels_last(batch) for batch in seen)


def test_channels_last_gives_the_same_outputs():
    data = tiny_data()
    torch.manual_seed(0)
    a = speedrun.build(dataclasses.replace(SMALL, channels_last=False), data, "cpu").eval()
    b = speedrun.build(SMALL, data, "cpu").eval()
    b.load_state_dict(a.state_dict())
    assert b.groups[0].conv1.weight.is_contiguous(memory_format=torch.channels_last)
    x = data.x_test.contiguous()
    torch.testing.assert_close(b(x.contiguous(memory_format=torch.channels_last)), a(x), atol=1e-5, rtol=1e-4)


needs_compiler = pytest.mark.skipif(
    shutil.which("c++") is None and shutil.which("g++") is None,
    reason="torch.compile's CPU backend needs a C++ compiler",
)


def _compiled_and_eager(backend):
    """One training run eager and one compiled with ``backend``, across the epoch where the whitening bias
    freezes (a recompile: its gradient leaves the graph) and into the weight averaging (epoch 4 on)."""
    from torch._dynamo.utils import counters

    data = tiny_data()
    cfg = dataclasses.replace(SMALL, lookahead=True, epochs=5, whiten_bias_epochs=2)  # 6 steps per epoch
    eager = speedrun.train(data, cfg, seed=0, record_loss=True)
    torch._dynamo.reset()
    counters.clear()
    compiled = speedrun.train(data, dataclasses.replace(cfg, compile=True, compile_backend=backend), 0, True)
    graphs = counters["stats"]["unique_graphs"]
    # the boundary matters here: training the bias for all 5 epochs gives other losses after epoch 2
    unfrozen = speedrun.train(data, dataclasses.replace(cfg, whiten_bias_epochs=5), seed=0, record_loss=True)
    assert unfrozen.losses[:13] == eager.losses[:13] and unfrozen.losses[13:] != eager.losses[13:]
    return eager, compiled, graphs


def test_compiled_training_crosses_the_whitening_freeze_and_the_averaging():
    # aot_eager traces the network and its backward as inductor does, without generating code: seconds, not minutes
    eager, compiled, graphs = _compiled_and_eager("aot_eager")
    torch.testing.assert_close(torch.tensor(compiled.losses), torch.tensor(eager.losses), rtol=1e-5, atol=1e-6)
    assert compiled.tta_accuracy == eager.tta_accuracy and compiled.steps == 30
    assert graphs >= 3  # training with the bias's gradient, without it, and evaluation


@pytest.mark.slow
@needs_compiler
def test_inductor_training_crosses_the_whitening_freeze_and_the_averaging():
    # the generated kernels round differently from eager ones (2e-7 relative here): close, not equal
    eager, compiled, graphs = _compiled_and_eager("inductor")
    torch.testing.assert_close(torch.tensor(compiled.losses), torch.tensor(eager.losses), rtol=1e-4, atol=1e-5)
    assert abs(compiled.tta_accuracy - eager.tta_accuracy) <= 2 / 64 and graphs >= 3  # 64 test images


@pytest.mark.slow
@needs_compiler
def test_compiled_network_matches_eager():
    data = tiny_data()
    torch.manual_seed(0)
    model = speedrun.build(SMALL, data, "cpu").eval()
    compiled = torch.compile(model)
    with torch.no_grad():
        torch.testing.assert_close(compiled(data.x_test), model(data.x_test), atol=1e-4, rtol=1e-3)


def test_command_line_with_compile_and_device_runs_end_to_end(tiny_root, monkeypatch, tmp_path, capsys):
    root, _ = tiny_root
    monkeypatch.setenv("CIFAR10_ROOT", str(root))
    out = tmp_path / "speedrun-cpu.json"
    common = ["--profile", "quick", "--device", "cpu", "--epochs", "1"]
    common += ["--train-images", "1200", "--test-images", "100"]
    compiled = ["--compile", "--compile-backend", "aot_eager"]  # the inductor backend: the slow tests above
    speedrun.main([*common, *compiled, "--seeds", "1", "--out", str(out)])
    speedrun.main([*common, *compiled, "--seeds", "1", "--first-seed", "1", "--out", str(out)])  # appended
    printed = capsys.readouterr().out
    assert "profile: quick | device: cpu" in printed and "over 2 seeds" in printed
    loaded = speedrun.load_results(out)
    assert [r["seed"] for r in loaded["runs"]] == [0, 1] and loaded["config"]["compile"] is True
    assert loaded["meta"]["device"] == "cpu" and loaded["runs"][0]["train_images"] == 1200
    with pytest.raises(results.ResultsFileError, match="another configuration"):
        speedrun.main([*common, "--seeds", "1", "--first-seed", "2", "--out", str(out)])  # not compiled


def test_results_round_trip(tmp_path):
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=1)
    runs = [speedrun.train(data, cfg, seed) for seed in (0, 1)]
    path = speedrun.save_results(tmp_path / "speedrun-test.json", cfg, runs, "cpu", 1.5, data.source)
    loaded = speedrun.load_results(path)
    assert loaded["config"]["widths"] == [8, 16, 16] and len(loaded["runs"]) == 2
    mean = sum(r.tta_accuracy for r in runs) / 2
    assert abs(loaded["tta_accuracy_mean"] - mean) < 1e-12 and loaded["meta"]["compile_seconds"] == 1.5
    table = speedrun.results_table(tmp_path)
    assert "speedrun-test.json" in table and "| float32 |" in table
    header, _, row = (line.strip("|").split(" | ") for line in table.splitlines()[:3])
    assert row[header.index("epochs")] == "1"
    assert json.loads(path.read_text())["kind"] == "speedrun"
    path.write_text("{}")
    with pytest.raises(ValueError, match="not a results file"):
        speedrun.load_results(path)


def test_paired_differences_and_ablation_table():
    records = [
        {"name": "airbench94 (all on)", "seed": 0, "tta_accuracy": 0.90},
        {"name": "airbench94 (all on)", "seed": 1, "tta_accuracy": 0.92},
        {"name": "− label smoothing", "seed": 0, "tta_accuracy": 0.88},
        {"name": "− label smoothing", "seed": 1, "tta_accuracy": 0.91},
    ]
    rows = {r["name"]: r for r in speedrun.paired_differences(records)}
    smoothing = rows["− label smoothing"]
    assert smoothing["difference"] == pytest.approx(-0.015)  # mean of −0.02 and −0.01
    assert smoothing["stderr"] == pytest.approx(statistics.stdev([-0.02, -0.01]) / 2**0.5)
    assert rows["airbench94 (all on)"]["difference"] == 0
    table = speedrun.ablation_table(records)
    assert "−1.50 ± 0.50 |" in table.replace("-", "−") and "91.00 ± 1.41" in table  # 3 s.e. < t(1) = 12.7
    assert not smoothing["clear"]
    with pytest.raises(ValueError, match="no 'airbench94 \\(all on\\)' row"):
        speedrun.paired_differences(records[2:])


def test_t_two_sided_p_matches_the_t_table():
    from dlfoundations import search

    for df in range(1, 11):  # t_{0.975, df} from the standard tables: p = 0.05 two-sided
        assert speedrun.t_two_sided_p(search.t_critical(df), df) == pytest.approx(0.05, abs=2e-4)
    assert speedrun.t_two_sided_p(4.303, 2) == pytest.approx(0.05, abs=1e-4)
    assert speedrun.t_two_sided_p(-2.776, 4) == pytest.approx(0.05, abs=1e-4)  # two-sided: the sign does not matter
    assert speedrun.t_two_sided_p(3.747, 4) == pytest.approx(0.02, abs=1e-4)  # t_{0.99, 4}
    assert speedrun.t_two_sided_p(9.925, 2) == pytest.approx(0.01, abs=1e-4)  # t_{0.995, 2}
    assert speedrun.t_two_sided_p(1.0, 1) == pytest.approx(0.5)  # df = 1 is Cauchy: P(|T| > 1) = 1/2
    assert speedrun.t_two_sided_p(0.0, 3) == 1.0
    assert speedrun.t_two_sided_p(1.96, 2000) == pytest.approx(0.05, abs=1e-3)  # towards the normal
    with pytest.raises(ValueError, match="positive integer"):
        speedrun.t_two_sided_p(2.0, 0)


def test_holm_steps_down_and_stops_at_the_first_failure():
    p = [0.01, 0.04, 0.03]
    assert [q < 0.05 for q in p] == [True, True, True]  # uncorrected: all three
    assert speedrun.holm(p) == [True, False, False]  # 0.01 ≤ 0.05/3, then 0.03 > 0.05/2: stop
    assert speedrun.holm([0.01, 0.02, 0.04]) == [True, True, True]  # ≤ 0.05/3, 0.05/2, 0.05: all pass
    assert speedrun.holm([0.5, 0.001, 0.03]) == [False, True, False]  # in any order: 0.03 > 0.05/2 stops it
    assert speedrun.holm([]) == []


def test_paired_differences_marks_rows_after_holms_correction():
    reference = [0.60, 0.70, 0.80]
    shifts = {"strong": [-0.10, -0.11, -0.09], "weak up": [0.02, 0.03, 0.04], "weak down": [-0.03, -0.04, -0.02]}
    records = [{"name": speedrun.RECIPE, "seed": s, "tta_accuracy": a} for s, a in enumerate(reference)]
    records += [
        {"name": name, "seed": s, "tta_accuracy": reference[s] + d}
        for name, diffs in shifts.items()
        for s, d in enumerate(diffs)
    ]
    rows = {r["name"]: r for r in speedrun.paired_differences(records)}
    t = 0.03 / (0.01 / math.sqrt(3))  # mean / (std / √n) of the weak rows' differences
    assert rows["weak up"]["p"] == pytest.approx(speedrun.t_two_sided_p(t, 2))
    assert 0.025 < rows["weak up"]["p"] < 0.05 and rows["strong"]["p"] < 0.05 / 3  # uncorrected, all three
    assert [rows[n]["clear"] for n in shifts] == [True, False, False]  # Holm keeps the strong one
    assert math.isnan(rows[speedrun.RECIPE]["p"]) and not rows[speedrun.RECIPE]["clear"]
    table = speedrun.ablation_table(records)
    assert table.count(" * |") == 1 and "Holm" in table


def test_ablation_trains_each_row_from_the_same_seeds(tmp_path):
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=1)
    names = ["airbench94 (all on)", "− label smoothing"]
    records = speedrun.ablation(data, cfg, seeds=[0, 1], names=names)
    assert [(r["name"], r["seed"]) for r in records] == [(n, s) for n in names for s in (0, 1)]
    assert set(records[0]) == {"name", "seed", "accuracy", "tta_accuracy"}  # no wall time: noise on shared cores
    path = speedrun.save_ablation(tmp_path / "ablation.json", cfg, records, "cpu", data.source, 192)
    meta, loaded = speedrun.load_ablation(path)
    assert loaded == records and meta["train_images"] == 192


def test_flop_count_matches_the_convolution_formula_and_airbench():
    # 2·c_in·c_out·k²·(output pixels) per convolution: the stem at 31×31, each group's first conv
    # before its pooling (31, 15, 7) and its second after it (15, 7, 3), then the 256 → 10 layer
    layers = [(3, 24, 2, 31), (24, 64, 3, 31), (64, 64, 3, 15), (64, 256, 3, 15), (256, 256, 3, 7)]
    layers += [(256, 256, 3, 7), (256, 256, 3, 3)]
    by_hand = sum(2 * a * b * k * k * h * h for a, b, k, h in layers) + 2 * 256 * 10
    f = speedrun.flops()
    assert f["forward"] == pytest.approx(by_hand)
    assert 2.5 < f["train_step"] / f["forward"] < 3.0  # backward ≈ 2× forward, less the frozen stem's
    assert f["steps"] == 476 and f["total"] == pytest.approx(f["train"] + f["test"])
    assert f["train"] == pytest.approx(476 * 1024 * f["train_step"]) and f["test"] == pytest.approx(6e4 * by_hand)
    assert speedrun.seconds_at(312e12, "A100", 0.5) == pytest.approx(2.0)


def test_top_operators_are_shares_of_the_profiled_time():
    data = tiny_data()
    top = speedrun.top_operators(data, SMALL, steps=1, rows=5)
    assert len(top) == 5 and all(0 < share <= 1 for _, share in top)
    assert [share for _, share in top] == sorted((share for _, share in top), reverse=True)
    assert any("conv" in name for name, _ in top)


GPU_SCRIPT = pathlib.Path(__file__).parents[1] / "benchmarks" / "gpu.sh"


def test_gpu_script_refuses_a_machine_without_cuda():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the script would run for minutes")
    done = subprocess.run(
        ["bash", str(GPU_SCRIPT), "test"],
        capture_output=True,
        text=True,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0 and "no CUDA device" in done.stderr


# a stand-in for airbench94's script in the dry run (the real one is fetched by the reader, see gpu.sh): it reads
# cifar10/train.pt and cifar10/test.pt as airbench's CifarLoader does and saves logs/<id>/log.pt as the script does
FAKE_AIRBENCH = """
import os, sys, torch
with open(sys.argv[0]) as f:
    code = f.read()
train, test = (torch.load(os.path.join("cifar10", n), map_location="cpu") for n in ("train.pt", "test.pt"))
assert train["images"].dtype == torch.uint8 and train["images"].shape[1:] == (32, 32, 3)
assert len(train["classes"]) == 10 and len(test["labels"]) == len(test["images"])
accs = torch.tensor([0.25, 0.5])
print("Mean: %.4f    Std: %.4f" % (accs.mean(), accs.std()))
os.makedirs("logs/run", exist_ok=True)
torch.save({"code": code, "accs": accs}, "logs/run/log.pt")
"""


def test_gpu_script_dry_runs_every_line_on_the_cpu(tiny_root, tmp_path):
    root, (train_x, _, _, _) = tiny_root
    fake = tmp_path / "airbench94.py"
    fake.write_text("# a stand-in for airbench94.py" + FAKE_AIRBENCH)
    env = {
        "PATH": os.environ["PATH"],
        "PYTHON": sys.executable,
        "CIFAR10_ROOT": str(root),
        "GPU_SH_DEVICE": "cpu",
        "GPU_SH_TINY": "1",
        "GPU_SH_RESULTS": str(tmp_path / "results"),
        "GPU_SH_BENCH": str(tmp_path / "bench"),
        "AIRBENCH94": str(fake),
        "DLF_ALLOW_DIRTY": "1",
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(["bash", str(GPU_SCRIPT), "dry"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    files = {p.name for p in (tmp_path / "results").iterdir()} | {p.name for p in (tmp_path / "bench").iterdir()}
    assert files == {
        "speedrun-dry-bf16.json",
        "speedrun-dry-fp16.json",
        "speedrun-dry-bf16-compiled.json",
        "airbench94-dry.json",
        "train-dry.json",
        "airbench94-dry.txt",
    }
    runs = {
        name: speedrun.load_results(tmp_path / "results" / f"speedrun-dry-{name}.json") for name in ("bf16", "fp16")
    }
    assert runs["bf16"]["config"]["half_dtype"] == "bfloat16" and runs["fp16"]["config"]["half_dtype"] == "float16"
    assert all(r["config"]["half"] is True for r in runs.values())
    compiled = speedrun.load_results(tmp_path / "results" / "speedrun-dry-bf16-compiled.json")
    assert compiled["config"]["compile"] and compiled["config"]["compile_backend"] == "aot_eager"
    assert compiled["meta"]["compile_seconds"] > 0  # the untimed warm-up ran
    (airbench,) = speedrun.airbench_runs(tmp_path / "results")
    assert (
        airbench["accuracies"] == [0.25, 0.5]
        and airbench["meta"]["script_first_line"] == "# a stand-in for airbench94.py"
    )
    assert results.portable(airbench["meta"]["data"]) == results.portable(runs["bf16"]["meta"]["data"])
    rows = json.loads((tmp_path / "bench" / "train-dry.json").read_text())["rows"]
    assert {r["mode"] for r in rows} == {"eager", "aot_eager"} and len(rows) == 5  # 4 networks eager, 1 compiled
    # a second run refuses to overwrite, before it trains anything
    again = subprocess.run(["bash", str(GPU_SCRIPT), "dry"], capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode != 0 and "exists: pass another name" in again.stderr
    # one step alone, here without airbench's script: skipped, said so, and the exit status says not done
    env |= {"AIRBENCH94": str(tmp_path / "missing.py"), "GPU_SH_STEPS": "airbench"}
    env["GPU_SH_RESULTS"] = str(tmp_path / "other")
    missing = subprocess.run(["bash", str(GPU_SCRIPT), "dry"], capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode != 0 and "no airbench94 script at" in missing.stderr
    assert list((tmp_path / "other").iterdir()) == []
    # a relative interpreter path, like the default .venv/bin/python, still runs airbench's script from its scratch
    # folder
    env |= {
        "AIRBENCH94": str(fake),
        "PYTHON": os.path.relpath(sys.executable, GPU_SCRIPT.parents[1]),
        "GPU_SH_RESULTS": str(tmp_path / "relative"),
    }
    relative = subprocess.run(["bash", str(GPU_SCRIPT), "dry"], capture_output=True, text=True, env=env, timeout=120)
    assert relative.returncode == 0, relative.stderr[-3000:]
    assert [p.name for p in (tmp_path / "relative").iterdir()] == ["airbench94-dry.json"]


def test_export_for_airbench_writes_the_copy_in_airbench_layout(tiny_root, tmp_path):
    root, (train_x, train_y, test_x, test_y) = tiny_root
    folder = speedrun.export_for_airbench(tmp_path / "cifar10", root)
    train = torch.load(folder / "train.pt", weights_only=True)
    test = torch.load(folder / "test.pt", weights_only=True)
    # airbench's CifarLoader turns images into (N, 3, 32, 32) with permute(0, 3, 1, 2): the official pixels again
    assert torch.equal(train["images"].permute(0, 3, 1, 2), torch.from_numpy(train_x))
    assert torch.equal(test["images"].permute(0, 3, 1, 2), torch.from_numpy(test_x))
    assert train["labels"].tolist() == train_y.tolist() and test["labels"].dtype == torch.int64
    assert train["classes"][0] == "airplane" and len(train["classes"]) == 10


def test_appending_refuses_other_data_and_repeated_seeds(tmp_path):
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=1)
    run = speedrun.train(data, cfg, 0)
    path = speedrun.save_results(tmp_path / "s.json", cfg, [run], "cpu", None, "copy A")
    with pytest.raises(results.ResultsFileError, match="other data"):
        speedrun.save_results(path, cfg, [dataclasses.replace(run, seed=1)], "cpu", None, "copy B")
    with pytest.raises(results.ResultsFileError, match=r"already holds seed\(s\) \[0\]"):
        speedrun.save_results(path, cfg, [run], "cpu", None, "copy A")
    speedrun.save_results(path, cfg, [dataclasses.replace(run, seed=1)], "cpu", None, "copy A")
    assert [r["seed"] for r in speedrun.load_results(path)["runs"]] == [0, 1]
    assert "± —" not in speedrun.results_table(tmp_path)


def test_ablation_reuses_recipe_runs_and_derives_the_tta_row(monkeypatch):
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=1)
    reference = [speedrun.train(data, cfg, 0)]
    trained = []
    original = speedrun.train
    monkeypatch.setattr(speedrun, "train", lambda *a, **k: trained.append(a[1]) or original(*a, **k))
    names = [speedrun.RECIPE, "− 6-view TTA (1 view)"]
    records = speedrun.ablation(data, cfg, seeds=[0], names=names, reference=reference)
    assert trained == []  # neither row needs training: TTA does not change the trained network
    assert records[0]["tta_accuracy"] == reference[0].tta_accuracy
    assert records[1]["tta_accuracy"] == reference[0].accuracy
    rows = {r["name"]: r for r in speedrun.paired_differences(records)}
    assert math.isnan(rows["− 6-view TTA (1 view)"]["stderr"]) and not rows["− 6-view TTA (1 view)"]["clear"]
    assert "± —" in speedrun.ablation_table(records)


def test_paired_cost_compares_the_seeds_two_files_share(tmp_path):
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=1)
    a = [speedrun.train(data, cfg, s) for s in (0, 1)]
    b = [dataclasses.replace(a[1], tta_accuracy=a[1].tta_accuracy - 0.03), dataclasses.replace(a[0], seed=7)]
    pa = speedrun.save_results(tmp_path / "a.json", cfg, a, "cpu", None, "x")
    pb = speedrun.save_results(tmp_path / "b.json", cfg, b, "cpu", None, "y", {"jpeg_quality": 50})
    out = speedrun.paired_cost(pa, pb)
    assert out["seeds"] == [1] and out["cost"] == pytest.approx(3.0) and out["meta"]["jpeg_quality"] == 50
    assert math.isnan(out["stderr"]) and math.isnan(out["low"])  # one pair: no spread, no interval
    pc = speedrun.save_results(tmp_path / "c.json", cfg, [dataclasses.replace(a[0], seed=9)], "cpu", None, "z")
    with pytest.raises(ValueError, match="share no seed"):
        speedrun.paired_cost(pa, pc)
    # three pairs: the interval is mean ± t(0.975, 2)·s/√3, t = 4.303 from the tables
    runs = [dataclasses.replace(a[0], seed=s, tta_accuracy=0.5) for s in (0, 1, 2)]
    drops = [0.01, 0.03, 0.05]
    other = [dataclasses.replace(r, tta_accuracy=0.5 - d) for r, d in zip(runs, drops, strict=True)]
    pd = speedrun.save_results(tmp_path / "d.json", cfg, runs, "cpu", None, "x")
    pe = speedrun.save_results(tmp_path / "e.json", cfg, other, "cpu", None, "y")
    out = speedrun.paired_cost(pd, pe)
    assert out["differences"] == pytest.approx([1.0, 3.0, 5.0]) and out["cost"] == pytest.approx(3.0)
    assert out["stderr"] == pytest.approx(2 / math.sqrt(3))
    assert (out["low"], out["high"]) == pytest.approx(
        (3 - 4.303 * 2 / math.sqrt(3), 3 + 4.303 * 2 / math.sqrt(3)), abs=1e-3
    )


def test_appending_to_a_file_written_before_a_field_existed(tmp_path):
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=1)
    run = speedrun.train(data, cfg, 0)
    source = "/home/someone/datasets/cifar10-copy/cifar-10-batches-py (from CIFAR10_ROOT)"
    path = speedrun.save_results(tmp_path / "s.json", cfg, [run], "cpu", None, source)
    payload = json.loads(path.read_text())
    assert payload["meta"]["data"] == "…/cifar10-copy/cifar-10-batches-py (from CIFAR10_ROOT)"  # results.portable
    del payload["meta"]["config"]["half_dtype"], payload["meta"]["config"]["compile_backend"]
    payload["meta"]["data"] = source  # as files written before results.portable hold it
    path.write_text(json.dumps(payload))
    speedrun.save_results(path, cfg, [dataclasses.replace(run, seed=1)], "cpu", None, source)  # the defaults: same
    assert [r["seed"] for r in speedrun.load_results(path)["runs"]] == [0, 1]
    with pytest.raises(results.ResultsFileError, match="another configuration"):
        fp16 = dataclasses.replace(cfg, half_dtype="float16")
        speedrun.save_results(path, fp16, [dataclasses.replace(run, seed=2)], "cpu", None, source)
    assert speedrun.stored_config(payload["meta"]["config"]) == cfg


def test_airbench_log_becomes_a_results_file(tiny_root, tmp_path):
    root, _ = tiny_root
    log = tmp_path / "log.pt"
    torch.save({"code": "# airbench94.py, a stand-in\nprint()", "accs": torch.tensor([0.9401, 0.9399])}, log)
    path = speedrun.save_airbench_run(log, tmp_path / "results" / "airbench94-x.json", "cpu", root)
    (found,) = speedrun.airbench_runs(tmp_path / "results")
    assert found["path"] == path and found["accuracies"] == pytest.approx([0.9401, 0.9399])
    assert found["mean"] == pytest.approx(0.94) and found["meta"]["script_first_line"] == "# airbench94.py, a stand-in"
    assert (
        found["meta"]["data"].endswith("cifar-10-batches-py (from argument)")
        and len(found["meta"]["script_sha256"]) == 64
    )
    torch.save({"accs": torch.tensor([0.5])}, log)
    with pytest.raises(results.ResultsFileError, match="not the log.pt of an airbench script"):
        speedrun.save_airbench_run(log, tmp_path / "y.json", "cpu", root)


def test_command_line_refuses_uncommitted_code_before_training_unless_allowed(tiny_root, monkeypatch, tmp_path):
    root, _ = tiny_root
    monkeypatch.setenv("CIFAR10_ROOT", str(root))
    monkeypatch.delenv(results.ALLOW_DIRTY_VARIABLE, raising=False)
    monkeypatch.setattr(results, "git_commit", lambda: "0" * 40 + "+dirty")
    trained = []
    original = speedrun.train
    monkeypatch.setattr(speedrun, "train", lambda *a, **k: trained.append(1) or original(*a, **k))
    common = ["--profile", "quick", "--device", "cpu", "--epochs", "1", "--train-images", "1200"]
    common += ["--test-images", "100", "--seeds", "1", "--out", str(tmp_path / "s.json")]
    with pytest.raises(results.DirtyTreeError, match="--allow-dirty"):
        speedrun.main(common)
    assert trained == [] and not (tmp_path / "s.json").exists()  # refused before any training
    speedrun.main([*common, "--allow-dirty"])
    loaded = speedrun.load_results(tmp_path / "s.json")
    assert trained == [1] and loaded["meta"]["dirty"] is True and loaded["meta"]["commit"].endswith("+dirty")


def test_load_results_gives_older_runs_the_threads_of_the_command_that_added_them(tmp_path):
    """Runs that predate ``Result.threads`` take their save's threads when each save added one run."""
    from dlfoundations import results

    config = dataclasses.asdict(speedrun.Config())
    runs = [{"seed": s, "accuracy": 0.9, "tta_accuracy": 0.91, "seconds": 60.0 * (s + 1)} for s in (2, 0)]
    runs[1]["threads"] = 1
    meta = {"config": config, "threads": 1, "appended": [{"commit": "a" * 40, "threads": 2}]}
    meta |= {"device": "cpu", "device_name": "a CPU", "torch": torch.__version__}
    path = results.write(tmp_path / "s.json", speedrun.KIND, runs, meta)
    assert [r["threads"] for r in speedrun.load_results(path)["runs"]] == [2, 1]
    table = speedrun.results_table(tmp_path)
    assert "| 2 |" in table and "180.0 (1 of 2 runs)" in table  # the clock of the 2-thread run (seed 2) alone
    meta["appended"] = []  # two runs, one save: which threads the older run had is unknown
    path = results.write(tmp_path / "s.json", speedrun.KIND, runs, meta)
    assert [r.get("threads") for r in speedrun.load_results(path)["runs"]] == [None, 1]


def test_training_lengths_pairs_each_length_with_the_previous_one_by_seed(tmp_path):
    """Chapter 11's epochs exercise: files of one recipe at several lengths become rows, shortest first, with
    the gain over the previous length paired by seed and its rate per extra second."""

    def save(name, epochs, accuracies, seconds, **changes):
        cfg = dataclasses.replace(SMALL, epochs=epochs, **changes)
        runs = [
            speedrun.Result(seed, a - 0.02, a, s, epochs, 10)
            for seed, a, s in zip((0, 1, 2), accuracies, seconds, strict=True)
        ]
        return speedrun.save_results(tmp_path / name, cfg, runs, "cpu", None, "x", allow_dirty=True)

    long = save("b.json", 2.0, (0.60, 0.64, 0.62), (20.0, 22.0, 24.0))
    short = save("a.json", 1.0, (0.50, 0.55, 0.60), (10.0, 11.0, 12.0))
    first, second = speedrun.training_lengths([long, short])
    assert (first["epochs"], second["epochs"]) == (1.0, 2.0) and second["seeds"] == [0, 1, 2]
    assert "gain_tta" not in first and first["tta_mean"] == pytest.approx(0.55)
    assert second["gain_tta"] == pytest.approx((10 + 9 + 2) / 3)  # points, seed by seed
    assert second["gain_one"] == pytest.approx(second["gain_tta"])
    assert second["extra_seconds"] == pytest.approx(11.0) and second["from_epochs"] == 1.0
    assert second["per_second"] == pytest.approx(7 / 11)
    other = save("c.json", 3.0, (0.6, 0.6, 0.6), (1.0, 1.0, 1.0), label_smoothing=0.0)
    with pytest.raises(results.ResultsFileError, match="another recipe"):
        speedrun.training_lengths([short, other])
    cfg = dataclasses.replace(SMALL, epochs=4.0)
    lonely = speedrun.save_results(
        tmp_path / "d.json", cfg, [speedrun.Result(5, 0.5, 0.5, 1.0, 4.0, 10)], "cpu", None, "x", allow_dirty=True
    )
    with pytest.raises(results.ResultsFileError, match="different seeds"):
        speedrun.training_lengths([short, lonely])
    with pytest.raises(ValueError, match="at least two"):
        speedrun.training_lengths([short])
    again = save("e.json", 1.0, (0.5, 0.5, 0.5), (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="both hold 1 epochs"):
        speedrun.training_lengths([short, again, long])
    bigger = speedrun.save_results(
        tmp_path / "f.json",
        dataclasses.replace(SMALL, epochs=3.0),
        [speedrun.Result(seed, 0.7, 0.7, 30.0, 3.0, 10, train_images=500) for seed in (0, 1, 2)],
        "cpu",
        None,
        "x",
        allow_dirty=True,
    )
    with pytest.raises(results.ResultsFileError, match="other data"):
        speedrun.training_lengths([short, long, bigger])
    elsewhere = save("g.json", 3.0, (0.7, 0.7, 0.7), (30.0, 30.0, 30.0))
    elsewhere_meta, elsewhere_runs = results.read(elsewhere, speedrun.KIND)
    results.write(elsewhere, speedrun.KIND, elsewhere_runs, {**elsewhere_meta, "data": "y"})
    with pytest.raises(results.ResultsFileError, match="other data"):
        speedrun.training_lengths([short, long, elsewhere])


def test_runs_profile_ignores_only_the_speed_fields_and_what_it_is_told():
    stored = speedrun.json_ready(dataclasses.asdict(speedrun.profile_config("standard")))
    assert speedrun.runs_profile(stored, "standard")
    assert speedrun.runs_profile({**stored, "compile": True, "half": False}, "standard")  # speed only
    assert not speedrun.runs_profile({**stored, "epochs": 7.0}, "standard")
    assert speedrun.runs_profile({**stored, "epochs": 7.0}, "standard", ignore=["epochs"])
    assert not speedrun.runs_profile(stored, "full")
    older = {k: v for k, v in stored.items() if k != "label_smoothing"}  # a field the file predates: its default
    assert speedrun.runs_profile(older, "standard")
