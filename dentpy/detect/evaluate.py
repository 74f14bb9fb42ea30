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

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from dentpy import _checks
from dentpy.detect.boxes import _check_labels, _check_scores, check_boxes

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "RECALL_POINTS",
    "average_precision",
    "bootstrap_map",
    "coco_evaluate",
    "mean_average_precision",
    "precision_recall_curve",
]

COCO_IOU_THRESHOLDS = tuple(float(t) for t in np.linspace(0.5, 0.95, 10))
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
METHODS = ("coco101", "all_points")
BOOTSTRAP_METHODS = ("basic", "percentile")

Image = tuple[np.ndarray, np.ndarray, np.ndarray]  # boxes (n, 4), labels (n,), scores (n,)


def _images(items: Any, name: str, *, scored: bool) -> list[Image]:
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise _checks.ArgumentTypeError(f"{name} must be a list of dicts, one per image, got "
                                        f"{_checks.describe(items)}")
    keys = ("boxes", "scores", "labels") if scored else ("boxes", "labels")
    out = []
    for k, item in enumerate(items):
        if not isinstance(item, dict) or any(key not in item for key in keys):
            raise _checks.ArgumentTypeError(f"{name}[{k}] must be a dict with keys {keys}, got "
                                            f"{_checks.describe(item)}")
        boxes = check_boxes(item["boxes"], f"{name}[{k}]['boxes']").detach().cpu().double()
        n = boxes.shape[0]
        labels = _check_labels(item["labels"], n, f"{name}[{k}]['labels']")
        labels = labels.cpu().numpy().astype(np.int64)
        scores = np.zeros(n)
        if scored:
            s = _check_scores(item["scores"], n, f"{name}[{k}]['scores']")
            scores = s.detach().cpu().double().numpy()
        out.append((boxes.numpy(), labels, scores))
    return out


def _check_inputs(predictions: Any, targets: Any, names: tuple[str, str] = (
        "predictions", "targets")) -> tuple[list[Image], list[Image]]:
    preds = _images(predictions, names[0], scored=True)
    trues = _images(targets, names[1], scored=False)
    if len(preds) != len(trues):
        raise _checks.ArgumentError(f"{names[0]} and {names[1]} must list the same images, got "
                                    f"{len(preds)} and {len(trues)}")
    if not preds:
        raise _checks.ArgumentError(f"{names[0]} is empty; need at least one image")
    return preds, trues


def _check_thresholds(thresholds: Any) -> np.ndarray:
    t = np.atleast_1d(_checks.array("iou_thresholds", thresholds, ndim=(0, 1),
                                    kind="number")).astype(np.float64)
    if (t < 0).any() or (t > 1).any():
        raise _checks.ArgumentError(f"iou_thresholds must be numbers in [0, 1], got "
                                    f"{t.tolist()!r:.80}")
    return t


def _check_max_det(max_detections: Any) -> int:
    return _checks.integer("max_detections", max_detections, low=1)


def _check_classes(classes: Any, trues: list[Image]) -> np.ndarray:
    if classes is None:
        return np.unique(np.concatenate([tl for _, tl, _ in trues])).astype(np.int64)
    values = _checks.array("classes", classes, ndim=(0, 1), nonempty=False)
    if values.size == 0:
        raise _checks.ArgumentError("classes must name at least one class, got []")
    return _checks.array("classes", values, kind="integer").astype(np.int64).reshape(-1)


def _warn_undefined(result: float, what: str) -> None:
    if np.isnan(result):
        warnings.warn(f"{what}: no evaluated class has a true box in targets, so mAP is "
                      "undefined (NaN)", RuntimeWarning, stacklevel=3)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _match_image(det: np.ndarray, true: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """TP flags ``(T, D)`` for detections ``det`` (already sorted) against ``true`` boxes.

    All thresholds are matched at once; a detection that overlaps no true box by the lowest
    threshold is a false positive everywhere and is skipped."""
    matched = np.zeros((thresholds.size, det.shape[0]), dtype=bool)
    if det.shape[0] == 0 or true.shape[0] == 0:
        return matched
    ious = _iou(det, true)
    floors = np.minimum(thresholds, 1 - 1e-10)[:, None]  # as pycocotools: IoU 1 matches at t = 1
    taken = np.zeros((thresholds.size, true.shape[0]), dtype=bool)
    for d in np.flatnonzero(ious.max(1) >= floors.min()):
        candidates = np.where(~taken & (ious[d] >= floors), ious[d], -np.inf)  # (T, G)
        best = candidates.max(1)
        rows = np.flatnonzero(best > -np.inf)
        if rows.size == 0:
            continue
        # among equal IoUs, the last true box listed (as pycocotools)
        last = true.shape[0] - 1 - np.argmax((candidates == best[:, None])[:, ::-1], axis=1)
        taken[rows, last[rows]] = True
        matched[rows, d] = True
    return matched


def _class_table(preds: list[Image], trues: list[Image], label: int, thresholds: np.ndarray,
                 max_det: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores ``(D,)``, TP flags ``(T, D)`` and image index ``(D,)`` of every detection of
    ``label``, sorted by decreasing score (ties keep image order), and #true boxes per image."""
    scores, flags, images, num_true = [], [], [], np.zeros(len(trues), dtype=np.int64)
    for i, ((pb, pl, ps), (tb, tl, _)) in enumerate(zip(preds, trues, strict=True)):
        mine = np.flatnonzero(pl == label)
        order = mine[np.argsort(-ps[mine], kind="mergesort")][:max_det]
        true = tb[tl == label]
        num_true[i] = true.shape[0]
        scores.append(ps[order])
        flags.append(_match_image(pb[order], true, thresholds))
        images.append(np.full(order.size, i, dtype=np.int64))
    scores = np.concatenate(scores)
    flags = np.concatenate(flags, axis=1)
    order = np.argsort(-scores, kind="mergesort")
    return scores[order], flags[:, order], np.concatenate(images)[order], num_true


def _class_results(preds: list[Image], trues: list[Image], label: int, thresholds: np.ndarray,
                   max_det: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Scores ``(D,)`` and TP flags ``(T, D)`` sorted by decreasing score, and #true boxes."""
    scores, flags, _, num_true = _class_table(preds, trues, label, thresholds, max_det)
    return scores, flags, int(num_true.sum())


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
    _checks.choice("method", method, METHODS)
    p = _checks.array("precision", precision, ndim=1, nonempty=False).astype(np.float64)
    r = _checks.array("recall", recall, ndim=1, nonempty=False).astype(np.float64)
    _checks.same_length(precision=p, recall=r)
    for name, values in (("precision", p), ("recall", r)):
        if ((values < 0) | (values > 1)).any():
            raise _checks.ArgumentError(f"{name} must lie in [0, 1], got values from "
                                        f"{values.min()} to {values.max()}")
    if (np.diff(r) < 0).any():
        raise _checks.ArgumentError("recall must be non-decreasing (points sorted by "
                                    "decreasing score)")
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
    thresholds = np.array([_checks.probability("iou_threshold", iou_threshold)])
    label = _checks.integer("label", label)
    scores, flags, num_true = _class_results(preds, trues, label, thresholds,
                                             _check_max_det(max_detections))
    if num_true == 0:
        raise _checks.ArgumentError(f"label: no true box of class {label} in targets; recall "
                                    "is undefined")
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
    (``maxDets=[max_detections]``, area range "all"). When no class of ``classes`` has a true
    box (e.g. ``targets`` without any box), ``"map"`` is NaN, with a ``RuntimeWarning``.
    """
    preds, trues = _check_inputs(predictions, targets)
    thresholds = _check_thresholds(iou_thresholds)
    max_det = _check_max_det(max_detections)
    _checks.choice("method", method, METHODS)
    classes = _check_classes(classes, trues)
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
    _warn_undefined(result["map"], "mean_average_precision")
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
    as its ``summarize`` does. Needs ``pycocotools``. Targets without any true box give NaN
    mAPs, with a ``RuntimeWarning``.
    """
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    preds, trues = _check_inputs(predictions, targets)
    max_det = _check_max_det(max_detections)
    classes = np.unique(np.concatenate([tl for _, tl, _ in trues])).astype(np.int64)
    if classes.size == 0:
        warnings.warn("coco_evaluate: targets hold no true box, so mAP is undefined (NaN)",
                      RuntimeWarning, stacklevel=2)
        nan = float("nan")
        return {"map": nan, "map_50": nan, "map_75": nan, "ap": np.zeros((0, 10)),
                "classes": classes}
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


def _groups(flags: np.ndarray, images: np.ndarray, n_images: int) -> tuple[np.ndarray, np.ndarray]:
    """For one threshold: each TP is its own group, each run of consecutive FPs one group.

    Returns ``(members (N, G), is_tp (G,))``: how many detections of each image a group holds.
    Points inside a run of FPs never decide an interpolated AP (recall stays, precision
    falls), so the curve at the groups' ends gives the same AP, at a fraction of the size.
    """
    if flags.size == 0:
        return np.zeros((n_images, 0)), np.zeros(0, dtype=bool)
    start = flags | np.concatenate([[True], flags[:-1]])  # a TP, or the first FP after a TP
    group = np.cumsum(start) - 1
    members = np.zeros((n_images, int(group[-1]) + 1))
    np.add.at(members, (images, group), 1.0)
    return members, flags[start]


def _ap_rows(tp: np.ndarray, fp: np.ndarray, num_true: np.ndarray) -> np.ndarray:
    """COCO 101-point AP of many weighted curves at once: ``tp``, ``fp`` ``(B, G)`` cumulative
    counts, ``num_true`` ``(B,)``; NaN where ``num_true`` is 0. Same rule as :func:`_ap`."""
    b, g = tp.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / np.where(tp + fp > 0, tp + fp, 1.0), 0.0)
        recall = tp / np.where(num_true > 0, num_true, 1.0)[:, None]
    if g == 0:
        ap = np.zeros(b)
    else:
        envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
        # first point with recall >= r_k is the number of points with recall < r_k
        below = np.searchsorted(RECALL_POINTS, recall, side="right")  # (B, G), 1..101
        counts = np.zeros((b, RECALL_POINTS.size + 1), dtype=np.int64)
        np.add.at(counts, (np.arange(b)[:, None], below), 1)
        first = np.cumsum(counts, axis=1)[:, :RECALL_POINTS.size]  # (B, 101)
        padded = np.concatenate([envelope, np.zeros((b, 1))], axis=1)
        ap = np.take_along_axis(padded, np.minimum(first, g), axis=1).mean(1)
    return np.where(num_true > 0, ap, np.nan)


def _map_for_weights(tables: list, weights: np.ndarray) -> np.ndarray:
    """mAP (mean over classes with a true box, and thresholds) for each row of ``weights``
    ``(B, N)``: how many times each image counts. ``tables``: per class, the true-box counts
    per image and, per threshold, the groups of :func:`_groups`."""
    per_class = []
    for num_true, groups in tables:
        n_true = weights @ num_true  # (B,)
        aps = []
        for members, is_tp in groups:
            w = weights @ members  # (B, G)
            aps.append(_ap_rows(np.cumsum(w * is_tp, 1), np.cumsum(w * ~is_tp, 1), n_true))
        per_class.append(np.mean(aps, axis=0))
    per_class = np.array(per_class)  # (K, B)
    valid = ~np.isnan(per_class)
    with np.errstate(invalid="ignore"):
        return np.where(valid.any(0), np.nansum(per_class, 0) / valid.sum(0), np.nan)


def _tables(preds: list[Image], trues: list[Image], classes: np.ndarray, thresholds: np.ndarray,
            max_det: int) -> list:
    tables = []
    for label in classes:
        _, flags, images, num_true = _class_table(preds, trues, int(label), thresholds, max_det)
        tables.append((num_true.astype(np.float64),
                       [_groups(flags[t], images, len(trues)) for t in range(thresholds.size)]))
    return tables


def bootstrap_map(
    predictions: Sequence[dict[str, Any]],
    targets: Sequence[dict[str, Any]],
    *,
    baseline: Sequence[dict[str, Any]] | None = None,
    baseline_targets: Sequence[dict[str, Any]] | None = None,
    classes: Sequence[int] | None = None,
    iou_thresholds: Sequence[float] = COCO_IOU_THRESHOLDS,
    max_detections: int = 100,
    n: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    method: str = "basic",
) -> tuple[float, float, float]:
    """(estimate, low, high): mAP and its bootstrap interval over images.

    The estimate is :func:`mean_average_precision`'s mAP (mean over ``classes`` that have a
    true box and over ``iou_thresholds``: pass ``iou_thresholds=[0.5]`` for mAP@0.5). Each of
    the ``n`` resamples draws as many images as there are, with replacement, from
    ``numpy.random.default_rng(seed)``, and scores the detections of the drawn images as COCO
    would score a data set in which each image appears as often as it was drawn (ties of equal
    scores between images keep the images' order in ``predictions``). ``low`` and ``high`` are
    the ``alpha/2`` and ``1 - alpha/2`` quantiles.

    With ``baseline`` (another model's predictions on the same images), the estimate is the
    paired difference ``mAP(predictions) - mAP(baseline)``, and both are scored on the same
    resampled images in every draw, so the interval reflects the difference only.
    ``baseline_targets`` (default ``targets``) scores the baseline against its own boxes of
    the same images, for two models that see the images in different frames (a crop and the
    whole image, say); item ``i`` of both lists must be the same image. Resamples without any
    true box of ``classes`` are left out; if more than half are, a ``ValueError`` says the
    data are too few.
    """
    preds, trues = _check_inputs(predictions, targets)
    thresholds = _check_thresholds(iou_thresholds)
    max_det = _check_max_det(max_detections)
    n = _checks.integer("n", n, low=1)
    alpha = _checks.probability("alpha", alpha, open_ends=True)
    seed = _checks.integer("seed", seed, low=0)
    _checks.choice("method", method, BOOTSTRAP_METHODS)
    classes = _check_classes(classes, trues)
    if classes.size == 0:
        raise _checks.ArgumentError("targets hold no true box; mAP and its interval are "
                                    "undefined")
    tables = [_tables(preds, trues, classes, thresholds, max_det)]
    if baseline_targets is not None and baseline is None:
        raise _checks.ArgumentError("baseline_targets needs baseline (the predictions to score "
                                    "on them)")
    if baseline is not None:
        other, other_trues = _check_inputs(
            baseline, targets if baseline_targets is None else baseline_targets,
            ("baseline", "targets" if baseline_targets is None else "baseline_targets"))
        if len(other_trues) != len(trues):
            raise _checks.ArgumentError(f"baseline_targets must list the same images as targets, "
                                        f"got {len(other_trues)} and {len(trues)}")
        tables.append(_tables(other, other_trues, classes, thresholds, max_det))

    def statistic(weights: np.ndarray) -> np.ndarray:
        values = _map_for_weights(tables[0], weights)
        return values - _map_for_weights(tables[1], weights) if baseline is not None else values

    n_images = len(trues)
    estimate = float(statistic(np.ones((1, n_images)))[0])
    if np.isnan(estimate):
        raise _checks.ArgumentError(f"targets hold no true box of classes {classes.tolist()}")
    draws = np.random.default_rng(seed).integers(0, n_images, size=(n, n_images))
    values = []
    for chunk in np.array_split(draws, max(1, n // 200)):
        weights = np.zeros((len(chunk), n_images))
        np.add.at(weights, (np.arange(len(chunk))[:, None], chunk), 1.0)
        values.append(statistic(weights))
    values = np.concatenate(values)
    valid = values[~np.isnan(values)]
    if valid.size * 2 < n:
        raise _checks.ArgumentError(f"n: {n - valid.size} of {n} resamples hold no true box of "
                                    "the classes; too few images")
    low, high = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
    if method == "basic":
        floor = 0.0 if baseline is None else -1.0  # mAP lies in [0, 1], a difference in [-1, 1]
        low, high = max(2 * estimate - high, floor), min(2 * estimate - low, 1.0)
    return estimate, float(low), float(high)
