"""Run profiles, device choice, seeding and the first line every chapter prints.

A *profile* fixes every size a notebook uses (how many images, how many
epochs, how often to print), so that the same notebook can run in seconds in
CI (``quick``), in minutes on a laptop CPU (``standard``) or at full size on a
CUDA GPU (``full``). Choose it with the environment variable ``DLF_PROFILE``.
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
    """Every size the chapters use, for one run profile."""

    profile: str
    num_train: int  # images taken from the first 49,000 training images
    num_val: int  # images taken from the last 1,000 training images
    num_test: int  # images taken from the 10,000 test images
    batch_size: int
    epochs: int  # epochs of the one-epoch experiments of the API chapters
    print_every: int  # iterations between loss prints / validation checks
    timing_images: int  # images per epoch when timing data pipelines
    search_trials: int  # configurations tried by a hyperparameter search
    search_epochs: int  # epochs per configuration in a search
    descent_images: int  # training images of the full-batch / mini-batch / stochastic comparison
    descent_epochs: int  # epochs of that comparison
    animation_frames: int  # frames of the optimizer animations
    diagnostic_epochs: int  # epochs of the short training runs of the gradient-flow chapter
    search_images: int  # training images per trial of the tuning chapter's searches
    final_seeds: int  # seeds per finalist of the tuning chapter
    fc_hidden: tuple[int, ...]  # hidden widths of the two-layer search (the report's 4000, 5000, 6000)
    wide_channels: tuple[int, int]  # filters of the report's wide ConvNet (128, 64)
    tuned_widths: tuple[int, ...]  # widths of the BatchNorm ConvNet that beats the report
    tuned_convs: int  # convolutions per block of that network
    tuned_epochs: int  # its epochs
    tuned_batch: int  # its batch size (peak learning rate 0.1 at 128, scaled linearly)
    speedrun_images: int  # training images of the speedrun chapter (50,000 = train + val)
    speedrun_epochs: float
    speedrun_batch: int
    speedrun_widths: tuple[int, int, int]
    speedrun_seeds: int
    seed: int = 0

    @property
    def iterations_per_epoch(self) -> int:
        return -(-self.num_train // self.batch_size)


PROFILES: dict[str, Settings] = {
    # CI and nbval: real CIFAR-10 subsets, at most a few hundred iterations.
    "quick": Settings(
        profile="quick",
        num_train=2_560,
        num_val=500,
        num_test=1_000,
        batch_size=64,
        epochs=1,
        print_every=10,
        timing_images=2_560,
        search_trials=4,
        search_epochs=1,
        descent_images=2_560,
        descent_epochs=4,
        animation_frames=30,
        diagnostic_epochs=1,
        search_images=2_560,
        final_seeds=3,
        fc_hidden=(100, 200),
        wide_channels=(16, 8),
        tuned_widths=(32, 64, 128),
        tuned_convs=1,
        tuned_epochs=2,
        tuned_batch=64,
        speedrun_images=2_560,
        speedrun_epochs=4.0,
        speedrun_batch=128,
        speedrun_widths=(16, 32, 32),
        speedrun_seeds=2,
    ),
    # A laptop without GPU: the assignment's budgets where they take minutes.
    "standard": Settings(
        profile="standard",
        num_train=49_000,
        num_val=1_000,
        num_test=10_000,
        batch_size=64,
        epochs=1,
        print_every=100,
        timing_images=10_000,
        search_trials=6,
        search_epochs=2,
        descent_images=10_000,
        descent_epochs=5,
        animation_frames=60,
        diagnostic_epochs=1,
        search_images=5_000,
        final_seeds=3,
        fc_hidden=(4000, 5000, 6000),
        wide_channels=(128, 64),
        tuned_widths=(32, 64, 128),
        tuned_convs=1,
        tuned_epochs=10,
        tuned_batch=128,
        speedrun_images=10_000,
        speedrun_epochs=4.0,
        speedrun_batch=256,
        speedrun_widths=(32, 64, 64),
        speedrun_seeds=2,
    ),
    # A CUDA GPU: everything at full size.
    "full": Settings(
        profile="full",
        num_train=49_000,
        num_val=1_000,
        num_test=10_000,
        batch_size=64,
        epochs=1,
        print_every=100,
        timing_images=49_000,
        search_trials=36,
        search_epochs=10,
        descent_images=49_000,
        descent_epochs=5,
        animation_frames=80,
        diagnostic_epochs=2,
        search_images=49_000,
        final_seeds=5,
        fc_hidden=(4000, 5000, 6000),
        wide_channels=(128, 64),
        tuned_widths=(64, 128, 256),
        tuned_convs=2,
        tuned_epochs=10,
        tuned_batch=128,
        speedrun_images=50_000,
        speedrun_epochs=9.9,
        speedrun_batch=1024,
        speedrun_widths=(64, 256, 256),
        speedrun_seeds=5,
    ),
}


def default_profile() -> str:
    """``full`` when CUDA is available, otherwise ``standard``."""
    return "full" if torch.cuda.is_available() else "standard"


def profile_name() -> str:
    """The profile chosen by ``DLF_PROFILE`` (or the default for this machine)."""
    name = os.environ.get(PROFILE_VARIABLE, "").strip().lower() or default_profile()
    if name not in PROFILES:
        valid = ", ".join(PROFILES)
        raise ValueError(
            f"{PROFILE_VARIABLE}={os.environ.get(PROFILE_VARIABLE)!r} is not a run profile; "
            f"use one of: {valid} (or leave it unset for {default_profile()!r} on this machine)."
        )
    return name


def settings() -> Settings:
    """The frozen settings of the current profile."""
    return PROFILES[profile_name()]


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


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA devices


def run_description(dataset=None) -> str:
    """One line naming profile, device, seed and (given a data set) its sizes, for prose and tables."""
    s = settings()
    text = f"profile `{s.profile}`, device `{device()}`, seed {s.seed}"
    if dataset is not None:
        text += (
            f", {len(dataset.y_train):,} training, {len(dataset.y_val):,} validation"
            f" and {len(dataset.y_test):,} test images"
        )
    return text


def describe(data_source: str | None = None) -> str:
    """Print (and return) the line that opens every chapter's output.

    ``data_source`` is what :func:`dlfoundations.data.describe_source` or a
    loaded data set's ``source`` says; chapters without data pass nothing.
    """
    s = settings()
    dev = device()
    hardware = f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""
    line = (
        f"profile: {s.profile} | device: {dev}{hardware} | torch {torch.__version__} | seed: {s.seed}\n"
        f"data: {data_source or 'none used in this chapter'}"
    )
    print(line)
    return line
