"""Anchors and grids: box shapes learnt by k-means, and the centres of the detector's cells.

A one-stage detector divides the image into a grid of ``H' x W'`` cells (``S x S`` in YOLOv1),
one per output position of its last feature map, ``stride`` pixels apart. Each cell holds
``A`` *anchors*, prior box shapes ``(w, h)``; the network predicts how to shift and stretch
them. YOLOv2 chose the anchors by k-means on the training boxes' widths and heights with the
distance ``1 - IoU`` (boxes compared as if they shared a centre), so that a large box and a
small box are judged by overlap rather than by pixels of difference.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from dentpy import _checks
from dentpy.detect.boxes import _as_tensor

__all__ = ["grid_centres", "kmeans_anchors", "mean_best_iou", "wh_iou"]


def _check_wh(wh: Any, name: str) -> Tensor:
    """Box shapes ``(N, 2)``, ``N >= 1``, positive and finite, as a float tensor."""
    wh = _as_tensor(name, wh)
    if wh.dtype == torch.bool or wh.is_complex():
        raise _checks.ArgumentTypeError(f"{name} must hold real numbers, got dtype {wh.dtype}")
    wh = wh.double() if wh.dtype == torch.float64 else wh.float()
    if wh.ndim != 2 or wh.shape[1] != 2:
        raise _checks.ArgumentError(f"{name} must have shape (N, 2) (widths, heights), got "
                                    f"{tuple(wh.shape)}")
    if wh.shape[0] == 0:
        raise _checks.ArgumentError(f"{name} is empty; need at least one (width, height)")
    if not torch.isfinite(wh).all():
        raise _checks.ArgumentError(f"{name} contains NaN or infinite values")
    if (wh <= 0).any():
        raise _checks.ArgumentError(f"{name} must hold positive widths and heights")
    return wh


def wh_iou(wh1: Any, wh2: Any) -> Tensor:
    """IoU of box shapes placed on a common centre: ``(N, 2)``, ``(K, 2)`` -> ``(N, K)``.

    ``min(w1, w2) * min(h1, h2) / (w1 h1 + w2 h2 - min(w1, w2) * min(h1, h2))``.
    """
    a, b = _check_wh(wh1, "wh1"), _check_wh(wh2, "wh2")
    return _wh_iou(a, b)


def _wh_iou(a: Tensor, b: Tensor) -> Tensor:
    inter = torch.minimum(a[:, None], b[None]).prod(-1)
    return inter / (a.prod(-1)[:, None] + b.prod(-1)[None] - inter)


def kmeans_anchors(wh: Any, k: int, *, iterations: int = 100, seed: int = 0) -> Tensor:
    """``k`` anchor shapes ``(k, 2)`` (width, height in pixels) by k-means on ``wh`` ``(N, 2)``.

    Distance ``1 - wh_iou``; seeding by k-means++ (each new centre drawn with probability
    proportional to its distance to the nearest chosen one) from a generator seeded with
    ``seed``; each update moves a centre to the mean shape of its members (a centre left with
    no member stays where it is). Stops after ``iterations`` rounds or when no box changes
    cluster. Anchors are returned sorted by area, smallest first.
    """
    wh = _check_wh(wh, "wh")
    k = _checks.integer("k", k, low=1)
    if k > wh.shape[0]:
        raise _checks.ArgumentError(f"k={k} is larger than the number of boxes in wh "
                                    f"({wh.shape[0]})")
    iterations = _checks.integer("iterations", iterations, low=1)
    seed = _checks.integer("seed", seed, low=0)
    gen = torch.Generator().manual_seed(seed)
    data = wh.cpu()
    centres = data[torch.randint(data.shape[0], (1,), generator=gen)]
    for _ in range(1, k):
        dist = (1 - _wh_iou(data, centres)).min(1).values
        if dist.sum() <= 0:  # fewer distinct shapes than k: repeat one
            pick = torch.randint(data.shape[0], (1,), generator=gen)
        else:
            pick = torch.multinomial(dist, 1, generator=gen)
        centres = torch.cat([centres, data[pick]])
    assign = None
    for _ in range(iterations):
        new = _wh_iou(data, centres).argmax(1)
        if assign is not None and torch.equal(new, assign):
            break
        assign = new
        for j in range(k):
            members = data[assign == j]
            if members.shape[0]:
                centres[j] = members.mean(0)
    order = centres.prod(-1).argsort()
    return centres[order].to(wh.device)


def mean_best_iou(wh: Any, anchors: Any) -> float:
    """Mean over boxes ``(N, 2)`` of the IoU with their best anchor ``(K, 2)`` (YOLOv2's
    "Avg IOU" that it reports for anchor sets): 1 means every box has a perfect anchor."""
    wh, anchors = _check_wh(wh, "wh"), _check_wh(anchors, "anchors")
    return float(_wh_iou(wh, anchors).max(1).values.mean())


def grid_centres(grid_h: int, grid_w: int, *, stride: float = 1.0) -> Tensor:
    """Pixel centres of a ``grid_h x grid_w`` grid of cells ``stride`` pixels wide.

    Returns ``(grid_h, grid_w, 2)`` float32 holding ``(x, y)``: cell ``(i, j)`` (row, column)
    covers ``[j s, (j+1) s) x [i s, (i+1) s)`` and has centre ``((j + 0.5) s, (i + 0.5) s)``.
    YOLOv1's ``S x S`` grid over a square image of side ``L`` is ``grid_centres(S, S,
    stride=L / S)``.
    """
    grid_h = _checks.integer("grid_h", grid_h, low=1)
    grid_w = _checks.integer("grid_w", grid_w, low=1)
    stride = _checks.number("stride", stride, low=0, low_open=True)
    ys = (torch.arange(grid_h, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(grid_w, dtype=torch.float32) + 0.5) * stride
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy), dim=-1)
