"""dentpy.specimen, dentpy.models.deeplab and the gross-specimen phantom.

Known answers, agreement with torch / MONAI / scikit-learn / scikit-image, and a second world
built here (coloured shapes on patterned grounds, nothing like the phantom's lung slabs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.losses import DiceLoss
from scipy import ndimage
from sklearn.metrics import confusion_matrix, jaccard_score

from dentpy.data.phantoms.gross_specimen import make_gross_specimen, make_gross_specimen_set
from dentpy.models.deeplab import MiniDeepLabV3Plus
from dentpy.specimen import (
    balanced_bce_loss,
    confusion_counts,
    kmeans_tissue_mask,
    postprocess_tumour,
    saliency_tissue_mask,
    segmentation_scores,
    spectral_residual_saliency,
)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def second_world(i: int, size: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """A green, striped ellipse on a purple ground with a checkerboard tint: (rgb, object)."""
    rng = np.random.default_rng([7, i])
    yy, xx = np.mgrid[:size, :size]
    cx, cy = rng.uniform(0.4, 0.6, 2) * size
    obj = ((xx - cx) / (0.3 * size)) ** 2 + ((yy - cy) / (0.22 * size)) ** 2 <= 1
    ground = np.array([0.45, 0.2, 0.5])[:, None, None] * (
        1 + 0.05 * (((xx // 10) + (yy // 10)) % 2))[None]
    stripes = 0.15 * np.sin(xx / 2.0 + rng.uniform(0, 6))
    thing = np.array([0.3, 0.7, 0.3])[:, None, None] * (1 + stripes)[None]
    image = np.where(obj[None], thing, ground) + 0.01 * rng.standard_normal((3, size, size))
    return np.clip(image, 0, 1), obj


# ------------------------------------------------------------------------------- phantom
def test_phantom_is_a_pure_function_and_patients_share_looks() -> None:
    a = make_gross_specimen(2, 1, seed=3, dataset="B", size=64)
    b = make_gross_specimen(2, 1, seed=3, dataset="B", size=64)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, make_gross_specimen(2, 2, seed=3, dataset="B",
                                                           size=64).image)
    assert not np.array_equal(a.image, make_gross_specimen(2, 1, seed=3, dataset="A",
                                                           size=64).image)
    s = make_gross_specimen_set(3, 2, seed=3, dataset="B", size=64)
    np.testing.assert_array_equal(s["image"][5], b.image)
    assert s["image"].shape == (6, 3, 64, 64) and s["image"].dtype == np.float32
    assert (s["patient"] == [0, 0, 1, 1, 2, 2]).all()
    assert (s["tumour"] <= s["tissue"]).all() and s["tumour"].any((1, 2)).all()
    assert s["necrotic"][0] == s["necrotic"][1]  # a patient's flags hold for all slices


def test_phantom_backgrounds_differ_as_documented() -> None:
    a = make_gross_specimen_set(6, 1, dataset="A", size=64)
    b = make_gross_specimen_set(6, 1, dataset="B", size=64)
    def colour_gap(d):  # mean background colour distance from the mean tissue colour
        rgb = d["image"].transpose(0, 2, 3, 1)
        return np.linalg.norm(rgb[~d["tissue"]].mean(0) - rgb[d["tissue"]].mean(0))
    assert colour_gap(a) < 0.15 < colour_gap(b)
    rgb = a["image"].transpose(0, 2, 3, 1)
    tumour, healthy = rgb[a["tumour"]].mean(0), rgb[a["tissue"] & ~a["tumour"]].mean(0)
    assert tumour.mean() > healthy.mean()  # the tumour is paler than the parenchyma


# ---------------------------------------------------------------------------- saliency
def test_saliency_finds_a_small_odd_patch_and_nothing_in_a_constant_image() -> None:
    rng = np.random.default_rng(0)
    image = np.full((3, 64, 64), 0.5)
    image[:, 40:48, 10:18] += 0.3 * rng.standard_normal((8, 8))[None]  # a textured patch
    sal = spectral_residual_saliency(np.clip(image, 0, 1))
    peak = np.unravel_index(sal.argmax(), sal.shape)
    assert 36 <= peak[0] <= 52 and 6 <= peak[1] <= 22
    assert sal[38:50, 8:20].mean() > 3 * sal.mean()
    assert not spectral_residual_saliency(np.full((3, 32, 32), 0.4)).any()
    assert not saliency_tissue_mask(np.full((3, 32, 32), 0.4)).any()


def test_saliency_accepts_channels_last_and_is_scale_free() -> None:
    image, _ = second_world(0)
    np.testing.assert_allclose(spectral_residual_saliency(image),
                               spectral_residual_saliency(image.transpose(1, 2, 0)))


# ------------------------------------------------------------------------------ k-means
def test_kmeans_mask_on_a_second_world() -> None:
    for i in range(3):
        image, obj = second_world(i)
        assert iou(kmeans_tissue_mask(image), obj) > 0.95


def test_kmeans_mask_of_a_single_colour_is_everything() -> None:
    assert kmeans_tissue_mask(np.full((3, 16, 16), 0.3)).all()


# ------------------------------------------------------------------------------- losses
def test_balanced_bce_equals_torch_pos_weight_and_known_values() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 1, 8, 8, generator=g)
    target = (torch.rand(2, 1, 8, 8, generator=g) < 0.3).float()
    for beta in (0.5, 0.8, None):
        b = float(1 - target.mean()) if beta is None else beta
        ref = (1 - b) * torch.nn.functional.binary_cross_entropy_with_logits(
            logits, target, pos_weight=torch.tensor(b / (1 - b)))
        torch.testing.assert_close(balanced_bce_loss(logits, target, beta=beta), ref)
    # beta = 0.5 is half the plain cross-entropy; zero logits cost log 2 / 2 per pixel
    half = balanced_bce_loss(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2), beta=0.5)
    torch.testing.assert_close(half, torch.tensor(np.log(2) / 2, dtype=torch.float32))


def test_balanced_bce_gradients_flow() -> None:
    logits = torch.zeros(1, 1, 4, 4, requires_grad=True)
    balanced_bce_loss(logits, torch.ones(1, 1, 4, 4), beta=0.8).backward()
    assert (logits.grad < 0).all()  # pushing logits up lowers the loss on tumour pixels
    # beta=None on an all-tumour target: the background fraction is 0, so is the tumour weight
    assert balanced_bce_loss(torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2)).item() == 0


def test_paper_dice_is_monai_batch_dice() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 1, 8, 8, generator=g)
    y = (torch.rand(3, 1, 8, 8, generator=g) < 0.4).float()
    p = torch.sigmoid(logits)
    ours = 1 - 2 * (y * p).sum() / (y.sum() + p.sum())
    torch.testing.assert_close(ours, DiceLoss(sigmoid=True, batch=True, smooth_nr=0.0,
                                              smooth_dr=1e-12)(logits, y))


# ------------------------------------------------------------------------- morphology
def test_postprocess_known_answer() -> None:
    yy, xx = np.mgrid[:40, :40]
    r = np.hypot(yy - 20, xx - 20)
    ring = (r <= 10) & (r > 4)
    ring[20, 29] = False  # a gap the closing must bridge
    mask = ring.copy()
    mask[2, 2] = True  # a speck
    mask |= np.hypot(yy - 35, xx - 35) <= 3  # a smaller blob
    out = postprocess_tumour(mask, min_size=5, radius=2)
    np.testing.assert_array_equal(out, ndimage.binary_fill_holes(
        ndimage.binary_closing(np.pad(ring, 2), np.hypot(*np.mgrid[-2:3, -2:3]) <= 2)
    )[2:-2, 2:-2])
    assert out[20, 20] and not out[2, 2] and not out[35, 35]
    assert not postprocess_tumour(np.zeros((8, 8)), min_size=3, radius=1).any()
    # everything smaller than min_size is gone, so nothing is left
    assert not postprocess_tumour(mask, min_size=10_000, radius=2).any()


# -------------------------------------------------------------------------------- scores
def test_confusion_and_scores_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    truth, pred = rng.random((3, 10, 10)) < 0.3, rng.random((3, 10, 10)) < 0.4
    cm = confusion_counts(pred, truth)
    np.testing.assert_array_equal(cm, confusion_matrix(truth.ravel(), pred.ravel()))
    s = segmentation_scores(cm)
    assert s["tumour_iou"] == pytest.approx(jaccard_score(truth.ravel(), pred.ravel()))
    assert s["background_iou"] == pytest.approx(jaccard_score(truth.ravel(), pred.ravel(),
                                                              pos_label=0))
    assert s["global_accuracy"] == pytest.approx((truth == pred).mean())
    assert s["tumour_accuracy"] == pytest.approx((pred & truth).sum() / truth.sum())
    # dataset-level: summing counts is not averaging per-image IoUs
    per_image = [segmentation_scores(confusion_counts(p, t))["tumour_iou"]
                 for p, t in zip(pred, truth, strict=True)]
    assert s["tumour_iou"] != pytest.approx(np.mean(per_image))


def test_scores_without_tumour_are_nan() -> None:
    s = segmentation_scores(np.array([[10, 0], [0, 0]]))
    assert np.isnan(s["tumour_accuracy"]) and np.isnan(s["tumour_iou"])
    assert s["global_accuracy"] == 1.0 and s["background_iou"] == 1.0


# --------------------------------------------------------------------------------- model
def test_deeplab_shapes_and_it_learns_a_toy_task() -> None:
    torch.manual_seed(0)
    net = MiniDeepLabV3Plus(3, 1, width=4)
    x = torch.rand(4, 3, 32, 48)
    assert net(x).shape == (4, 1, 32, 48)
    images = np.stack([second_world(i, size=32)[0] for i in range(8)]).astype(np.float32)
    masks = np.stack([second_world(i, size=32)[1] for i in range(8)])[:, None]
    xb, yb = torch.from_numpy(images), torch.from_numpy(masks).float()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = None
    for _ in range(30):
        loss = balanced_bce_loss(net(xb), yb)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first
