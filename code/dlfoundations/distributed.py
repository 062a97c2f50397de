"""Data-parallel training with ``torchrun``: each process trains on its shard of every global batch.

    torchrun --nproc-per-node 2 -m dlfoundations.reproduce --profile standard --only 08 --out results/x.json

``torchrun`` starts K processes and tells each its rank through environment variables; :func:`setup`
joins them into one process group (gloo on the CPU, NCCL on CUDA GPUs). Every process builds the same
model from the same seed and walks the same shuffled batches; :func:`shard` gives rank r the rows
r, r + K, r + 2K, … of each batch, and the gradients are averaged across processes before every
update (:func:`wrap` uses ``DistributedDataParallel``; :func:`average_gradients` does the same for the
barebones chapter's plain tensors). When every shard has the same size, the average of the K shard
means is the mean over the whole batch, so K processes take the same steps as one process would with
the same global batch. ``tests/test_distributed.py`` checks both halves under ``torchrun``, for the
barebones hooks and for ``DistributedDataParallel``: that each rank's network receives exactly its rows
of every batch, and that two processes end with the weights of one (to 1e-6 for fully connected networks).

BatchNorm: on CUDA, :func:`wrap` converts BatchNorm layers to ``SyncBatchNorm``, whose statistics span
the global batch. On the CPU (gloo) each process normalizes with the statistics of its own shard, so
a BatchNorm model trained with K CPU processes sees batches K times smaller in its BatchNorm layers.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    """True in the one process that prints and writes files (rank 0, or a plain single-process run)."""
    return rank() == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device: torch.device) -> None:
    """Join the process group torchrun prepared (no-op in a single process); on CUDA, one GPU per rank."""
    if not launched_by_torchrun() or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """``DistributedDataParallel`` around the model when several processes train it, else the model."""
    if world_size() == 1:
        return model
    device = next(model.parameters()).device
    if device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index])
    return torch.nn.parallel.DistributedDataParallel(model)


def average_gradients(params: list[torch.Tensor]) -> None:
    """Make every tensor's gradient the mean over processes, as it is computed (barebones training)."""
    if world_size() == 1:
        return
    k = world_size()

    def mean_over_processes(grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad / k

    for p in params:
        p.register_hook(mean_over_processes)


class Sharded:
    """The batches of ``loader``, each cut to this process's rows (rank r takes r, r + K, …)."""

    def __init__(self, loader, rank: int, world: int):
        self.loader, self.rank, self.world = loader, rank, world

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            if len(y) % self.world:
                raise ValueError(
                    f"a batch of {len(y)} images does not split evenly over {self.world} processes; "
                    f"choose a batch size and training-set size divisible by {self.world}"
                )
            yield x[self.rank :: self.world], y[self.rank :: self.world]


def shard(loader):
    """``loader`` itself in one process, else :class:`Sharded` for this rank."""
    return loader if world_size() == 1 else Sharded(loader, rank(), world_size())
