"""dentpy.detect.evaluate against pycocotools' COCOeval and hand-computed cases."""

import contextlib
import io

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from dentpy.detect import (
    COCO_IOU_THRESHOLDS,
    average_precision,
    bootstrap_map,
    evaluate,
    mean_average_precision,
    precision_recall_curve,
)

NUM_CLASSES = 3


def fixture(seed, n_images=6):
    """Images with 0-6 true boxes of 3 classes; detections: jittered hits (some duplicated, some
    with the wrong class, tied scores on purpose), misses and random false positives."""
    rng = np.random.default_rng(seed)
    preds, targets = [], []
    for _ in range(n_images):
        n = rng.integers(0, 7)
        xy = rng.uniform(0, 200, (n, 2))
        true = np.concatenate([xy, xy + rng.uniform(5, 60, (n, 2))], 1)
        true_labels = rng.integers(0, NUM_CLASSES, n)
        boxes, scores, labels = [], [], []
        for box, label in zip(true, true_labels, strict=True):
            if rng.random() < 0.8:  # found (else a miss)
                for _ in range(rng.integers(1, 3)):  # sometimes twice
                    boxes.append(box + rng.normal(0, 3, 4))
                    scores.append(rng.choice([0.3, 0.5, 0.9, rng.random()]))
                    labels.append(label if rng.random() < 0.85 else (label + 1) % NUM_CLASSES)
        for _ in range(rng.integers(0, 4)):  # false positives
            xy = rng.uniform(0, 200, 2)
            boxes.append(np.concatenate([xy, xy + rng.uniform(5, 60, 2)]))
            scores.append(rng.random())
            labels.append(rng.integers(0, NUM_CLASSES))
        boxes = np.array(boxes).reshape(-1, 4)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        preds.append({"boxes": torch.tensor(boxes), "scores": torch.tensor(scores),
                      "labels": torch.tensor(labels, dtype=torch.long)})
        targets.append({"boxes": torch.tensor(true), "labels": torch.tensor(true_labels)})
    return preds, targets


def cocoeval(preds, targets, max_dets=None):
    """COCOeval on the same boxes (xywh, category ids from 1); returns the evaluated object."""
    images, annotations, detections = [], [], []
    for i, (pred, target) in enumerate(zip(preds, targets, strict=True)):
        images.append({"id": i + 1, "width": 300, "height": 300})
        for b, c in zip(target["boxes"].tolist(), target["labels"].tolist(), strict=True):
            w, h = b[2] - b[0], b[3] - b[1]
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1,
                                "category_id": c + 1, "bbox": [b[0], b[1], w, h],
                                "area": w * h, "iscrowd": 0})
        for b, c, s in zip(pred["boxes"].tolist(), pred["labels"].tolist(),
                           pred["scores"].tolist(), strict=True):
            detections.append({"image_id": i + 1, "category_id": c + 1, "score": s,
                               "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations,
                      "categories": [{"id": k + 1, "name": str(k)} for k in range(NUM_CLASSES)]}
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(detections), "bbox")
        if max_dets is not None:
            ev.params.maxDets = [max_dets]
        ev.evaluate()
        ev.accumulate()
        if max_dets is None:
            ev.summarize()
    return ev


def coco_ap_per_class(ev):
    """(K, T) AP per class and IoU threshold from COCOeval's precision array (area "all",
    last maxDets); NaN where COCO marks a class as absent (-1)."""
    precision = ev.eval["precision"][:, :, :, 0, -1]  # (T, R, K)
    return np.where((precision > -1).all(1), precision.mean(1), np.nan).T


# ----------------------------------------------------------------- vs pycocotools


@pytest.mark.parametrize("seed", range(6))
def test_equals_cocoeval_summary(seed):
    preds, targets = fixture(seed)
    ev = cocoeval(preds, targets)
    ours = mean_average_precision(preds, targets, classes=range(NUM_CLASSES))
    assert ours["map"] == pytest.approx(ev.stats[0], abs=1e-6)  # AP @[.5:.95], maxDets 100
    assert ours["map_50"] == pytest.approx(ev.stats[1], abs=1e-6)
    assert ours["map_75"] == pytest.approx(ev.stats[2], abs=1e-6)
    np.testing.assert_allclose(ours["ap"], coco_ap_per_class(ev), atol=1e-6)
    recall = ev.eval["recall"][:, :, 0, -1].T  # (K, T)
    np.testing.assert_allclose(ours["recall"], np.where(recall > -1, recall, np.nan), atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_max_detections_is_per_image_and_class_as_in_coco(seed):
    preds, targets = fixture(seed + 10)
    ev = cocoeval(preds, targets, max_dets=1)
    ours = mean_average_precision(preds, targets, classes=range(NUM_CLASSES), max_detections=1)
    np.testing.assert_allclose(ours["ap"], coco_ap_per_class(ev), atol=1e-6)


def test_class_without_true_boxes_is_nan_and_left_out():
    preds, targets = fixture(3)
    result = mean_average_precision(preds, targets, classes=[0, 1, 2, 7])
    assert np.isnan(result["ap"][3]).all()
    assert result["map"] == pytest.approx(np.nanmean(result["ap"][:3]))
    default = mean_average_precision(preds, targets)  # classes found in targets
    assert set(default["classes"].tolist()) <= {0, 1, 2}


# ----------------------------------------------------------------------- by hand


def hand_case():
    target = {"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0]]),
              "labels": torch.tensor([0, 0])}
    pred = {"boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0],      # TP
                                   [0.0, 0.0, 10.0, 10.0],      # duplicate: FP
                                   [21.0, 0.0, 31.0, 10.0]]),   # TP at 0.5 (IoU 9/11)
            "scores": torch.tensor([0.9, 0.8, 0.7]), "labels": torch.tensor([0, 0, 0])}
    return [pred], [target]


def test_precision_recall_curve_by_hand():
    preds, targets = hand_case()
    precision, recall, scores = precision_recall_curve(preds, targets, label=0)
    np.testing.assert_allclose(precision, [1.0, 0.5, 2 / 3])
    np.testing.assert_allclose(recall, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(scores, [0.9, 0.8, 0.7])
    _, strict, _ = precision_recall_curve(preds, targets, label=0, iou_threshold=0.9)
    np.testing.assert_allclose(strict, [0.5, 0.5, 0.5])  # IoU 9/11 < 0.9: a miss


def test_average_precision_by_hand():
    precision, recall = [1.0, 0.5, 2 / 3], [0.5, 0.5, 1.0]
    # envelope: 1 up to recall 0.5 (51 of the 101 points), then 2/3 (50 points)
    assert average_precision(precision, recall) == pytest.approx((51 + 50 * 2 / 3) / 101)
    assert average_precision(precision, recall, method="all_points") == pytest.approx(
        0.5 + 0.5 * 2 / 3)
    assert average_precision([], []) == 0.0
    assert average_precision([1.0], [0.5]) == pytest.approx(51 / 101)


def test_map_by_hand():
    preds, targets = hand_case()
    result = mean_average_precision(preds, targets, iou_thresholds=[0.5, 0.9])
    assert result["ap"][0, 0] == pytest.approx((51 + 50 * 2 / 3) / 101)
    assert result["ap"][0, 1] == pytest.approx(51 / 101)  # only the first box at IoU 0.9
    assert "map_75" not in result


def test_perfect_and_empty_predictions():
    _, targets = hand_case()
    perfect = [{"boxes": targets[0]["boxes"], "scores": torch.tensor([0.9, 0.8]),
                "labels": targets[0]["labels"]}]
    assert mean_average_precision(perfect, targets)["map"] == pytest.approx(1.0)
    nothing = [{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": []}]
    result = mean_average_precision(nothing, targets)
    assert result["map"] == 0.0 and result["recall"][0, 0] == 0.0


# --------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("mutate", "match"), [
    (lambda p, t: (p + p, t), "same images"),
    (lambda p, t: ([], []), "predictions is empty"),
    (lambda p, t: ([{"boxes": p[0]["boxes"]}], t), "must be a dict with keys"),
    (lambda p, t: ([p[0] | {"scores": torch.tensor([0.1, float("nan"), 0.3])}], t), "NaN"),
    (lambda p, t: ([p[0] | {"scores": torch.zeros(2)}], t), r"shape \(3,\)"),
    (lambda p, t: ([p[0] | {"labels": torch.zeros(3)}], t), "integers"),
    (lambda p, t: (p, [t[0] | {"boxes": torch.zeros(2, 3)}]), r"targets\[0\]\['boxes'\]"),
    (lambda p, t: (p[0], t), "list of dicts"),
])
def test_bad_input_raises(mutate, match):
    preds, targets = mutate(*hand_case())
    with pytest.raises(ValueError, match=match):
        mean_average_precision(preds, targets)


def test_bad_options_raise():
    preds, targets = hand_case()
    with pytest.raises(ValueError, match="iou_thresholds"):
        mean_average_precision(preds, targets, iou_thresholds=[0.5, 1.2])
    with pytest.raises(ValueError, match="max_detections"):
        mean_average_precision(preds, targets, max_detections=0)
    with pytest.raises(ValueError, match="method"):
        mean_average_precision(preds, targets, method="voc07")
    with pytest.raises(ValueError, match="no true box of class 5"):
        precision_recall_curve(preds, targets, label=5)
    with pytest.raises(ValueError, match="non-decreasing"):
        average_precision([1.0, 1.0], [0.5, 0.2])
    with pytest.raises(ValueError, match="same length"):
        average_precision([1.0], [0.5, 0.6])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        average_precision([1.5], [0.5])


# ------------------------------------------------------------ bootstrap over images


def unique_scores(preds, seed=0):
    """The fixture with tiny distinct offsets on every score: no ties, so resampled images can
    be compared with an explicitly duplicated image list exactly."""
    rng = np.random.default_rng(seed)
    return [p | {"scores": p["scores"] + torch.tensor(rng.uniform(0, 1e-6, len(p["scores"])))}
            for p in preds]


@pytest.mark.parametrize("seed", range(4))
def test_bootstrap_estimate_equals_map(seed):
    preds, targets = fixture(seed, n_images=8)
    full = mean_average_precision(preds, targets)
    estimate, low, high = bootstrap_map(preds, targets, n=50)
    assert estimate == pytest.approx(full["map"], abs=1e-12)
    assert low <= high
    at_50, _, _ = bootstrap_map(preds, targets, iou_thresholds=[0.5], n=20)
    assert at_50 == pytest.approx(full["map_50"], abs=1e-12)
    some = bootstrap_map(preds, targets, classes=[0, 2], n=20)[0]
    part = mean_average_precision(preds, targets, classes=[0, 2])["map"]
    assert some == pytest.approx(part, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_a_resample_scores_like_the_duplicated_data_set(seed):
    """Weights (how often each image was drawn) give the mAP of the list with repeats."""
    preds, targets = fixture(seed + 20, n_images=7)
    preds = unique_scores(preds, seed)
    draw = np.sort(np.random.default_rng(seed).integers(0, 7, 7))
    weights = np.bincount(draw, minlength=7)[None].astype(float)
    classes = np.arange(NUM_CLASSES)
    thresholds = np.asarray(COCO_IOU_THRESHOLDS)
    p_, t_ = evaluate._check_inputs(preds, targets)
    ours = evaluate._map_for_weights(evaluate._tables(p_, t_, classes, thresholds, 100), weights)
    repeated = mean_average_precision([preds[i] for i in draw], [targets[i] for i in draw],
                                      classes=classes)
    assert ours[0] == pytest.approx(repeated["map"], abs=1e-12)


def test_bootstrap_paired_difference():
    preds, targets = fixture(5, n_images=10)
    same = bootstrap_map(preds, targets, baseline=preds, n=100)
    assert same == (0.0, 0.0, 0.0)
    worse = [p | {"scores": torch.rand(len(p["scores"]), generator=torch.Generator()
                                       .manual_seed(i))} for i, p in enumerate(preds)]
    diff, low, high = bootstrap_map(preds, targets, baseline=worse, n=300, seed=1)
    a = mean_average_precision(preds, targets)["map"]
    b = mean_average_precision(worse, targets)["map"]
    assert diff == pytest.approx(a - b, abs=1e-12)
    assert -1.0 <= low <= high <= 1.0
    # same seed, same draws: the interval is reproducible
    assert bootstrap_map(preds, targets, baseline=worse, n=300, seed=1) == (diff, low, high)


def test_bootstrap_baseline_on_its_own_targets():
    """A baseline scored in another frame: the same images, boxes scaled by 2 on both sides."""
    preds, targets = fixture(6, n_images=8)
    scaled = [p | {"boxes": p["boxes"] * 2} for p in preds]
    scaled_targets = [t | {"boxes": t["boxes"] * 2} for t in targets]
    # IoU does not change with scale: the same model in both frames differs by 0 everywhere
    assert bootstrap_map(preds, targets, baseline=scaled, baseline_targets=scaled_targets,
                         n=50) == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)
    with pytest.raises(ValueError, match="needs baseline"):
        bootstrap_map(preds, targets, baseline_targets=targets)
    with pytest.raises(ValueError, match="same images"):
        bootstrap_map(preds, targets, baseline=preds[:3], baseline_targets=targets[:3])


def test_bootstrap_basic_interval_reflects_the_percentile_one():
    preds, targets = fixture(7, n_images=12)
    est, q_lo, q_hi = bootstrap_map(preds, targets, n=200, method="percentile")
    same, low, high = bootstrap_map(preds, targets, n=200, method="basic")
    assert same == est
    assert low == pytest.approx(max(2 * est - q_hi, 0.0))
    assert high == pytest.approx(min(2 * est - q_lo, 1.0))
    with pytest.raises(ValueError, match="method"):
        bootstrap_map(preds, targets, method="bca")


def test_bootstrap_perfect_detector_has_a_degenerate_interval():
    _, targets = fixture(2, n_images=6)
    perfect = [{"boxes": t["boxes"], "scores": torch.linspace(1, 0.5, len(t["boxes"])),
                "labels": t["labels"]} for t in targets]
    assert bootstrap_map(perfect, targets, n=50) == pytest.approx((1.0, 1.0, 1.0))


def test_bootstrap_bad_input():
    preds, targets = fixture(1, n_images=4)
    with pytest.raises(ValueError, match="n must be"):
        bootstrap_map(preds, targets, n=0)
    with pytest.raises(ValueError, match="alpha"):
        bootstrap_map(preds, targets, alpha=1.5)
    with pytest.raises(ValueError, match="same images"):
        bootstrap_map(preds, targets, baseline=preds[:2])
    with pytest.raises(ValueError, match="no true box of classes"):
        bootstrap_map(preds, targets, classes=[9])
    with pytest.raises(ValueError, match="classes must name"):
        bootstrap_map(preds, targets, classes=[])
    with pytest.raises(ValueError, match="iou_thresholds"):
        bootstrap_map(preds, targets, iou_thresholds=[2.0])
    # a resample that draws only images without a true box has no mAP (left out)
    one = [{"boxes": torch.tensor([[0.0, 0, 5, 5]]), "labels": torch.tensor([0])},
           {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}]
    nothing = [{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": []}] * 2
    p_, t_ = evaluate._check_inputs(nothing, one)
    tables = evaluate._tables(p_, t_, np.array([0]), np.array([0.5]), 100)
    values = evaluate._map_for_weights(tables, np.array([[0.0, 2.0], [1.0, 1.0]]))
    assert np.isnan(values[0]) and values[1] == 0.0
