"""Run profiles, device choice, seeding and the first line every chapter prints.

A *profile* fixes every size a notebook uses, so that the same notebook can run
in seconds in CI (``quick``), in minutes on a laptop CPU (``standard``) or at
full size on a CUDA GPU (``full``). Choose it with the environment variable
``DLF_PROFILE``, or pass it to the command lines (``--profile``). This module
holds what every chapter shares (how much data, how often to print, the seed);
each experiment's sizes sit beside the experiment.
"""

from __future__ import annotations

import dataclasses
import os
import random

import numpy as np
import torch

PROFILE_VARIABLE = "DLF_PROFILE"
DEVICE_VARIABLE = "DLF_DEVICE"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What every chapter of one profile shares: how much CIFAR-10 it loads, how often it prints, its seed.

    Each experiment's own sizes (epochs, widths, trials, seeds) sit beside its definition, one entry per
    profile: :data:`dlfoundations.experiments.TUNING`, :data:`dlfoundations.generalization.BUDGETS`,
    :data:`dlfoundations.speedrun.SIZES`, or a small table at the top of the chapter that runs it.
    """

    profile: str
    num_train: int  # images taken from the first 49,000 training images
    num_val: int  # images taken from the last 1,000 training images
    num_test: int  # images taken from the 10,000 test images
    print_every: int  # iterations between loss prints / validation checks
    seed: int = 0


PROFILES: dict[str, Settings] = {
    # CI and nbval: real CIFAR-10 subsets, at most a few hundred iterations per experiment
    "quick": Settings(profile="quick", num_train=2_560, num_val=500, num_test=1_000, print_every=10),
    # a laptop without GPU: the assignment's budgets where they take minutes
    "standard": Settings(profile="standard", num_train=49_000, num_val=1_000, num_test=10_000, print_every=100),
    # a CUDA GPU: everything at full size
    "full": Settings(profile="full", num_train=49_000, num_val=1_000, num_test=10_000, print_every=100),
}


def default_profile() -> str:
    """``full`` when CUDA is available, otherwise ``standard``."""
    return "full" if torch.cuda.is_available() else "standard"


def profile_name(name: str | None = None) -> str:
    """``name`` if given, else the profile chosen by ``DLF_PROFILE`` (or the default for this machine)."""
    asked = os.environ.get(PROFILE_VARIABLE, "") if name is None else name
    name = asked.strip().lower() or default_profile()
    if name not in PROFILES:
        valid = ", ".join(PROFILES)
        raise ValueError(
            f"{PROFILE_VARIABLE}={asked!r} is not a run profile; "
            f"use one of: {valid} (or leave it unset for {default_profile()!r} on this machine)."
        )
    return name


def settings(profile: str | None = None) -> Settings:
    """The frozen settings of ``profile`` (default: the current run profile)."""
    return PROFILES[profile_name(profile)]


def device() -> torch.device:
    """CUDA if present, else Apple's MPS, else the CPU (``DLF_DEVICE`` overrides)."""
    forced = os.environ.get(DEVICE_VARIABLE, "").strip()
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def synchronize(device: torch.device | str) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously): call before reading a clock."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA devices


def run_description(dataset=None) -> str:
    """One line naming profile, device, seed and (given a data set) its sizes, for prose and tables (with the
    Chinese editions' versions: :class:`~dlfoundations.book.Said`)."""
    from .wording import common, say

    s = settings()
    text = say(common.RUN, profile=s.profile, device=device(), seed=s.seed)
    if dataset is not None:
        n = [f"{len(y):,}" for y in (dataset.y_train, dataset.y_val, dataset.y_test)]
        text = say(common.RUN_SIZES, run=text, train=n[0], val=n[1], test=n[2])
    return text


CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "asimd", "sve")  # what CPU kernels dispatch on


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``sysctl`` on macOS), else what ``platform`` knows."""
    import platform
    import subprocess

    try:
        for line in open("/proc/cpuinfo", encoding="utf8"):
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """Which of :data:`CPU_FLAGS` the CPU has (Linux; elsewhere none are listed): machines of one nominal size
    differ by 2× in speed, and these say why (AVX-512 or only AVX2, for example)."""
    try:
        with open("/proc/cpuinfo", encoding="utf8") as info:
            flags = next((line.split(":", 1)[1].split() for line in info if line.startswith(("flags", "Features"))), [])
    except OSError:
        return []
    return [flag for flag in CPU_FLAGS if flag in flags]


def describe(data_source: str | None = None, profile: str | None = None, on=None) -> str:
    """Print (and return) the line that opens every chapter's output.

    ``data_source`` is a loaded data set's ``source`` (where its files were found);
    chapters without data pass nothing. A command line passes its ``profile`` and
    device (``on``); a notebook takes the current ones.
    """
    s = settings(profile)
    dev = device() if on is None else torch.device(on)
    hardware = f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""
    line = (
        f"profile: {s.profile} | device: {dev}{hardware} | torch {torch.__version__} | seed: {s.seed}\n"
        f"data: {data_source or 'none used in this chapter'}"
    )
    if dev.type == "cpu":  # what a CPU run's speed depends on besides the CPU itself
        from . import ALLOCATOR

        flags = ", ".join(cpu_flags()) or "none listed"
        line += f"\nCPU: {cpu_name()} ({flags}), {torch.get_num_threads()} thread(s) | malloc: {ALLOCATOR}"
    print(line)
    return line
