"""Speed of dentpy.metrics.dice and hd95 against MONAI (compute_dice, compute_hausdorff_distance).

Run by hand:  PYTHONPATH=. python tests/benchmarks/bench_metrics.py [--batch 8] [--repeats 3]

Inputs are synthetic tooth masks (one channel) from the course's panoramic world, at 128 x 256
and 256 x 512, and a shifted, dilated copy as the "prediction". Prints the best-of-``repeats``
time per batch and per image for each implementation, and checks that both give the same scores.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from monai.metrics import compute_dice, compute_hausdorff_distance
from scipy import ndimage

from dentpy import metrics
from dentpy.data.synthetic import make_panoramic


def masks(batch: int, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(pred, target) float masks (B, 1, H, W): tooth masks and shifted, dilated copies."""
    target = np.stack([make_panoramic(i, size=size).tooth_mask for i in range(batch)]).astype(bool)
    pred = np.stack([ndimage.binary_dilation(np.roll(t, (1, 2), axis=(0, 1))) for t in target])
    return torch.from_numpy(pred[:, None]).float(), torch.from_numpy(target[:, None]).float()


def implementations(pred: torch.Tensor, target: torch.Tensor) -> dict:
    """Name -> zero-argument callable computing the scores of the batch (B, 1)."""
    return {
        "dice   dentpy": lambda: metrics.dice(pred, target),
        "dice   MONAI ": lambda: compute_dice(pred, target, ignore_empty=False),
        "hd95   dentpy": lambda: metrics.hd95(pred, target, spacing=(0.1, 0.1)),
        "hd95   MONAI ": lambda: compute_hausdorff_distance(
            pred, target, include_background=True, percentile=95, spacing=[0.1, 0.1]
        ),
    }


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # MONAI's internal deprecation
    print(f"torch threads: {torch.get_num_threads()}, batch {args.batch}, "
          f"best of {args.repeats}")
    for size in [(128, 256), (256, 512)]:
        pred, target = masks(args.batch, size)
        cases = implementations(pred, target)
        torch.testing.assert_close(cases["dice   dentpy"](), cases["dice   MONAI "]().float())
        torch.testing.assert_close(cases["hd95   dentpy"](), cases["hd95   MONAI "]().float())
        print(f"\n{size[0]} x {size[1]}:")
        for name, fn in cases.items():
            seconds = best_time(fn, args.repeats)
            print(f"  {name}  {1e3 * seconds:9.2f} ms per batch  "
                  f"{1e3 * seconds / args.batch:8.2f} ms per image")


if __name__ == "__main__":
    main()
