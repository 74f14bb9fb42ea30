"""Dental structure for detectors: FDI error kinds, matching, and tooth-aware post-processing.

An FDI number ``10 q + p`` names quadrant ``q`` (1 upper right, 2 upper left, 3 lower left,
4 lower right, from the patient's view) and position ``p`` (1 central incisor ... 8 third
molar). A detector that numbers teeth makes characteristic mistakes, which
:func:`fdi_error_kind` sorts:

* ``"neighbour"``: same quadrant, one position off (34 for 35);
* ``"same quadrant"``: same quadrant, two or more positions off;
* ``"left-right"``: same arch and position, other side of the midline (16 for 26, 36 for 46);
* ``"upper-lower"``: same side and position, other arch (16 for 46, 26 for 36);
* ``"other"`` for anything else, ``"correct"`` when equal.

:func:`match_detections` pairs detections with true boxes by IoU whatever their labels, so
that a box on the right tooth with the wrong number can be counted; :func:`best_per_class`
keeps at most ``k`` boxes per label (a mouth has one tooth 36); :func:`assign_to_boxes` gives
each box (e.g. a restoration) the index of the box (e.g. the tooth) that covers most of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from dentpy import _checks
from dentpy.detect.boxes import (
    _check_labels,
    _check_scores,
    _inter_union,
    _safe_ratio,
    check_boxes,
)

__all__ = ["FDI_ERROR_KINDS", "assign_to_boxes", "best_per_class", "fdi_error_kind",
           "match_detections"]

FDI_ERROR_KINDS = ("correct", "neighbour", "same quadrant", "left-right", "upper-lower",
                   "other")
_MIRROR_LR = {1: 2, 2: 1, 3: 4, 4: 3}  # same arch, other side
_MIRROR_UL = {1: 4, 4: 1, 2: 3, 3: 2}  # same side, other arch


def _fdi(value: Any, name: str) -> np.ndarray:
    f = _checks.array(name, value, kind="integer", nonempty=False).astype(np.int64).reshape(-1)
    q, p = f // 10, f % 10
    if not ((q >= 1) & (q <= 4) & (p >= 1) & (p <= 8)).all():
        raise _checks.ArgumentError(f"{name} must hold FDI numbers 11..18, 21..28, 31..38, "
                                    f"41..48, got {f.tolist()!r:.120}")
    return f


def fdi_error_kind(true_fdi: Any, pred_fdi: Any) -> np.ndarray:
    """Kind of each (true, predicted) FDI pair, one of :data:`FDI_ERROR_KINDS`.

    ``true_fdi`` and ``pred_fdi``: equal-length sequences (or scalars) of FDI numbers, integers
    (floats raise rather than being truncated). Returns a numpy array of strings, same length
    (empty for empty inputs).
    """
    t, p = _fdi(true_fdi, "true_fdi"), _fdi(pred_fdi, "pred_fdi")
    if t.shape != p.shape:
        raise _checks.ArgumentError(f"true_fdi and pred_fdi must have the same length, got "
                                    f"{t.size} and {p.size}")
    tq, tp, pq, pp = t // 10, t % 10, p // 10, p % 10
    lr = np.array([_MIRROR_LR[q] for q in tq.tolist()], dtype=np.int64).reshape(tq.shape)
    ul = np.array([_MIRROR_UL[q] for q in tq.tolist()], dtype=np.int64).reshape(tq.shape)
    same_q = tq == pq
    return np.select(
        [t == p, same_q & (np.abs(tp - pp) == 1), same_q, (pq == lr) & (tp == pp),
         (pq == ul) & (tp == pp)],
        list(FDI_ERROR_KINDS[:5]), default="other")


def _check_pred(pred: Any, name: str = "pred") -> tuple[Tensor, Tensor, Tensor]:
    if not isinstance(pred, dict) or any(k not in pred for k in ("boxes", "scores", "labels")):
        raise _checks.ArgumentTypeError(f"{name} must be a dict with 'boxes', 'scores' and "
                                        f"'labels', got {_checks.describe(pred)}")
    boxes = check_boxes(pred["boxes"], f"{name}['boxes']")
    n = boxes.shape[0]
    scores = _check_scores(pred["scores"], n, f"{name}['scores']")
    labels = _check_labels(pred["labels"], n, f"{name}['labels']")
    return boxes, scores, labels


def match_detections(pred: dict, target: dict, *, iou_threshold: float = 0.5,
                     score_threshold: float = 0.0) -> tuple[Tensor, Tensor]:
    """Pair the detections of one image with its true boxes, ignoring labels.

    Detections with ``score >= score_threshold`` are taken by decreasing score; each takes the
    untaken true box it overlaps most, if that IoU is ``>= iou_threshold``. ``pred``:
    ``{"boxes" (n, 4) xyxy, "scores" (n,), "labels" (n,)}``; ``target``: ``{"boxes" (m, 4),
    ...}``. Returns int64 index tensors ``(pred_index, target_index)`` of the ``K`` pairs.
    Compare their labels to count label mistakes on well-localised boxes.
    """
    boxes, scores, _ = _check_pred(pred)
    if not isinstance(target, dict) or "boxes" not in target:
        raise _checks.ArgumentTypeError(f"target must be a dict with 'boxes', got "
                                        f"{_checks.describe(target)}")
    true = check_boxes(target["boxes"], "target['boxes']").to(boxes)
    iou_threshold = _checks.probability("iou_threshold", iou_threshold)
    score_threshold = _checks.number("score_threshold", score_threshold)
    order = torch.sort(scores, descending=True, stable=True).indices
    order = order[scores[order] >= score_threshold]
    inter, union = _inter_union(boxes[order], true)
    ious = _safe_ratio(inter, union)
    taken = torch.zeros(true.shape[0], dtype=torch.bool, device=boxes.device)
    pi, ti = [], []
    for d in range(order.numel()):
        if true.shape[0] == 0:
            break
        cand = ious[d].masked_fill(taken, -1.0)
        best = int(cand.argmax())
        if cand[best] >= iou_threshold:
            taken[best] = True
            pi.append(int(order[d]))
            ti.append(best)
    return torch.tensor(pi, dtype=torch.long), torch.tensor(ti, dtype=torch.long)


def best_per_class(pred: dict, *, max_per_class: int = 1) -> dict[str, Tensor]:
    """Keep the ``max_per_class`` highest-scoring detections of each label (others dropped).

    With FDI labels this encodes "one tooth per number". ``pred``: ``{"boxes", "scores",
    "labels"}``; returns the same keys, sorted by decreasing score.
    """
    boxes, scores, labels = _check_pred(pred)
    max_per_class = _checks.integer("max_per_class", max_per_class, low=1)
    order = torch.sort(scores, descending=True, stable=True).indices
    rank = torch.zeros_like(order)
    lab = labels[order]
    for value in lab.unique():
        where = torch.nonzero(lab == value).flatten()
        rank[where] = torch.arange(where.numel(), device=rank.device)
    keep = order[rank < max_per_class]
    return {"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]}


def assign_to_boxes(boxes: Any, containers: Any, *, min_cover: float = 0.5) -> Tensor:
    """For each of ``boxes`` (N, 4) the index of the box of ``containers`` (M, 4) that covers
    the largest share of it (intersection / area of the box), or -1 if no container covers at
    least ``min_cover`` of it. Returns int64 ``(N,)``. E.g. restorations to teeth."""
    small = check_boxes(boxes, "boxes")
    big = check_boxes(containers, "containers").to(small)
    min_cover = _checks.probability("min_cover", min_cover)
    if small.shape[0] == 0 or big.shape[0] == 0:
        return torch.full((small.shape[0],), -1, dtype=torch.long)
    inter, _ = _inter_union(small, big)
    area = ((small[:, 2] - small[:, 0]) * (small[:, 3] - small[:, 1])).clamp_min(1e-12)
    cover = inter / area[:, None]
    best, index = cover.max(1)
    return torch.where(best >= min_cover, index, torch.full_like(index, -1))
