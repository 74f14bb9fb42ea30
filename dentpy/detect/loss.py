"""The detector's loss: which cell and anchor answer for each box, and how wrong they are.

**Assignment** (YOLOv2/v3). A ground-truth box is the responsibility of one prediction: the
grid cell containing its centre, and of that cell's anchors the one whose shape has the highest
IoU with the box (shapes compared on a common centre, :func:`~dentpy.detect.anchors.wh_iou`).
When two boxes of an image land on the same cell and anchor, the first one listed keeps it and
the other is left out (with ``A`` anchors and a fine enough grid this is rare; count it with
``Assignment.num_dropped``). With ``collisions="next_anchor"`` the later box instead takes the
free anchor of the same cell that fits it best (by shape IoU) and is dropped only when every
anchor of its cell is taken: nested objects with one centre (a restoration box that spans
most of its tooth) then both get a prediction.

**Loss**, with ``P`` the number of assigned boxes in the batch (at least 1):

* box: ``sum(1 - GIoU(decoded box, true box)) / P`` (``box_loss="giou"``), or the squared
  error of the offsets ``sum((sigmoid(t_x) - t*_x)^2 + (sigmoid(t_y) - t*_y)^2 + (t_w - t*_w)^2
  + (t_h - t*_h)^2) / P`` with ``t*_x = c_x / stride - j``, ``t*_w = log(w / anchor_w)``
  (``box_loss="mse"``);
* class: cross-entropy of the class logits at the assigned predictions, summed, ``/ P``;
* objectness: binary cross-entropy at every cell and anchor, summed, ``/ P``: target 1 at
  assigned predictions (or their detached IoU with the true box, ``obj_target="iou"``, so that
  the confidence ``objectness x class probability`` also measures localisation, YOLOv1's
  ``Pr(object) x IoU``), target 0 elsewhere, except that unassigned predictions whose box
  already overlaps a true box by IoU ``> ignore_iou`` are left out (YOLOv3's rule: they are
  not wrong, just not chosen).

The total is ``box_weight * box + obj_weight * obj + cls_weight * cls``. Dividing by ``P``
rather than by the number of cells keeps the empty background, most of the grid, from drowning
the few cells that hold a tooth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from dentpy.detect.anchors import _check_wh, _wh_iou
from dentpy.detect.boxes import _aligned, _inter_union, _safe_ratio, check_boxes
from dentpy.detect.decode import _boxes, _check_stride, check_raw

__all__ = ["Assignment", "DetectionLoss", "assign_targets", "detection_loss"]

BOX_LOSSES = ("giou", "mse")
OBJ_TARGETS = ("one", "iou")
COLLISIONS = ("drop", "next_anchor")


@dataclass(frozen=True)
class Assignment:
    """Assigned predictions, one row per kept ground-truth box (``P`` rows).

    ``image, anchor, row, col`` (int64 ``(P,)``) index the raw output; ``boxes`` ``(P, 4)``
    xyxy and ``labels`` ``(P,)`` are the true boxes; ``offsets`` ``(P, 4)`` the regression
    targets ``(t*_x, t*_y, t*_w, t*_h)``; ``num_dropped`` counts boxes that lost their cell and
    anchor to an earlier box.
    """

    image: Tensor
    anchor: Tensor
    row: Tensor
    col: Tensor
    boxes: Tensor
    labels: Tensor
    offsets: Tensor
    num_dropped: int


def _check_targets(targets: Any, batch: int, num_classes: int) -> list[tuple[Tensor, Tensor]]:
    if not isinstance(targets, Sequence) or len(targets) != batch:
        raise ValueError(f"targets must be a list of {batch} dicts (one per image) with 'boxes' "
                         f"and 'labels', got {type(targets).__name__} {targets!r:.80}")
    out = []
    for k, target in enumerate(targets):
        if not isinstance(target, dict) or "boxes" not in target or "labels" not in target:
            raise ValueError(f"targets[{k}] must be a dict with 'boxes' and 'labels'")
        boxes = check_boxes(target["boxes"], f"targets[{k}]['boxes']")
        labels = torch.as_tensor(target["labels"])
        if labels.numel() == 0:
            labels = labels.long()
        if labels.shape != (boxes.shape[0],) or labels.is_floating_point() \
                or labels.dtype == torch.bool:
            raise ValueError(f"targets[{k}]['labels'] must be integers of shape "
                             f"({boxes.shape[0]},), got {labels.dtype} {tuple(labels.shape)}")
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"targets[{k}]['labels'] must lie in [0, {num_classes}), got "
                             f"[{int(labels.min())}, {int(labels.max())}]")
        if ((boxes[:, 2:] - boxes[:, :2]) <= 0).any():
            raise ValueError(f"targets[{k}]['boxes'] has a box of zero width or height")
        out.append((boxes, labels.long()))
    return out


def _assign(targets: list[tuple[Tensor, Tensor]], anchors: Tensor, stride: float,
            grid: tuple[int, int], collisions: str = "drop") -> Assignment:
    device = anchors.device
    boxes = torch.cat([b for b, _ in targets]).to(device, anchors.dtype)
    labels = torch.cat([lb for _, lb in targets]).to(device)
    image = torch.cat([torch.full((b.shape[0],), k, dtype=torch.long)
                       for k, (b, _) in enumerate(targets)]).to(device)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = boxes[:, 2:] - boxes[:, :2]
    col = (centre[:, 0] / stride).floor().long().clamp(0, grid[1] - 1)
    row = (centre[:, 1] / stride).floor().long().clamp(0, grid[0] - 1)
    fit = _wh_iou(size, anchors) if boxes.numel() else size.new_zeros(0, anchors.shape[0])
    anchor = fit.argmax(1) if boxes.numel() else col.new_zeros(0)
    cell = (image * grid[0] + row) * grid[1] + col
    if collisions == "drop":
        slot = cell * anchors.shape[0] + anchor
        order = torch.sort(slot, stable=True).indices
        first = torch.ones_like(order, dtype=torch.bool)
        first[1:] = slot[order][1:] != slot[order][:-1]
        keep = order[first].sort().values
    else:  # first come, first served, each box falling back to its next-best free anchor
        keep, anchor = _next_anchor(cell, anchor, fit)
    offsets = torch.stack((centre[:, 0] / stride - col, centre[:, 1] / stride - row,
                           (size[:, 0] / anchors[anchor, 0]).log(),
                           (size[:, 1] / anchors[anchor, 1]).log()), dim=-1)
    return Assignment(image[keep], anchor[keep], row[keep], col[keep], boxes[keep],
                      labels[keep], offsets[keep], int(boxes.shape[0] - keep.numel()))


def _next_anchor(cell: Tensor, best: Tensor, fit: Tensor) -> tuple[Tensor, Tensor]:
    """Greedy assignment in listed order: each box takes its best free anchor in its cell.

    ``cell`` ``(N,)`` flat cell index, ``best`` ``(N,)`` best anchor, ``fit`` ``(N, A)`` shape
    IoUs. Returns the kept box indices (ascending) and every box's anchor (unchanged where
    the best one was free)."""
    taken: set[tuple[int, int]] = set()
    preference = fit.argsort(1, descending=True).tolist()
    anchor = best.clone()
    keep = []
    for i, (c, first) in enumerate(zip(cell.tolist(), best.tolist(), strict=True)):
        for a in [first] + [a for a in preference[i] if a != first]:
            if (c, a) not in taken:
                taken.add((c, a))
                anchor[i] = a
                keep.append(i)
                break
    return torch.tensor(keep, dtype=torch.long, device=cell.device), anchor


def _check_collisions(collisions: Any) -> str:
    if collisions not in COLLISIONS:
        raise ValueError(f"collisions must be one of {COLLISIONS}, got {collisions!r}")
    return collisions


def assign_targets(targets: Sequence[dict[str, Any]], *, anchors: Any, stride: float,
                   grid_size: tuple[int, int], num_classes: int,
                   collisions: str = "drop") -> Assignment:
    """Assign each true box (``targets``: one dict ``{"boxes" (n, 4) xyxy, "labels" (n,)}``
    per image) to a grid cell and anchor of a ``grid_size = (H', W')`` grid; ``collisions``
    (``"drop"`` or ``"next_anchor"``) says what a box does when its cell and best anchor are
    taken. See the module docstring."""
    anchors = _check_wh(anchors, "anchors")
    collisions = _check_collisions(collisions)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    if len(grid_size) != 2 or any(isinstance(g, bool) or not isinstance(g, int) or g < 1
                                  for g in grid_size):
        raise ValueError(f"grid_size must be two ints >= 1 (H', W'), got {grid_size!r}")
    if not isinstance(targets, Sequence) or len(targets) == 0:
        raise ValueError(f"targets must be a non-empty list of dicts, got {targets!r:.80}")
    return _assign(_check_targets(targets, len(targets), num_classes), anchors,
                   _check_stride(stride), tuple(grid_size), collisions)


def detection_loss(
    raw: Tensor,
    targets: Sequence[dict[str, Any]],
    *,
    anchors: Any,
    stride: float,
    box_loss: str = "giou",
    obj_target: str = "one",
    ignore_iou: float | None = 0.5,
    box_weight: float = 1.0,
    obj_weight: float = 1.0,
    cls_weight: float = 1.0,
    collisions: str = "drop",
) -> tuple[Tensor, dict[str, Tensor]]:
    """Loss of a raw output ``(B, A, H', W', 5 + C)`` against ``targets`` (one dict
    ``{"boxes" (n, 4) xyxy pixels, "labels" (n,) in [0, C)}`` per image; ``n`` may be 0).

    Returns the total (a scalar tensor) and its parts ``{"box", "obj", "cls"}`` (detached,
    unweighted). See the module docstring for the definition; ``collisions`` is passed to the
    assignment (:func:`assign_targets`).
    """
    raw, anchors = check_raw(raw, anchors)
    stride = _check_stride(stride)
    collisions = _check_collisions(collisions)
    if box_loss not in BOX_LOSSES:
        raise ValueError(f"box_loss must be one of {BOX_LOSSES}, got {box_loss!r}")
    if obj_target not in OBJ_TARGETS:
        raise ValueError(f"obj_target must be one of {OBJ_TARGETS}, got {obj_target!r}")
    if ignore_iou is not None and not 0.0 <= ignore_iou <= 1.0:
        raise ValueError(f"ignore_iou must be in [0, 1] or None, got {ignore_iou!r}")
    num_classes = raw.shape[-1] - 5
    checked = _check_targets(targets, raw.shape[0], num_classes)
    a = _assign(checked, anchors, stride, tuple(raw.shape[2:4]), collisions)
    num_pos = max(a.image.numel(), 1)
    pred = raw[a.image, a.anchor, a.row, a.col]  # (P, 5 + C)
    boxes = _boxes(raw, anchors, stride)
    pred_boxes = boxes[a.image, a.anchor, a.row, a.col]
    iou, giou = _aligned(pred_boxes, a.boxes)
    if box_loss == "giou":
        box = (1 - giou).sum() / num_pos
    else:
        fitted = torch.cat((pred[:, :2].sigmoid(), pred[:, 2:4]), dim=-1)
        box = ((fitted - a.offsets) ** 2).sum() / num_pos
    cls = F.cross_entropy(pred[:, 5:], a.labels, reduction="sum") / num_pos
    obj_t = torch.zeros_like(raw[..., 4])
    weight = torch.ones_like(obj_t)
    if ignore_iou is not None:
        with torch.no_grad():
            for k, (true, _) in enumerate(checked):
                if true.numel():
                    inter, union = _inter_union(boxes[k].reshape(-1, 4), true.to(raw))
                    best = _safe_ratio(inter, union).max(1).values.view_as(weight[k])
                    weight[k][best > ignore_iou] = 0.0
    target_value = iou.detach().clamp_min(0) if obj_target == "iou" else 1.0
    obj_t[a.image, a.anchor, a.row, a.col] = target_value
    weight[a.image, a.anchor, a.row, a.col] = 1.0
    obj = F.binary_cross_entropy_with_logits(raw[..., 4], obj_t, weight=weight,
                                             reduction="sum") / num_pos
    total = box_weight * box + obj_weight * obj + cls_weight * cls
    return total, {"box": box.detach(), "obj": obj.detach(), "cls": cls.detach()}


class DetectionLoss:
    """:func:`detection_loss` as a callable ``loss_fn(raw, targets)``, the form that
    ``dentpy.train.fit`` expects; ``anchors`` and ``stride`` are read from ``model`` (a
    :class:`~dentpy.detect.model.YOLODetector`) at each call, other options are passed on.
    The last call's parts are in ``last_parts`` (floats)."""

    def __init__(self, model: nn.Module, **options: Any) -> None:
        self.model, self.options = model, options
        self.last_parts: dict[str, float] = {}

    def __call__(self, raw: Tensor, targets: Sequence[dict[str, Any]]) -> Tensor:
        total, parts = detection_loss(raw, targets, anchors=self.model.anchors,
                                      stride=self.model.stride, **self.options)
        self.last_parts = {name: float(value) for name, value in parts.items()}
        return total
