"""From the detector's raw output to boxes, scores and labels.

The head's output ``raw`` has shape ``(B, A, H', W', 5 + C)``: for image ``b``, anchor ``a``
and grid cell ``(i, j)`` (row, column) the last axis holds ``(t_x, t_y, t_w, t_h, t_o)`` and
``C`` class logits. The box follows YOLOv2/v3:

    c_x = (j + sigmoid(t_x)) * stride        w = anchor_w * exp(t_w)
    c_y = (i + sigmoid(t_y)) * stride        h = anchor_h * exp(t_h)

so the centre cannot leave its cell and the size is a positive stretch of the anchor.
``t_w, t_h`` are clamped to ``[-MAX_LOG_SCALE, MAX_LOG_SCALE]`` before ``exp``, which keeps
an untrained network's boxes finite. The confidence of a detection is
``sigmoid(t_o) * softmax(class logits)`` of its best class.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from dentpy import _checks
from dentpy.detect.anchors import _check_wh
from dentpy.detect.nms import batched_nms, nms

__all__ = ["MAX_LOG_SCALE", "check_raw", "decode", "decode_boxes"]

MAX_LOG_SCALE = math.log(1000.0)  # a box at most 1000x (or 1/1000 of) its anchor


def check_raw(raw: Any, anchors: Any, *, finite: bool = False) -> tuple[Tensor, Tensor]:
    """Validate a raw head output ``(B, A, H', W', 5 + C)`` against ``anchors`` ``(A, 2)``.

    ``finite=True`` also rejects NaN and infinity in ``raw`` (a diverged network), which would
    otherwise decode to no detections at all.
    """
    if not isinstance(raw, Tensor):
        raise _checks.ArgumentTypeError(f"raw must be a floating tensor (B, A, H', W', 5 + C), "
                                        f"got {_checks.describe(raw)}")
    if not raw.is_floating_point():
        raise _checks.ArgumentTypeError(f"raw must be a floating tensor (B, A, H', W', 5 + C), "
                                        f"got dtype {raw.dtype}")
    anchors = _check_wh(anchors, "anchors").to(raw.device, raw.dtype)
    if raw.ndim != 5 or raw.shape[-1] < 6:
        raise _checks.ArgumentError(f"raw must have shape (B, A, H', W', 5 + C) with C >= 1, "
                                    f"got {tuple(raw.shape)}")
    if raw.shape[1] != anchors.shape[0]:
        raise _checks.ArgumentError(f"raw has {raw.shape[1]} anchors per cell but anchors has "
                                    f"{anchors.shape[0]}")
    if _checks.flag("finite", finite) and not torch.isfinite(raw).all():
        raise _checks.ArgumentError(
            f"raw contains {int((~torch.isfinite(raw)).sum())} NaN or infinite values (a "
            "diverged network?); it cannot be decoded")
    return raw, anchors


def _check_stride(stride: Any) -> float:
    return _checks.number("stride", stride, low=0, low_open=True)


def _check_image_size(image_size: Any) -> tuple[int, int]:
    return _checks.integer_pair("image_size", image_size)


def _boxes(raw: Tensor, anchors: Tensor, stride: float) -> Tensor:
    """xyxy boxes ``(B, A, H', W', 4)`` in pixels (inputs unchecked)."""
    _, _, h, w, _ = raw.shape
    rows = torch.arange(h, device=raw.device, dtype=raw.dtype).view(h, 1)
    cols = torch.arange(w, device=raw.device, dtype=raw.dtype).view(1, w)
    cx = (cols + raw[..., 0].sigmoid()) * stride
    cy = (rows + raw[..., 1].sigmoid()) * stride
    scale = raw[..., 2:4].clamp(-MAX_LOG_SCALE, MAX_LOG_SCALE).exp()
    half = scale * anchors.view(1, -1, 1, 1, 2) / 2
    return torch.stack((cx - half[..., 0], cy - half[..., 1],
                        cx + half[..., 0], cy + half[..., 1]), dim=-1)


def decode_boxes(raw: Tensor, *, anchors: Any, stride: float) -> Tensor:
    """Boxes of every cell and anchor: ``(B, A, H', W', 5 + C)`` -> ``(B, A, H', W', 4)`` xyxy
    in pixels of the input image (differentiable). NaN or infinity in ``raw`` raises."""
    raw, anchors = check_raw(raw, anchors, finite=True)
    return _boxes(raw, anchors, _check_stride(stride))


def decode(
    raw: Tensor,
    *,
    anchors: Any,
    stride: float,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
    class_agnostic: bool = False,
    image_size: tuple[int, int] | None = None,
) -> list[dict[str, Tensor]]:
    """Detections per image: a list of ``B`` dicts ``{"boxes" (K, 4) xyxy, "scores" (K,),
    "labels" (K,) int64}`` sorted by decreasing score (the torchvision / torchmetrics format).

    Each cell and anchor proposes one box with its best class; boxes with confidence
    ``>= score_threshold`` go through NMS (per class, or across classes with
    ``class_agnostic=True``) and the best ``max_detections`` are kept. ``image_size=(H, W)``
    clips the boxes to the image. A ``raw`` holding NaN or infinity (a diverged network) raises
    rather than decoding to no detections.
    """
    raw, anchors = check_raw(raw, anchors, finite=True)
    stride = _check_stride(stride)
    iou_threshold = _checks.probability("iou_threshold", iou_threshold)
    score_threshold = _checks.probability("score_threshold", score_threshold)
    max_detections = _checks.integer("max_detections", max_detections, low=1)
    class_agnostic = _checks.flag("class_agnostic", class_agnostic)
    if image_size is not None:
        image_size = _check_image_size(image_size)
    with torch.no_grad():
        boxes = _boxes(raw, anchors, stride).flatten(1, 3)
        probs = raw[..., 5:].softmax(-1).flatten(1, 3)
        best, labels = probs.max(-1)
        scores = raw[..., 4].sigmoid().flatten(1, 3) * best
        if image_size is not None:
            high = torch.tensor([image_size[1], image_size[0]] * 2, dtype=boxes.dtype,
                                device=boxes.device)
            boxes = torch.minimum(boxes.clamp_min(0), high)
    out = []
    for b in range(raw.shape[0]):
        sel = scores[b] >= score_threshold
        bx, sc, lb = boxes[b][sel], scores[b][sel], labels[b][sel]
        if class_agnostic:
            keep = nms(bx, sc, iou_threshold=iou_threshold)
        else:
            keep = batched_nms(bx, sc, lb, iou_threshold=iou_threshold)
        keep = keep[:max_detections]
        out.append({"boxes": bx[keep], "scores": sc[keep], "labels": lb[keep]})
    return out
