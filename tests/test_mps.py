"""Apple's MPS has no float64: the package's float64 work happens on the CPU. Checked here with a pretend MPS
device (``tests/kernel_site/mps_emulation.py``); ``make test`` also runs every chapter's kernel with it."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent / "kernel_site"))
from mps_emulation import Float64OnDeviceError, float64_guard, on_float64_less_device  # noqa: E402

from dlfoundations import batchnorm, diagnostics, models, speedrun  # noqa: E402


def test_the_pretend_device_refuses_float64_as_mps_does():
    x = on_float64_less_device(torch.rand(4, 3))
    with float64_guard():
        assert x.device.type == "mps" and (x * 2).device.type == "mps"
        for make_float64 in (
            lambda: x.double(),
            lambda: x.sum(0).to(torch.float64),
            lambda: torch.zeros(3, dtype=torch.float64, device=x.device),
            lambda: x + torch.ones(3, dtype=torch.float64),  # promotes to float64 on the device
        ):
            with pytest.raises(Float64OnDeviceError):
                make_float64()
        on_cpu = x.cpu().double() + x.to("cpu").to(torch.float64)  # leaving the device first is allowed
        assert on_cpu.dtype == torch.float64 and on_cpu.device.type == "cpu"
        with pytest.raises(Float64OnDeviceError, match="cpu"):
            x.numpy()


def test_whitening_computes_in_float64_on_the_cpu_and_returns_filters_to_the_device():
    images = torch.rand(40, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    expected = speedrun.whitening_weights(images)
    with float64_guard():
        filters = speedrun.whitening_weights(on_float64_less_device(images))
        assert filters.device.type == "mps" and filters.dtype == torch.float32
    torch.testing.assert_close(filters.as_subclass(torch.Tensor), expected)


def test_variance_split_and_float64_training_leave_the_device():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(16, 5, generator=generator)
    expected = diagnostics.variance_split(a)
    batches = [(torch.randn(8, 3, 8, 8, generator=generator), torch.randint(0, 10, (8,), generator=generator))]
    torch.manual_seed(0)
    reference = batchnorm.training_losses(models.small_cnn((4, 8), size=8), batches, lr=0.1)
    with float64_guard():
        assert diagnostics.variance_split(on_float64_less_device(a)) == expected
        on_device = [(on_float64_less_device(x), on_float64_less_device(y)) for x, y in batches]
        torch.manual_seed(0)
        assert batchnorm.training_losses(models.small_cnn((4, 8), size=8), on_device, lr=0.1) == reference


def test_emulate_mps_gives_the_notebook_kernels_the_pretend_device():
    """What ``pytest --emulate-mps`` (make test) gives each nbval kernel, and only kernels."""
    import os
    import subprocess

    code = (
        "import torch\nfrom dlfoundations import config\n"
        "x = torch.ones(2).to(config.device())\n"
        "try:\n    x.double()\nexcept RuntimeError as error:\n    print(config.device(), type(error).__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent / "kernel_site"), "DLF_EMULATE_MPS": "1"}
    env.pop("DLF_DEVICE", None)
    run = [sys.executable, "-c", code]
    kernel = subprocess.run([*run, "ipykernel"], env=env, capture_output=True, text=True, check=True).stdout
    assert kernel.split() == ["mps", "Float64OnDeviceError"]
    other = subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout  # not a kernel
    assert other.strip() == ""
