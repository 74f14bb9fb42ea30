"""Train a small classifier on the synthetic panoramic world, in one process or under torchrun.

The same file runs alone or as N DistributedDataParallel processes; ``dentpy.train.fit`` joins
the process group that ``torchrun`` describes (NCCL on GPUs, Gloo on CPUs). ``--batch-size`` is
per process, so the global batch is ``batch_size * nproc``. Rank 0 writes ``--out``: the final
weights and the history.

    python data_scripts/ddp_train.py --out run.pt                        # one process
    torchrun --standalone --nproc_per_node=2 data_scripts/ddp_train.py \\
        --device cpu --out run.pt                                        # 2 CPU processes
    torchrun --standalone --nproc_per_node=4 data_scripts/ddp_train.py --out run.pt  # 4 GPUs

The network uses group norm rather than batch norm: its result does not depend on how a batch
is split across processes, so N processes with batch B train exactly like one with batch N*B.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, Subset

from dentpy.data.datasets import RestorationDataset
from dentpy.runtime import seed_everything
from dentpy.train import History, fit
from dentpy.train.distributed import is_main_process


def make_model(width: int = 8, num_classes: int = 5) -> nn.Module:
    """Three (conv, group norm, ReLU, 2x pool) blocks, global pooling, a linear head."""
    if width < 1 or width % 4:
        raise ValueError(f"width must be a positive multiple of 4, got {width!r}")
    layers: list[nn.Module] = []
    channels = 1
    for level in range(3):
        out = width * 2**level
        layers += [nn.Conv2d(channels, out, 3, padding=1), nn.GroupNorm(4, out), nn.ReLU(),
                   nn.MaxPool2d(2)]
        channels = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(channels, num_classes))


def train(
    *,
    n_train: int = 64,
    n_val: int = 32,
    size: tuple[int, int] = (96, 160),
    epochs: int = 2,
    batch_size: int = 8,
    lr: float = 1e-3,
    width: int = 8,
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
) -> tuple[nn.Module, History]:
    """Train ``make_model(width)`` with ``fit``; under torchrun each process reads its shard.

    The training sampler is a ``DistributedSampler`` over ``WORLD_SIZE`` replicas (1 without
    torchrun), shuffled with ``seed``: the union of the processes' batches of one step is the
    single-process batch of ``batch_size * WORLD_SIZE`` images.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    panoramics = RestorationDataset(n_train + n_val, seed=seed, size=size)
    train_set = Subset(panoramics, range(n_train))
    val_set = Subset(panoramics, range(n_train, n_train + n_val))
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True,
                                 seed=seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, sampler=sampler)
    val_loader = DataLoader(val_set, batch_size=32)
    seed_everything(seed)
    model = make_model(width)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    history = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs,
                  device=device, restore_best=False, progress=progress,
                  config={"script": "ddp_train.py", "n_train": n_train, "seed": seed})
    return model, history


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=64)
    parser.add_argument("--n-val", type=int, default=32)
    parser.add_argument("--size", type=int, nargs=2, default=(96, 160), metavar=("H", "W"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8, help="per process")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda")
    parser.add_argument("--out", type=Path, default=None, help="where rank 0 saves the result")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    model, history = train(n_train=args.n_train, n_val=args.n_val, size=tuple(args.size),
                           epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           width=args.width, seed=args.seed, device=args.device,
                           progress=not args.quiet)
    if is_main_process():
        print(history)
        if args.out is not None:
            state = {k: v.cpu() for k, v in model.state_dict().items()}
            torch.save({"model": state, "history": history.to_dict(),
                        "world_size": int(os.environ.get("WORLD_SIZE", "1"))}, args.out)
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
