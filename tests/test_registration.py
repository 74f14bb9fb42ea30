"""dentpy.registration: pieces against scipy / scikit-learn / known answers, and the demons
loop on a second world (discs and bars drawn here) that the chapter never tuned on."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from sklearn.metrics import mutual_info_score

from dentpy import registration as rg


def disc(shape: tuple[int, int], cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.indices(shape)
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2


def test_warp_constant_shift_is_a_translation() -> None:
    image = np.random.default_rng(0).random((10, 12))
    u = np.zeros((2, 10, 12))
    u[1] = 2.0  # sample two columns to the right
    out = rg.warp(image, u)
    np.testing.assert_allclose(out[:, :-2], image[:, 2:])
    half = np.zeros((2, 10, 12))
    half[0] = 0.5  # halfway between rows: the mean of two neighbours (bilinear)
    np.testing.assert_allclose(rg.warp(image, half)[:-1], (image[:-1] + image[1:]) / 2)


def test_distance_map_known_answers_and_brute_force() -> None:
    mask = np.zeros((9, 9), bool)
    mask[2:7, 2:7] = True  # a 5 x 5 square: centre 3 pixels from the outside
    d = rg.distance_map(mask)
    assert d[4, 4] == 3.0 and d[2, 2] == 1.0 and d[0, 0] == 0.0
    rng = np.random.default_rng(1)
    blob = ndimage.binary_opening(rng.random((15, 13)) > 0.3)
    outside = np.argwhere(~blob)
    brute = np.zeros(blob.shape)
    for y, x in np.argwhere(blob):
        brute[y, x] = np.sqrt(((outside - (y, x)) ** 2).sum(1)).min()
    np.testing.assert_allclose(rg.distance_map(blob), brute)


def test_mutual_information_matches_sklearn_in_bits() -> None:
    rng = np.random.default_rng(2)
    a = rng.random((30, 30))
    b = a**2 + 0.1 * rng.random((30, 30))
    bins = 16
    la = np.digitize(a.ravel(), np.histogram_bin_edges(a, bins)[1:-1])
    lb = np.digitize(b.ravel(), np.histogram_bin_edges(b, bins)[1:-1])
    expected = mutual_info_score(la, lb) / np.log(2)
    assert rg.mutual_information_bits(a, b, bins=bins) == pytest.approx(expected, rel=1e-9)
    # an invertible grey map keeps all the information: MI(a, f(a)) = MI(a, a) = H(a)
    assert rg.mutual_information_bits(a, 1 - a, bins=bins) == pytest.approx(
        rg.mutual_information_bits(a, a, bins=bins))


def test_mask_overlap_counts() -> None:
    ref = np.zeros((4, 4), bool)
    ref[:2] = True  # 8 pixels
    reg = np.zeros((4, 4), bool)
    reg[1:2] = True  # 4 pixels, all inside ref
    p, r, f = rg.mask_overlap(ref, reg)
    assert (p, r) == (1.0, 0.5) and f == pytest.approx(2 / 3)


def test_jacobian_of_affine_maps() -> None:
    yy, xx = np.indices((8, 9), dtype=float)
    scale = np.stack([0.5 * yy, 0.5 * xx])  # x -> 1.5 x: det = 2.25
    np.testing.assert_allclose(rg.jacobian_determinant(scale), 2.25)
    flip = np.stack([np.zeros_like(yy), -2 * xx])  # x -> -x along columns: det = -1
    np.testing.assert_allclose(rg.jacobian_determinant(flip), -1.0)
    assert rg.folding_fraction(flip) == 1.0 and rg.folding_fraction(scale) == 0.0


def test_demons_force_points_downhill_and_is_bounded() -> None:
    xx = np.tile(np.arange(12.0), (6, 1))
    fixed, moving = xx, xx + 1.0  # moving is fixed shifted: M(x + u) = F(x) for u = -1
    force = rg.demons_force(fixed, moving, alpha=0.5)
    assert (force[1] < 0).all() and np.abs(force[0]).max() == 0
    assert np.sqrt((force**2).sum(0)).max() <= 1 / (2 * 0.5) + 1e-12


def test_similarity_maps_udt_is_a_true_distance_after_warping() -> None:
    mask = disc((32, 32), 16, 16, 8)
    u = rg.smooth_displacement((32, 32), amplitude=3.0, sigma=4.0, seed=3)
    _, udt = rg.similarity_maps(mask, mask, u, metric="udt", fixed_mask=mask, moving_mask=mask)
    warped_mask = rg.warp(mask.astype(float), u) >= 0.5
    np.testing.assert_allclose(udt, ndimage.distance_transform_edt(warped_mask))
    _, dt = rg.similarity_maps(mask, mask, u, metric="dt", fixed_mask=mask, moving_mask=mask)
    assert np.abs(dt - udt).max() > 0.1  # the interpolated map is no longer a distance


def test_smooth_displacement_is_reproducible_and_scaled() -> None:
    a = rg.smooth_displacement((20, 30), amplitude=4.0, sigma=3.0, seed=5)
    b = rg.smooth_displacement((20, 30), amplitude=4.0, sigma=3.0, seed=5)
    np.testing.assert_array_equal(a, b)
    assert np.sqrt((a**2).sum(0)).max() == pytest.approx(4.0)


def _second_world(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Discs and a bar on a ramp; the moving image is the fixed one shifted by a smooth field
    and grey-inverted, so intensities disagree while the shapes agree."""
    rng = np.random.default_rng(seed)
    shape = (48, 48)
    mask = disc(shape, 24 + rng.uniform(-2, 2), 24 + rng.uniform(-2, 2), rng.uniform(12, 15))
    inner = disc(shape, 20, 26, 4) | (np.abs(np.indices(shape)[0] - 28) < 2)
    image = 0.2 + 0.5 * mask + 0.3 * (inner & mask) + 0.1 * np.indices(shape)[1] / 48
    psi = rg.smooth_displacement(shape, amplitude=3.0, sigma=6.0, seed=seed)
    moving = 1.0 - rg.warp(image, psi)
    moving_mask = rg.warp(mask.astype(float), psi) >= 0.5
    return image, mask, moving, moving_mask


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distance_metrics_align_shapes_on_an_unseen_world(seed: int) -> None:
    fixed, fixed_mask, moving, moving_mask = _second_world(seed)
    before = rg.mask_overlap(fixed_mask, moving_mask)[2]
    for metric in ("dt", "udt"):
        result = rg.register(fixed, moving, metric=metric, fixed_mask=fixed_mask,
                             moving_mask=moving_mask, iterations=60, sigma=1.5)
        after_mask = rg.warp(moving_mask.astype(float), result.displacement) >= 0.5
        after = rg.mask_overlap(fixed_mask, after_mask)[2]
        assert after > before + 0.5 * (1 - before), (metric, before, after)
        assert result.energy[-1] < 0.5 * result.energy[0]
        assert rg.folding_fraction(result.displacement) == 0.0


def test_intensity_ssd_recovers_a_same_contrast_shift() -> None:
    fixed, fixed_mask, moving, moving_mask = _second_world(4)
    same_contrast = 1.0 - moving  # undo the inversion: plain mono-modal registration
    result = rg.register(fixed, same_contrast, metric="int", iterations=80, sigma=1.5)
    err_before = np.mean((fixed - same_contrast) ** 2)
    assert np.mean((fixed - result.warped) ** 2) < 0.5 * err_before
    assert result.energy[-1] < result.energy[0]


def test_snapshots_are_the_fields_of_shorter_runs() -> None:
    fixed, fixed_mask, moving, moving_mask = _second_world(5)
    args = dict(metric="udt", fixed_mask=fixed_mask, moving_mask=moving_mask, sigma=1.0)
    long = rg.register(fixed, moving, iterations=12, checkpoints=(5,), **args)
    short = rg.register(fixed, moving, iterations=5, **args)
    np.testing.assert_allclose(long.snapshots[5], short.displacement)
    assert len(long.energy) == 13
