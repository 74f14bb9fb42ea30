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

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from dentpy import _checks
from dentpy.detect.anchors import _check_wh, _wh_iou
from dentpy.detect.boxes import (
    _aligned,
    _inter_union,
    _safe_ratio,
)
from dentpy.detect.boxes import (
    _check_targets as _check_target_dicts,
)
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


def _check_targets(targets: Any, batch: int, num_classes: int,
                   image_size: tuple[float, float] | None = None) -> list[tuple[Tensor, Tensor]]:
    """Each target's boxes ``(n, 4)`` (positive width and height, centre inside the
    ``image_size = (H, W)`` covered by the grid when given) and labels in ``[0, num_classes)``."""
    out = []
    for k, (boxes, labels) in enumerate(_check_target_dicts(targets, batch, num_classes)):
        if image_size is not None and boxes.numel():
            centre = (boxes[:, :2] + boxes[:, 2:]) / 2
            high = torch.tensor([image_size[1], image_size[0]], dtype=centre.dtype,
                                device=centre.device)
            if (centre < 0).any() or (centre > high).any():
                raise _checks.ArgumentError(
                    f"targets[{k}]['boxes'] has a box whose centre lies outside the "
                    f"{image_size[0]:g} x {image_size[1]:g} pixels the grid covers")
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
    return _checks.choice("collisions", collisions, COLLISIONS)


def _check_grid_size(grid_size: Any) -> tuple[int, int]:
    return _checks.integer_pair("grid_size", grid_size)


def _loss_options(box_loss: Any = "giou", obj_target: Any = "one", ignore_iou: Any = 0.5,
                  box_weight: Any = 1.0, obj_weight: Any = 1.0, cls_weight: Any = 1.0,
                  collisions: Any = "drop") -> dict[str, Any]:
    """The options of :func:`detection_loss`, checked (unknown names raise a ``TypeError``)."""
    return {
        "box_loss": _checks.choice("box_loss", box_loss, BOX_LOSSES),
        "obj_target": _checks.choice("obj_target", obj_target, OBJ_TARGETS),
        "ignore_iou": None if ignore_iou is None
        else _checks.probability("ignore_iou", ignore_iou),
        "box_weight": _checks.number("box_weight", box_weight, low=0),
        "obj_weight": _checks.number("obj_weight", obj_weight, low=0),
        "cls_weight": _checks.number("cls_weight", cls_weight, low=0),
        "collisions": _check_collisions(collisions),
    }


def assign_targets(targets: Sequence[dict[str, Any]], *, anchors: Any, stride: float,
                   grid_size: tuple[int, int], num_classes: int,
                   collisions: str = "drop") -> Assignment:
    """Assign each true box (``targets``: one dict ``{"boxes" (n, 4) xyxy, "labels" (n,)}``
    per image) to a grid cell and anchor of a ``grid_size = (H', W')`` grid; ``collisions``
    (``"drop"`` or ``"next_anchor"``) says what a box does when its cell and best anchor are
    taken. See the module docstring."""
    anchors = _check_wh(anchors, "anchors")
    collisions = _check_collisions(collisions)
    num_classes = _checks.integer("num_classes", num_classes, low=1)
    grid_size = _check_grid_size(grid_size)
    stride = _check_stride(stride)
    if isinstance(targets, str | bytes) or not isinstance(targets, Sequence):
        raise _checks.ArgumentTypeError(f"targets must be a non-empty list of dicts, got "
                                        f"{_checks.describe(targets)}")
    if len(targets) == 0:
        raise _checks.ArgumentError("targets must be a non-empty list of dicts, got []")
    image_size = (grid_size[0] * stride, grid_size[1] * stride)
    return _assign(_check_targets(targets, len(targets), num_classes, image_size), anchors,
                   stride, grid_size, collisions)


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
    assignment (:func:`assign_targets`). A box whose centre lies outside the image the grid
    covers raises. NaN or infinity in ``raw`` (a diverged network) gives a non-finite loss,
    which ``dentpy.train.fit`` reports.
    """
    raw, anchors = check_raw(raw, anchors)
    stride = _check_stride(stride)
    options = _loss_options(box_loss, obj_target, ignore_iou, box_weight, obj_weight,
                            cls_weight, collisions)
    box_loss, obj_target, ignore_iou = (options[k] for k in ("box_loss", "obj_target",
                                                              "ignore_iou"))
    box_weight, obj_weight, cls_weight = (options[k] for k in ("box_weight", "obj_weight",
                                                                "cls_weight"))
    collisions = options["collisions"]
    num_classes = raw.shape[-1] - 5
    grid = tuple(raw.shape[2:4])
    checked = _check_targets(targets, raw.shape[0], num_classes,
                             (grid[0] * stride, grid[1] * stride))
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
        if not isinstance(model, nn.Module) or not hasattr(model, "anchors") \
                or not hasattr(model, "stride"):
            raise _checks.ArgumentTypeError(f"model must be a YOLODetector (a module with "
                                            f"anchors and stride), got {_checks.describe(model)}")
        try:
            _loss_options(**options)
        except TypeError as err:
            if isinstance(err, _checks.ArgumentTypeError):
                raise
            known = tuple(inspect.signature(_loss_options).parameters)
            raise _checks.ArgumentTypeError(f"options must be among {known}, got "
                                            f"{tuple(options)}") from err
        self.model, self.options = model, options
        self.last_parts: dict[str, float] = {}

    def __call__(self, raw: Tensor, targets: Sequence[dict[str, Any]]) -> Tensor:
        total, parts = detection_loss(raw, targets, anchors=self.model.anchors,
                                      stride=self.model.stride, **self.options)
        self.last_parts = {name: float(value) for name, value in parts.items()}
        return total
