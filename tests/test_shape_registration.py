"""Tests of dentpy.shape_registration: known answers, agreement with scipy / MONAI / torch,
and a registration check on a second, differently built world (random rectangles)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from scipy import ndimage

from dentpy import registration as rg
from dentpy import shape_registration as sr


def test_labelmaps_have_the_documented_labels_and_are_reproducible() -> None:
    for kind, n_labels in sr.KIND_LABELS.items():
        maps = sr.make_shape_labelmaps(kind, 3, size=64, seed=4)
        assert maps.shape == (3, 64, 64) and maps.dtype == np.int64
        assert maps.max() == n_labels
        assert all(len(np.unique(m)) == n_labels + 1 for m in maps)  # every label present
        np.testing.assert_array_equal(maps, sr.make_shape_labelmaps(kind, 3, size=64, seed=4))
        first = sr.make_shape_labelmaps(kind, 1, size=64, seed=4)[0]
        np.testing.assert_array_equal(first, maps[0])  # item i depends only on (kind, seed, i)
    assert not np.array_equal(sr.make_shape_labelmaps("axial", 1, seed=0),
                              sr.make_shape_labelmaps("axial", 1, seed=1))


def test_warp_shifts_a_delta_and_matches_monai_and_scipy() -> None:
    delta = torch.zeros(1, 1, 7, 8)
    delta[0, 0, 3, 3] = 1.0
    u = torch.zeros(1, 2, 7, 8)
    u[:, 0], u[:, 1] = -1.0, 2.0  # sample one row up and two columns right
    out = sr.warp(delta, u)
    assert out[0, 0, 4, 1].item() == pytest.approx(1.0) and out.sum().item() == pytest.approx(1.0)
    from monai.networks.blocks import Warp

    img = torch.rand(2, 2, 12, 10)
    field = torch.randn(2, 2, 12, 10) * 1.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.testing.assert_close(sr.warp(img, field), Warp("bilinear", "border")(img, field))
    np.testing.assert_allclose(sr.warp(img, field)[1, 0].numpy(),
                               rg.warp(img[1, 0].numpy(), field[1].numpy()), atol=1e-5)


def test_medm_known_answers() -> None:
    labels = np.zeros((1, 15, 15), np.int64)
    labels[0, 2:13, 2:13] = 1  # an 11 x 11 square: inside distances 1..6
    lam = 2.0
    e = sr.medm(labels, 1, lam=lam)[0, 0].numpy()
    d = ndimage.distance_transform_edt(labels[0] == 1)
    inside = labels[0] == 1
    expected = np.where(d < lam, d / lam, (lam - np.expm1(lam - d)) / lam)
    np.testing.assert_allclose(e[inside], expected[inside], atol=1e-6)
    assert e[7, 7] == pytest.approx((lam - np.expm1(lam - 6)) / lam, abs=1e-6)
    assert e.max() < 1 + 1 / lam
    # medm of a label map equals the sum of its per-label terms, whatever the label numbering
    relabelled = np.where(labels == 1, 3, labels)
    np.testing.assert_allclose(sr.medm(relabelled, 3, lam=lam).numpy(),
                               sr.medm(labels, 1, lam=lam).numpy())


def test_one_hot_and_dice_match_monai() -> None:
    from monai.metrics import DiceMetric

    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 4, (3, 10, 10), generator=g)
    b = torch.randint(0, 4, (3, 10, 10), generator=g)
    hot = sr.one_hot(a, 3)
    assert hot.shape == (3, 4, 10, 10)
    torch.testing.assert_close(hot.argmax(1), a)
    ref = DiceMetric(include_background=False, reduction="none")(sr.one_hot(b, 3), hot)
    np.testing.assert_allclose(sr.dice_per_label(a, b, 3), ref.numpy(), atol=1e-6)
    d = sr.dice_per_label(a, a, 5)
    assert np.isnan(d[:, 3:]).all() and np.allclose(d[:, :3], 1)


def test_hd95_of_a_shifted_square() -> None:
    a = np.zeros((1, 20, 20), np.int64)
    a[0, 5:12, 5:12] = 1
    b = np.roll(a, 3, axis=2)
    hd = sr.hd95_per_label(a, b, 2)
    assert hd[0, 0] == pytest.approx(3.0)
    assert np.isnan(hd[0, 1])


def test_soft_dice_loss_known_values_and_gradient() -> None:
    t = sr.one_hot(torch.tensor([[[0, 1], [1, 2]]]), 2)
    assert sr.soft_dice_loss(t, t).item() == pytest.approx(0.0)
    w = t.clone()
    w[:, 1:] = 0.5 * t[:, 1:]  # half-strength prediction: Dice 2*0.5/(0.5+1) = 2/3
    assert sr.soft_dice_loss(w, t).item() == pytest.approx(1 / 3)
    w.requires_grad_(True)
    sr.soft_dice_loss(w, t).backward()
    assert w.grad[:, 1:][t[:, 1:] > 0].lt(0).all()  # raising the right channels lowers the loss


def test_jacobian_std_of_an_affine_field_is_zero() -> None:
    a = np.array([[0.9, 0.15], [0.05, 1.2]])
    yy, xx = np.mgrid[0:16, 0:16].astype(float)
    u = np.einsum("ij,jhw->ihw", a - np.eye(2), np.stack([yy, xx]))
    np.testing.assert_allclose(rg.jacobian_determinant(u), np.linalg.det(a))
    assert sr.jacobian_std(torch.as_tensor(u)[None])[0] < 1e-12
    assert sr.jacobian_std(torch.randn(1, 2, 16, 16))[0] > 0.1


def test_adaptation_is_label_order_free_and_runs_on_any_label_count() -> None:
    torch.manual_seed(0)
    net = sr.LabelAdaptation(width=4).eval()
    maps = torch.as_tensor(sr.make_shape_labelmaps("axial", 2, size=32))
    hot = sr.one_hot(maps, 11)
    with torch.no_grad():
        out = net(hot)
        torch.testing.assert_close(net(hot[:, torch.randperm(12)]), out)
        assert out.shape == (2, 1, 32, 32)
        assert net(hot[:, :5]).shape == (2, 1, 32, 32)


def test_regnet_starts_at_identity_and_refuses_another_label_count() -> None:
    net = sr.RegNet(in_channels=3, width=4, levels=2)
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(net(x, x), torch.zeros(2, 2, 32, 32))
    with pytest.raises(ValueError, match="fixed must have 3 channels"):
        net(torch.rand(2, 5, 32, 32), torch.rand(2, 5, 32, 32))


def test_random_deformation_is_reproducible_and_bounded() -> None:
    u = sr.random_deformation(3, 32, amplitude=2.0, affine=0.0, seed=5)
    torch.testing.assert_close(u, sr.random_deformation(3, 32, amplitude=2.0, affine=0.0, seed=5))
    assert u.pow(2).sum(1).sqrt().max() <= 2.0 + 2**0.5 + 1e-5  # smooth <= 2, shift <= sqrt 2
    assert sr.jacobian_std(u).max() < 0.5


def _rectangles(seed: int, n: int, size: int = 32) -> torch.Tensor:
    """A second world: 3 random axis-aligned rectangles per map (labels 1..3)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, size, size), np.int64)
    for i in range(n):
        for k in range(1, 4):
            y, x = rng.integers(3, size - 12, 2)
            h, w = rng.integers(5, 10, 2)
            out[i, y:y + h, x:x + w] = k
    return torch.as_tensor(out)


def test_instance_optimisation_recovers_a_shift_on_an_unseen_world() -> None:
    maps = _rectangles(0, 4)
    shift = torch.zeros(4, 2, 32, 32)
    shift[:, 0], shift[:, 1] = 1.5, -1.0
    moving = sr.warp(maps[:, None].float(), -shift, mode="nearest")[:, 0].round().long()
    fixed_enc, moving_enc = sr.medm(maps, 3, lam=2.0), sr.medm(moving, 3, lam=2.0)
    u = sr.instance_optimise(fixed_enc, moving_enc, torch.zeros(4, 2, 32, 32), iters=80,
                             lr=0.2, smooth=0.5)
    before = np.nanmean(sr.dice_per_label(maps, moving, 3))
    warped = sr.warp(moving[:, None].float(), u, mode="nearest")[:, 0].round().long()
    after = np.nanmean(sr.dice_per_label(maps, warped, 3))
    assert after > before + 0.1
    inner = u[:, :, 8:24, 8:24].mean((0, 2, 3))
    torch.testing.assert_close(inner, torch.tensor([1.5, -1.0]), atol=0.5, rtol=0)
