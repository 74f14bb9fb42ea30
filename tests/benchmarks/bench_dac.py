"""Speed of dentpy.dac.find_roi on 800 x 1480 synthetic panoramics (the paper's search size).

Run by hand:  PYTHONPATH=. python tests/benchmarks/bench_dac.py [--device cuda] [--threads 1]

Prints images/s of the batched search (closed-form gradients, all images at once) for several
batch sizes, and of a literal one-image-at-a-time Algorithm 1 (full 2D window of eq. 2, autograd
through eq. 3 in float64, the paper's start x_c = w/2), the version written in the book's chapter
"DAC 2: the search", then the ratio. Timings include the max-min pooling of the full-size images.
The issue's aim on a 2-core CPU: >= 30 images/s batched and >= 10x the literal version; issue 13
asks >= 100 images/s batched with the defaults (a band that bends with the arch, the map in units
of its mean); the paper's search (``aspect="image", contrast_scale=255``), its peak-1 reading and
the box of free aspect (``shape="box"``) are timed too.
"""

from __future__ import annotations

import argparse
import time

import torch

from dentpy.dac import dac_cost, find_roi, max_min_dif
from dentpy.data.synthetic import make_panoramic


def literal_find_roi(
    image: torch.Tensor, *, k: int = 10, max_steps: int = 100, tol: float = 0.01,
    contrast_scale: float = 255.0,
) -> torch.Tensor:
    """Algorithm 1 for one (H, W) image, straight from the equations; returns (x_c, y_c, r).
    The contrast map is read in 8-bit units (peak ``contrast_scale``), as the paper's images."""
    s = max_min_dif(image.double(), k)
    s = contrast_scale * s / s.max().clamp_min(1e-12)
    h, w = s.shape
    r_min = w / 3.5
    theta = torch.tensor([w / 2, h / 2, w / 2.3 - r_min], dtype=torch.float64)
    for stage in range(4):
        gamma, eta = 0.025 * 4**stage, 96.0 / 2**stage
        for _ in range(max_steps):
            theta = theta.detach().requires_grad_(True)
            cost = dac_cost(s, theta[0], theta[1], theta[2], r_min, h / w, gamma)
            (grad,) = torch.autograd.grad(cost, theta)
            step = theta.detach() + eta * grad.clamp(-0.05, 0.05)
            new = torch.stack([step[0].clamp(0, w - 1), step[1].clamp(0, h - 1), step[2].abs()])
            moved = (new - theta.detach()).abs().max()
            theta = new
            if moved <= tol:
                break
    return theta


def panoramics(n: int, height: int = 800, width: int = 1480) -> torch.Tensor:
    """``n`` synthetic panoramics, float32 in [0, 1], shape (n, height, width)."""
    return torch.stack(
        [torch.as_tensor(make_panoramic(i, seed=0, size=(height, width)).image) for i in range(n)]
    )


def rate(fn, n_images: int, repeats: int) -> float:
    """Images per second of ``fn`` (after one warm-up call), best of ``repeats``."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n_images / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--literal-images", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    images = panoramics(48).to(device)
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__} "
          f"images={tuple(images.shape[1:])}")
    settings = {  # the paper's search, its peak-1 reading, then the defaults (reported last)
        "paper, 8-bit": {"aspect": "image", "contrast_scale": 255.0},
        "paper, peak 1": {"aspect": "image", "contrast_scale": 1.0},
        "free box, mean": {"shape": "box"},
        "default (band, mean)": {},
    }
    rates = {}
    for name, options in settings.items():
        for batch in (1, 16, 48):
            x = images[:batch]
            rates[name] = rate(lambda x=x, options=options: find_roi(x, **options), batch,
                               args.repeats)
            print(f"find_roi batched  {name:21s} batch={batch:2d}: {rates[name]:8.1f} images/s")
    cpu = images[: args.literal_images].cpu()
    start = time.perf_counter()
    for image in cpu:
        literal_find_roi(image)
    literal = len(cpu) / (time.perf_counter() - start)
    print(f"literal one-by-one  batch= 1: {literal:8.2f} images/s (CPU, mean of {len(cpu)})")
    print(f"batched (48, the paper's search) / literal: {rates['paper, 8-bit'] / literal:.0f}x")


if __name__ == "__main__":
    main()
