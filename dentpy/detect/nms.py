"""Non-maximum suppression (NMS), written out: greedy, by decreasing score.

A detector fires several overlapping boxes on one object. Greedy NMS keeps the highest-scoring
box, drops every remaining box that overlaps it by IoU strictly above ``iou_threshold``, and
repeats with the best box left. Written that way, IoUs are needed only between a kept box and
the boxes still alive after it: one vectorised NumPy step per kept box, in the boxes' own
precision, so the cost is (kept boxes) x (boxes), not (boxes)^2, and memory stays linear.

Ties in score keep the order of the input (a stable sort), as ``torchvision.ops.nms`` does on
the CPU. ``batched_nms`` suppresses only within a class: boxes of different labels never
suppress each other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from dentpy import _checks
from dentpy.detect.boxes import _check_labels, _check_scores, check_boxes

__all__ = ["batched_nms", "nms"]


def _check_threshold(iou_threshold: Any) -> float:
    return _checks.probability("iou_threshold", iou_threshold)


def _greedy(boxes: Tensor, scores: Tensor, labels: Tensor | None, threshold: float) -> Tensor:
    order = torch.sort(scores, descending=True, stable=True).indices
    b = boxes[order].detach().cpu().numpy()
    same = None if labels is None else labels[order].cpu().numpy()
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    alive = np.ones(b.shape[0], dtype=bool)
    keep = []
    for i in range(b.shape[0]):  # by decreasing score
        if not alive[i]:
            continue
        keep.append(i)
        rest = i + 1 + np.flatnonzero(alive[i + 1:])
        if same is not None:
            rest = rest[same[rest] == same[i]]
        if rest.size == 0:
            continue
        width = np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0])
        height = np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1])
        inter = np.clip(width, 0, None) * np.clip(height, 0, None)
        union = area[i] + area[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        alive[rest[iou > threshold]] = False
    return order[torch.as_tensor(keep, dtype=torch.long, device=order.device)]


def nms(boxes: Any, scores: Any, *, iou_threshold: float) -> Tensor:
    """Greedy NMS. ``boxes`` ``(N, 4)`` xyxy, ``scores`` ``(N,)``.

    Returns the indices (int64) of the kept boxes, by decreasing score; a box is dropped when
    its IoU with a kept, higher-scoring box is ``> iou_threshold``. Equals
    ``torchvision.ops.nms``. NaN or infinite scores raise.
    """
    threshold = _check_threshold(iou_threshold)
    boxes = check_boxes(boxes)
    scores = _check_scores(scores, boxes.shape[0])
    return _greedy(boxes, scores, None, threshold)


def batched_nms(boxes: Any, scores: Any, labels: Any, *, iou_threshold: float) -> Tensor:
    """Class-aware NMS: greedy NMS run separately for each value of ``labels`` ``(N,)`` (int).

    Returns kept indices (int64) by decreasing score over all classes. Equals
    ``torchvision.ops.batched_nms``.
    """
    threshold = _check_threshold(iou_threshold)
    boxes = check_boxes(boxes)
    scores = _check_scores(scores, boxes.shape[0])
    labels = _check_labels(labels, boxes.shape[0]).to(boxes.device)
    return _greedy(boxes, scores, labels, threshold)
