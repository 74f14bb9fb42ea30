"""dentpy.metrics against hand-computed cases, MONAI and scikit-learn."""

import warnings

import numpy as np
import pytest
import torch
from monai.metrics import (
    DiceMetric,
    HausdorffDistanceMetric,
    MeanIoU,
    compute_dice,
    compute_hausdorff_distance,
    compute_iou,
)
from scipy import ndimage
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from dentpy import metrics as M

NAN = float("nan")


def blobs(shape, num_classes, seed, batch=2):
    """Smooth random label maps (B, *shape): argmax of blurred noise, so regions have surfaces."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(batch, num_classes, *shape))
    sigma = (0, 0) + (2.0,) * len(shape)
    return torch.as_tensor(ndimage.gaussian_filter(noise, sigma).argmax(1))


def one_hot(labels, num_classes):
    return torch.nn.functional.one_hot(labels, num_classes).movedim(-1, 1).float()


def mask(shape, *cells):
    m = torch.zeros(1, 1, *shape)
    for cell in cells:
        m[(0, 0, *cell)] = 1
    return m


# ---------------------------------------------------------------- Dice and IoU, by hand


def test_disjoint_masks_score_zero_not_one():
    # the workshop's count-based Dice gave 1.0 here: two disjoint 3-voxel masks
    pred = mask((4, 4), (0, 0), (0, 1), (0, 2))
    target = mask((4, 4), (3, 0), (3, 1), (3, 2))
    assert M.dice(pred, target).item() == 0.0
    assert M.iou(pred, target).item() == 0.0


def test_identical_masks_score_one():
    target = mask((5, 5), (1, 1), (1, 2), (2, 2))
    assert M.dice(target, target).item() == 1.0
    assert M.iou(target, target).item() == 1.0


def test_subset_by_hand():
    target = mask((4, 4), (0, 0), (0, 1), (1, 0), (1, 1))
    pred = mask((4, 4), (0, 0), (0, 1))
    assert M.dice(pred, target).item() == pytest.approx(2 * 2 / (2 + 4))
    assert M.iou(pred, target).item() == pytest.approx(2 / 4)


def test_empty_conventions():
    some, none = mask((3, 3), (1, 1)), mask((3, 3))
    for fn in (M.dice, M.iou):
        assert fn(some, none).item() == 0.0
        assert fn(none, some).item() == 0.0
        assert fn(none, none).item() == 1.0
        assert torch.isnan(fn(none, none, empty="nan")).all()
        assert fn(some, none, empty="nan").item() == 0.0


def test_label_maps_per_class_by_hand():
    pred = torch.tensor([[[0, 1], [2, 2]]])
    target = torch.tensor([[[0, 1], [1, 2]]])
    expected = torch.tensor([[1.0, 2 * 1 / 3, 2 * 1 / 3]])
    torch.testing.assert_close(M.dice(pred, target, num_classes=3), expected)
    torch.testing.assert_close(
        M.dice(pred, target, num_classes=3, include_background=False), expected[:, 1:]
    )
    # class 3 is absent from both maps: Dice 1 by convention, or NaN on request
    out = M.dice(pred, target, num_classes=4, empty="nan")
    assert out.shape == (1, 4) and torch.isnan(out[0, 3])


def test_numpy_bool_and_int_inputs_agree():
    labels = blobs((12, 12), 3, seed=1)
    other = blobs((12, 12), 3, seed=2)
    as_tensor = M.dice(labels, other, num_classes=3)
    as_numpy = M.dice(labels.numpy(), other.numpy().astype(np.uint8), num_classes=3)
    as_bool = M.dice(one_hot(labels, 3).bool(), one_hot(other, 3).long())
    torch.testing.assert_close(as_tensor, as_numpy)
    torch.testing.assert_close(as_tensor, as_bool)


# ---------------------------------------------------------------- Dice and IoU vs MONAI


@pytest.mark.parametrize("shape", [(24, 20), (10, 12, 14)])
@pytest.mark.parametrize("include_background", [True, False])
def test_dice_iou_match_monai(shape, include_background):
    c = 4
    pred, target = blobs(shape, c, seed=3), blobs(shape, c, seed=4)
    p1, t1 = one_hot(pred, c), one_hot(target, c)
    ours_dice = M.dice(pred, target, num_classes=c, include_background=include_background)
    ours_iou = M.iou(pred, target, num_classes=c, include_background=include_background)
    kw = dict(include_background=include_background, ignore_empty=False)
    torch.testing.assert_close(ours_dice, compute_dice(p1, t1, **kw))
    torch.testing.assert_close(ours_iou, compute_iou(p1, t1, **kw))
    torch.testing.assert_close(M.dice(p1, t1, include_background=include_background), ours_dice)
    # MONAI's metric classes, with label maps (B, 1, ...) for DiceMetric
    dm = DiceMetric(num_classes=c, reduction="none", **kw)
    torch.testing.assert_close(ours_dice, dm(pred[:, None], target[:, None]))
    torch.testing.assert_close(ours_iou, MeanIoU(reduction="none", **kw)(p1, t1))
    torch.testing.assert_close(ours_iou, ours_dice / (2 - ours_dice))


def test_dice_empty_targets_match_monai_ignore_empty_false():
    pred = torch.zeros(3, 1, 6, 6)
    target = torch.zeros(3, 1, 6, 6)
    pred[0, 0, 1:3, 1:3] = 1  # pred only
    target[1, 0, 2:4, 2:4] = 1  # target only; item 2: both empty
    torch.testing.assert_close(M.dice(pred, target), compute_dice(pred, target, ignore_empty=False))
    torch.testing.assert_close(M.iou(pred, target), compute_iou(pred, target, ignore_empty=False))


# ---------------------------------------------------------------- HD95


def test_hd95_single_points_with_spacing():
    pred, target = mask((6, 9), (2, 1)), mask((6, 9), (2, 6))
    assert M.hd95(pred, target).item() == pytest.approx(5.0)
    assert M.hd95(pred, target, spacing=(2.0, 0.5)).item() == pytest.approx(2.5)
    assert M.hd95(pred, target, spacing=0.1).item() == pytest.approx(0.5)
    assert M.hd95(target, target).item() == 0.0
    p3, t3 = mask((5, 4, 4), (0, 1, 1)), mask((5, 4, 4), (2, 1, 1))
    assert M.hd95(p3, t3, spacing=(3.0, 0.4, 0.4)).item() == pytest.approx(6.0)


def test_hd95_empty_conventions():
    some, none = mask((6, 6), (2, 2), (2, 3)), mask((6, 6))
    assert M.hd95(some, none).item() == float("inf")
    assert M.hd95(none, some).item() == float("inf")
    assert torch.isnan(M.hd95(none, none)).all()
    assert M.hd95(none, none, empty="zero").item() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MONAI warns about empty masks
        # MONAI: inf for the plain Hausdorff distance, NaN for both empty
        assert compute_hausdorff_distance(some, none, include_background=True).item() == float(
            "inf"
        )
        assert torch.isnan(compute_hausdorff_distance(none, none, include_background=True))


@pytest.mark.filterwarnings("ignore::FutureWarning")  # raised inside MONAI 1.5
def test_hd95_matches_monai_metric_2d():
    c = 3
    pred, target = blobs((28, 24), c, seed=5, batch=3), blobs((28, 24), c, seed=6, batch=3)
    metric = HausdorffDistanceMetric(include_background=True, percentile=95, reduction="none")
    expected = metric(one_hot(pred, c), one_hot(target, c))
    torch.testing.assert_close(M.hd95(pred, target, num_classes=c), expected)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("percentile", [95.0, 100.0, 50.0])
def test_hd95_matches_monai_with_anisotropic_spacing_3d(percentile):
    c, spacing = 3, (2.0, 0.5, 0.8)
    pred, target = blobs((8, 14, 12), c, seed=7), blobs((8, 14, 12), c, seed=8)
    p1, t1 = one_hot(pred, c), one_hot(target, c)
    expected = compute_hausdorff_distance(
        p1, t1, include_background=False, percentile=percentile, spacing=list(spacing)
    )
    ours = M.hd95(p1, t1, include_background=False, spacing=spacing, percentile=percentile)
    torch.testing.assert_close(ours, expected)


# ---------------------------------------------------------------- segmentation bad input


@pytest.mark.parametrize("fn", [M.dice, M.iou, M.hd95])
def test_segmentation_bad_input(fn):
    good = torch.zeros(2, 1, 4, 4)
    labels = torch.zeros(2, 4, 4, dtype=torch.long)
    with pytest.raises(ValueError, match="same shape"):
        fn(good, torch.zeros(2, 1, 4, 5))
    with pytest.raises(ValueError, match="pred must be a binary mask"):
        fn(good + 0.5, good)
    with pytest.raises(ValueError, match="target must be a binary mask"):
        fn(good, good + 2)
    with pytest.raises(ValueError, match="target contains NaN"):
        fn(good, torch.full_like(good, NAN))
    with pytest.raises(ValueError, match="outside"):
        fn(labels, labels + 3, num_classes=3)
    with pytest.raises(ValueError, match="outside"):
        fn(labels - 1, labels, num_classes=3)
    with pytest.raises(ValueError, match="integer class labels"):
        fn(labels.float(), labels.float(), num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        fn(labels, labels, num_classes=0)
    with pytest.raises(ValueError, match="pred is empty"):
        fn(torch.zeros(0, 1, 4, 4), torch.zeros(0, 1, 4, 4))
    with pytest.raises(ValueError, match="label maps"):
        fn(good[:, None], good[:, None], num_classes=2)
    with pytest.raises(ValueError, match="pass num_classes"):
        fn(labels, labels)
    with pytest.raises(ValueError, match="empty must be"):
        fn(good, good, empty="zero" if fn is not M.hd95 else "one")


def test_hd95_bad_options():
    good = mask((4, 4), (1, 1))
    for spacing in [(1.0, 2.0, 3.0), 0.0, (1.0, NAN), -1]:
        with pytest.raises(ValueError, match="spacing"):
            M.hd95(good, good, spacing=spacing)
    with pytest.raises(ValueError, match="percentile"):
        M.hd95(good, good, percentile=101)


# ---------------------------------------------------------------- classification vs sklearn


@pytest.fixture
def multiclass():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, size=200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 4, size=200))
    return y_true, y_pred


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
def test_precision_recall_f1_match_sklearn(multiclass, average):
    y_true, y_pred = multiclass
    pairs = [
        (M.precision, skm.precision_score),
        (M.recall, skm.recall_score),
        (M.sensitivity, skm.recall_score),
        (M.f1, skm.f1_score),
    ]
    for ours, theirs in pairs:
        got = ours(torch.as_tensor(y_true), torch.as_tensor(y_pred), average=average)
        np.testing.assert_allclose(got, theirs(y_true, y_pred, average=average))


def test_binary_defaults_and_accuracy(multiclass):
    y_true, y_pred = (a % 2 for a in multiclass)
    assert M.accuracy(y_true, y_pred) == skm.accuracy_score(y_true, y_pred)
    assert M.precision(y_true, y_pred) == skm.precision_score(y_true, y_pred)
    assert M.recall(y_true.tolist(), y_pred.tolist()) == skm.recall_score(y_true, y_pred)
    assert M.f1(y_true, y_pred, pos_label=0) == skm.f1_score(y_true, y_pred, pos_label=0)
    np.testing.assert_array_equal(
        M.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred)
    )


def test_specificity_binary_is_recall_of_negatives(multiclass):
    y_true, y_pred = (a % 2 for a in multiclass)
    assert M.specificity(y_true, y_pred) == pytest.approx(
        skm.recall_score(y_true, y_pred, pos_label=0)
    )
    # by hand: 3 negatives, 2 called negative
    assert M.specificity([0, 0, 0, 1], [0, 1, 0, 1]) == pytest.approx(2 / 3)
    with pytest.warns(UndefinedMetricWarning):
        assert M.specificity([1, 1], [1, 0]) == 0.0  # no negatives → zero_division


def test_specificity_multiclass_averages(multiclass):
    y_true, y_pred = multiclass
    cm = skm.confusion_matrix(y_true, y_pred)
    fp = cm.sum(0) - np.diag(cm)
    tn = cm.sum() - cm.sum(0) - cm.sum(1) + np.diag(cm)
    per_class = tn / (tn + fp)
    np.testing.assert_allclose(M.specificity(y_true, y_pred, average=None), per_class)
    assert M.specificity(y_true, y_pred, average="macro") == pytest.approx(per_class.mean())
    assert M.specificity(y_true, y_pred, average="micro") == pytest.approx(
        tn.sum() / (tn.sum() + fp.sum())
    )
    assert M.specificity(y_true, y_pred, average="weighted") == pytest.approx(
        np.average(per_class, weights=cm.sum(1))
    )
    with pytest.raises(ValueError, match="average='binary'"):
        M.specificity(y_true, y_pred)


def test_sensitivity_specificity_by_hand():
    y_true = [1, 1, 1, 1, 0, 0, 0]
    scores = [0.9, 0.6, 0.4, 0.8, 0.3, 0.7, 0.1]
    assert M.sensitivity_specificity(y_true, scores) == pytest.approx((3 / 4, 2 / 3))
    assert M.sensitivity_specificity(y_true, scores, threshold=0.35) == pytest.approx((1.0, 2 / 3))
    preds = torch.tensor([1, 0, 0, 1, 0, 0, 1])
    assert M.sensitivity_specificity(torch.tensor(y_true), preds) == pytest.approx((0.5, 2 / 3))
    with pytest.warns(UndefinedMetricWarning, match="specificity is undefined"):
        assert M.sensitivity_specificity([1, 1], [0.2, 0.9]) == (0.5, 0.0)
    with pytest.warns(UndefinedMetricWarning, match="sensitivity is undefined"):
        M.sensitivity_specificity([0, 0], [0.2, 0.9])
    sens, spec = M.sensitivity_specificity([0, 0], [0.2, 0.9], zero_division=np.nan)
    assert np.isnan(sens) and spec == 0.5
    with pytest.raises(ValueError, match="threshold must lie in"):
        M.sensitivity_specificity([0, 1], [0.2, 0.9], threshold=2)
    assert M.sensitivity_specificity([0, 1], [-3.0, 4.0], threshold=2) == (1.0, 1.0)  # scores
    with pytest.raises(ValueError, match="only 0 and 1"):
        M.sensitivity_specificity([0, 2], [0.2, 0.9])


def test_ranking_metrics_and_mae_match_sklearn():
    rng = np.random.default_rng(1)
    y_bin = rng.integers(0, 2, size=80)
    score = np.clip(y_bin * 0.3 + rng.random(80) * 0.7, 0, 1)
    expected = skm.roc_auc_score(y_bin, score)
    assert M.roc_auc(y_bin, torch.as_tensor(score)) == pytest.approx(expected)
    assert M.average_precision(y_bin, score) == pytest.approx(
        skm.average_precision_score(y_bin, score)
    )
    y_multi = rng.integers(0, 3, size=90)
    logits = rng.normal(size=(90, 3)) + np.eye(3)[y_multi]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    for average in ("macro", "weighted"):
        assert M.roc_auc(y_multi, proba, average=average) == pytest.approx(
            skm.roc_auc_score(y_multi, proba, average=average, multi_class="ovr")
        )
    np.testing.assert_allclose(
        M.average_precision(y_multi, proba, average=None),
        skm.average_precision_score(y_multi, proba, average=None),
    )
    ages, guess = rng.uniform(5, 80, size=30), rng.uniform(5, 80, size=30)
    assert M.mae(ages, guess) == pytest.approx(np.mean(np.abs(ages - guess)))


def test_classification_bad_input():
    with pytest.raises(ValueError, match="same length"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"y_pred must be finite \(no NaN"):
        M.precision([0, 1], [0.0, NAN])
    with pytest.raises(ValueError, match="y_true must be non-empty"):
        M.recall([], [])
    with pytest.raises(ValueError, match="average"):
        M.f1([0, 1], [0, 1], average="mean")
    with pytest.raises(ValueError, match="average='binary'"):
        M.roc_auc([0, 1], [0.1, 0.9], average="binary")
    with pytest.raises(ValueError, match="y_score must be 1 or 2-dimensional"):
        M.roc_auc([0, 1], np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="y_true must be an array of numbers"):
        M.mae([{}, {}], [1, 2])


def test_degenerate_input_one_convention():
    """Undefined classification scores: a documented value and an UndefinedMetricWarning."""
    nan = float("nan")
    cases = {
        "precision": (lambda: M.precision([0, 1], [0, 0]), 0.0),
        "recall": (lambda: M.recall([0, 0], [0, 1]), 0.0),
        "f1": (lambda: M.f1([0, 0], [0, 0]), 0.0),
        "specificity": (lambda: M.specificity([1, 1], [1, 1]), 0.0),
        "sensitivity_specificity": (lambda: M.sensitivity_specificity([0, 0], [0, 1])[0], 0.0),
        "roc_auc": (lambda: M.roc_auc([0, 0], [0.1, 0.9]), nan),
        "average_precision": (lambda: M.average_precision([0, 0], [0.1, 0.9]), nan),
    }
    for name, (call, expected) in cases.items():
        with pytest.warns(UndefinedMetricWarning):
            got = call()
        assert got == expected or (np.isnan(expected) and np.isnan(got)), name
    # an explicit zero_division is the caller's choice: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert M.recall([0, 0], [0, 1], zero_division=1.0) == 1.0
        assert M.specificity([1, 1], [1, 1], zero_division=1.0) == 1.0
        assert M.sensitivity_specificity([0, 0], [0, 1], zero_division=1.0) == (1.0, 0.5)
    with pytest.raises(ValueError, match="zero_division"):
        M.specificity([0, 1], [0, 1], zero_division=3)
    # pos_label absent from two present labels raises, as scikit-learn's precision/recall do
    for metric in (M.precision, M.recall, M.f1, M.specificity):
        with pytest.raises(ValueError, match="pos_label=7 is not a valid label"):
            metric([0, 1, 1], [0, 1, 0], pos_label=7)
    # multi-class AP: a class missing from y_true scores NaN, the others as scikit-learn
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.6, 0.1], [0.6, 0.2, 0.2]])
    with pytest.warns(UndefinedMetricWarning):
        per_class = M.average_precision([0, 1, 1, 0], proba, average=None)
    assert np.isnan(per_class[2])
    np.testing.assert_allclose(
        per_class[:2], [skm.average_precision_score([1, 0, 0, 1], proba[:, 0]),
                        skm.average_precision_score([0, 1, 1, 0], proba[:, 1])])


# ---------------------------------------------------------------- bootstrap


def test_bootstrap_ci_reproducible_and_bracketing(multiclass):
    y_true, y_pred = multiclass
    est, low, high = M.bootstrap_ci(M.accuracy, y_true, y_pred, n=300, seed=3)
    assert est == M.accuracy(y_true, y_pred)
    assert low < est < high
    assert M.bootstrap_ci(M.accuracy, y_true, y_pred, n=300, seed=3) == (est, low, high)
    # same draws written out as a loop
    draws = np.random.default_rng(3).integers(0, len(y_true), size=(300, len(y_true)))
    scores = [np.mean(y_true[r] == y_pred[r]) for r in draws]
    assert (low, high) == pytest.approx(tuple(np.quantile(scores, [0.025, 0.975])))
    # a wider interval at a lower confidence level is impossible
    _, low90, high90 = M.bootstrap_ci(M.accuracy, y_true, y_pred, n=300, alpha=0.1, seed=3)
    assert low <= low90 and high90 <= high


def test_bootstrap_ci_undefined_resamples():
    # one positive in 20: about a third of resamples have no positive and no ROC AUC
    y_true = np.r_[np.zeros(19), 1]
    score = np.linspace(0, 1, 20)
    est, low, high = M.bootstrap_ci(M.roc_auc, y_true, score, n=200)
    assert est == 1.0 and low == high == 1.0

    def picky(a, b):  # defined on the data, undefined on most resamples
        if a.mean() != 0.5:
            raise ValueError("undefined here")
        return 1.0

    with pytest.raises(ValueError, match="undefined on"):
        M.bootstrap_ci(picky, np.r_[np.zeros(10), np.ones(10)], score, n=200)

    # a count metric warns where undefined: those resamples are left out too
    def counted(a, b):
        return M.sensitivity_specificity(a, b)[0]

    est, low, high = M.bootstrap_ci(counted, y_true, score >= 0.5, n=200)
    assert est == 1.0 and low == high == 1.0  # no resample without positives scores 0.0


def test_bootstrap_ci_bad_options():
    with pytest.raises(ValueError, match="n must be"):
        M.bootstrap_ci(M.accuracy, [0, 1], [0, 1], n=0)
    with pytest.raises(ValueError, match="alpha"):
        M.bootstrap_ci(M.accuracy, [0, 1], [0, 1], alpha=1.0)
    with pytest.raises(ValueError, match="one number"):
        M.bootstrap_ci(lambda a, b: M.recall(a, b, average=None), [0, 1], [0, 1])
