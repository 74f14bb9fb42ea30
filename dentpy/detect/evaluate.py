"""Average precision and mAP for detections, defined as COCO defines them (``pycocotools``).

For one class and one IoU threshold ``t``:

1. **Matching**, image by image. Detections are taken by decreasing score (ties keep their
   order), at most ``max_detections`` per image and class. Each one is matched to the unmatched
   true box of its class with the highest IoU, provided that IoU is ``>= t`` (among equal IoUs,
   the last true box listed). A matched detection is a true positive (TP), any other a false
   positive (FP); an unmatched true box is a miss.
2. **Precision-recall curve**: the detections of all images, sorted by decreasing score (ties
   keep image order), give after each one ``recall = TP / #true boxes`` and
   ``precision = TP / (TP + FP)``.
3. **Interpolation**: precision is replaced by its running maximum from the right (the best
   precision at this recall or any higher one), so the curve never rises again.
   ``method="coco101"`` (COCO) averages it at the 101 recalls ``0, 0.01, ..., 1`` (taking the
   first point whose recall reaches each, and 0 beyond the last recall reached);
   ``method="all_points"`` (PASCAL VOC since 2010) takes the exact area under it.

mAP averages AP over the classes that have at least one true box (a class without any is
undefined, NaN, and left out, as in COCO) and, for mAP@0.5:0.95, over the ten thresholds
``0.50, 0.55, ..., 0.95``. COCO's other settings are those of its "all" area range: no box is
ignored for its size. Crowd boxes do not exist here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from dentpy.detect.boxes import check_boxes

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "RECALL_POINTS",
    "average_precision",
    "coco_evaluate",
    "mean_average_precision",
    "precision_recall_curve",
]

COCO_IOU_THRESHOLDS = tuple(float(t) for t in np.linspace(0.5, 0.95, 10))
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
METHODS = ("coco101", "all_points")

Image = tuple[np.ndarray, np.ndarray, np.ndarray]  # boxes (n, 4), labels (n,), scores (n,)


def _labels(value: Any, n: int, name: str) -> np.ndarray:
    labels = torch.as_tensor(value)
    if labels.numel() == 0:
        labels = labels.long()
    if labels.shape != (n,) or labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"{name} must be integers of shape ({n},), got {labels.dtype} "
                         f"{tuple(labels.shape)}")
    return labels.cpu().numpy().astype(np.int64)


def _images(items: Any, name: str, *, scored: bool) -> list[Image]:
    if not isinstance(items, Sequence) or isinstance(items, dict):
        raise ValueError(f"{name} must be a list of dicts, one per image, got "
                         f"{type(items).__name__}")
    keys = ("boxes", "scores", "labels") if scored else ("boxes", "labels")
    out = []
    for k, item in enumerate(items):
        if not isinstance(item, dict) or any(key not in item for key in keys):
            raise ValueError(f"{name}[{k}] must be a dict with keys {keys}")
        boxes = check_boxes(item["boxes"], f"{name}[{k}]['boxes']").detach().cpu().double()
        n = boxes.shape[0]
        labels = _labels(item["labels"], n, f"{name}[{k}]['labels']")
        scores = np.zeros(n)
        if scored:
            s = torch.as_tensor(item["scores"])
            if s.shape != (n,) or s.dtype == torch.bool or s.is_complex():
                raise ValueError(f"{name}[{k}]['scores'] must be real numbers of shape ({n},), "
                                 f"got {s.dtype} {tuple(s.shape)}")
            scores = s.detach().cpu().double().numpy()
            if np.isnan(scores).any():
                raise ValueError(f"{name}[{k}]['scores'] contains NaN")
        out.append((boxes.numpy(), labels, scores))
    return out


def _check_inputs(predictions: Any, targets: Any) -> tuple[list[Image], list[Image]]:
    preds = _images(predictions, "predictions", scored=True)
    trues = _images(targets, "targets", scored=False)
    if len(preds) != len(trues):
        raise ValueError(f"predictions and targets must list the same images, got "
                         f"{len(preds)} and {len(trues)}")
    if not preds:
        raise ValueError("predictions is empty; need at least one image")
    return preds, trues


def _check_thresholds(thresholds: Any) -> np.ndarray:
    t = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if t.ndim != 1 or t.size == 0 or np.isnan(t).any() or (t < 0).any() or (t > 1).any():
        raise ValueError(f"iou_thresholds must be a non-empty list of numbers in [0, 1], got "
                         f"{thresholds!r}")
    return t


def _check_max_det(max_detections: Any) -> int:
    if isinstance(max_detections, bool) or not isinstance(max_detections, int) \
            or max_detections < 1:
        raise ValueError(f"max_detections must be an int >= 1, got {max_detections!r}")
    return max_detections


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _match_image(det: np.ndarray, true: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """TP flags ``(T, D)`` for detections ``det`` (already sorted) against ``true`` boxes."""
    matched = np.zeros((thresholds.size, det.shape[0]), dtype=bool)
    if det.shape[0] == 0 or true.shape[0] == 0:
        return matched
    ious = _iou(det, true)
    for ti, t in enumerate(thresholds):
        taken = np.zeros(true.shape[0], dtype=bool)
        floor = min(t, 1 - 1e-10)  # as pycocotools: IoU 1 still matches at t = 1
        for d in range(det.shape[0]):
            candidates = np.where(~taken & (ious[d] >= floor), ious[d], -np.inf)
            best = candidates.max()
            if best == -np.inf:
                continue
            g = np.flatnonzero(candidates == best)[-1]
            taken[g], matched[ti, d] = True, True
    return matched


def _class_results(preds: list[Image], trues: list[Image], label: int, thresholds: np.ndarray,
                   max_det: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores ``(D,)`` and TP flags ``(T, D)`` sorted by decreasing score, and #true boxes."""
    scores, flags, num_true = [], [], 0
    for (pb, pl, ps), (tb, tl, _) in zip(preds, trues, strict=True):
        mine = np.flatnonzero(pl == label)
        order = mine[np.argsort(-ps[mine], kind="mergesort")][:max_det]
        true = tb[tl == label]
        num_true += true.shape[0]
        scores.append(ps[order])
        flags.append(_match_image(pb[order], true, thresholds))
    scores = np.concatenate(scores)
    flags = np.concatenate(flags, axis=1)
    order = np.argsort(-scores, kind="mergesort")
    return scores[order], flags[:, order], num_true


def _curve(flags: np.ndarray, num_true: int) -> tuple[np.ndarray, np.ndarray]:
    tp = np.cumsum(flags, axis=-1, dtype=np.float64)
    fp = np.cumsum(~flags, axis=-1, dtype=np.float64)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp + fp > 0)
    return precision, tp / num_true


def _ap(precision: np.ndarray, recall: np.ndarray, method: str) -> float:
    if precision.size == 0:
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    if method == "coco101":
        idx = np.searchsorted(recall, RECALL_POINTS, side="left")
        reached = idx < recall.size
        return float(np.where(reached, envelope[np.minimum(idx, recall.size - 1)], 0.0).mean())
    steps = np.diff(recall, prepend=0.0)
    return float((steps * envelope).sum())


def average_precision(precision: Any, recall: Any, *, method: str = "coco101") -> float:
    """AP from a precision-recall curve: ``precision`` and ``recall`` ``(D,)``, one point per
    detection by decreasing score (recall non-decreasing, both in ``[0, 1]``), as returned by
    :func:`precision_recall_curve`. ``method``: ``"coco101"`` or ``"all_points"`` (see the
    module docstring). An empty curve (no detection) has AP 0."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    p = np.asarray(precision, dtype=np.float64)
    r = np.asarray(recall, dtype=np.float64)
    if p.ndim != 1 or p.shape != r.shape:
        raise ValueError(f"precision and recall must be 1-D of the same length, got shapes "
                         f"{p.shape} and {r.shape}")
    if np.isnan(p).any() or np.isnan(r).any():
        raise ValueError("precision and recall must not contain NaN")
    if ((p < 0) | (p > 1) | (r < 0) | (r > 1)).any():
        raise ValueError("precision and recall must lie in [0, 1]")
    if (np.diff(r) < 0).any():
        raise ValueError("recall must be non-decreasing (points sorted by decreasing score)")
    return _ap(p, r, method)


def precision_recall_curve(
    predictions: Sequence[dict[str, Any]],
    targets: Sequence[dict[str, Any]],
    *,
    label: int,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and score ``(D,)`` after each detection of class ``label``, by
    decreasing score (not interpolated).

    ``predictions``: one dict per image ``{"boxes" (n, 4) xyxy, "scores" (n,), "labels"
    (n,)}``; ``targets``: one dict per image ``{"boxes", "labels"}``. Raises ``ValueError`` if
    no image has a true box of class ``label`` (recall would be undefined).
    """
    preds, trues = _check_inputs(predictions, targets)
    thresholds = _check_thresholds([iou_threshold])
    scores, flags, num_true = _class_results(preds, trues, int(label), thresholds,
                                             _check_max_det(max_detections))
    if num_true == 0:
        raise ValueError(f"label: no true box of class {label} in targets; recall is undefined")
    precision, recall = _curve(flags[0], num_true)
    return precision, recall, scores


def mean_average_precision(
    predictions: Sequence[dict[str, Any]],
    targets: Sequence[dict[str, Any]],
    *,
    iou_thresholds: Sequence[float] = COCO_IOU_THRESHOLDS,
    max_detections: int = 100,
    method: str = "coco101",
    classes: Sequence[int] | None = None,
) -> dict[str, Any]:
    """mAP of ``predictions`` against ``targets`` (formats as in :func:`precision_recall_curve`).

    ``classes`` (default: every label found in ``targets``) are the classes evaluated;
    ``max_detections`` applies per image and class, as in pycocotools. Returns a dict:
    ``"map"`` (mean over classes and thresholds: mAP@0.5:0.95 with the default thresholds),
    ``"map_50"`` and ``"map_75"`` (when 0.5 / 0.75 are among the thresholds), ``"ap"``
    ``(K, T)`` per class and threshold (NaN for a class without true boxes), ``"recall"``
    ``(K, T)`` the highest recall reached, ``"classes"`` ``(K,)`` and ``"iou_thresholds"``
    ``(T,)``. With the defaults ``"map"`` and ``"map_50"`` equal COCOeval's AP and AP50
    (``maxDets=[max_detections]``, area range "all").
    """
    preds, trues = _check_inputs(predictions, targets)
    thresholds = _check_thresholds(iou_thresholds)
    max_det = _check_max_det(max_detections)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if classes is None:
        classes = np.unique(np.concatenate([tl for _, tl, _ in trues]))
    classes = np.asarray(classes, dtype=np.int64).reshape(-1)
    ap = np.full((classes.size, thresholds.size), np.nan)
    recall = np.full_like(ap, np.nan)
    for k, label in enumerate(classes):
        _, flags, num_true = _class_results(preds, trues, int(label), thresholds, max_det)
        if num_true == 0:
            continue
        precision, rec = _curve(flags, num_true)
        for ti in range(thresholds.size):
            ap[k, ti] = _ap(precision[ti], rec[ti], method)
            recall[k, ti] = rec[ti, -1] if rec.shape[1] else 0.0
    valid = ~np.isnan(ap[:, 0]) if classes.size else np.zeros(0, dtype=bool)
    result: dict[str, Any] = {
        "map": float(ap[valid].mean()) if valid.any() else float("nan"),
        "ap": ap, "recall": recall, "classes": classes, "iou_thresholds": thresholds,
    }
    for name, t in (("map_50", 0.5), ("map_75", 0.75)):
        hit = np.flatnonzero(np.isclose(thresholds, t))
        if hit.size:
            result[name] = float(ap[valid, hit[0]].mean()) if valid.any() else float("nan")
    return result


def coco_evaluate(
    predictions: Sequence[dict[str, Any]],
    targets: Sequence[dict[str, Any]],
    *,
    max_detections: int = 100,
) -> dict[str, Any]:
    """The same evaluation by the reference code, ``pycocotools.cocoeval.COCOeval`` (``bbox``,
    ``maxDets=[max_detections]``), for checking :func:`mean_average_precision`.

    Inputs as in :func:`mean_average_precision` (labels any integers; category ids are
    ``label + 1`` internally). Returns ``"map"`` (AP@0.5:0.95), ``"map_50"``, ``"map_75"``
    and ``"ap"`` ``(K, T)`` per class (rows in the order of ``"classes"``, sorted labels of
    ``targets``; NaN where a class has no true box), computed from COCOeval's precision array
    as its ``summarize`` does. Needs ``pycocotools``.
    """
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    preds, trues = _check_inputs(predictions, targets)
    max_det = _check_max_det(max_detections)
    classes = np.unique(np.concatenate([tl for _, tl, _ in trues])).astype(np.int64)
    images, truths, detections = [], [], []
    for i, ((pb, pl, ps), (tb, tl, _)) in enumerate(zip(preds, trues, strict=True)):
        images.append({"id": i + 1})
        for (x0, y0, x1, y1), label in zip(tb.tolist(), tl.tolist(), strict=True):
            truths.append({"id": len(truths) + 1, "image_id": i + 1, "category_id": label + 1,
                           "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0),
                           "iscrowd": 0})
        for (x0, y0, x1, y1), label, score in zip(pb.tolist(), pl.tolist(), ps.tolist(),
                                                  strict=True):
            detections.append({"image_id": i + 1, "category_id": label + 1, "score": score,
                               "bbox": [x0, y0, x1 - x0, y1 - y0]})
    labels = sorted(set(classes.tolist()) | {d["category_id"] - 1 for d in detections})
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints as it goes
        truth = COCO()
        truth.dataset = {"images": images, "annotations": truths,
                         "categories": [{"id": c + 1} for c in labels]}
        truth.createIndex()
        found = truth.loadRes(detections) if detections else COCO()
        if not detections:
            found.dataset = {"images": images, "annotations": [], "categories": []}
            found.createIndex()
        evaluation = COCOeval(truth, found, "bbox")
        evaluation.params.maxDets = [max_det]
        evaluation.params.catIds = [int(c) + 1 for c in classes]
        evaluation.evaluate()
        evaluation.accumulate()
    # precision: (T, R, K, areas, maxDets); -1 marks "no true box"
    precision = evaluation.eval["precision"][:, :, :, 0, 0]
    ap = precision.mean(axis=1).T  # (K, T): the mean over the 101 recall points
    ap[(precision == -1).all(axis=1).T] = np.nan
    result: dict[str, Any] = {"map": float(np.nanmean(ap)), "ap": ap, "classes": classes}
    for name, t in (("map_50", 0.5), ("map_75", 0.75)):
        result[name] = float(np.nanmean(ap[:, int(np.flatnonzero(
            np.isclose(evaluation.params.iouThrs, t))[0])]))
    return result
