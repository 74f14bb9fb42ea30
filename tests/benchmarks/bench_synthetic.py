"""Speed of the synthetic world: panoramic images/s at 256 x 512 and 800 x 1480, volumes/s.

Run by hand:  PYTHONPATH=. python tests/benchmarks/bench_synthetic.py [--n 100] [--workers 2]

Prints items/s in one process (torch limited to one thread), for the centred and the realistic
framing, and through a DataLoader with ``--workers`` worker processes, the way training reads
the data. Items per CPU-second are printed too: on a shared machine they move less with the
other load than the wall-clock rate (the issue's goal, 25 images/s at 800 x 1480, is in one
process).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader

from dentpy.data.datasets import RestorationDataset, VolumeDataset
from dentpy.data.synthetic import make_panoramic, make_volume


def _rate(fn, n: int) -> tuple[float, float]:
    """Items per wall-clock second and per CPU second (the latter ignores other load)."""
    fn(0)  # warm caches and imports
    t, c = time.perf_counter(), time.process_time()
    for i in range(1, n + 1):
        fn(i)
    return n / (time.perf_counter() - t), n / (time.process_time() - c)


def _loader_rate(ds, workers: int) -> float:
    loader = DataLoader(ds, batch_size=8, num_workers=workers)
    t = time.perf_counter()
    for _ in loader:
        pass
    return len(ds) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100, help="images per measurement")
    ap.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for size, n in (((256, 512), args.n), ((800, 1480), max(args.n // 2, 5))):
        for framing in ("centred", "realistic"):
            one = _rate(lambda i, s=size, f=framing: make_panoramic(i, size=s, framing=f), n)
            ds = RestorationDataset(n, size=size, framing=framing)
            many = _loader_rate(ds, args.workers)
            print(
                f"panoramic {size[0]}x{size[1]} {framing:9s}: {one[0]:7.1f} img/s in 1 process "
                f"({one[1]:.1f} per CPU-second), "
                f"{many:7.1f} img/s with {args.workers} DataLoader workers"
            )
    nv = max(args.n // 10, 5)
    one = _rate(lambda i: make_volume(i), nv)
    many = _loader_rate(VolumeDataset(nv), args.workers)
    print(
        f"volume 64x96x96: {one[0]:7.1f} vol/s in 1 process ({one[1]:.1f} per CPU-second), "
        f"{many:7.1f} vol/s with "
        f"{args.workers} DataLoader workers"
    )


if __name__ == "__main__":
    main()
