"""Lesion segmentation scored the way lesion studies score it: per case, per class, with the
cases that lack a class left out, false-positive cases counted, areas compared by Bland–Altman,
and confusion between two lesion classes measured.

All functions take integer label maps ``(B, H, W)`` or ``(B, D, H, W)`` (tensors or arrays),
``pred`` and ``target`` of the same shape, values in ``[0, num_classes)``; class 0 is the
background.

- :func:`lesion_scores`: Dice, precision, recall and HD95 per case and foreground class, NaN
  where the case has no ground truth of the class (the convention of studies that "do not
  average over cases without the lesion"), so ``np.nanmean`` gives the per-class means;
- :func:`fp_cases`: how many cases without a class in the ground truth get a prediction of it;
- :func:`cross_class_confusion`: the share of the false-positive pixels of class ``a`` that
  are ground-truth class ``b`` (WMH predicted where the truth is stroke, say);
- :func:`bland_altman`: bias and 95% limits of agreement between measured and true sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dentpy import _checks
from dentpy.metrics import hd95

__all__ = ["BlandAltman", "bland_altman", "cross_class_confusion", "fp_cases", "lesion_scores"]


def _labels(pred: Any, target: Any, num_classes: int | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Both label maps as int64 arrays of one shape, (B, *spatial) with 2 or 3 spatial axes."""
    p = _checks.array("pred", pred, ndim=(3, 4), kind="integer")
    t = _checks.array("target", target, ndim=(3, 4), kind="integer")
    if p.shape != t.shape:
        raise _checks.ArgumentError(
            f"pred and target must have the same shape, got {p.shape} and {t.shape}")
    for name, x in (("pred", p), ("target", t)):
        if x.min() < 0 or (num_classes is not None and x.max() >= num_classes):
            high = "" if num_classes is None else f" and < num_classes = {num_classes}"
            raise _checks.ArgumentError(
                f"{name} must hold class labels >= 0{high}, got values {x.min()} to {x.max()}")
    return p.astype(np.int64), t.astype(np.int64)


def _class(name: str, value: Any, num_classes: int | None = None) -> int:
    return _checks.integer(name, value, low=1, high=None if num_classes is None
                           else num_classes - 1)


def lesion_scores(pred: Any, target: Any, *, num_classes: int,
                  spacing: float | Sequence[float] | None = None) -> dict[str, np.ndarray]:
    """Per-case scores of classes ``1 .. num_classes - 1``: a dict of (B, num_classes - 1)
    float arrays ``"dice"``, ``"precision"``, ``"recall"``, ``"hd95"`` (in the units of
    ``spacing``, mm per pixel along each axis; ``None``: pixels).

    A case whose ground truth lacks the class scores NaN in every metric (leave it out of the
    mean with ``np.nanmean``; count its false positives with :func:`fp_cases`). A case with the
    class in the ground truth but none predicted scores Dice, precision and recall 0 and HD95
    the image diagonal (the largest distance possible, instead of an infinite one that would
    swamp the mean).
    """
    num_classes = _checks.integer("num_classes", num_classes, low=2)
    p, t = _labels(pred, target, num_classes)
    h = hd95(p, t, num_classes=num_classes, include_background=False, spacing=spacing).numpy()
    classes = np.arange(1, num_classes)
    axes = tuple(range(1, p.ndim))
    pc = np.stack([(p == k).sum(axes) for k in classes], 1).astype(float)
    tc = np.stack([(t == k).sum(axes) for k in classes], 1).astype(float)
    inter = np.stack([((p == k) & (t == k)).sum(axes) for k in classes], 1).astype(float)
    precision = np.divide(inter, pc, out=np.zeros_like(inter), where=pc > 0)
    recall = np.divide(inter, tc, out=np.zeros_like(inter), where=tc > 0)
    d = np.divide(2 * inter, pc + tc, out=np.zeros_like(inter), where=pc + tc > 0)
    if spacing is None:
        step = np.ones(p.ndim - 1)
    else:
        step = np.broadcast_to(np.atleast_1d(np.asarray(spacing, dtype=float)), (p.ndim - 1,))
    diagonal = float(np.sqrt(np.sum((np.array(p.shape[1:]) * step) ** 2)))
    h = np.where(np.isinf(h), diagonal, h)
    absent = tc == 0
    out = {"dice": d, "precision": precision, "recall": recall, "hd95": h}
    return {key: np.where(absent, np.nan, value).astype(np.float64) for key, value in out.items()}


def fp_cases(pred: Any, target: Any, cls: int, *, min_pixels: int = 1) -> tuple[int, int]:
    """``(false-positive cases, cases without the class)``: among the cases whose ground truth
    has no pixel of class ``cls``, how many get at least ``min_pixels`` predicted pixels of it.
    ``(0, 0)`` when every case holds the class."""
    p, t = _labels(pred, target)
    cls = _class("cls", cls)
    min_pixels = _checks.integer("min_pixels", min_pixels, low=1)
    axes = tuple(range(1, p.ndim))
    without = ~(t == cls).any(axes)
    flagged = (p == cls).sum(axes) >= min_pixels
    return int((without & flagged).sum()), int(without.sum())


def cross_class_confusion(pred: Any, target: Any, a: int, b: int) -> float:
    """Share of the false-positive pixels of class ``a`` (predicted ``a``, truth not ``a``)
    whose truth is class ``b``, pooled over all cases given; in [0, 1].

    With ``a`` = WMH and ``b`` = stroke: how much of the over-called WMH is in fact missed
    stroke. NaN when there is no false-positive pixel of ``a`` (the share is undefined)."""
    p, t = _labels(pred, target)
    a, b = _class("a", a), _class("b", b)
    if a == b:
        raise _checks.ArgumentError(f"a and b must be two different classes, got {a} and {b}")
    false_a = (p == a) & (t != a)
    n = int(false_a.sum())
    return float("nan") if n == 0 else float((false_a & (t == b)).sum() / n)


@dataclass
class BlandAltman:
    """Agreement of two measurements of the same cases: ``mean`` (n,) and ``diff`` (n,) per
    case (measured minus true), ``bias`` the mean difference, ``sd`` its standard deviation
    (ddof 1), ``low`` and ``high`` the 95% limits of agreement ``bias -/+ 1.96 sd``."""

    mean: np.ndarray
    diff: np.ndarray
    bias: float
    sd: float
    low: float
    high: float


def bland_altman(measured: Any, true: Any) -> BlandAltman:
    """Bland–Altman statistics of ``measured`` against ``true`` values, both (n,), n >= 2
    (e.g. predicted and ground-truth lesion areas per case)."""
    m = _checks.array("measured", measured, ndim=1).astype(np.float64)
    t = _checks.array("true", true, ndim=1).astype(np.float64)
    _checks.same_length(measured=m, true=t)
    if m.size < 2:
        raise _checks.ArgumentError(
            f"measured must hold at least 2 cases for a standard deviation, got {m.size}")
    diff = m - t
    bias, sd = float(diff.mean()), float(diff.std(ddof=1))
    return BlandAltman(mean=(m + t) / 2, diff=diff, bias=bias, sd=sd,
                       low=bias - 1.96 * sd, high=bias + 1.96 * sd)
