"""Exercises the reader writes and the course checks: ``check(name, your_function)`` says whether it is right.

Each exercise is the central piece of a chapter, written as a plain function with a fixed signature (see
:data:`NAMES` and each exercise's ``signature``). :func:`check` runs the reader's function on several random
cases (float64, odd shapes, edge cases) from a seeded generator and compares it with a reference the package
tests: PyTorch's own operation where there is one (``F.conv2d``, ``F.max_pool2d``, autograd), else the
formula. It returns a :class:`Report` that prints well in a notebook: the shapes, the worst relative error of
each output against its threshold (CS231n's ``max |x − y| / max(1e-8, |x| + |y|)``), and, when the answer is
what a known mistake gives, that mistake by name with a hint. A stub that raises ``NotImplementedError``
gets "not implemented yet"; a function that crashes or returns the wrong shape gets one clear sentence, not a
traceback.

Two exercises draw random numbers (``xavier_normal``, ``dropout``): their checks are statistical. Each
statistic is compared with its expected value within 6 standard errors of its sampling distribution: a
correct function fails one statistic with probability about 2·10⁻⁹ (normal tails), so fewer than once in 10⁶
seeds over all the statistics checked; the sample sizes are chosen so that every mistake of the catalogue
moves its statistic by more than 20 standard errors.

This module teaches: it imports only torch and NumPy, never the experiment machinery.
"""

from __future__ import annotations

import dataclasses
import math
import re
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["EXERCISES", "NAMES", "Exercise", "Mistake", "NotPassed", "Report", "check", "rel_error"]

NOT_IMPLEMENTED = "not implemented yet"
STANDARD_ERRORS = 6.0  # a statistic's allowed distance from its expected value


def rel_error(x, y) -> float:
    """CS231n's relative error: ``max |x − y| / max(1e-8, |x| + |y|)`` over all entries."""
    x, y = _tensor(x), _tensor(y)
    if x.numel() == 0:
        return 0.0
    return ((x - y).abs() / torch.clamp(x.abs() + y.abs(), min=1e-8)).max().item()


def _tensor(value) -> torch.Tensor:
    if isinstance(value, np.ndarray | np.generic | float | int):
        return torch.as_tensor(np.asarray(value), dtype=torch.float64)
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu").to(torch.float64)
    raise TypeError(f"expected a tensor or an array, got {type(value).__name__}")


# --------------------------------------------------------------------------- reports


class NotPassed(AssertionError):
    """What a failing check raises in a graded cell; its message is the report."""


@dataclasses.dataclass
class Report:
    """What :func:`check` found. True when passed; prints as a few lines, renders as Markdown in a notebook."""

    name: str
    passed: bool
    verdict: str  # one sentence
    details: list[str] = dataclasses.field(default_factory=list)  # what was compared, one line each
    mistake: str | None = None  # the known mistake the answer matches
    hint: str | None = None

    def __bool__(self) -> bool:
        return self.passed

    def require(self) -> Report:
        """Raise :class:`NotPassed` with this report unless it passed (a graded test cell needs that); else
        return it, so that the cell still shows it."""
        __tracebackhide__ = True  # IPython and pytest leave this frame out of the traceback
        if not self.passed:
            raise NotPassed(f"{self.name} is not right yet (your function, not the course's code):\n{self}")
        return self

    def __str__(self) -> str:
        mark = "✔" if self.passed else "✘"
        lines = [f"{mark} {self.name}: {self.verdict}"]
        lines += [f"  {line}" for line in self.details]
        if self.mistake:
            lines.append(f"  Looks like: {self.mistake}.")
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        mark = "✔" if self.passed else "✘"
        text = [f"**{mark} `{self.name}`**: {self.verdict}"]
        if self.details:
            text.append("\n".join(f"- {line}" for line in self.details))
        if self.mistake:
            text.append(f"**Looks like:** {self.mistake}.")
        if self.hint:
            text.append(f"**Hint:** {self.hint}")
        return "\n\n".join(text)


@dataclasses.dataclass(frozen=True)
class Mistake:
    """A known wrong answer: its name, a hint, and an implementation that makes exactly that mistake."""

    name: str
    hint: str
    implementation: Callable


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise: the signature the reader implements, where it is taught, and how it is checked.

    ``cases(generator)`` gives the argument tuples. An exact exercise compares the reader's outputs (named by
    ``outputs``) with ``reference(*args)`` within ``tolerance``; a statistical one passes the reader's output and
    the arguments to ``statistics``, which returns ``(label, value, expected, allowed)`` rows.
    """

    name: str
    chapter: str
    signature: str
    summary: str
    cases: Callable[[torch.Generator], list[tuple]]
    outputs: tuple[str, ...]
    reference: Callable | None = None
    tolerance: float = 1e-9
    mistakes: tuple[Mistake, ...] = ()
    statistics: Callable | None = None
    nonfinite_hint: str = "look for a division by zero, a log of 0 or an exp that overflows."
    wrap: Callable | None = None  # turns the reader's function (and each mistake) into one of the case's args
    unchanged: tuple[int, ...] = ()  # arguments the function may change while it runs but must restore


class _Failure(Exception):
    """One clear sentence about why the reader's answer cannot be compared (wrong type, shape, crash)."""


def _clone(args: tuple) -> tuple:
    """Fresh copies: tensors the function may change in place, generators in the same state (so that the
    reader's function and a mistake's draw the same numbers)."""

    def fresh(a):
        if isinstance(a, torch.Tensor):
            return a.clone()
        if isinstance(a, torch.Generator):
            copy = torch.Generator(device=a.device)
            copy.set_state(a.get_state())
            return copy
        return a

    return tuple(fresh(a) for a in args)


def _as_outputs(value, names: tuple[str, ...]) -> list[torch.Tensor]:
    if len(names) == 1:
        value = (value,)
    elif not isinstance(value, tuple | list):
        raise _Failure(f"expected {len(names)} outputs ({', '.join(names)}), got one {type(value).__name__}")
    elif len(value) != len(names):
        raise _Failure(f"expected {len(names)} outputs ({', '.join(names)}), got {len(value)}")
    outputs = []
    for name, item in zip(names, value, strict=True):
        if item is None:
            raise _Failure(f"{name} is None: did the function return before computing it?")
        if isinstance(item, list | tuple) and item and all(isinstance(i, torch.Tensor) for i in item):
            raise _Failure(f"{name} is a {type(item).__name__} of tensors: make it one tensor (torch.stack)")
        try:
            outputs.append(_tensor(item))
        except TypeError as error:
            raise _Failure(f"{name}: {error}") from None
    return outputs


LOW_PRECISION = (torch.float32, torch.float16, torch.bfloat16)


def _precision_hint(value, names: tuple[str, ...], error: float = 0.0) -> str | None:
    """A hint when the reader's output has less precision than the float64 inputs (torch.zeros is float32), or
    is float64 but wrong by float32's rounding (``error`` below 1e-6): an intermediate tensor was float32."""
    items = (value,) if len(names) == 1 else value
    low = [n for n, i in zip(names, items, strict=False) if isinstance(i, torch.Tensor) and i.dtype in LOW_PRECISION]
    if not low:
        if error < 1e-6:
            return (
                "the answer agrees to about 7 digits, float32's rounding: some tensor on the way is float32"
                " (F.one_hot(...).float(), torch.zeros(n, k) without a dtype). Build every new tensor with the"
                " inputs' dtype (x.new_zeros(...), .to(x.dtype))."
            )
        return None
    return (
        f"{', '.join(low)} is {items[names.index(low[0])].dtype} while the inputs are float64: create new tensors with"
        " the input's dtype (x.new_zeros(...), torch.zeros(..., dtype=x.dtype)) so that rounding stays far below the"
        " threshold."
    )


LIBRARIES = tuple(str(Path(m.__file__).parent) for m in (torch, np))


def _where(error: BaseException) -> str:
    """The reader's line that raised (the last frame outside this module, torch and NumPy), as 'line N: code'."""
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if f.filename != __file__ and not f.filename.startswith(LIBRARIES)
    ]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (line {frame.lineno}: {frame.line.strip()})" if frame.line else f" (line {frame.lineno})"


def _call(fn: Callable, args: tuple, unchanged: tuple[int, ...] = (), names: list[str] | None = None):
    """``fn`` on fresh copies of ``args``; the arguments at ``unchanged`` must be as they were afterwards."""
    copies = _clone(args)
    names = names or [f"argument {i + 1}" for i in range(len(args))]
    try:
        result = fn(*copies)
    except (NotImplementedError, _Failure):
        raise
    except Exception as error:  # the reader's bug: one sentence, not a traceback
        raise _Failure(f"your function raised {type(error).__name__}: {error}{_where(error)}") from None
    for index in unchanged:
        if not torch.equal(copies[index], args[index]):
            raise _Failure(f"your function left {names[index]} changed: put each entry back after evaluating f there")
    return result


def parameters(exercise: Exercise) -> list[str]:
    """The parameter names of the exercise's signature."""
    inside = exercise.signature.split("(", 1)[1].split(")", 1)[0]
    return [name.strip() for name in inside.split(",")]


def _describe(args: tuple, names: list[str] | None = None) -> str:
    parts = []
    for index, a in enumerate(args):
        label = f"{names[index]} " if names and index < len(names) else ""
        before = len(parts)
        if isinstance(a, torch.Tensor):
            parts.append(
                f"({a.shape[0]},)" if a.ndim == 1 else "×".join(map(str, a.shape)) if a.ndim else f"{a.item():g}"
            )
        elif isinstance(a, float | int):
            parts.append(f"{a:g}")
        elif isinstance(a, torch.Generator | list | tuple | dict):
            continue
        elif callable(a):
            parts.append(names[index] if names and index < len(names) else "f")
            continue
        if len(parts) > before and label:
            parts[-1] = label + parts[-1]
    return ", ".join(parts)


def _matching_mistake(exercise: Exercise, args: tuple, got: list[torch.Tensor]) -> Mistake | None:
    for mistake in exercise.mistakes:
        implementation = exercise.wrap(mistake.implementation) if exercise.wrap else mistake.implementation
        try:
            wrong = _as_outputs(implementation(*_clone(args)), exercise.outputs)
        except Exception:  # noqa: BLE001 - a mistake that cannot run on this case does not match it
            continue
        if all(
            a.shape == b.shape and rel_error(a, b) < max(1e-6, 100 * exercise.tolerance)
            for a, b in zip(got, wrong, strict=True)
        ):
            return mistake
    return None


def _failed(name: str, verdict: str, details: list[str], mistake: Mistake | None) -> Report:
    """A failed report, naming the known mistake the answer matches, if any."""
    return Report(name, False, verdict, details, mistake.name if mistake else None, mistake.hint if mistake else None)


def check(name: str, fn: Callable, *, seed: int = 0) -> Report:
    """Check the reader's ``fn`` for exercise ``name`` (one of :data:`NAMES`) on random cases from ``seed``."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise {name!r}; the exercises are {', '.join(NAMES)}")
    exercise = EXERCISES[name]
    if exercise.wrap is not None:
        fn = exercise.wrap(fn)
    generator = torch.Generator().manual_seed(seed)
    cases = exercise.cases(generator)
    details: list[str] = []
    try:
        for number, args in enumerate(cases, 1):
            raw = _call(fn, args, exercise.unchanged, parameters(exercise))
            got = _as_outputs(raw, exercise.outputs)
            where = f"case {number} ({_describe(args, None if exercise.wrap else parameters(exercise))})"
            if exercise.statistics is not None:
                again = _as_outputs(_call(fn, args), exercise.outputs)
                if any(a.shape != b.shape or not torch.equal(a, b) for a, b in zip(got, again, strict=True)):
                    raise _Failure(
                        "two calls with generators in the same state gave different results: draw every random"
                        " number from the generator argument"
                    )
                reseeded = tuple(
                    torch.Generator().manual_seed(int(a.initial_seed()) + 1_000_003)
                    if isinstance(a, torch.Generator)
                    else a
                    for a in args
                )
                other = _as_outputs(_call(fn, reseeded), exercise.outputs)
                if all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(got, other, strict=True)):
                    raise _Failure(
                        "a generator with another seed gave the same result: the samples must come from the"
                        " generator argument (a fixed grid such as torch.logspace is not random)"
                    )
                rows = exercise.statistics(got, args)
                for label, value, expected, allowed in rows:
                    if not abs(value - expected) <= allowed:
                        mistake = _statistical_mistake(exercise, args, rows)
                        return _failed(
                            name,
                            f"{label} is {value:.4g}, expected {expected:.4g} ± {allowed:.2g} in {where}.",
                            details,
                            mistake,
                        )
                details.append(
                    f"{where}: "
                    + ", ".join(f"{label} {value:.4g} (expected {expected:.4g})" for label, value, expected, _ in rows)
                )
                continue
            expected = _as_outputs(exercise.reference(*_clone(args)), exercise.outputs)
            line = []
            for output, mine, theirs in zip(exercise.outputs, got, expected, strict=True):
                if mine.shape != theirs.shape:
                    mistake = _matching_mistake(exercise, args, got)
                    return _failed(
                        name,
                        f"{output} has shape {tuple(mine.shape)}, expected {tuple(theirs.shape)} in {where}.",
                        details,
                        mistake,
                    )
                if not torch.isfinite(mine).all():
                    return Report(
                        name, False, f"{output} contains NaN or inf in {where}.", details, hint=exercise.nonfinite_hint
                    )
                error = rel_error(mine, theirs)
                line.append(f"{output} {tuple(mine.shape)}: relative error {error:.1e}")
                if not error < exercise.tolerance:  # NaN fails too
                    mistake = _matching_mistake(exercise, args, got)
                    report = _failed(
                        name,
                        f"{output} is wrong in {where}: relative error {error:.1e}, allowed {exercise.tolerance:.0e}.",
                        details + [f"case {number}: " + ", ".join(line)],
                        mistake,
                    )
                    if mistake is None:
                        report.hint = _precision_hint(raw, exercise.outputs, error)
                    return report
            details.append(f"{where}: " + ", ".join(line))
    except NotImplementedError:
        return Report(name, False, NOT_IMPLEMENTED, [f"implement {exercise.signature}"])
    except _Failure as failure:
        mistake = _failing_mistake(exercise, cases, str(failure))
        where = f"case {number} ({_describe(args, None if exercise.wrap else parameters(exercise))})"
        return _failed(name, f"{failure}, in {where}.", details, mistake)
    return Report(name, True, f"all {len(cases)} cases agree with the reference.", details)


def _without_line(message: str) -> str:
    return re.sub(r" \(line \d+(?:: .*)?\)$", "", message, flags=re.DOTALL)


def _failing_mistake(exercise: Exercise, cases: list[tuple], message: str) -> Mistake | None:
    """The known mistake that fails with the same message (a wrong parameter shape, say) on the same cases."""
    for mistake in exercise.mistakes:
        implementation = exercise.wrap(mistake.implementation) if exercise.wrap else mistake.implementation
        try:
            for args in cases:
                _as_outputs(_call(implementation, args, exercise.unchanged, parameters(exercise)), exercise.outputs)
        except _Failure as failure:
            if _without_line(str(failure)) == _without_line(message):
                return mistake
        except Exception:  # noqa: BLE001
            continue
    return None


def _statistical_mistake(exercise: Exercise, args: tuple, rows) -> Mistake | None:
    """The known mistake whose statistics agree with the reader's up to the first one that fails, that one
    included: within the allowances, or within 5% of their distance from the expected value (a mistake drawn in
    float64 and an answer drawn in float32 differ a little). A mistake that passes the statistic the answer fails
    is not the answer's. The statistics after it are left out: their allowances assume the right answer."""
    failing = next(i for i, (_, value, expected, allowed) in enumerate(rows) if not abs(value - expected) <= allowed)
    for mistake in exercise.mistakes:
        try:
            wrong = _as_outputs(mistake.implementation(*_clone(args)), exercise.outputs)
            theirs = exercise.statistics(wrong, args)
        except Exception:  # noqa: BLE001
            continue
        _, value, expected, allowed = theirs[failing]
        if abs(value - expected) <= allowed:  # the mistake passes the statistic the answer fails: not this one
            continue
        if all(
            abs(b[1] - a[1]) <= max(a[3], b[3], 0.05 * max(abs(a[1] - a[2]), abs(b[1] - b[2])))
            for a, b in zip(rows[: failing + 1], theirs, strict=False)
        ):
            return mistake
    return None


# --------------------------------------------------------------------------- the exercises


def _randn(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


# chapter 02: optimizers, CS231n's conventions


def _sgd_momentum(w, dw, v, lr, momentum):
    v = momentum * v - lr * dw
    return w + v, v


def _adam(w, dw, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (torch.sqrt(v_hat) + eps), m, v


def _optimizer_cases(generator, with_step: bool) -> list[tuple]:
    """Varied hyperparameters, so that an answer with the defaults written in cannot pass; Adam's last case has
    a large ε, where ε under the square root or no ε at all is far from the reference."""
    cases = []
    if with_step:
        for shape, t, lr, beta1, beta2, eps in (
            ((5,), 1, 1e-2, 0.9, 0.999, 1e-8),
            ((3, 4), 2, 3e-3, 0.8, 0.99, 1e-8),
            ((2, 3, 5), 10, 1e-2, 0.9, 0.999, 1e-8),
            ((4, 3), 3, 1e-2, 0.9, 0.999, 1e-1),
        ):
            w, dw = _randn(generator, *shape), _randn(generator, *shape)
            m, v = 0.1 * _randn(generator, *shape), 0.01 * _randn(generator, *shape).abs()
            cases.append((w, dw, m, v, t, lr, beta1, beta2, eps))
    else:
        for shape, lr, momentum in (((5,), 1e-2, 0.9), ((3, 4), 0.1, 0.5), ((2, 3, 5), 3e-3, 0.99)):
            w, dw = _randn(generator, *shape), _randn(generator, *shape)
            cases.append((w, dw, 0.1 * _randn(generator, *shape), lr, momentum))
    return cases


# chapter 02b: convolution and pooling


def _conv_cases(generator) -> list[tuple]:
    return [
        (_randn(generator, 2, 3, 7, 5), _randn(generator, 4, 3, 3, 3), _randn(generator, 4), 1, 1),
        (_randn(generator, 1, 2, 8, 9), _randn(generator, 3, 2, 2, 4), _randn(generator, 3), 2, 0),
        (_randn(generator, 3, 1, 6, 6), _randn(generator, 2, 1, 5, 5), _randn(generator, 2), 1, 2),
    ]


def _conv2d_reference(x, weight, bias, stride, padding):
    return F.conv2d(x, weight, bias, stride=stride, padding=padding)


def _conv2d_flipped(x, weight, bias, stride, padding):  # a true convolution
    return F.conv2d(x, weight.flip(-1, -2), bias, stride=stride, padding=padding)


def _conv2d_no_bias(x, weight, bias, stride, padding):
    return F.conv2d(x, weight, None, stride=stride, padding=padding)


def _conv2d_no_padding(x, weight, bias, stride, padding):
    return F.conv2d(x, weight, bias, stride=stride)


def _conv2d_no_stride(x, weight, bias, stride, padding):  # windows at (i, j), not (i·stride, j·stride)
    size = _conv2d_reference(x, weight, bias, stride, padding).shape
    return F.conv2d(x, weight, bias, padding=padding)[:, :, : size[2], : size[3]]


def _conv2d_width_padded(x, weight, bias, stride, padding):  # F.pad(x, (p, p)): the last dimension only
    return F.conv2d(F.pad(x, (padding, padding)), weight, bias, stride=stride)


def _pool_cases(generator) -> list[tuple]:
    return [
        (_randn(generator, 2, 3, 8, 8), 2, 2),
        (_randn(generator, 1, 2, 7, 9), 3, 2),
        (_randn(generator, 2, 2, 8, 7), 3, 2),  # the last window does not fit: it is dropped (not ceil_mode)
        (_randn(generator, 2, 1, 6, 5), 2, 1),
    ]


# chapter 03: gradients


def _numerical_gradient(f, x, h, old_as_view: bool = False):
    """Centred differences, x changed in place entry by entry and restored. ``old_as_view``: the mistake of a
    literal port of CS231n's NumPy loop, where ``old = x[i]`` is a view of x and moves with it."""
    grad = torch.zeros_like(x)
    flat, out = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i] if old_as_view else flat[i].item()
        flat[i] = old + h
        plus = float(f(x))
        flat[i] = old - h
        minus = float(f(x))
        flat[i] = old
        out[i] = (plus - minus) / (2 * h)
    return grad


def _forward_difference(f, x, h):
    grad = torch.zeros_like(x)
    flat, out = x.view(-1), grad.view(-1)
    base = float(f(x))
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        out[i] = (float(f(x)) - base) / h
        flat[i] = old
    return grad


def _not_restored(f, x, h):
    grad = torch.zeros_like(x)
    flat, out = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        plus = float(f(x))
        flat[i] = old - h
        out[i] = (plus - float(f(x))) / (2 * h)
    return grad


def _no_half(f, x, h):
    return 2 * _numerical_gradient(f, x, h)


def _old_value_as_view(f, x, h):  # CS231n's NumPy loop ported literally: in torch, x[i] is a view
    return _numerical_gradient(f, x, h, old_as_view=True)


def _smooth_functions(generator) -> list[tuple]:
    """Three smooth functions and points where no entry of the gradient is near 0 (redrawn until so): relative
    error per entry is what the check measures, and a centred difference of an entry near 0 is mostly rounding."""
    while True:
        cases = _smooth_function_draw(generator)
        if all(_analytic_gradient(f, x, h).abs().min() > 1e-2 for f, x, h in cases):
            return cases


def _smooth_function_draw(generator) -> list[tuple]:
    a = _randn(generator, 4, 3)
    b = _randn(generator, 5)

    def quadratic_tanh(x):
        return (torch.tanh(a @ x) ** 2).sum() + (x**3).sum()

    def log_sum_exp(x):
        return torch.logsumexp(x.view(-1) * b[: x.numel()], 0) + 0.5 * (x**2).sum()

    c = _randn(generator, 2, 3)

    def matrix(x):  # a 2 × 3 input: "any shape" means more than vectors
        return (torch.sin(x) * c).sum() + 0.5 * (x @ x.T).trace() ** 2 / 10

    return [
        (quadratic_tanh, _randn(generator, 3), 1e-5),
        (log_sum_exp, _randn(generator, 5), 1e-5),
        (matrix, _randn(generator, 2, 3), 1e-5),
    ]


def _analytic_gradient(f, x, h):
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x)
    return grad


def _softmax_cases(generator) -> list[tuple]:
    cases = []
    for n, c in ((5, 3), (7, 10), (1, 4)):
        scores = 3 * _randn(generator, n, c)
        cases.append((scores, torch.randint(0, c, (n,), generator=generator)))
    big = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0], [1000.0, 0.0, 5.0]], dtype=torch.float64)
    cases.append((big, torch.tensor([0, 2, 1])))  # the last row's label has e^(−1000): its log needs logsumexp
    return cases


def _softmax_cross_entropy(scores, y):
    scores = scores.clone().requires_grad_(True)
    loss = F.cross_entropy(scores, y)
    (dscores,) = torch.autograd.grad(loss, scores)
    return loss.detach(), dscores


def _softmax_summed(scores, y):
    scores = scores.clone().requires_grad_(True)
    loss = F.cross_entropy(scores, y, reduction="sum")
    (dscores,) = torch.autograd.grad(loss, scores)
    return loss.detach(), dscores


def _softmax_gradient_sign(scores, y):
    loss, dscores = _softmax_cross_entropy(scores, y)
    return loss, -dscores


def _softmax_gradient_every_row(scores, y):  # dscores[:, y] -= 1: each row loses 1 at every label in the batch
    probabilities = torch.softmax(scores, 1)
    loss = -torch.log_softmax(scores, 1)[torch.arange(len(y)), y].mean()
    dscores = probabilities.clone()
    dscores[:, y] -= 1
    return loss, dscores / len(y)


def _softmax_gradient_unaveraged(scores, y):
    loss, dscores = _softmax_cross_entropy(scores, y)
    return loss, dscores * len(y)


# chapter 05: initialization


def _xavier_normal(fan_in, fan_out, generator):
    return torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64) * math.sqrt(2 / (fan_in + fan_out))


def _xavier_with_variance(variance: Callable[[int, int], float], uniform: bool = False):
    def init(fan_in, fan_out, generator):
        if uniform:
            bound = math.sqrt(3 * variance(fan_in, fan_out))
            return (2 * torch.rand(fan_out, fan_in, generator=generator, dtype=torch.float64) - 1) * bound
        return torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64) * math.sqrt(
            variance(fan_in, fan_out)
        )

    return init


def _init_cases(generator) -> list[tuple]:
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    return [(400, 600, torch.Generator().manual_seed(seed)), (1000, 200, torch.Generator().manual_seed(seed + 1))]


def _moment_rows(sample: torch.Tensor, variance: float) -> list[tuple]:
    """Mean, variance (as a ratio to ``variance``) and excess kurtosis of a sample, each with its allowance."""
    x = sample.reshape(-1)
    n = x.numel()
    mean, var = x.mean().item(), x.var().item()
    kurtosis = (((x - x.mean()) ** 4).mean() / x.var(unbiased=False) ** 2).item() - 3
    k = STANDARD_ERRORS
    return [  # the variance first: when it is wrong, the mean's allowance (set by the right variance) is too
        ("variance / expected", var / variance, 1.0, k * math.sqrt(2 / n)),
        ("mean", mean, 0.0, k * math.sqrt(variance / n)),
        ("excess kurtosis", kurtosis, 0.0, k * math.sqrt(24 / n)),
    ]


def _xavier_statistics(outputs, args) -> list[tuple]:
    (w,) = outputs
    fan_in, fan_out, generator = args
    if w.shape != (fan_out, fan_in):
        raise _Failure(f"the weights have shape {tuple(w.shape)}, expected (fan_out, fan_in) = {(fan_out, fan_in)}")
    return _moment_rows(w, 2 / (fan_in + fan_out))


# chapter 06: Batch Normalization (N × D, training mode)


def _bn_forward(x, gamma, beta, eps):
    mean = x.mean(0)
    var = x.var(0, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _bn_forward_unbiased(x, gamma, beta, eps):
    return gamma * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=True) + eps) + beta


def _bn_forward_std_eps(x, gamma, beta, eps):
    return gamma * (x - x.mean(0)) / (x.std(0, unbiased=False) + eps) + beta


def _bn_forward_rows(x, gamma, beta, eps):  # statistics over the features: Layer Normalization
    mean, var = x.mean(1, keepdim=True), x.var(1, unbiased=False, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _bn_cases(generator) -> list[tuple]:
    cases = []
    for (n, d), eps in (((8, 5), 0.1), ((3, 7), 1e-5), ((16, 1), 1e-3)):  # ε varies: use the argument
        x = 2 + 3 * _randn(generator, n, d)
        cases.append((x, 1 + 0.5 * _randn(generator, d), _randn(generator, d), eps))
    return cases


def _bn_backward(dout, x, gamma, eps):
    x = x.clone().requires_grad_(True)
    gamma = gamma.clone().requires_grad_(True)
    beta = torch.zeros_like(gamma, requires_grad=True)
    y = _bn_forward(x, gamma, beta, eps)
    return torch.autograd.grad(y, (x, gamma, beta), dout)


def _bn_backward_no_mean_path(dout, x, gamma, eps):
    """Treats the batch mean and variance as constants: the gradient through them is missing."""
    xhat = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)
    return gamma * dout / torch.sqrt(x.var(0, unbiased=False) + eps), (dout * xhat).sum(0), dout.sum(0)


def _bn_backward_no_variance_path(dout, x, gamma, eps):
    """Keeps the path through the mean but treats the variance as a constant."""
    std = torch.sqrt(x.var(0, unbiased=False) + eps)
    xhat = (x - x.mean(0)) / std
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(0)) / std
    return dx, (dout * xhat).sum(0), dout.sum(0)


def _bn_backward_unbiased(dout, x, gamma, eps):
    """The right formula with the unbiased variance (torch's default ``x.var(0)``, divided by N − 1)."""
    std = torch.sqrt(x.var(0, unbiased=True) + eps)
    xhat = (x - x.mean(0)) / std
    dx = gamma / std * (dout - dout.mean(0) - xhat * (dout * xhat).mean(0))
    return dx, (dout * xhat).sum(0), dout.sum(0)


def _bn_backward_cases(generator) -> list[tuple]:
    return [(_randn(generator, *x.shape), x, gamma, eps) for x, gamma, _, eps in _bn_cases(generator)]


# chapter 07: the barebones two-layer network


def _two_layer_forward(x, w1, w2):
    return torch.relu(x.flatten(1) @ w1) @ w2


def _two_layer_cases(generator) -> list[tuple]:
    return [
        (_randn(generator, 4, 3, 2, 2), _randn(generator, 12, 6), _randn(generator, 6, 10)),
        (_randn(generator, 1, 5), _randn(generator, 5, 3), _randn(generator, 3, 2)),
    ]


# chapter 09b: dropout (p is the probability to drop)


def _dropout(x, p, generator):
    keep = torch.rand(x.shape, generator=generator, dtype=torch.float64) >= p
    return x * keep / (1 - p)


def _dropout_keep_convention(x, p, generator):  # the notes' p: the probability to keep
    keep = torch.rand(x.shape, generator=generator, dtype=torch.float64) < p
    return x * keep / p


def _dropout_unscaled(x, p, generator):
    keep = torch.rand(x.shape, generator=generator, dtype=torch.float64) >= p
    return x * keep


def _dropout_cases(generator) -> list[tuple]:
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    x = 1 + _randn(generator, 400, 500).abs()  # positive, never 0: a zero in the output was dropped
    return [(x, p, torch.Generator().manual_seed(seed + i)) for i, p in enumerate((0.2, 0.5, 0.7))]


def _dropout_statistics(outputs, args) -> list[tuple]:
    (y,) = outputs
    x, p, _ = args
    if y.shape != x.shape:
        raise _Failure(f"the output has shape {tuple(y.shape)}, expected the input's {tuple(x.shape)}")
    dropped = y == 0
    n = x.numel()
    kept_scale = (y[~dropped] / x[~dropped]) if (~dropped).any() else torch.zeros(1)
    spread = (kept_scale.max() - kept_scale.min()).item()
    rows, columns = x.shape
    row_ratio = (dropped.double().mean(1).var() / (p * (1 - p) / columns)).item()
    return [
        ("fraction dropped", dropped.double().mean().item(), p, STANDARD_ERRORS * math.sqrt(p * (1 - p) / n)),
        ("scale of the kept entries", kept_scale.mean().item(), 1 / (1 - p), 1e-9),
        ("spread of that scale", spread, 0.0, 1e-9),
        (
            "variance of the fraction dropped per row, in units of p(1 − p)/columns",
            row_ratio,
            1.0,
            8 * math.sqrt(2 / (rows - 1)),
        ),
    ]


# chapter 01: gradient descent


def _gradient_descent(grad, x0, lr, steps):
    path = [x0.clone()]
    for _ in range(steps):
        path.append(path[-1] - lr * grad(path[-1]))
    return torch.stack(path)


def _gd_cases(generator) -> list[tuple]:
    a = _randn(generator, 3, 3)
    hessian = a @ a.T + torch.eye(3, dtype=torch.float64)
    target = _randn(generator, 3)

    def quadratic(x):
        return hessian @ (x - target)

    def quartic(x):
        return 4 * x**3 - 2 * x

    return [
        (quadratic, _randn(generator, 3), 0.05, 20),
        (quartic, _randn(generator, 2), 0.01, 7),
        (quartic, _randn(generator, 1), 0.1, 0),
    ]


# chapter 04: the sigmoid's local gradient


def _sigmoid_backward(dout, z):  # σ(z)·σ(−z) = σ(z)(1 − σ(z)) without the cancellation in 1 − σ(z) for large z
    return dout * torch.sigmoid(z) * torch.sigmoid(-z)


def _sigmoid_cases(generator) -> list[tuple]:
    return [
        (_randn(generator, 4, 5), 3 * _randn(generator, 4, 5)),
        (_randn(generator, 7), torch.tensor([-50.0, -3, 0, 1e-3, 2, 10, 50], dtype=torch.float64)),
    ]


# chapters 08 and 09: networks built from torch.nn, checked with the reference's weights copied in


def _with_weights(build):
    """The case's form of a network builder: build it, copy the case's parameters in, return its scores."""

    def run(sizes, params, x):
        model = build(*sizes)
        if not isinstance(model, torch.nn.Module):
            raise _Failure(f"expected a torch.nn.Module, got {type(model).__name__}")
        mine = list(model.parameters())
        shapes = [tuple(p.shape) for p in mine]
        if shapes != [tuple(p.shape) for p in params]:
            expected = [tuple(p.shape) for p in params]
            if not shapes:
                raise _Failure(
                    f"the module has no parameters, expected {len(expected)} of shapes {expected}: create the layers"
                    " in __init__ (self.fc1 = nn.Linear(...)); a layer made in forward is not registered and gets new"
                    " weights at every call"
                )
            raise _Failure(f"the parameters have shapes {shapes}, expected {expected} (in the order they are created)")
        with torch.no_grad():
            for p, value in zip(mine, params, strict=True):
                p.copy_(value)
        return model.double()(x).detach()

    return run


def _two_layer_module(input_size, hidden_size, num_classes):
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(input_size, hidden_size),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden_size, num_classes),
    )


def _convnet_sequential(in_channel, channel_1, channel_2, num_classes, size):
    return torch.nn.Sequential(
        torch.nn.Conv2d(in_channel, channel_1, 5, padding=2),
        torch.nn.ReLU(),
        torch.nn.Conv2d(channel_1, channel_2, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(channel_2 * size * size, num_classes),
    )


def _convnet_padded(pad1: int, pad2: int, shrink: bool):
    """The ConvNet with other paddings; its linear layer sized for the grid they leave (``shrink``) or for
    size × size."""

    def build(c0, c1, c2, n, s):
        side = s - (4 - 2 * pad1) - (2 - 2 * pad2) if shrink else s
        return torch.nn.Sequential(
            torch.nn.Conv2d(c0, c1, 5, padding=pad1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(c1, c2, 3, padding=pad2),
            torch.nn.ReLU(),
            torch.nn.Flatten(),
            torch.nn.Linear(c2 * side * side, n),
        )

    return build


def _network_cases(build, sizes_list, input_shape):
    def cases(generator):
        found = []
        for sizes in sizes_list:
            reference = build(*sizes).double()
            params = [0.5 * _randn(generator, *p.shape) for p in reference.parameters()]
            found.append((sizes, params, _randn(generator, *input_shape(sizes))))
        return found

    return cases


# chapter 10: sampling a learning rate for a random search


def _log_uniform(low, high, n, generator):
    exponent = torch.rand(n, generator=generator, dtype=torch.float64)
    return torch.exp(math.log(low) + exponent * (math.log(high) - math.log(low)))


def _log_uniform_cases(generator) -> list[tuple]:
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    return [
        (1e-5, 1e-1, 200_000, torch.Generator().manual_seed(seed)),
        (3e-4, 3.0, 200_000, torch.Generator().manual_seed(seed + 1)),
    ]


def _log_uniform_statistics(outputs, args) -> list[tuple]:
    """log(sample) must be uniform on [log low, log high]: its mean, its variance and the range it covers."""
    (x,) = outputs
    low, high, n, _ = args
    if x.shape != (n,):
        raise _Failure(f"the samples have shape {tuple(x.shape)}, expected ({n},)")
    if (x <= 0).any():
        raise _Failure("some samples are 0 or negative: a learning rate must be positive")
    u = (torch.log(x) - math.log(low)) / (math.log(high) - math.log(low))  # uniform on [0, 1] if right
    k = STANDARD_ERRORS
    return [
        ("mean of the log-position", u.mean().item(), 0.5, k * math.sqrt(1 / 12 / n)),
        ("variance of the log-position", u.var().item(), 1 / 12, k * math.sqrt(1 / 180 / n)),
        ("smallest log-position", u.min().item(), 0.0, 20 / n),
        ("largest log-position", u.max().item(), 1.0, 20 / n),
    ]


# chapter 11: label smoothing


def _rescaled(reference, loss=lambda scores, y: 1, grad=lambda scores, y: 1):
    """A mistake of a (loss, dscores) exercise: the reference's loss and gradient times the factors that
    ``loss(scores, y)`` and ``grad(scores, y)`` give."""

    def wrong(scores, y, *rest):
        value, dscores = reference(scores, y, *rest)
        return value * loss(scores, y), dscores * grad(scores, y)

    return wrong


_SOFTMAX_ON_SCORES = (  # the name and hint of one mistake of every network exercise
    "softmax applied to the scores",
    "return the raw scores: the loss (F.cross_entropy) applies the softmax itself.",
)


def _label_smoothing(scores, y, smoothing):
    scores = scores.clone().requires_grad_(True)
    loss = F.cross_entropy(scores, y, label_smoothing=smoothing)
    (dscores,) = torch.autograd.grad(loss, scores)
    return loss.detach(), dscores


def _smoothing_over_others(scores, y, smoothing):  # ε spread over the C − 1 wrong classes only
    c = scores.shape[1]
    target = torch.full_like(scores, smoothing / (c - 1))
    target[torch.arange(len(y)), y] = 1 - smoothing
    scores = scores.clone().requires_grad_(True)
    loss = F.cross_entropy(scores, target)
    (dscores,) = torch.autograd.grad(loss, scores)
    return loss.detach(), dscores


def _smoothing_cases(generator) -> list[tuple]:
    return [
        (3 * _randn(generator, n, c), torch.randint(0, c, (n,), generator=generator), eps)
        for n, c, eps in ((6, 4, 0.2), (5, 10, 0.1), (3, 3, 0.0))
    ]


# --------------------------------------------------------------------------- the catalogue

EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in (
        Exercise(
            "gradient_descent",
            "01",
            "gradient_descent(grad, x0, lr, steps) -> path",
            "`steps` steps of x ← x − lr·grad(x) from x0; return every iterate, x0 first, stacked: (steps + 1) × d",
            _gd_cases,
            ("path",),
            _gradient_descent,
            mistakes=(
                Mistake(
                    "the gradient is added (gradient ascent)",
                    "step against the gradient: x ← x − lr·∇f(x).",
                    lambda grad, x0, lr, steps: _gradient_descent(lambda x: -grad(x), x0, lr, steps),
                ),
                Mistake(
                    "the starting point is missing from the path",
                    "return x0 and each of the `steps` iterates after it: steps + 1 rows.",
                    lambda grad, x0, lr, steps: _gradient_descent(grad, x0, lr, steps)[1:],
                ),
                Mistake(
                    "every row is the same tensor: x was updated in place and stored without a copy",
                    "append x.clone(), or write x = x − lr·grad(x), which makes a new tensor.",
                    lambda grad, x0, lr, steps: _gradient_descent(grad, x0, lr, steps)[-1].expand(steps + 1, -1),
                ),
            ),
        ),
        Exercise(
            "sgd_momentum",
            "02",
            "sgd_momentum(w, dw, v, lr, momentum) -> (w_next, v_next)",
            "one step of SGD with momentum, CS231n's convention: v ← μv − lr·dw, then w ← w + v",
            lambda g: _optimizer_cases(g, with_step=False),
            ("w_next", "v_next"),
            _sgd_momentum,
            mistakes=(
                Mistake(
                    "the step uses the old velocity",
                    "update v first, then move w by the new v.",
                    lambda w, dw, v, lr, mu: (w + v, mu * v - lr * dw),
                ),
                Mistake(
                    "the gradient is added instead of subtracted",
                    "the velocity moves downhill: v ← μv − lr·dw.",
                    lambda w, dw, v, lr, mu: _sgd_momentum(w, -dw, v, lr, mu),
                ),
                Mistake(
                    "momentum and learning rate swapped",
                    "μ multiplies the old velocity, lr the gradient.",
                    lambda w, dw, v, lr, mu: _sgd_momentum(w, dw, v, mu, lr),
                ),
                Mistake(
                    "the lecture's sign convention (v ← μv + lr·dw, w ← w − v)",
                    "here the velocity points downhill: v ← μv − lr·dw, then w ← w + v.",
                    lambda w, dw, v, lr, mu: (w - (mu * v + lr * dw), mu * v + lr * dw),
                ),
                Mistake(
                    "PyTorch's momentum buffer (v ← μv + dw, w ← w − lr·v)",
                    "here the velocity carries the learning rate and the sign: v ← μv − lr·dw, then w ← w + v.",
                    lambda w, dw, v, lr, mu: (w - lr * (mu * v + dw), mu * v + dw),
                ),
            ),
        ),
        Exercise(
            "adam",
            "02",
            "adam(w, dw, m, v, t, lr, beta1, beta2, eps) -> (w_next, m_next, v_next)",
            "one step of Adam with bias correction; t is the 1-based step number",
            lambda g: _optimizer_cases(g, with_step=True),
            ("w_next", "m_next", "v_next"),
            _adam,
            mistakes=(
                Mistake(
                    "Adam without bias correction",
                    "divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ before the step (the moments start at 0).",
                    lambda w, dw, m, v, t, lr, b1, b2, eps: (
                        w - lr * (b1 * m + (1 - b1) * dw) / (torch.sqrt(b2 * v + (1 - b2) * dw**2) + eps),
                        b1 * m + (1 - b1) * dw,
                        b2 * v + (1 - b2) * dw**2,
                    ),
                ),
                Mistake(
                    "the square root of v̂ is missing",
                    "the step is lr · m̂ / (√v̂ + ε): √v̂ has the units of the gradient, so the step has those of lr.",
                    lambda w, dw, m, v, t, lr, b1, b2, eps: _adam_variant(w, dw, m, v, t, lr, b1, b2, eps, root=False),
                ),
                Mistake(
                    "the bias correction counts t from 0",
                    "t is the number of the step being taken, starting at 1: divide by 1 − βᵗ.",
                    lambda w, dw, m, v, t, lr, b1, b2, eps: _adam_variant(w, dw, m, v, t + 1, lr, b1, b2, eps),
                ),
                Mistake(
                    "ε under the square root: √(v̂ + ε)",
                    "ε is added after the root: lr · m̂ / (√v̂ + ε).",
                    lambda w, dw, m, v, t, lr, b1, b2, eps: _adam_variant(
                        w, dw, m, v, t, lr, b1, b2, eps, eps_inside=True
                    ),
                ),
                Mistake(
                    "the bias-corrected averages returned as m_next and v_next",
                    "return the running averages m and v themselves: m̂ and v̂ only make the step, and the next step"
                    " corrects again.",
                    lambda w, dw, m, v, t, lr, b1, b2, eps: _adam_corrected_state(w, dw, m, v, t, lr, b1, b2, eps),
                ),
            ),
        ),
        Exercise(
            "conv2d",
            "02b",
            "conv2d(x, weight, bias, stride, padding) -> out",
            "PyTorch's convolution (a cross-correlation) of (N, C, H, W) images with (F, C, HH, WW) filters",
            _conv_cases,
            ("out",),
            _conv2d_reference,
            mistakes=(
                Mistake(
                    "the filters are flipped (a true convolution)",
                    "deep-learning 'convolution' slides the filter as it is: out = Σ x[i+a, j+b]·w[a, b].",
                    _conv2d_flipped,
                ),
                Mistake("the bias is missing", "add bias[f] to every output of filter f.", _conv2d_no_bias),
                Mistake(
                    "the padding is ignored",
                    "pad H and W with `padding` zeros on each side before sliding the filters.",
                    _conv2d_no_padding,
                ),
                Mistake(
                    "the windows do not move by the stride (they start at i, j, not i·stride, j·stride)",
                    "output (i, j) reads the window whose top-left corner is (i·stride, j·stride) of the padded input.",
                    _conv2d_no_stride,
                ),
                Mistake(
                    "only the width is padded (F.pad(x, (p, p)))",
                    "F.pad's tuple names the last dimension first, (left, right, top, bottom): pad H and W, four"
                    " numbers.",
                    _conv2d_width_padded,
                ),
            ),
        ),
        Exercise(
            "max_pool2d",
            "02b",
            "max_pool2d(x, kernel_size, stride) -> out",
            "max pooling of (N, C, H, W) images, no padding, windows that do not fit are dropped",
            _pool_cases,
            ("out",),
            lambda x, k, s: F.max_pool2d(x, k, s),
            mistakes=(
                Mistake(
                    "average instead of maximum",
                    "take the largest entry of each window.",
                    lambda x, k, s: F.avg_pool2d(x, k, s),
                ),
                Mistake(
                    "the stride is ignored (windows at every position)",
                    "move the window by `stride` pixels, not by 1.",
                    lambda x, k, s: F.max_pool2d(x, k, 1),
                ),
                Mistake(
                    "the windows move by kernel_size, not by stride",
                    "the stride need not equal the window's size: window (i, j) starts at (i·stride, j·stride).",
                    lambda x, k, s: F.max_pool2d(x, k, k),
                ),
                Mistake(
                    "a last window that sticks out of the input is kept",
                    "drop it: ⌊(n − k)/s⌋ + 1 windows along a side of n pixels (PyTorch's ceil_mode=False).",
                    lambda x, k, s: F.max_pool2d(x, k, s, ceil_mode=True),
                ),
            ),
        ),
        Exercise(
            "numerical_gradient",
            "03",
            "numerical_gradient(f, x, h) -> grad",
            "centred differences of a scalar f, changing x in place entry by entry and restoring it",
            _smooth_functions,
            ("grad",),
            _analytic_gradient,
            tolerance=1e-7,
            mistakes=(
                Mistake(
                    "a forward difference",
                    "use (f(x + h) − f(x − h)) / 2h: its error is O(h²), the forward difference's O(h).",
                    _forward_difference,
                ),
                Mistake("the factor 1/2 is missing", "the two points are 2h apart: divide by 2h.", _no_half),
                Mistake(
                    "x is not restored after each entry",
                    "put x[i] back to its old value before the next entry: the later differences are taken at a"
                    " shifted point.",
                    _not_restored,
                ),
                Mistake(
                    "the old value kept as a view (old = x[i]), so it moved with x",
                    "in PyTorch x[i] is a view of x: keep the number, old = x[i].item(). With a view, f(x − h·e_i)"
                    " is evaluated at x itself, and you get half a forward difference.",
                    _old_value_as_view,
                ),
            ),
            unchanged=(1,),
        ),
        Exercise(
            "softmax_cross_entropy",
            "03",
            "softmax_cross_entropy(scores, y) -> (loss, dscores)",
            "the mean cross-entropy of softmax(scores) over the batch and its gradient; stable for large scores",
            _softmax_cases,
            ("loss", "dscores"),
            _softmax_cross_entropy,
            nonfinite_hint="exp(1000) overflows and e^(−1000) underflows to 0, whose log is −inf: work with"
            " log-probabilities, z − logsumexp(z) after subtracting each row's maximum, not log(softmax(z)).",
            mistakes=(
                Mistake(
                    "loss summed, not averaged",
                    "divide the loss and its gradient by the batch size N.",
                    _softmax_summed,
                ),
                Mistake(
                    "the gradient has the wrong sign",
                    "∂L/∂s = (softmax(s) − one_hot(y)) / N.",
                    _softmax_gradient_sign,
                ),
                Mistake(
                    "dscores[:, y] -= 1: every row loses 1 at every label of the batch",
                    "index one entry per row: dscores[torch.arange(N), y] -= 1.",
                    _softmax_gradient_every_row,
                ),
                Mistake(
                    "the gradient is not divided by N",
                    "the loss is a mean, so its gradient carries 1/N too.",
                    _softmax_gradient_unaveraged,
                ),
            ),
        ),
        Exercise(
            "xavier_normal",
            "05",
            "xavier_normal(fan_in, fan_out, generator) -> w",
            "a (fan_out, fan_in) tensor of normal weights with mean 0 and variance 2 / (fan_in + fan_out)",
            _init_cases,
            ("w",),
            statistics=_xavier_statistics,
            mistakes=(
                Mistake(
                    "He's variance 2/fan_in (the ReLU rule of the next section)",
                    "Xavier averages the two fans: variance 2 / (fan_in + fan_out).",
                    _xavier_with_variance(lambda i, o: 2 / i),
                ),
                Mistake(
                    "the forward rule's variance 1/fan_in (LeCun's)",
                    "that keeps the forward pass alone; Xavier compromises between fan_in and fan_out.",
                    _xavier_with_variance(lambda i, o: 1 / i),
                ),
                Mistake(
                    "variance (fan_in + fan_out)/2, the Xavier blog post's formula",
                    "from (n_in + n_out)·a = 2 it follows a = 2 / (n_in + n_out), not its reciprocal.",
                    _xavier_with_variance(lambda i, o: (i + o) / 2),
                ),
                Mistake(
                    "the standard deviation set to 2/(fan_in + fan_out)",
                    "multiply standard normals by the square root of the variance.",
                    _xavier_with_variance(lambda i, o: (2 / (i + o)) ** 2),
                ),
                Mistake(
                    "the arithmetic mean of 1/fan_in and 1/fan_out (the slides' averaged form)",
                    "Glorot's compromise is the harmonic mean, 2/(fan_in + fan_out), smaller whenever the fans differ.",
                    _xavier_with_variance(lambda i, o: (1 / i + 1 / o) / 2),
                ),
                Mistake(
                    "uniform weights, not normal",
                    "the variance is right but the distribution is not: use torch.randn.",
                    _xavier_with_variance(lambda i, o: 2 / (i + o), uniform=True),
                ),
            ),
        ),
        Exercise(
            "sigmoid_backward",
            "04",
            "sigmoid_backward(dout, z) -> dz",
            "the gradient through σ(z) = 1/(1 + e^(−z)): dout · σ(z)(1 − σ(z))",
            _sigmoid_cases,
            ("dz",),
            _sigmoid_backward,
            mistakes=(
                Mistake(
                    "σ'(z) written as z(1 − z)",
                    "the derivative is σ(z)(1 − σ(z)): apply the sigmoid first.",
                    lambda dout, z: dout * z * (1 - z),
                ),
                Mistake(
                    "the upstream gradient is not multiplied in",
                    "the chain rule: dz = dout · σ'(z).",
                    lambda dout, z: _sigmoid_backward(torch.ones_like(dout), z),
                ),
            ),
        ),
        Exercise(
            "batchnorm_forward",
            "06",
            "batchnorm_forward(x, gamma, beta, eps) -> y",
            "Batch Normalization of an N×D batch in training mode: each column standardized, then γ·x̂ + β",
            _bn_cases,
            ("y",),
            _bn_forward,
            mistakes=(
                Mistake(
                    "the unbiased variance (divided by N − 1)",
                    "BatchNorm normalizes with the batch's own variance, divided by N (torch: unbiased=False).",
                    _bn_forward_unbiased,
                ),
                Mistake(
                    "ε added to the standard deviation",
                    "ε goes under the square root: (x − μ) / √(σ² + ε).",
                    _bn_forward_std_eps,
                ),
                Mistake(
                    "statistics over the features of each example (that is Layer Normalization)",
                    "average over the batch, dimension 0: one mean and variance per feature.",
                    _bn_forward_rows,
                ),
                Mistake(
                    "ε left out",
                    "add ε to the variance under the square root: it keeps a column with (nearly) no spread finite.",
                    lambda x, g, b, eps: _bn_forward(x, g, b, 0.0),
                ),
                Mistake(
                    "one mean and one variance for the whole batch",
                    "one per feature: x.mean(0) and the variance over dimension 0, not x.mean().",
                    lambda x, g, b, eps: g * (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + eps) + b,
                ),
            ),
        ),
        Exercise(
            "batchnorm_backward",
            "06",
            "batchnorm_backward(dout, x, gamma, eps) -> (dx, dgamma, dbeta)",
            "the gradients of Batch Normalization (training mode, N×D) given the upstream gradient dout",
            _bn_backward_cases,
            ("dx", "dgamma", "dbeta"),
            _bn_backward,
            tolerance=1e-8,
            mistakes=(
                Mistake(
                    "the gradient through the batch mean and variance is missing",
                    "μ and σ² depend on every x: dx = γ/√(σ² + ε) · (dout − mean(dout) − x̂·mean(dout·x̂)), means"
                    " over the batch.",
                    _bn_backward_no_mean_path,
                ),
                Mistake(
                    "the gradient through the batch variance is missing",
                    "σ² depends on every x too: subtract x̂·mean(dout·x̂) as well.",
                    _bn_backward_no_variance_path,
                ),
                Mistake(
                    "the unbiased variance (divided by N − 1)",
                    "the forward pass divides the variance by N (torch: x.var(0, unbiased=False)); its gradient"
                    " uses that σ² too.",
                    _bn_backward_unbiased,
                ),
                Mistake(
                    "dx is missing the factor γ",
                    "y = γx̂ + β, so the gradient reaching x̂ is γ·dout.",
                    lambda d, x, g, eps: (
                        _bn_backward(d, x, torch.ones_like(g), eps)[0],
                        *_bn_backward(d, x, g, eps)[1:],
                    ),
                ),
                Mistake(
                    "dgamma and dbeta averaged over the batch, not summed",
                    "every example's y depends on γ and β: their gradients add up over the batch (a sum over"
                    " dimension 0).",
                    lambda d, x, g, eps: (lambda dx, dg, db: (dx, dg / len(x), db / len(x)))(
                        *_bn_backward(d, x, g, eps)
                    ),
                ),
            ),
        ),
        Exercise(
            "two_layer_forward",
            "07",
            "two_layer_forward(x, w1, w2) -> scores",
            "CS231n's barebones two-layer network: flatten, x @ w1, ReLU, @ w2 (no biases)",
            _two_layer_cases,
            ("scores",),
            _two_layer_forward,
            mistakes=(
                Mistake(
                    "the ReLU is missing",
                    "apply max(0, ·) to the hidden layer.",
                    lambda x, w1, w2: x.flatten(1) @ w1 @ w2,
                ),
                Mistake(
                    "ReLU applied to the scores as well",
                    "the scores are the last layer's raw output: no ReLU after @ w2.",
                    lambda x, w1, w2: torch.relu(_two_layer_forward(x, w1, w2)),
                ),
                Mistake(
                    "the images are not flattened",
                    "a matrix product multiplies the last dimension: reshape x to (N, D) first, one row per example.",
                    lambda x, w1, w2: torch.relu(x @ w1) @ w2,
                ),
                Mistake(
                    *_SOFTMAX_ON_SCORES,
                    lambda x, w1, w2: torch.softmax(_two_layer_forward(x, w1, w2), dim=1),
                ),
            ),
        ),
        Exercise(
            "two_layer_module",
            "08",
            "two_layer_module(input_size, hidden_size, num_classes) -> torch.nn.Module",
            "the two-layer network as a torch.nn module: flatten, Linear, ReLU, Linear (with biases)",
            _network_cases(_two_layer_module, [(12, 6, 10), (20, 7, 3)], lambda s: (4, s[0] // 4, 2, 2)),
            ("scores",),
            _with_weights(_two_layer_module),
            wrap=_with_weights,
            mistakes=(
                Mistake(
                    "the ReLU is missing",
                    "put torch.nn.ReLU() (or F.relu in forward) between the two linear layers.",
                    lambda i, h, c: torch.nn.Sequential(
                        torch.nn.Flatten(), torch.nn.Linear(i, h), torch.nn.Linear(h, c)
                    ),
                ),
                Mistake(
                    "a ReLU after the last layer",
                    "the scores are the last layer's raw output.",
                    lambda i, h, c: torch.nn.Sequential(_two_layer_module(i, h, c), torch.nn.ReLU()),
                ),
                Mistake(
                    "the images are not flattened",
                    "a Linear layer multiplies the last dimension: flatten each image first (torch.nn.Flatten()).",
                    lambda i, h, c: torch.nn.Sequential(torch.nn.Linear(i, h), torch.nn.ReLU(), torch.nn.Linear(h, c)),
                ),
                Mistake(
                    *_SOFTMAX_ON_SCORES,
                    lambda i, h, c: torch.nn.Sequential(_two_layer_module(i, h, c), torch.nn.Softmax(dim=1)),
                ),
            ),
        ),
        Exercise(
            "convnet_sequential",
            "09",
            "convnet_sequential(in_channel, channel_1, channel_2, num_classes, size) -> torch.nn.Sequential",
            "CS231n's three-layer ConvNet: conv 5×5 (padding 2), ReLU, conv 3×3 (padding 1), ReLU, flatten, linear",
            _network_cases(_convnet_sequential, [(3, 4, 5, 10, 8), (1, 2, 3, 4, 6)], lambda s: (2, s[0], s[4], s[4])),
            ("scores",),
            _with_weights(_convnet_sequential),
            wrap=_with_weights,
            mistakes=(
                Mistake(
                    "the paddings are missing, and the linear layer shrunk to match",
                    "without padding the grid shrinks by 4, then 2 pixels; this ConvNet keeps it at size × size with"
                    " padding 2 for the 5×5 filters and 1 for the 3×3 ones, so the linear layer has"
                    " channel_2 · size · size inputs.",
                    _convnet_padded(0, 0, shrink=True),
                ),
                Mistake(
                    "the second convolution's padding is missing, and the linear layer shrunk to match",
                    "padding 1 keeps a 3×3 convolution's grid at size × size: the linear layer then has"
                    " channel_2 · size · size inputs.",
                    _convnet_padded(2, 0, shrink=True),
                ),
                Mistake(
                    "a ReLU after the last layer",
                    "the scores are the linear layer's raw output.",
                    lambda c0, c1, c2, n, s: torch.nn.Sequential(
                        _convnet_sequential(c0, c1, c2, n, s), torch.nn.ReLU()
                    ),
                ),
                Mistake(
                    "the second ReLU is missing",
                    "each convolution is followed by its ReLU.",
                    lambda c0, c1, c2, n, s: torch.nn.Sequential(
                        *[m for k, m in enumerate(_convnet_sequential(c0, c1, c2, n, s)) if k != 3]
                    ),
                ),
                Mistake(
                    "the padding is missing",
                    "padding 2 for the 5×5 filters and 1 for the 3×3 ones keep the grid at size × size, which the"
                    " linear layer expects.",
                    _convnet_padded(0, 0, shrink=False),
                ),
                Mistake(
                    "the second convolution's padding is missing",
                    "padding 1 keeps a 3×3 convolution's grid at size × size, which the linear layer expects.",
                    _convnet_padded(2, 0, shrink=False),
                ),
                Mistake(
                    "the feature maps are not flattened",
                    "put nn.Flatten() before the linear layer: it turns (N, C, H, W) into (N, C·H·W).",
                    lambda c0, c1, c2, n, s: torch.nn.Sequential(
                        *[m for k, m in enumerate(_convnet_sequential(c0, c1, c2, n, s)) if k != 4]
                    ),
                ),
                Mistake(
                    "the linear layer's size is fixed for 32×32 images",
                    "compute its input size from the arguments: channel_2 * size * size.",
                    lambda c0, c1, c2, n, s: torch.nn.Sequential(
                        *list(_convnet_sequential(c0, c1, c2, n, s))[:-1], torch.nn.Linear(c2 * 32 * 32, n)
                    ),
                ),
                Mistake(
                    *_SOFTMAX_ON_SCORES,
                    lambda c0, c1, c2, n, s: torch.nn.Sequential(
                        _convnet_sequential(c0, c1, c2, n, s), torch.nn.Softmax(dim=1)
                    ),
                ),
            ),
        ),
        Exercise(
            "log_uniform",
            "10",
            "log_uniform(low, high, n, generator) -> samples",
            "n learning rates drawn log-uniformly between low and high (each decade equally likely)",
            _log_uniform_cases,
            ("samples",),
            statistics=_log_uniform_statistics,
            mistakes=(
                Mistake(
                    "uniform between low and high",
                    "draw the exponent uniformly: exp(U(log low, log high)); uniform samples crowd the top decade.",
                    lambda low, high, n, g: low + (high - low) * torch.rand(n, generator=g, dtype=torch.float64),
                ),
                Mistake(
                    "10 ** U(low, high): the bounds used as exponents",
                    "the exponents are log10(low) and log10(high).",
                    lambda low, high, n, g: torch.clamp(
                        10 ** (low + (high - low) * torch.rand(n, generator=g, dtype=torch.float64)), min=1e-300
                    ),
                ),
                Mistake(
                    "two bases mixed: log10 for the bounds, exp to undo it",
                    "undo a logarithm with its own base: exp after log, 10 ** after log10.",
                    lambda low, high, n, g: torch.exp(
                        math.log10(low)
                        + (math.log10(high) - math.log10(low)) * torch.rand(n, generator=g, dtype=torch.float64)
                    ),
                ),
            ),
        ),
        Exercise(
            "label_smoothing_cross_entropy",
            "11",
            "label_smoothing_cross_entropy(scores, y, smoothing) -> (loss, dscores)",
            "cross-entropy against the smoothed target (1 − ε)·one_hot(y) + ε/K (K classes), averaged over the batch,"
            " and its gradient",
            _smoothing_cases,
            ("loss", "dscores"),
            _label_smoothing,
            mistakes=(
                Mistake(
                    "ε spread over the K − 1 wrong classes only",
                    "PyTorch and airbench spread ε over all K classes: the true class gets 1 − ε + ε/K.",
                    _smoothing_over_others,
                ),
                Mistake(
                    "loss summed, not averaged",
                    "divide the loss and its gradient by the batch size N.",
                    lambda scores, y, eps: tuple(t * len(y) for t in _label_smoothing(scores, y, eps)),
                ),
                Mistake(
                    "the gradient of the unsmoothed loss",
                    "the output error is the softmax minus the target, and the target here is the smoothed q, not"
                    " one_hot(y).",
                    lambda scores, y, eps: (_label_smoothing(scores, y, eps)[0], _softmax_cross_entropy(scores, y)[1]),
                ),
                Mistake(
                    "loss averaged over the classes as well (divided by N·K)",
                    "sum q·log p over the K classes of each image, then average over the N images.",
                    _rescaled(_label_smoothing, loss=lambda scores, y: 1 / scores.shape[1]),
                ),
                Mistake(
                    "the gradient is not divided by N",
                    "the loss is a mean over the N images, so its gradient carries 1/N too.",
                    _rescaled(_label_smoothing, grad=lambda scores, y: len(y)),
                ),
                Mistake(
                    "the gradient has the wrong sign",
                    "raising the true class's score lowers the loss, so its entry of dscores must be negative.",
                    _rescaled(_label_smoothing, grad=lambda scores, y: -1),
                ),
                Mistake(
                    "no smoothing at all",
                    "mix the one-hot target with the uniform one: (1 − ε)·one_hot + ε/K.",
                    lambda scores, y, eps: _softmax_cross_entropy(scores, y),
                ),
            ),
        ),
        Exercise(
            "dropout",
            "09b",
            "dropout(x, p, generator) -> y",
            "inverted dropout in training mode: drop each entry with probability p, scale the rest by 1/(1 − p)",
            _dropout_cases,
            ("y",),
            statistics=_dropout_statistics,
            mistakes=(
                Mistake(
                    "p taken as the probability to keep (the lecture notes' convention)",
                    "here, as in torch.nn.Dropout, p is the probability to drop.",
                    _dropout_keep_convention,
                ),
                Mistake(
                    "dropout without the 1/(1−p) scale",
                    "scale the kept entries by 1/(1 − p) so that the expected output equals the input.",
                    _dropout_unscaled,
                ),
            ),
        ),
    )
}
NAMES: tuple[str, ...] = tuple(EXERCISES)


def _adam_variant(w, dw, m, v, t, lr, beta1, beta2, eps, root: bool = True, eps_inside: bool = False):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    v_hat = v / (1 - beta2**t)
    if eps_inside:
        return w - lr * (m / (1 - beta1**t)) / torch.sqrt(v_hat + eps), m, v
    return w - lr * (m / (1 - beta1**t)) / ((torch.sqrt(v_hat) if root else v_hat) + eps), m, v


def _adam_corrected_state(w, dw, m, v, t, lr, beta1, beta2, eps):
    w_next, m, v = _adam(w, dw, m, v, t, lr, beta1, beta2, eps)
    return w_next, m / (1 - beta1**t), v / (1 - beta2**t)


def describe(name: str) -> str:
    """The exercise's signature and what it asks, for a notebook's exercise text."""
    exercise = EXERCISES[name]
    return f"`{exercise.signature}`: {exercise.summary}."


def stub(name: str) -> Callable:
    """A function with the exercise's parameters that raises NotImplementedError (what a student starts from)."""

    def not_yet(*args, **kwargs):
        raise NotImplementedError(name)

    return not_yet
