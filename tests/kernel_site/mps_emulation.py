"""A pretend Apple MPS device without float64, for testing on a machine without one.

:func:`install` (``DLF_EMULATE_MPS=1`` with ``tests/kernel_site`` on ``PYTHONPATH``, which ``pytest
--emulate-mps`` sets for the notebooks' kernels) makes ``torch.backends.mps.is_available()`` true, so that
``config.device()`` picks ``mps``; tensors moved there live on the CPU as :class:`Float64Less`, and every
operation that makes or reads float64 data on them raises :class:`Float64OnDeviceError`, as MPS does.

``on_float64_less_device(t)`` returns ``t`` as a :class:`Float64Less` tensor: its ``device`` reads ``mps``, and
under :func:`float64_guard` every operation that would make or read float64 data "on" it raises, as MPS does,
while ``.cpu()`` / ``.to("cpu")`` leave the pretend device and ``.to(its device)`` or ``device=its device``
come back to it. Only what the guard sees is checked: tensors that reach the code under test as
:class:`Float64Less`, and tensors made with ``device="mps"``.
"""

from __future__ import annotations

import contextlib

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

MPS = torch.device("mps")


class Float64Less(torch.Tensor):
    @property
    def device(self):  # what code that asks where the tensor is gets told
        return MPS


def on_float64_less_device(tensor: torch.Tensor) -> Float64Less:
    return tensor.as_subclass(Float64Less)


def _is_mps(value) -> bool:
    return (isinstance(value, str) and value.startswith("mps")) or (
        isinstance(value, torch.device) and value.type == "mps"
    )


def _is_cpu(value) -> bool:
    return (isinstance(value, str) and value.startswith("cpu")) or (
        isinstance(value, torch.device) and value.type == "cpu"
    )


class Float64OnDeviceError(RuntimeError):
    pass


class _Guard(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is torch.device:  # torch.device("mps") is just a name
            return func(*args, **kwargs)
        if func is torch.Tensor.__format__:  # Tensor formats only its own type's 0-d tensors as numbers
            return format(args[0].as_subclass(torch.Tensor), *args[1:])
        name = getattr(func, "__name__", str(func))
        leaving = func is torch.Tensor.cpu or (
            func is torch.Tensor.to and any(_is_cpu(a) for a in (*args[1:], kwargs.get("device")))
        )
        arriving = any(_is_mps(a) for a in (*args[1:], *kwargs.values()))
        call_args = [torch.device("cpu") if _is_mps(a) else a for a in args]  # the tensors stay as they are
        if _is_mps(kwargs.get("device")):
            kwargs["device"] = torch.device("cpu")
        flat_in, _ = tree_flatten((args, kwargs))
        device_in = [t for t in flat_in if isinstance(t, Float64Less)]
        if func is torch.Tensor.numpy and device_in:
            raise Float64OnDeviceError("numpy() of a tensor on the device: call .cpu() first")
        with torch._C.DisableTorchFunctionSubclass():
            out = func(*call_args, **kwargs)
        if leaving:  # a copy on the CPU: a plain tensor (autograd still reaches the device's)
            return out.as_subclass(torch.Tensor) if isinstance(out, Float64Less) else out
        if not (device_in or arriving):
            return out
        flat_out, _ = tree_flatten(out)
        outs = [t for t in flat_out if isinstance(t, torch.Tensor)]
        if any(t.dtype == torch.float64 for t in (*device_in, *outs)):
            raise Float64OnDeviceError(f"{name}: float64 on a device without float64 (MPS)")
        if isinstance(out, torch.Tensor):
            return _on_device(out)
        if type(out) in (tuple, list):
            return type(out)(_on_device(o) if isinstance(o, torch.Tensor) else o for o in out)
        return out


def _on_device(t: torch.Tensor) -> torch.Tensor:
    """``t`` marked as on the pretend device; a leaf stays a leaf (its gradient lands on what the caller holds)."""
    if isinstance(t, (Float64Less, torch.nn.Parameter)):  # in place (the input itself), or a module's parameter
        return t
    if t.is_leaf:
        return torch.Tensor._make_subclass(Float64Less, t, t.requires_grad)
    return t.as_subclass(Float64Less)


@contextlib.contextmanager
def float64_guard():
    with _Guard():
        yield


class _Generator(torch.Generator):
    """``torch.Generator(device="mps")`` makes a CPU generator (what the pretend device's random draws use)."""

    def __new__(cls, device="cpu"):
        return super().__new__(cls, device="cpu" if _is_mps(device) else device)

    def __init__(self, device="cpu"):
        pass


def install() -> None:
    """Pretend for the rest of this process that MPS is present and lacks float64."""

    def available() -> bool:
        return True

    available.__wrapped__ = available  # torch._dynamo reads the original through functools' attribute
    torch.backends.mps.is_available = torch.mps.is_available = available
    torch.mps.synchronize = lambda: None
    torch.mps.manual_seed = lambda seed: None
    torch.mps.empty_cache = lambda: None
    torch.Generator = _Generator
    _Guard().__enter__()
