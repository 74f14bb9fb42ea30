"""Axis-aligned boxes: format conversions, areas, IoU and generalised IoU.

A box is four numbers in pixels. Three formats are used in the course:

* ``"xyxy"``: ``(x0, y0, x1, y1)``, the left, top, right and bottom edges (``x0 <= x1``,
  ``y0 <= y1``); every function here that measures boxes takes this format, as torchvision does;
* ``"cxcywh"``: ``(cx, cy, w, h)``, the centre and the size (what a YOLO head predicts);
* ``"xywh"``: ``(x0, y0, w, h)``, the top-left corner and the size (COCO's JSON format).

Boxes come as a tensor of shape ``(N, 4)`` (``N`` may be 0; an empty list is read as
``(0, 4)``); conversions and areas also accept
any leading shape ``(..., 4)``. Integer boxes are converted to ``float32``; the results are
floating point. A box of zero width or height is allowed (it has area 0). Two boxes whose union
is empty (both of area 0) get IoU 0, not NaN, and their GIoU is 0 as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from dentpy import _checks

__all__ = [
    "BOX_FORMATS",
    "aligned_box_iou",
    "aligned_generalized_box_iou",
    "box_area",
    "box_convert",
    "box_iou",
    "check_boxes",
    "generalized_box_iou",
]

BOX_FORMATS = ("xyxy", "cxcywh", "xywh")


def _as_tensor(name: str, value: Any) -> Tensor:
    """``value`` as a tensor (lists and arrays converted); ``None``, strings, dicts, ragged or
    non-numeric lists raise an :class:`~dentpy._checks.ArgumentTypeError` naming ``name``."""
    if isinstance(value, Tensor):
        return value
    if not isinstance(value, str | bytes | dict) and value is not None:
        try:  # torch's own conversion keeps its dtypes (a list of floats gives float32)
            return torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError):
            pass
    return _checks.tensor(name, value, kind="number", finite=False, nonempty=False)


def check_boxes(
    boxes: Any, name: str = "boxes", *, fmt: str = "xyxy", matrix: bool = True
) -> Tensor:
    """Validate ``boxes`` and return them as a floating tensor.

    ``matrix=True`` asks for shape ``(N, 4)``, otherwise ``(..., 4)`` is accepted. Raises
    ``ValueError`` (naming ``name``) for a wrong shape, a non-numeric dtype, NaN or infinity,
    ``x1 < x0``/``y1 < y0`` (``"xyxy"``) or a negative width/height (``"cxcywh"``, ``"xywh"``);
    ``None``, a string or a dict raises a ``TypeError`` that is also a ``ValueError``.
    """
    if not isinstance(name, str):
        raise _checks.ArgumentTypeError(f"name must be a string, got {_checks.describe(name)}")
    _checks.choice("fmt", fmt, BOX_FORMATS)
    _checks.flag("matrix", matrix)
    boxes = _as_tensor(name, boxes)
    if boxes.dtype == torch.bool or boxes.is_complex():
        raise _checks.ArgumentTypeError(f"{name} must hold real numbers, got dtype {boxes.dtype}")
    if not boxes.is_floating_point():
        boxes = boxes.float()
    if boxes.ndim == 1 and boxes.numel() == 0:  # an empty list: no boxes
        boxes = boxes.reshape(0, 4)
    if (matrix and boxes.ndim != 2) or boxes.ndim < 1 or boxes.shape[-1] != 4:
        expected = "(N, 4)" if matrix else "(..., 4)"
        raise _checks.ArgumentError(f"{name} must have shape {expected}, got "
                                    f"{tuple(boxes.shape)}")
    if not torch.isfinite(boxes).all():
        raise _checks.ArgumentError(f"{name} contains NaN or infinite coordinates")
    a, b, c, d = boxes.unbind(-1)
    if fmt == "xyxy":
        if (c < a).any() or (d < b).any():
            raise _checks.ArgumentError(f"{name} has boxes with x1 < x0 or y1 < y0 (expected "
                                        "xyxy boxes)")
    elif (c < 0).any() or (d < 0).any():
        raise _checks.ArgumentError(f"{name} has boxes with a negative width or height "
                                    f"({fmt} format)")
    return boxes


def _check_scores(scores: Any, n: int, name: str = "scores") -> Tensor:
    """Scores ``(n,)`` of real, finite numbers (any real dtype but bool), as a tensor."""
    scores = _as_tensor(name, scores)
    if scores.dtype == torch.bool or scores.is_complex():
        raise _checks.ArgumentTypeError(f"{name} must hold real numbers, got dtype "
                                        f"{scores.dtype}")
    if scores.ndim != 1 or scores.shape[0] != n:
        raise _checks.ArgumentError(f"{name} must have shape ({n},) to match the boxes, got "
                                    f"{tuple(scores.shape)}")
    if scores.is_floating_point() and not torch.isfinite(scores).all():
        raise _checks.ArgumentError(f"{name} contains NaN or infinite scores")
    return scores


def _check_labels(labels: Any, n: int, name: str = "labels", *,
                  num_classes: int | None = None) -> Tensor:
    """Integer labels ``(n,)`` as a tensor of their integer dtype (an empty list reads as no
    labels, int64), in ``[0, num_classes)`` when ``num_classes`` is given."""
    labels = _as_tensor(name, labels)
    if labels.numel() == 0 and labels.ndim == 1:
        labels = labels.long()
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise _checks.ArgumentTypeError(f"{name} must hold integers (class ids), got dtype "
                                        f"{labels.dtype}")
    if labels.shape != (n,):
        raise _checks.ArgumentError(f"{name} must have shape ({n},) to match the boxes, got "
                                    f"{tuple(labels.shape)}")
    if num_classes is not None and labels.numel() and (
            labels.min() < 0 or labels.max() >= num_classes):
        raise _checks.ArgumentError(f"{name} must lie in [0, {num_classes}), got "
                                    f"[{int(labels.min())}, {int(labels.max())}]")
    return labels



def _check_targets(targets: Any, batch: int, num_classes: int) -> list[tuple[Tensor, Tensor]]:
    """Detection targets: a list of ``batch`` dicts, each with ``boxes`` (n, 4) xyxy of positive
    width and height and ``labels`` (n,) integers in ``[0, num_classes)``; their (boxes, labels)."""
    if isinstance(targets, str | bytes) or not isinstance(targets, Sequence):
        raise _checks.ArgumentTypeError(f"targets must be a list of {batch} dicts (one per "
                                        f"image) with 'boxes' and 'labels', got "
                                        f"{_checks.describe(targets)}")
    if len(targets) != batch:
        raise _checks.ArgumentError(f"targets must be a list of {batch} dicts (one per image), "
                                    f"got {len(targets)}")
    out = []
    for k, target in enumerate(targets):
        if not isinstance(target, dict) or "boxes" not in target or "labels" not in target:
            raise _checks.ArgumentTypeError(f"targets[{k}] must be a dict with 'boxes' and "
                                            f"'labels', got {_checks.describe(target)}")
        boxes = check_boxes(target["boxes"], f"targets[{k}]['boxes']")
        labels = _check_labels(target["labels"], boxes.shape[0], f"targets[{k}]['labels']",
                               num_classes=num_classes)
        if ((boxes[:, 2:] - boxes[:, :2]) <= 0).any():
            raise _checks.ArgumentError(f"targets[{k}]['boxes'] has a box of zero width or "
                                        "height")
        out.append((boxes, labels))
    return out

def _to_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    if fmt == "xyxy":
        return boxes
    a, b, w, h = boxes.unbind(-1)
    if fmt == "cxcywh":
        return torch.stack((a - w / 2, b - h / 2, a + w / 2, b + h / 2), dim=-1)
    return torch.stack((a, b, a + w, b + h), dim=-1)


def _from_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    if fmt == "xyxy":
        return boxes
    x0, y0, x1, y1 = boxes.unbind(-1)
    if fmt == "cxcywh":
        return torch.stack(((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0), dim=-1)
    return torch.stack((x0, y0, x1 - x0, y1 - y0), dim=-1)


def box_convert(boxes: Any, *, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes ``(..., 4)`` between ``"xyxy"``, ``"cxcywh"`` and ``"xywh"``.

    Same result as ``torchvision.ops.box_convert``; the output is a new floating tensor.
    """
    _checks.choice("in_fmt", in_fmt, BOX_FORMATS)
    _checks.choice("out_fmt", out_fmt, BOX_FORMATS)
    boxes = check_boxes(boxes, fmt=in_fmt, matrix=False)
    if in_fmt == out_fmt:
        return boxes.clone()
    return _from_xyxy(_to_xyxy(boxes, in_fmt), out_fmt)


def _area(boxes: Tensor) -> Tensor:
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def box_area(boxes: Any) -> Tensor:
    """Areas of xyxy boxes ``(..., 4)`` in square pixels, shape ``(...)``."""
    return _area(check_boxes(boxes, matrix=False))


def _inter_union(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Intersection and union areas of every pair, ``(N, M)`` each (inputs unchecked)."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp_min(0).prod(-1)
    union = _area(a)[:, None] + _area(b)[None, :] - inter
    return inter, union


def _safe_ratio(num: Tensor, den: Tensor) -> Tensor:
    """``num / den`` with 0 where ``den == 0`` (an empty union or enclosure)."""
    return torch.where(den > 0, num / den.where(den > 0, torch.ones_like(den)),
                       torch.zeros_like(num))


def _iou_giou(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    inter, union = _inter_union(a, b)
    iou = _safe_ratio(inter, union)
    lt = torch.minimum(a[:, None, :2], b[None, :, :2])
    rb = torch.maximum(a[:, None, 2:], b[None, :, 2:])
    hull = (rb - lt).prod(-1)
    return iou, iou - _safe_ratio(hull - union, hull)


def box_iou(boxes1: Any, boxes2: Any) -> Tensor:
    """Intersection over union of every pair of xyxy boxes.

    ``boxes1`` ``(N, 4)``, ``boxes2`` ``(M, 4)`` -> ``(N, M)`` in ``[0, 1]``; equals
    ``torchvision.ops.box_iou`` (except that an empty union gives 0 here, NaN there).
    """
    a, b = check_boxes(boxes1, "boxes1"), check_boxes(boxes2, "boxes2")
    inter, union = _inter_union(a, b)
    return _safe_ratio(inter, union)


def generalized_box_iou(boxes1: Any, boxes2: Any) -> Tensor:
    """Generalised IoU (Rezatofighi et al., 2019) of every pair of xyxy boxes.

    ``GIoU = IoU - (C - U) / C`` with ``U`` the union and ``C`` the smallest box enclosing both;
    ``(N, 4)``, ``(M, 4)`` -> ``(N, M)`` in ``[-1, 1]``. Unlike IoU it keeps decreasing as two
    disjoint boxes move apart, so ``1 - GIoU`` gives a gradient even without overlap. Equals
    ``torchvision.ops.generalized_box_iou``.
    """
    a, b = check_boxes(boxes1, "boxes1"), check_boxes(boxes2, "boxes2")
    return _iou_giou(a, b)[1]


def _aligned(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """IoU and GIoU of ``a[i]`` with ``b[i]`` for boxes ``(..., 4)`` (inputs unchecked)."""
    lt = torch.maximum(a[..., :2], b[..., :2])
    rb = torch.minimum(a[..., 2:], b[..., 2:])
    inter = (rb - lt).clamp_min(0).prod(-1)
    union = _area(a) + _area(b) - inter
    iou = _safe_ratio(inter, union)
    hull = (torch.maximum(a[..., 2:], b[..., 2:]) - torch.minimum(a[..., :2], b[..., :2])).prod(-1)
    return iou, iou - _safe_ratio(hull - union, hull)


def _check_pair(boxes1: Any, boxes2: Any) -> tuple[Tensor, Tensor]:
    a = check_boxes(boxes1, "boxes1", matrix=False)
    b = check_boxes(boxes2, "boxes2", matrix=False)
    if a.shape != b.shape:
        raise _checks.ArgumentError(f"boxes1 and boxes2 must have the same shape, got "
                                    f"{tuple(a.shape)} and {tuple(b.shape)}")
    return a, b


def aligned_box_iou(boxes1: Any, boxes2: Any) -> Tensor:
    """IoU of ``boxes1[i]`` with ``boxes2[i]`` (not every pair): ``(..., 4)`` twice -> ``(...)``."""
    return _aligned(*_check_pair(boxes1, boxes2))[0]


def aligned_generalized_box_iou(boxes1: Any, boxes2: Any) -> Tensor:
    """GIoU of ``boxes1[i]`` with ``boxes2[i]``: ``(..., 4)`` twice -> ``(...)``.

    ``1 -`` this is ``torchvision.ops.generalized_box_iou_loss`` with ``reduction="none"``.
    """
    return _aligned(*_check_pair(boxes1, boxes2))[1]
