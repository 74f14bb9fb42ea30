"""Tests of dentpy.mixup (input and keypoint-guided mixup) and of the tooth-anomaly phantom."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.transform import PiecewiseAffineTransform, warp

from dentpy import mixup as M
from dentpy.data.phantoms.dental_anomalies import (
    ANOMALY_CLASSES,
    NUM_KEYPOINTS,
    make_tooth,
)


def _batch(n: int = 4, size: int = 24) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    teeth = [make_tooth(i, label=i % len(ANOMALY_CLASSES), size=size) for i in range(n)]
    x = torch.from_numpy(np.stack([t.image for t in teeth]))[:, None]
    k = torch.from_numpy(np.stack([t.keypoints for t in teeth]))
    y = torch.eye(len(ANOMALY_CLASSES))[[t.label for t in teeth]]
    return x, k, y


def test_phantom_is_a_pure_function_of_seed_and_index() -> None:
    a, b = make_tooth(7, seed=3, label=9), make_tooth(7, seed=3, label=9)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert a.image.shape == (32, 32) and a.keypoints.shape == (NUM_KEYPOINTS, 2)
    assert not np.array_equal(a.image, make_tooth(7, seed=4, label=9).image)
    assert make_tooth(5).label < 8  # an unlabelled draw is a frequent class


def test_phantom_keypoints_sit_on_the_tooth() -> None:
    tooth = make_tooth(0, label=0, noise=0.0, size=48)
    cols, rows = np.round(tooth.keypoints).astype(int).T
    assert tooth.image[rows, cols].mean() > tooth.image[:4, :4].mean() + 0.1


def test_mixup_known_answers() -> None:
    x, _, y = _batch()
    perm = torch.tensor([1, 2, 3, 0])
    xm, ym = M.mixup(x, y, 1.0, perm=perm)
    torch.testing.assert_close(xm, x)
    torch.testing.assert_close(ym, y)
    xm, ym = M.mixup(x, y, 0.25, perm=perm)
    torch.testing.assert_close(xm, 0.25 * x + 0.75 * x[perm])
    torch.testing.assert_close(ym.sum(1), torch.ones(4))
    assert torch.allclose(ym[0, [0, 1]], torch.tensor([0.25, 0.75]))


def test_warp_to_own_keypoints_is_identity_and_shift_moves_by_one_pixel() -> None:
    x, k, _ = _batch(size=20)
    x = x.double()
    torch.testing.assert_close(M.piecewise_affine_warp(x, k, k), x)
    # moving every keypoint and the border one pixel right (border=False, points on the frame)
    frame = M.border_anchors(20, 20)[None].expand(4, 8, 2)
    src = torch.cat([k, frame], 1)
    moved = M.piecewise_affine_warp(x, src, src + torch.tensor([1.0, 0.0]), border=False)
    torch.testing.assert_close(moved[..., 1:], x[..., :-1])


@pytest.mark.parametrize("index", [0, 1, 2])
def test_warp_matches_scikit_image(index: int) -> None:
    x, k, _ = _batch(size=24)
    anchors = M.border_anchors(24, 24)
    src, dst = k[index:index + 1], k[(index + 1) % 4:(index + 1) % 4 + 1]
    full_dst = torch.cat([dst[0], anchors]).numpy()
    tris = M.delaunay_triangles(full_dst)
    ours = M.piecewise_affine_warp(x[index:index + 1].double(), src, dst, triangles=tris)
    # scikit-image's inverse map: output (target) coordinates -> input coordinates
    tform = PiecewiseAffineTransform.from_estimate(full_dst, torch.cat([src[0], anchors]).numpy())
    ref = warp(x[index, 0].double().numpy(), tform, order=1, mode="constant", cval=0.0)
    np.testing.assert_allclose(ours[0, 0].numpy(), ref, atol=1e-10)


def test_keypoint_mixup_known_answers() -> None:
    x, k, y = _batch()
    perm = torch.tensor([3, 2, 1, 0])
    xm, ym, target = M.keypoint_mixup(x, k, y, 1.0, perm=perm)
    torch.testing.assert_close(xm, x, atol=1e-5, rtol=0)
    torch.testing.assert_close(target, k.float())
    # identical keypoints: no warp, so keypoint mixup is input mixup
    same = k[:1].expand(4, -1, -1)
    xm, ym, _ = M.keypoint_mixup(x, same, y, 0.3, perm=perm)
    xr, yr = M.mixup(x, y, 0.3, perm=perm)
    torch.testing.assert_close(xm, xr, atol=1e-5, rtol=0)
    torch.testing.assert_close(ym, yr)
    torch.testing.assert_close(ym.sum(1), torch.ones(4))


def test_keypoint_mixup_aligns_the_anatomy() -> None:
    """At lam = 0.5 both warped images have their landmarks on the same target: the blend is
    closer to each warped image than input mixup is to the unwarped pair."""
    x, k, y = _batch(2, size=32)
    perm = torch.tensor([1, 0])
    target = 0.5 * k + 0.5 * k[perm]
    w0 = M.piecewise_affine_warp(x, k, target)
    w1 = M.piecewise_affine_warp(x[perm], k[perm], target)
    aligned = (w0 - w1).abs().mean()
    assert aligned < (x - x[perm]).abs().mean()


def test_triangles_of_the_mean() -> None:
    _, k, _ = _batch()
    tris = M.delaunay_triangles(torch.cat([k.mean(0), M.border_anchors(24, 24)]))
    assert tris.shape[1] == 3 and tris.dtype == torch.int64
    assert int(tris.max()) == NUM_KEYPOINTS + 8 - 1
