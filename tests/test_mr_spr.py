"""The MR/SPR jaw phantom and its image metrics (dentpy.data.phantoms.mr_spr)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from dentpy.data.phantoms.mr_spr import (
    MR_SPR_CLASSES,
    image_mae,
    image_psnr,
    make_mr_spr,
    mr_spr_batch,
)


def test_item_is_a_pure_function_of_seed_and_index():
    a, b = make_mr_spr(3, seed=7), make_mr_spr(3, seed=7)
    np.testing.assert_array_equal(a.mr, b.mr)
    np.testing.assert_array_equal(a.spr, b.spr)
    assert not np.array_equal(a.spr, make_mr_spr(4, seed=7).spr)
    assert not np.array_equal(a.spr, make_mr_spr(3, seed=8).spr)
    mr, spr, labels = mr_spr_batch([5, 3], seed=7)
    np.testing.assert_array_equal(mr[1], a.mr)
    np.testing.assert_array_equal(labels[1], a.labels)


def test_shapes_classes_and_value_ranges():
    s = make_mr_spr(0, size=48)
    assert s.mr.shape == (3, 48, 48) and s.spr.shape == (48, 48) and s.mr.dtype == np.float32
    assert set(np.unique(s.labels)) <= set(range(len(MR_SPR_CLASSES)))
    spr_by_class = [np.median(s.spr[s.labels == k]) for k in range(4)]
    assert spr_by_class[0] < 50 and 900 < spr_by_class[1] < 1000 < spr_by_class[2] < 1100
    assert 1300 < spr_by_class[3] < 1800
    # bone and air are dark in every MR channel; fat is bright in the fat image
    core = lambda k: s.labels == k  # noqa: E731
    assert s.mr[2][core(1)].mean() > 4 * s.mr[2][core(2)].mean()
    assert s.mr[1][core(2)].mean() > 4 * s.mr[1][core(1)].mean()
    # water + fat is the in-phase image exactly
    np.testing.assert_allclose(s.mr[0], s.mr[1] + s.mr[2], rtol=1e-6)


def test_fat_fraction_ignores_the_bias_field():
    """The fat fraction does not depend on the coil sensitivity; the in-phase intensity does."""
    s = make_mr_spr(1, noise=0.0, bias=0.6)
    fat = (s.labels == 1) & (s.mr[0] > 0.5)
    ff = s.mr[2][fat] / s.mr[0][fat]
    assert ff.std() < 0.5 * (s.mr[0][fat] / s.mr[0][fat].mean()).std() + 0.05


def test_psnr_known_answer_and_peak():
    target = np.zeros((4, 4))
    pred = np.full((4, 4), 10.0)  # MSE = 100
    assert image_psnr(pred, target, peak=1000.0) == pytest.approx(40.0)
    assert image_psnr(pred, target, peak=100.0) == pytest.approx(20.0)  # peak / 10: -20 dB
    assert image_psnr(pred, target, peak="max") == pytest.approx(0.0)  # Q = max = 10
    assert image_psnr(target, target, peak=1.0) == float("inf")
    assert image_mae(pred, target) == pytest.approx(10.0)


def _other_world(rng, size=40):
    """A differently built world: smooth random fields, not the jaw phantom."""
    from scipy.ndimage import gaussian_filter
    target = 1000 + 400 * gaussian_filter(rng.standard_normal((size, size)), 3)
    return target, target + rng.normal(0, 30, target.shape)


def test_metrics_agree_with_scikit_image_on_another_world():
    rng = np.random.default_rng(0)
    for _ in range(3):
        target, pred = _other_world(rng)
        for peak in (2000.0, 1.0, 7.5):
            assert image_psnr(pred, target, peak=peak) == pytest.approx(
                peak_signal_noise_ratio(target, pred, data_range=peak), rel=1e-12)
        assert image_mae(pred, target) == pytest.approx(np.abs(pred - target).mean())
        q = max(pred.max(), target.max())
        assert image_psnr(pred, target, peak="max") == pytest.approx(
            peak_signal_noise_ratio(target, pred, data_range=q), rel=1e-12)
