import math

import pytest
import torch

from dlfoundations import diagnostics, models


def test_saturation_and_dead_fraction():
    a = torch.tensor([[0.99, 0.0, -0.98], [0.5, 0.0, -0.1]])
    assert diagnostics.saturation(a, "Tanh") == pytest.approx(2 / 6)
    assert diagnostics.saturation(torch.tensor([0.01, 0.5, 0.99, 0.2]), "Sigmoid") == 0.5
    assert diagnostics.saturation(a, "ReLU") == 0.0
    relu_out = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert diagnostics.dead_fraction(relu_out) == pytest.approx(1 / 3)  # only column 0 is zero everywhere


def test_activation_recorder_reports_every_layer():
    torch.manual_seed(0)
    model = models.DeepMLP(in_features=20, width=16, depth=3, activation="relu")
    recorder = diagnostics.ActivationRecorder(model)
    with pytest.raises(RuntimeError, match="forward pass"):
        recorder.stats()
    model(torch.randn(32, 20))
    stats = recorder.stats()
    assert [row["layer"] for row in stats] == [1, 2, 3] and all(row["kind"] == "ReLU" for row in stats)
    assert all(row["std"] > 0 and 0 <= row["dead"] <= 1 for row in stats)
    with torch.no_grad():
        model.linears[1].bias.fill_(-100.0)
    model(torch.randn(32, 20))
    assert recorder.stats()[1]["dead"] == 1.0
    recorder.remove()
    assert not model.activations[0]._forward_hooks
    with pytest.raises(ValueError, match="no activation modules"):
        diagnostics.ActivationRecorder(torch.nn.Linear(2, 2))


def test_gradient_stats_and_norms():
    torch.manual_seed(0)
    model = models.DeepMLP(in_features=10, width=8, depth=2, num_classes=3, activation="tanh")
    with pytest.raises(RuntimeError, match="backward"):
        diagnostics.gradient_stats(model.layers)
    norms = diagnostics.weight_gradient_norms(model, torch.randn(5, 10), torch.tensor([0, 1, 2, 0, 1]))
    assert len(norms) == 3 and all(n > 0 for n in norms)
    rows = diagnostics.gradient_stats(model.layers)
    assert [r["norm"] for r in rows] == pytest.approx(norms)
    w, g = model.head.weight, model.head.weight.grad
    assert rows[-1]["grad_data"] == pytest.approx((g.std() / w.std()).item())


def test_update_tracker_measures_sgd_steps():
    layer = torch.nn.Linear(4, 4)
    tracker = diagnostics.UpdateTracker([layer])
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(torch.randn(3, 4)).sum().backward()
    expected = (0.1 * layer.weight.grad).std() / layer.weight.detach().std()
    tracker.before()
    optimizer.step()
    tracker.after()
    assert tracker.history[0][0] == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(RuntimeError, match="before"):
        tracker.after()


def test_spectral_norm_product():
    a, b = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    with torch.no_grad():
        a.weight.copy_(torch.diag(torch.tensor([2.0, 1.0, 0.5])))
        b.weight.copy_(3 * torch.eye(3))
    assert diagnostics.spectral_norm_product([a, b]) == pytest.approx(6.0)


def test_deep_mlp_shapes_init_and_residual():
    torch.manual_seed(0)
    model = models.DeepMLP(in_features=100, width=300, depth=4, num_classes=7, activation="sigmoid", gain=2.0)
    assert model(torch.randn(2, 1, 10, 10)).shape == (2, 7)
    assert len(model.layers) == 5
    assert model.linears[1].weight.std().item() == pytest.approx(2 / math.sqrt(300), rel=0.02)
    assert all((layer.bias == 0).all() for layer in model.layers)
    plain = models.DeepMLP(in_features=6, width=6, depth=3, residual=False)
    skip = models.DeepMLP(in_features=6, width=6, depth=3, residual=True)
    skip.load_state_dict(plain.state_dict())
    x = torch.randn(4, 6)
    h = torch.relu(plain.linears[0](x))
    for linear in plain.linears[1:]:
        h = h + torch.relu(linear(h))
    torch.testing.assert_close(skip(x), plain.head(h))
    with pytest.raises(ValueError, match="activation"):
        models.DeepMLP(activation="gelu")
    with pytest.raises(ValueError, match="depth"):
        models.DeepMLP(depth=0)


def test_gradient_predictiveness_on_a_quadratic_and_restores_the_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = diagnostics.gradient_predictiveness(model, x, y, steps=(0.1, 0.2))
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert out["loss_range"] > 0 and out["gradient_change"] > 0
    assert out["gradient_change"] / 0.2 <= out["beta"] <= out["gradient_change"] / 0.1
    # a linear model's cross-entropy is smooth: the gradient changes by at most β·η·‖g‖ with moderate β
    assert out["beta"] < 10


def test_running_statistics_drift_is_zero_for_exact_statistics():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4, momentum=1.0))
    x = torch.randn(200, 5) * 3 + 2
    model.train()
    with torch.no_grad():
        model(x)  # momentum 1: the running mean is this batch's mean
    assert diagnostics.running_statistics_drift(model, x) < 1e-5
    assert model.training
    with torch.no_grad():
        model[1].running_mean += 1.0
    assert diagnostics.running_statistics_drift(model, x) > 0.1


def test_input_drift_records_one_layer_and_leaves_training_unchanged():
    torch.manual_seed(0)
    model = models.DeepMLP(in_features=6, width=8, depth=3, batchnorm=True)
    x = torch.randn(32, 6)
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    drift = diagnostics.InputDrift(model, model.linears[2], x, every=2)
    for k, v in model.named_buffers():  # the probe restores the running statistics
        assert torch.equal(v, buffers[k])
    # the first record is the input of linears[2]: ReLU(BN(...)) of the batch
    with torch.no_grad():
        h = model.activations[1](
            model.norms[1](model.linears[1](model.activations[0](model.norms[0](model.linears[0](x)))))
        )
    torch.testing.assert_close(drift.means[0], h.mean(0))
    torch.testing.assert_close(drift.stds[0], h.std(0))
    for _ in range(5):
        drift.before()
        drift.after()
    assert drift.steps == [0, 2, 4]
    out = drift.drift()
    assert out["mean_shift"] == [0.0, 0.0, 0.0] and out["std_change"] == [0.0, 0.0, 0.0]  # nothing trained
    with torch.no_grad():
        model.linears[2].weight.mul_(3.0)  # after the layer: its input does not move
        model.norms[1].bias.add_(1.0)  # before it: the input's mean moves
    drift.record()
    out = drift.drift()
    assert out["mean_shift"][-1] > 0.5 and out["std_change"][-1] > 0
    with pytest.raises(ValueError, match="every"):
        diagnostics.InputDrift(model, model.linears[0], x, every=0)


def test_input_drift_per_channel_for_images():
    torch.manual_seed(0)
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 3))
    x = torch.randn(8, 3, 9, 9)
    drift = diagnostics.InputDrift(conv, conv[2], x)
    with torch.no_grad():
        h = conv[1](conv[0](x))
    torch.testing.assert_close(drift.means[0], h.mean(dim=(0, 2, 3)))
    assert drift.stds[0].shape == (4,)


def test_train_eval_gap():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4, momentum=1.0))
    x = torch.randn(64, 5) * 2 + 1
    with torch.no_grad():
        model(x)  # momentum 1: the running statistics are those of x (unbiased variance)
    model.eval()
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    whole = diagnostics.train_eval_gap(model, x, 64)
    assert whole < 0.02  # one batch of all of x: nearly the running statistics
    assert not model.training
    for k, v in model.named_buffers():
        assert torch.equal(v, buffers[k])
    pairs = diagnostics.train_eval_gap(model, x, 2)
    assert pairs > 5 * whole  # pairs normalize to ±1: far from evaluation mode
    assert diagnostics.train_eval_gap(model, x[:5], 2) > 0  # the fifth row is left out
    with pytest.raises(ValueError, match="at least 2"):
        diagnostics.train_eval_gap(model, x, 1)
    with pytest.raises(ValueError, match="fewer than one batch"):
        diagnostics.train_eval_gap(model, x[:3], 4)


def test_variance_split_into_across_examples_and_across_units():
    a = torch.tensor([[0.0, 2.0], [2.0, 4.0]])  # unit means 1 and 3, each unit varies by ±1
    split = diagnostics.variance_split(a)
    assert split == pytest.approx({"total": 2.0, "across_examples": 1.0, "across_units": 1.0})
    torch.manual_seed(0)
    offsets = torch.randn(1, 3, 4, 4) * 5  # images: every feature is a unit
    b = offsets + 0.01 * torch.randn(64, 3, 4, 4)
    split = diagnostics.variance_split(b)
    assert split["total"] == pytest.approx(split["across_examples"] + split["across_units"], rel=1e-9)
    assert split["across_examples"] == pytest.approx(1e-4, rel=0.1)  # the signal is small beside the offset
    assert split["across_units"] == pytest.approx(offsets.var(unbiased=False).item(), rel=1e-3)
    with pytest.raises(ValueError, match="at least 2 examples"):
        diagnostics.variance_split(torch.ones(5))
    with pytest.raises(ValueError, match="at least 2 examples"):
        diagnostics.variance_split(torch.ones(1, 5))
