import dataclasses

import torch

from dlfoundations import config, speedrun


def tiny_data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (n,), generator=g)
    patterns = torch.nn.functional.interpolate(torch.randn(10, 3, 4, 4, generator=g), size=32, mode="bilinear")
    x = torch.randn(n, 3, 32, 32, generator=g) * 0.5 + patterns[y]  # a learnable signal per class
    return speedrun.Data(x[: n - 64], y[: n - 64], x[n - 64 :], y[n - 64 :], "synthetic test tensors")


SMALL = speedrun.Config(widths=(8, 16, 16), epochs=4, batch_size=32, lr=0.1, half=False)


def test_network_shapes_and_initial_loss():
    net = speedrun.SpeedNet((8, 16, 16))
    x = torch.randn(4, 3, 32, 32)
    assert list(net(x).shape) == [4, 10]
    assert torch.count_nonzero(net(x)) == 0  # zero head: uniform first predictions, loss ln 10


def test_whitening_layer_whitens_patches():
    x = torch.randn(64, 3, 16, 16) @ torch.randn(16, 16)  # correlated pixels
    w = speedrun.whitening_weights(x, eps=0.0)
    out = torch.nn.functional.conv2d(x, w[:12])
    cov = torch.cov(out.permute(1, 0, 2, 3).reshape(12, -1))
    torch.testing.assert_close(cov, torch.eye(12), atol=1e-3, rtol=1e-3)
    assert torch.equal(w[12:], -w[:12])


def test_augment_flips_and_translates_with_reflection():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8)
    assert torch.equal(speedrun.augment(x, 0, False, g), x)
    out = speedrun.augment(x, 2, True, g)
    assert out.shape == x.shape
    for image, original in zip(out, x, strict=True):  # a shifted window of the image or of its mirror
        padded = torch.nn.functional.pad(original[None], (2,) * 4, mode="reflect")[0]
        mirrored = torch.nn.functional.pad(original.flip(-1)[None], (2,) * 4, mode="reflect")[0]
        assert any(
            torch.equal(image, p[:, i : i + 8, j : j + 8])
            for p in (padded, mirrored)
            for i in range(5)
            for j in range(5)
        )


def test_triangular_schedule():
    values = [speedrun.triangular(s, 100, 0.2) for s in range(100)]
    assert values[19] == 1.0 and values[0] == 1 / 20
    assert all(a <= b for a, b in zip(values[:19], values[1:20], strict=True))
    assert all(a >= b for a, b in zip(values[19:-1], values[20:], strict=True)) and values[-1] > 0


def test_one_step_lowers_the_loss():
    data = tiny_data()
    torch.manual_seed(0)
    model = speedrun.build(SMALL, data, "cpu")
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    x, y = data.x_train[:64], data.y_train[:64]
    before = torch.nn.functional.cross_entropy(model(x), y)
    before.backward()
    optimizer.step()
    after = torch.nn.functional.cross_entropy(model(x), y)
    assert after < before
    assert abs(before.item() - torch.log(torch.tensor(10.0)).item()) < 1e-5


def test_training_learns():
    data = tiny_data()
    result = speedrun.train(data, SMALL, seed=0, record_loss=True)
    assert result.steps == 4 * (192 // 32) and len(result.losses) == result.steps
    assert result.losses[-1] < result.losses[0]
    assert result.tta_accuracy > 0.3 and result.seconds > 0


def test_training_is_deterministic_given_a_seed():
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=1)
    a, b = speedrun.train(data, cfg, seed=3, record_loss=True), speedrun.train(data, cfg, seed=3, record_loss=True)
    assert a.losses == b.losses and a.accuracy == b.accuracy
    c = speedrun.train(data, cfg, seed=4, record_loss=True)
    assert c.losses != a.losses


def test_steps_add_one_technique_each_and_profiles_scale_the_rate():
    steps = speedrun.step_configs(SMALL)
    names = list(steps)
    assert steps[names[0]].label_smoothing == 0 and steps[names[1]].label_smoothing == 0.2
    assert not steps[names[1]].whiten and steps[names[2]].whiten
    assert not steps[names[2]].tta and steps[names[3]].tta
    cfg = speedrun.profile_config(config.PROFILES["full"])
    assert cfg.batch_size == 1024 and cfg.lr == 0.8 and cfg.widths == (64, 256, 256) and cfg.epochs == 10


def test_results_round_trip(tmp_path):
    data = tiny_data()
    cfg = dataclasses.replace(SMALL, epochs=1)
    runs = [speedrun.train(data, cfg, seed) for seed in (0, 1)]
    path = speedrun.save_results(tmp_path / "speedrun-test.json", cfg, runs, "cpu", 1.5, data.source)
    loaded = speedrun.load_results(path)
    assert loaded["config"]["widths"] == [8, 16, 16] and len(loaded["runs"]) == 2
    mean = sum(r.tta_accuracy for r in runs) / 2
    assert abs(loaded["tta_accuracy_mean"] - mean) < 1e-12 and loaded["meta"]["compile_seconds"] == 1.5
    assert "speedrun-test.json" in speedrun.results_table(tmp_path)
    path.write_text("{}")
    import pytest

    with pytest.raises(ValueError, match="not a results file"):
        speedrun.load_results(path)
