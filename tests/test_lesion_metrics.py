"""dentpy.lesion_metrics: known answers, agreement with MONAI and scikit-learn, and a second,
differently built world (3-D boxes and balls, anisotropic voxels)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import precision_score, recall_score

from dentpy.lesion_metrics import bland_altman, cross_class_confusion, fp_cases, lesion_scores
from dentpy.metrics import dice as dentpy_dice

monai_metrics = pytest.importorskip("monai.metrics")


def test_known_answers_on_a_hand_drawn_case() -> None:
    target = np.zeros((2, 6, 6), dtype=np.int64)
    target[0, 1:3, 1:3] = 1  # 4 pixels of class 1
    target[0, 4:6, 4:6] = 2  # 4 pixels of class 2
    target[1, 0:2, 0:2] = 1  # case 1 has no class 2
    pred = target.copy()
    pred[0, 1, 3] = 1  # one false positive of class 1 ...
    pred[0, 4, 4] = 1  # ... and one class-2 pixel called class 1
    pred[1, 5, 5] = 2  # a class-2 prediction in a case without class 2
    scores = lesion_scores(pred, target, num_classes=3)
    np.testing.assert_allclose(scores["dice"][0], [2 * 4 / (6 + 4), 2 * 3 / (3 + 4)])
    np.testing.assert_allclose(scores["precision"][0], [4 / 6, 1.0])
    np.testing.assert_allclose(scores["recall"][0], [1.0, 3 / 4])
    assert np.isnan(scores["dice"][1, 1]) and np.isnan(scores["hd95"][1, 1])
    assert scores["dice"][1, 0] == 1.0 and scores["hd95"][1, 0] == 0.0
    assert fp_cases(pred, target, 2) == (1, 1)
    assert fp_cases(pred, target, 1) == (0, 0)
    # class-1 false positives: (0,1,3) is background, (0,4,4) is class 2 -> half are class 2
    assert cross_class_confusion(pred, target, 1, 2) == 0.5
    assert cross_class_confusion(pred, target, 2, 1) == 0.0  # the only FP of 2 is background
    assert np.isnan(cross_class_confusion(target, target, 1, 2))


def test_missed_lesion_scores_zero_and_the_diagonal() -> None:
    target = np.zeros((1, 8, 6), dtype=np.int64)
    target[0, 2:4, 2:4] = 1
    scores = lesion_scores(np.zeros_like(target), target, num_classes=2, spacing=(2.0, 1.0))
    assert scores["dice"][0, 0] == scores["precision"][0, 0] == scores["recall"][0, 0] == 0
    assert scores["hd95"][0, 0] == pytest.approx(np.hypot(16.0, 6.0))


def _world(seed: int, n: int = 6, shape=(10, 24, 20)) -> tuple[np.ndarray, np.ndarray]:
    """A second world, built unlike the brain phantom: 3-D volumes with a box of class 1 and a
    ball of class 2 (sometimes absent), and a prediction that shifts and erodes them."""
    rng = np.random.default_rng(seed)
    zz, yy, xx = np.mgrid[: shape[0], : shape[1], : shape[2]]
    target = np.zeros((n, *shape), dtype=np.int64)
    pred = np.zeros_like(target)
    for i in range(n):
        z0, y0, x0 = rng.integers(1, 4), rng.integers(1, 10), rng.integers(1, 8)
        box = (zz >= z0) & (zz < z0 + 4) & (yy >= y0) & (yy < y0 + 8) & (xx >= x0) & (xx < x0 + 6)
        target[i][box] = 1
        pred[i][np.roll(box, rng.integers(-2, 3), axis=2)] = 1
        if i % 3:  # every third case has no ball
            c = rng.uniform(3, 6), rng.uniform(14, 19), rng.uniform(10, 15)
            r = rng.uniform(2, 4)
            ball = (zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2 <= r**2
            target[i][ball] = 2
            shifted = (zz - c[0]) ** 2 + (yy - c[1] - 1) ** 2 + (xx - c[2]) ** 2
            pred[i][shifted <= (r - 0.5) ** 2] = 2
        if i == 3:
            pred[i][0, 0, :3] = 2  # a false-positive case of class 2
    return pred, target


@pytest.mark.parametrize("seed", [0, 1])
def test_agrees_with_monai_and_sklearn_on_a_second_world(seed: int) -> None:
    pred, target = _world(seed)
    spacing = (3.0, 1.0, 0.5)
    ours = lesion_scores(pred, target, num_classes=3, spacing=spacing)
    one_hot = [torch.nn.functional.one_hot(torch.as_tensor(x), 3).movedim(-1, 1)
               for x in (pred, target)]
    dice = monai_metrics.DiceMetric(include_background=False, reduction="none",
                                    ignore_empty=True)(*one_hot).numpy()
    np.testing.assert_allclose(ours["dice"], dice, rtol=1e-6, equal_nan=True)
    course = dentpy_dice(pred, target, num_classes=3, include_background=False).numpy()
    np.testing.assert_allclose(ours["dice"][~np.isnan(dice)], course[~np.isnan(dice)], rtol=1e-6)
    hd = monai_metrics.HausdorffDistanceMetric(include_background=False, percentile=95,
                                               reduction="none")(*one_hot, spacing=spacing)
    hd = hd.numpy()
    np.testing.assert_allclose(ours["hd95"][~np.isnan(hd)], hd[~np.isnan(hd)], rtol=1e-6)
    assert np.isnan(ours["hd95"][np.isnan(hd)]).all()  # no stroke in the truth: left out
    for i in range(len(pred)):
        for k in (1, 2):
            if (target[i] == k).any():
                y, p = (target[i] == k).ravel(), (pred[i] == k).ravel()
                assert ours["precision"][i, k - 1] == pytest.approx(
                    precision_score(y, p, zero_division=0))
                assert ours["recall"][i, k - 1] == pytest.approx(recall_score(y, p))
    assert fp_cases(pred, target, 2) == (1, 2)
    # confusion counted by a plain loop over voxels
    false1 = [(p == 1) and (t != 1) for p, t in zip(pred.ravel(), target.ravel(), strict=True)]
    into2 = [f and t == 2 for f, t in zip(false1, target.ravel(), strict=True)]
    assert cross_class_confusion(pred, target, 1, 2) == pytest.approx(sum(into2) / sum(false1))


def test_bland_altman_known_answers() -> None:
    true = np.array([10.0, 20.0, 30.0, 40.0])
    shifted = bland_altman(true + 2.0, true)
    assert shifted.bias == 2.0 and shifted.sd == 0.0 and shifted.low == shifted.high == 2.0
    np.testing.assert_allclose(shifted.mean, true + 1.0)
    under = bland_altman(0.8 * true, true)  # proportional under-estimation of large volumes
    diff = -0.2 * true
    assert under.bias == pytest.approx(diff.mean())
    assert under.sd == pytest.approx(diff.std(ddof=1))
    assert under.high - under.low == pytest.approx(2 * 1.96 * diff.std(ddof=1))
    assert np.corrcoef(under.mean, under.diff)[0, 1] < -0.99
