"""Data-parallel training with torchrun (``dlfoundations.distributed``), checked with two CPU processes."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dlfoundations import distributed

WORKER = Path(__file__).parent / "fixtures" / "ddp_worker.py"


def test_shards_split_every_batch_by_rank():
    batches = [(torch.arange(8).view(8, 1), torch.arange(8)), (torch.arange(4).view(4, 1), torch.arange(4))]
    shards = [list(distributed.Sharded(batches, rank, 2)) for rank in range(2)]
    assert [y.tolist() for _, y in shards[0]] == [[0, 2, 4, 6], [0, 2]]
    assert [y.tolist() for _, y in shards[1]] == [[1, 3, 5, 7], [1, 3]]
    assert len(distributed.Sharded(batches, 0, 2)) == 2
    with pytest.raises(ValueError, match="does not split evenly over 3 processes"):
        list(distributed.Sharded(batches, 0, 3))


def test_one_process_changes_nothing():
    model = torch.nn.Linear(2, 2)
    loader = [(torch.zeros(3, 2), torch.zeros(3))]
    assert distributed.wrap(model) is model and distributed.shard(loader) is loader
    assert distributed.world_size() == 1 and distributed.is_main()


def load_worker():
    """``tests/fixtures/ddp_worker.py``, the script torchrun starts, as a module of this process."""
    spec = importlib.util.spec_from_file_location("ddp_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reproduce_args(out: Path) -> list[str]:
    return ["--profile", "quick", "--only", "07,08", "--seeds", "1", "--out", str(out / "results.json")] + [
        "--weights",
        str(out / "weights"),
    ]


def test_two_gloo_processes_split_every_batch_and_take_the_same_steps_as_one(tmp_path, quick_root, monkeypatch):
    """Chapter 07's barebones networks (gradients averaged by ``average_gradients`` hooks) and chapter 08's
    Modules (``DistributedDataParallel``), one epoch of the quick profile on the synthetic quick-sized data:
    40 steps of batch 64, in one process and in two.

    Each rank's model sees rows r, r + 2, … of every batch the single process sees, and nothing else. The
    networks are narrowed (``tests/fixtures/ddp_worker.py``), every process uses one thread, and they end
    with the same weights: the fully connected networks to 1e-6 (measured: 3e-8), the ConvNets to 1e-4
    (measured: 9e-8 and 8e-7; 2e-5 when the single process used two threads). float32 convolution kernels
    sum in a different order for batches of 32 than of 64 (and for other thread counts), and 40 steps
    compound those last-bit differences.
    """
    monkeypatch.setenv("CIFAR10_ROOT", str(quick_root))
    monkeypatch.setenv("DLF_DEVICE", "cpu")
    single, double = tmp_path / "single", tmp_path / "double"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the two processes below
    try:
        load_worker().run(single, reproduce_args(single))  # one process: this one
    finally:
        torch.set_num_threads(threads)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command = [*launcher, str(WORKER), str(double), *reproduce_args(double)]
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]

    # the split: rank r trained on rows r::2 of every batch, for every network
    whole = torch.load(single / "rows-rank0.pt")
    shards = [torch.load(double / f"rows-rank{rank}.pt") for rank in range(2)]
    networks = ["two_layer_fc", "three_layer_convnet", "TwoLayerFC", "ThreeLayerConvNet"]
    assert sorted(whole) == sorted(networks) and all(sorted(shard) == sorted(networks) for shard in shards)
    for name in networks:
        assert whole[name].shape == (40, 64, 16), (name, whole[name].shape)
        for rank, shard in enumerate(shards):
            assert torch.equal(shard[name], whole[name][:, rank::2]), f"{name}: rank {rank} got other rows"

    # the steps: the same weights at the end
    one_file, two_file = (json.loads((out / "results.json").read_text()) for out in (single, double))
    assert two_file["meta"]["processes"] == 2 and one_file["meta"]["processes"] == 1
    weights = sorted(p.name for p in (single / "weights").iterdir())
    # two-layer FC, then ConvNet, for chapter 07 and then 08 (as reproduce runs them)
    tolerance = {"01-seed0.pt": 1e-6, "02-seed0.pt": 1e-4, "03-seed0.pt": 1e-6, "04-seed0.pt": 1e-4}
    assert weights == sorted(tolerance) == sorted(p.name for p in (double / "weights").iterdir())
    for name in weights:
        one = torch.load(single / "weights" / name, weights_only=True)
        two = torch.load(double / "weights" / name, weights_only=True)
        assert one.keys() == two.keys()
        for key in one:
            torch.testing.assert_close(two[key], one[key], atol=tolerance[name], rtol=0, msg=f"{name} {key}")
    for a, b in zip(one_file["records"], two_file["records"], strict=True):
        assert a["experiment"] == b["experiment"]
        for field in ("val", "best_val", "test"):
            assert a[field] == pytest.approx(b[field], abs=2e-3), field  # at most a couple of images differ
