"""Speed of dentpy.dac.find_roi on 800 x 1480 images (the paper's search size after pooling).

Run by hand:  PYTHONPATH=. python tests/benchmarks/bench_dac.py [--device cuda] [--threads 1]

Prints images/s of the batched search (analytic gradients, all images at once) for batch 1 and
16, and of a literal one-image-at-a-time version (full 2D window of eq. 2, autograd through eq. 3)
for comparison. Timings include the max-min pooling of the full-size image.
"""

from __future__ import annotations

import argparse
import time

import torch

from dentpy.dac import dac_cost, find_roi, max_min_dif


def literal_find_roi(image: torch.Tensor, *, k: int = 10, steps: int = 100) -> torch.Tensor:
    """Algorithm 1 for one (H, W) image, written straight from the equations (for timing)."""
    s = max_min_dif(image.float(), k)
    s = s / s.max().clamp_min(1e-12)
    h, w = s.shape
    theta = torch.tensor([(w - 1) / 2, (h - 1) / 2, w / 2.3 - w / 3.5], requires_grad=True)
    gamma, eta = 0.025, 96.0
    for _ in range(4):
        for _ in range(steps):
            cost = dac_cost(s, theta[0], theta[1], theta[2], w / 3.5, h / w, gamma)
            (grad,) = torch.autograd.grad(cost, theta)
            with torch.no_grad():
                theta += eta * grad.clamp(-0.05, 0.05)
                theta[:2] = torch.minimum(theta[:2].clamp_min(0), torch.tensor([w - 1.0, h - 1.0]))
                theta[2] = theta[2].abs()
        gamma, eta = gamma * 4, eta / 2
    return theta.detach()


def scenes(n: int, height: int = 800, width: int = 1480) -> torch.Tensor:
    """uint8 images: a bright striped rectangle (random place, 62-87% of the width) on noise."""
    g = torch.Generator().manual_seed(0)
    images = 0.1 + 0.03 * torch.randn(n, height, width, generator=g)
    for i in range(n):
        bw = int(width * (0.62 + 0.25 * torch.rand(1, generator=g).item()))
        bh = min(int(bw * height / width), height - 1)
        x0 = int(torch.randint(0, width - bw + 1, (1,), generator=g))
        y0 = int(torch.randint(0, height - bh + 1, (1,), generator=g))
        stripes = 0.25 * torch.sin(2 * torch.pi * torch.arange(bw) / 22.0)
        images[i, y0 : y0 + bh, x0 : x0 + bw] = 0.5 + stripes + 0.08 * torch.randn(bh, bw)
    return (images.clamp(0, 1) * 255).to(torch.uint8)


def rate(fn, n_images: int, repeats: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return n_images * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    images = scenes(16).to(device)
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__}")
    for batch in (1, 16):
        x = images[:batch]
        ips = rate(lambda x=x: find_roi(x), batch, args.repeats)
        print(f"find_roi batched   batch={batch:2d}: {ips:8.1f} images/s")
    one = images[0].cpu()
    ips = rate(lambda: literal_find_roi(one), 1, 1)
    print(f"literal one-by-one batch= 1: {ips:8.1f} images/s (CPU)")


if __name__ == "__main__":
    main()
