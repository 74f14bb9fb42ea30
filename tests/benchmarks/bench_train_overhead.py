"""Overhead of ``dentpy.train.fit`` over a bare PyTorch loop doing the same work.

Both train a small CNN on random 1×32×32 images (train + validation pass per epoch, mean
epoch losses) from the same initial weights; the script prints the best-of-N wall times and
their ratio (target: at most 1.05). Run by hand:

    PYTHONPATH=. python tests/benchmarks/bench_train_overhead.py [--device cuda]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dentpy.runtime import get_device
from dentpy.train import fit


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 8 * 8, 2),
    )


def bare_loop(model, train, val, loss_fn, optimizer, epochs, device) -> list[float]:
    val_losses = []
    for _ in range(epochs):
        model.train()
        total, count = 0.0, 0
        for x, y in train:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
            count += len(x)
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in val:
                x, y = x.to(device), y.to(device)
                total += loss_fn(model(x), y).item() * len(x)
                count += len(x)
        val_losses.append(total / count)
    return val_losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n", type=int, default=1024, help="training images")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.n, 1, 32, 32, generator=g)
    y = torch.randint(0, 2, (args.n,), generator=g)
    train = DataLoader(TensorDataset(x, y), batch_size=32)
    val = DataLoader(TensorDataset(x[: args.n // 4], y[: args.n // 4]), batch_size=64)
    torch.manual_seed(0)
    initial = small_cnn().to(device)
    loss_fn = nn.CrossEntropyLoss()

    def run(which: str) -> float:
        model = copy.deepcopy(initial)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        if which == "bare":
            bare_loop(model, train, val, loss_fn, optimizer, args.epochs, device)
        else:
            fit(model, train, val, loss_fn, optimizer, args.epochs, device=str(device),
                progress=which == "fit+progress")
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    run("bare"), run("fit")  # warm-up
    kinds = ("bare", "fit", "fit+progress")
    times = {kind: [] for kind in kinds}
    for _ in range(args.repeats):
        for kind in kinds:  # interleaved, so load changes hit all three alike
            times[kind].append(run(kind))
    best = {kind: min(values) for kind, values in times.items()}
    print(f"device={device} n={args.n} epochs={args.epochs} repeats={args.repeats} "
          f"threads={torch.get_num_threads()}")
    for kind in kinds:
        print(f"{kind:>13}: best {best[kind]:.3f} s   all {[round(t, 3) for t in times[kind]]}")
    print(f"ratio fit/bare          = {best['fit'] / best['bare']:.3f}  (target <= 1.05)")
    print(f"ratio fit+progress/bare = {best['fit+progress'] / best['bare']:.3f}")


if __name__ == "__main__":
    main()
