"""The exercise checker: it accepts the references, rejects a catalogue of wrong answers (naming the mistakes
it knows), and explains stubs, crashes and wrong shapes in one sentence."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlfoundations import exercises
from dlfoundations.exercises import check

ASKED = {  # the list, with its signatures
    "numerical_gradient",
    "sgd_momentum",
    "adam",
    "softmax_cross_entropy",
    "conv2d",
    "max_pool2d",
    "xavier_normal",
    "batchnorm_forward",
    "batchnorm_backward",
    "dropout",
    "two_layer_forward",
}


def correct(name):
    exercise = exercises.EXERCISES[name]
    answers = {  # the exercises whose reference is not the reader's function itself
        "xavier_normal": exercises._xavier_normal,
        "dropout": exercises._dropout,
        "log_uniform": exercises._log_uniform,
        "two_layer_module": exercises._two_layer_module,
        "convnet_sequential": exercises._convnet_sequential,
    }
    return answers.get(name) or exercise.reference


def test_the_catalogue_holds_the_asked_exercises_with_chapters_and_signatures():
    assert ASKED <= set(exercises.NAMES)
    for name in exercises.NAMES:
        exercise = exercises.EXERCISES[name]
        assert exercise.signature.startswith(name + "(") and exercise.chapter and len(exercise.mistakes) >= 2


@pytest.mark.parametrize("name", exercises.NAMES)
def test_the_reference_passes_and_a_stub_is_not_implemented_yet(name):
    for seed in range(3):
        report = check(name, correct(name), seed=seed)
        assert report and "agree" in report.verdict, str(report)
    report = check(name, exercises.stub(name))
    assert not report and report.verdict == exercises.NOT_IMPLEMENTED and name in str(report)


@pytest.mark.parametrize("name", exercises.NAMES)
def test_every_known_mistake_is_rejected_and_named(name):
    for mistake in exercises.EXERCISES[name].mistakes:
        report = check(name, mistake.implementation)
        assert not report and report.mistake == mistake.name and report.hint == mistake.hint, str(report)
        assert f"Looks like: {mistake.name}" in str(report) and "Hint:" in report._repr_markdown_()


# wrong answers the checker was not told about: rejected, and not blamed on a mistake they did not make
def _momentum_plus(w, dw, v, lr, mu):
    v = mu * v + lr * dw
    return w - v, -v  # right w, velocity of the wrong sign


def _conv_transposed_filter(x, weight, bias, stride, padding):
    return F.conv2d(x, weight.transpose(-1, -2), bias, stride=stride, padding=padding)


def _pool_min(x, k, s):
    return -F.max_pool2d(-x, k, s)


def _softmax_no_max(scores, y):  # unstable: exp(1000) overflows
    p = torch.exp(scores) / torch.exp(scores).sum(1, keepdim=True)
    loss = -torch.log(p[torch.arange(len(y)), y]).mean()
    d = p.clone()
    d[torch.arange(len(y)), y] -= 1
    return loss, d / len(y)


def _gradient_h_wrong(f, x, h):
    return exercises._numerical_gradient(f, x, 1e-1)  # a step too large for O(h²) to be small


def _bn_gamma_ignored(x, gamma, beta, eps):
    return exercises._bn_forward(x, torch.ones_like(gamma), beta, eps)


def _bn_backward_dgamma_unsummed(dout, x, gamma, eps):
    dx, dgamma, dbeta = exercises._bn_backward(dout, x, gamma, eps)
    return dx, dgamma / len(x), dbeta


def _xavier_transposed(fan_in, fan_out, generator):
    return exercises._xavier_normal(fan_in, fan_out, generator).T


def _xavier_unseeded(fan_in, fan_out, generator):
    return torch.randn(fan_out, fan_in, dtype=torch.float64) * math.sqrt(2 / (fan_in + fan_out))


def _dropout_scale_p(x, p, generator):
    keep = torch.rand(x.shape, generator=generator, dtype=torch.float64) >= p
    return x * keep / p if p > 0 else x


def _two_layer_no_flatten(x, w1, w2):
    return torch.relu(x.reshape(len(x), -1).T[: w1.shape[0]].T @ w1) @ w2 * 2


def _gd_momentum_by_accident(grad, x0, lr, steps):
    path, v = [x0.clone()], torch.zeros_like(x0)
    for _ in range(steps):
        v = 0.5 * v - lr * grad(path[-1])
        path.append(path[-1] + v)
    return torch.stack(path)


def _sigmoid_of_z_twice(dout, z):
    return exercises._sigmoid_backward(dout, torch.sigmoid(z))


class _ModuleWithoutFlatten(torch.nn.Module):  # named: the crash is the Sequential mistake's crash
    def __init__(self, i, h, c):
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(i, h), torch.nn.Linear(h, c)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class _ModuleTanh(_ModuleWithoutFlatten):
    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x.flatten(1))))


class _ModuleLayersInForward(torch.nn.Module):
    def __init__(self, i, h, c):
        super().__init__()
        self.sizes = (i, h, c)

    def forward(self, x):
        i, h, c = self.sizes
        return torch.nn.Linear(h, c)(torch.relu(torch.nn.Linear(i, h)(x.flatten(1))))


def _convnet_sigmoid(c0, c1, c2, n, s):
    layers = list(exercises._convnet_sequential(c0, c1, c2, n, s))
    layers[1] = torch.nn.Sigmoid()
    return torch.nn.Sequential(*layers)


def _log_uniform_narrow(low, high, n, generator):
    return exercises._log_uniform(low, math.sqrt(low * high), n, generator)


def _smoothing_gradient_sign(scores, y, eps):  # named
    loss, d = exercises._label_smoothing(scores, y, eps)
    return loss, -d


def _smoothing_gradient_doubled(scores, y, eps):
    loss, d = exercises._label_smoothing(scores, y, eps)
    return loss, 2 * d


def _smoothing_float32_target(scores, y, eps):  # right formula, a float32 one-hot on the way
    k = scores.shape[1]
    q = (1 - eps) * F.one_hot(y, k).float() + eps / k
    logp = scores.log_softmax(1)
    return -(q * logp).sum(1).mean(), (logp.exp() - q) / len(y)


def _dropout_one_mask(x, p, generator):  # one mask shared by every row
    keep = torch.rand(x.shape[1], generator=generator, dtype=x.dtype) >= p
    return x * keep / (1 - p)


def _log_uniform_grid(low, high, n, generator):  # a fixed grid: never random
    return torch.logspace(math.log10(low), math.log10(high), n, dtype=torch.float64)


UNKNOWN = {
    "gradient_descent": [_gd_momentum_by_accident],
    "sigmoid_backward": [_sigmoid_of_z_twice],
    "two_layer_module": [_ModuleTanh],
    "convnet_sequential": [_convnet_sigmoid],
    "log_uniform": [_log_uniform_narrow, _log_uniform_grid],
    "label_smoothing_cross_entropy": [_smoothing_gradient_doubled],
    "sgd_momentum": [_momentum_plus],
    "adam": [lambda w, dw, m, v, t, lr, b1, b2, eps: exercises._adam(w, dw, m, v, t, lr, b2, b1, eps)],
    "conv2d": [_conv_transposed_filter],
    "max_pool2d": [_pool_min, lambda x, k, s: F.max_pool2d(x, k, s, padding=k // 2)],
    "numerical_gradient": [_gradient_h_wrong],
    "softmax_cross_entropy": [_softmax_no_max],
    "batchnorm_forward": [_bn_gamma_ignored],
    "batchnorm_backward": [_bn_backward_dgamma_unsummed],
    # a variance 3% low fails, and is not blamed on uniform weights (whose variance is right)
    "xavier_normal": [
        _xavier_transposed,
        _xavier_unseeded,
        exercises._xavier_with_variance(lambda i, o: 0.97 * 2 / (i + o)),
    ],
    "dropout": [_dropout_scale_p, _dropout_one_mask],
    "two_layer_forward": [_two_layer_no_flatten],
}


@pytest.mark.parametrize("name", exercises.NAMES)
def test_other_wrong_answers_are_rejected_without_a_wrong_diagnosis(name):
    for wrong in UNKNOWN[name]:
        report = check(name, wrong)
        assert not report and report.mistake is None, str(report)


def test_messages_for_crashes_shapes_overflows_and_a_missing_generator():
    def crashes(scores, y):
        return scores.softmax(1)[y].mean(), undefined_name  # noqa: F821

    report = check("softmax_cross_entropy", crashes)
    assert "raised NameError" in report.verdict and "line" in report.verdict and "Traceback" not in str(report)
    report = check("two_layer_forward", lambda x, w1, w2: exercises._two_layer_forward(x, w1, w2)[:, :3])
    assert "has shape (4, 3), expected (4, 10)" in report.verdict
    report = check("softmax_cross_entropy", _softmax_no_max)
    assert "NaN or inf" in report.verdict and "maximum" in report.hint
    assert "draw every random number from the generator" in check("xavier_normal", _xavier_unseeded).verdict
    assert "shape" in check("xavier_normal", _xavier_transposed).verdict
    report = check("sgd_momentum", lambda w, dw, v, lr, mu: w)
    assert "expected 2 outputs (w_next, v_next)" in report.verdict
    report = check("two_layer_forward", lambda x, w1, w2: exercises._two_layer_forward(x, w1, w2).float())
    assert not report and "float32 while the inputs are float64" in report.hint
    report = check(
        "gradient_descent", lambda grad, x0, lr, steps: list(exercises._gradient_descent(grad, x0, lr, steps))
    )
    assert "list of tensors: make it one tensor (torch.stack)" in report.verdict
    report = check("numerical_gradient", exercises._not_restored)
    assert "left x changed" in report.verdict and report.mistake == "x is not restored after each entry"
    blog = check("xavier_normal", lambda i, o, g: torch.randn(o, i, generator=g) * math.sqrt((i + o) / 2))
    assert blog.verdict.startswith("variance / expected is") and "blog" in blog.mistake  # float32: still named
    # answers the review found: named, or told what is wrong
    assert check("two_layer_module", _ModuleWithoutFlatten).mistake == "the images are not flattened"
    assert check("label_smoothing_cross_entropy", _smoothing_gradient_sign).mistake == "the gradient has the wrong sign"
    report = check("label_smoothing_cross_entropy", _smoothing_float32_target)
    assert not report and report.mistake is None and "float32's rounding" in report.hint
    report = check("two_layer_module", _ModuleLayersInForward)
    assert "no parameters" in report.verdict and "__init__" in report.verdict
    assert "a generator with another seed gave the same result" in check("log_uniform", _log_uniform_grid).verdict
    report = check("two_layer_forward", lambda x, w1, w2: torch.relu(x @ w1.T) @ w2)
    assert "raised RuntimeError" in report.verdict and "in case 1 (x 4×3×2×2" in report.verdict
    # the failing case's errors are labelled like the passing cases' before them
    under_root = next(m for m in exercises.EXERCISES["adam"].mistakes if m.name.startswith("ε under"))
    report = check("adam", under_root.implementation)  # fails in a case after others passed
    failing = report.verdict.split(" in ")[1].split(" (")[0]
    assert failing != "case 1" and report.details[-1].startswith(failing + ": "), (report.verdict, report.details)
    with pytest.raises(KeyError, match="sgd_momentum"):
        check("no such exercise", print)


def test_numpy_answers_count_and_rel_error_is_cs231ns():
    report = check("two_layer_forward", lambda x, w1, w2: exercises._two_layer_forward(x, w1, w2).numpy())
    assert report
    x, y = np.array([1.0, 0.0]), np.array([1.1, 0.0])
    assert exercises.rel_error(x, y) == pytest.approx(0.1 / 2.1)
    assert exercises.rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_the_references_are_pytorchs_own_operations():
    """sgd_momentum and adam against torch.optim (their conventions differ only in where lr sits)."""
    g = torch.Generator().manual_seed(0)
    w, dw = torch.randn(5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)
    p = torch.nn.Parameter(w.clone())
    opt = torch.optim.Adam([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    m = v = torch.zeros(5, dtype=torch.float64)
    ours = w.clone()
    for t in (1, 2, 3):
        p.grad = dw * t
        opt.step()
        ours, m, v = exercises._adam(ours, dw * t, m, v, t, 1e-2, 0.9, 0.999, 1e-8)
    torch.testing.assert_close(p.detach(), ours)
    # CS231n's v ← μv − lr·dw, w ← w + v is torch's SGD momentum with the velocity scaled by −lr
    p = torch.nn.Parameter(w.clone())
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    ours, velocity = w.clone(), torch.zeros(5, dtype=torch.float64)
    for t in (1, 2, 3):
        p.grad = dw * t
        opt.step()
        ours, velocity = exercises._sgd_momentum(ours, dw * t, velocity, 0.1, 0.9)
    torch.testing.assert_close(p.detach(), ours)


def test_statistical_checks_pass_the_right_answer_on_many_seeds():
    """Each statistic allows 6 standard errors (a false alarm about 2e-9 per statistic): 40 seeds all pass,
    and every catalogued mistake sits more than 20 allowances' worth of standard errors away."""
    for seed in range(40):
        assert check("xavier_normal", exercises._xavier_normal, seed=seed)
        assert check("dropout", exercises._dropout, seed=seed)
        assert check("log_uniform", exercises._log_uniform, seed=seed)
    fan_in, fan_out = 400, 600
    n = fan_in * fan_out
    for variance in (2 / fan_in, 1 / fan_in):  # He, LeCun: their variance ratio, in standard errors
        assert abs(variance / (2 / (fan_in + fan_out)) - 1) / math.sqrt(2 / n) > 20
