import dataclasses

import pytest
import torch

from dlfoundations import config


def test_each_profile_is_complete_and_frozen(monkeypatch):
    for name in config.PROFILES:
        monkeypatch.setenv("DLF_PROFILE", name)
        s = config.settings()
        assert s.profile == name
        assert 0 < s.num_train <= 49_000 and 0 < s.num_val <= 1_000 and 0 < s.num_test <= 10_000
        with pytest.raises(dataclasses.FrozenInstanceError):
            s.num_train = 99
        assert config.settings(name) == s  # the same profile, passed down instead of read from the environment


def test_quick_profile_stays_small():
    from dlfoundations import experiments, speedrun

    s = config.settings("quick")
    assert -(-s.num_train // 64) <= 300  # one epoch at the assignment's batch of 64: "a few hundred iterations"
    t, z = experiments.tuning("quick"), speedrun.sizes("quick")
    assert t.search_images * t.search_epochs <= 64 * 300 and z.images * z.epochs <= 128 * 300


def test_profile_name_is_case_and_space_tolerant(monkeypatch):
    monkeypatch.setenv("DLF_PROFILE", " Quick ")
    assert config.settings().profile == "quick"


def test_unknown_profile_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv("DLF_PROFILE", "fast")
    with pytest.raises(ValueError, match="'fast'.*quick, standard, full"):
        config.settings()


@pytest.mark.parametrize("cuda, expected", [(True, "full"), (False, "standard")])
def test_default_profile_follows_cuda(monkeypatch, cuda, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert config.settings().profile == expected


def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert config.device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert config.device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert config.device().type == "cpu"
    monkeypatch.setenv("DLF_DEVICE", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert config.device().type == "cpu"  # the override wins


def test_seed_everything_reproduces_draws():
    import random

    import numpy as np

    config.seed_everything(7)
    first = (random.random(), np.random.rand(), torch.rand(3))
    config.seed_everything(7)
    second = (random.random(), np.random.rand(), torch.rand(3))
    assert first[:2] == second[:2] and torch.equal(first[2], second[2])


def test_describe_names_profile_device_and_data(monkeypatch, capsys):
    monkeypatch.setenv("DLF_PROFILE", "quick")
    line = config.describe("CIFAR-10 in /somewhere")
    printed = capsys.readouterr().out
    assert line in printed
    for part in ("profile: quick", f"device: {config.device()}", torch.__version__, "/somewhere"):
        assert part in line
    assert "none used" in config.describe()
