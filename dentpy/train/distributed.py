"""Several processes, one model: the helpers ``fit`` uses under ``torchrun``.

``torchrun --nproc_per_node=N script.py`` starts N copies of a script and sets ``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``. ``fit`` then joins the
process group (NCCL on GPUs, Gloo on CPUs), wraps the model in ``DistributedDataParallel``
and gives each process its own shard of the data; only rank 0 prints and writes files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, Sampler

from dentpy import _checks

BACKENDS = ("nccl", "gloo")


def is_distributed() -> bool:
    """``True`` inside an initialised process group."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """``True`` on rank 0, the process that prints and writes checkpoints."""
    return rank() == 0


def barrier() -> None:
    """Wait for every process (no-op when not distributed)."""
    if is_distributed():
        dist.barrier()


def init_distributed(backend: str | None = None) -> bool:
    """Join the process group described by torchrun's environment; returns ``is_distributed()``.

    Does nothing without ``WORLD_SIZE > 1`` in the environment or when already initialised.
    ``backend`` defaults to ``"nccl"`` with CUDA and ``"gloo"`` without.
    """
    if backend is not None:
        _checks.choice("backend", backend, BACKENDS)
    if is_distributed():
        return True
    world = os.environ.get("WORLD_SIZE", "1")
    if not world.strip().isdigit():
        raise ValueError(f"the environment variable WORLD_SIZE must be an integer, got {world!r}")
    if int(world) <= 1:
        return False
    if not dist.is_available():
        raise ValueError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend=backend)
    return True


class ShardSampler(Sampler[int]):
    """Indices ``rank, rank + world, ...`` of a dataset, in order and without padding.

    For evaluation: unlike ``DistributedSampler`` it repeats no sample, so summed losses and
    gathered predictions cover the dataset exactly once.
    """

    def __init__(self, n: int, *, rank: int, world_size: int):
        n = _checks.integer("n", n, low=0)
        world_size = _checks.integer("world_size", world_size, low=1)
        rank = _checks.integer("rank", rank, low=0, high=world_size - 1)
        self.indices = range(rank, n, world_size)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def shard_loader(loader: DataLoader, *, train: bool) -> DataLoader:
    """The same loader reading only this process's shard of the dataset.

    A training loader gets a ``DistributedSampler`` (shuffled if the original shuffled; the
    batch size stays per process, so the global batch is ``batch_size * world_size``; like
    PyTorch, it repeats a few samples when the dataset does not split evenly); an
    evaluation loader gets a :class:`ShardSampler`. A loader that already has a
    ``DistributedSampler`` is returned as is.
    """
    if not isinstance(loader, DataLoader):
        raise _checks.ArgumentTypeError(
            f"loader must be a torch DataLoader, got {_checks.describe(loader)}"
        )
    train = _checks.flag("train", train)
    if isinstance(loader.sampler, (DistributedSampler, ShardSampler)):
        return loader
    if loader.batch_size is None:
        raise ValueError(
            "loader: a custom batch_sampler cannot be sharded automatically; give it a "
            "DistributedSampler yourself"
        )
    n = len(loader.dataset)
    if train:
        seed = loader.generator.initial_seed() if loader.generator is not None else 0
        sampler: Sampler[int] = DistributedSampler(
            loader.dataset, num_replicas=world_size(), rank=rank(),
            shuffle=isinstance(loader.sampler, RandomSampler), seed=seed,
            drop_last=loader.drop_last,
        )
    else:
        sampler = ShardSampler(n, rank=rank(), world_size=world_size())
    options: dict[str, Any] = dict(
        batch_size=loader.batch_size, num_workers=loader.num_workers,
        collate_fn=loader.collate_fn, pin_memory=loader.pin_memory, drop_last=loader.drop_last,
        worker_init_fn=loader.worker_init_fn, generator=loader.generator,
    )
    if loader.num_workers > 0:
        options["persistent_workers"] = loader.persistent_workers
    return DataLoader(loader.dataset, sampler=sampler, **options)


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over processes (in place; returned for convenience)."""
    if not isinstance(tensor, torch.Tensor):
        raise _checks.ArgumentTypeError(f"tensor must be a tensor, got {_checks.describe(tensor)}")
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_gather_objects(obj: Any) -> list[Any]:
    """One picklable object from each process, in rank order (``[obj]`` when not distributed)."""
    if not is_distributed():
        return [obj]
    gathered: list[Any] = [None] * world_size()
    dist.all_gather_object(gathered, obj)
    return gathered
