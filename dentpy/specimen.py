"""Tumour masks from specimen photographs: background removal, a balanced loss, morphology, scores.

The pipeline of Gil et al. (MIUA 2023) for gross pathology photographs, in small pieces:

- ``spectral_residual_saliency(rgb)``: Hou and Zhang's saliency map (a NumPy FFT), and
  ``saliency_tissue_mask(rgb)`` / ``kmeans_tissue_mask(rgb)``: the specimen against its
  background, by saliency (a background close in colour to the tissue) or by k-means colour
  clustering in CIE Lab (a background of a clearly different colour);
- ``balanced_bce_loss(logits, target, beta=None)``: cross-entropy with the classes weighted
  ``beta`` (tumour) and ``1 - beta`` (background);
- ``postprocess_tumour(mask, min_size=..., radius=...)``: remove small objects, close with a
  disk, fill holes, keep the largest object;
- ``confusion_counts(pred, target)`` and ``segmentation_scores(counts)``: the dataset-level
  scores of MATLAB's ``evaluateSemanticSegmentation`` (one confusion matrix summed over all
  images, then global accuracy, tumour accuracy, tumour IoU, background IoU).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from dentpy import _checks

__all__ = ["balanced_bce_loss", "confusion_counts", "kmeans_tissue_mask", "postprocess_tumour",
           "saliency_tissue_mask", "segmentation_scores", "spectral_residual_saliency"]


def _rgb(name: str, rgb: Any) -> np.ndarray:
    """An RGB image (3, H, W) or (H, W, 3), values in [0, 1], as float64 (H, W, 3)."""
    image = _checks.array(name, rgb, ndim=3, kind="number")
    if image.shape[0] == 3 and image.shape[-1] != 3:
        image = image.transpose(1, 2, 0)
    if image.shape[-1] != 3:
        raise _checks.ArgumentError(
            f"{name} must be an RGB image of shape (3, H, W) or (H, W, 3), got {image.shape}")
    if min(image.shape[:2]) < 8:
        raise _checks.ArgumentError(f"{name} must be at least 8 x 8 pixels, got {image.shape}")
    if image.min() < 0 or image.max() > 1:
        raise _checks.ArgumentError(f"{name} must hold values in [0, 1], got "
                                    f"{image.min():.3g} to {image.max():.3g}")
    return image.astype(np.float64)


def _largest(mask: np.ndarray) -> np.ndarray:
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())[1:]
    return labels == 1 + int(np.argmax(sizes))


def spectral_residual_saliency(rgb: Any, *, width: int = 64, sigma: float = 2.5) -> np.ndarray:
    """Spectral-residual saliency (Hou and Zhang, 2007) of an RGB image, shape (H, W) in [0, 1].

    The grey image is resized to ``width`` pixels across; the log amplitude of its Fourier
    transform minus its 3 x 3 local mean (the "spectral residual") is recombined with the
    original phase, transformed back and squared, smoothed by a Gaussian of ``sigma`` pixels
    (at ``width``), resized to the input size and scaled to [0, 1]. A constant image gives 0.
    """
    image = _rgb("rgb", rgb)
    width = _checks.integer("width", width, low=8)
    sigma = _checks.number("sigma", sigma, low=0)
    grey = image.mean(-1)
    h, w = grey.shape
    small = ndimage.zoom(grey, width / w, order=1)  # keeps the aspect ratio
    spectrum = np.fft.fft2(small)
    log_amp = np.log(np.abs(spectrum) + 1e-12)
    residual = log_amp - ndimage.uniform_filter(log_amp, 3, mode="wrap")
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    sal = ndimage.gaussian_filter(sal, sigma)
    sal = ndimage.zoom(sal, (h / sal.shape[0], w / sal.shape[1]), order=1)
    spread = sal.max() - sal.min()
    if spread <= 1e-12 * max(sal.max(), 1e-300) or np.ptp(grey) == 0:
        return np.zeros((h, w))
    return (sal - sal.min()) / spread


def _clean(mask: np.ndarray, radius: int) -> np.ndarray:
    """Close with a disk, fill holes, keep the largest object."""
    if radius > 0:
        disk = _disk(radius)
        padded = np.pad(mask, radius)
        mask = ndimage.binary_closing(padded, disk)[radius:-radius, radius:-radius]
    return _largest(ndimage.binary_fill_holes(mask))


def _disk(radius: int) -> np.ndarray:
    r = np.arange(-radius, radius + 1)
    return r[:, None] ** 2 + r[None, :] ** 2 <= radius ** 2


def saliency_tissue_mask(rgb: Any, *, width: int = 64, sigma: float = 2.5,
                         factor: float = 1.0, radius: int = 2) -> np.ndarray:
    """The specimen as the salient region: saliency above ``factor`` times its mean, then
    closed with a disk of ``radius`` pixels, holes filled, the largest object kept. (H, W) bool.
    """
    factor = _checks.number("factor", factor, low=0, low_open=True)
    radius = _checks.integer("radius", radius, low=0)
    sal = spectral_residual_saliency(rgb, width=width, sigma=sigma)
    if not sal.any():
        return np.zeros(sal.shape, dtype=bool)
    return _clean(sal > factor * sal.mean(), radius)


def kmeans_tissue_mask(rgb: Any, *, k: int = 2, n_init: int = 3, max_iter: int = 100,
                       tol: float = 1e-4, radius: int = 2, seed: int = 0) -> np.ndarray:
    """The specimen by k-means colour clustering (scikit-learn) of the pixels in CIE Lab.

    The tissue is the cluster holding most of the central ninth of the image (the photograph
    is framed on the specimen); then a closing with a disk of ``radius`` pixels, holes filled,
    the largest object kept. ``n_init``, ``max_iter`` and ``tol`` as in the paper's Table 2.
    (H, W) bool.
    """
    from skimage.color import rgb2lab
    from sklearn.cluster import KMeans

    image = _rgb("rgb", rgb)
    k = _checks.integer("k", k, low=2)
    n_init = _checks.integer("n_init", n_init, low=1)
    max_iter = _checks.integer("max_iter", max_iter, low=1)
    tol = _checks.number("tol", tol, low=0)
    radius = _checks.integer("radius", radius, low=0)
    seed = _checks.integer("seed", seed, low=0)
    h, w, _ = image.shape
    lab = rgb2lab(image).reshape(-1, 3)
    if len(np.unique(lab, axis=0)) < k:
        return np.ones((h, w), dtype=bool)  # fewer colours than clusters: nothing to separate
    labels = KMeans(k, n_init=n_init, max_iter=max_iter, tol=tol,
                    random_state=seed).fit_predict(lab).reshape(h, w)
    centre = labels[h // 3:h - h // 3, w // 3:w - w // 3]
    tissue = labels == np.bincount(centre.ravel(), minlength=k).argmax()
    return _clean(tissue, radius)


def balanced_bce_loss(logits: torch.Tensor, target: torch.Tensor, *,
                      beta: float | None = None) -> torch.Tensor:
    """Balanced binary cross-entropy −mean[β y log p + (1 − β)(1 − y) log(1 − p)], p = σ(logits).

    ``logits`` and ``target`` (B, 1, H, W) (or any equal shapes), ``target`` in {0, 1}.
    ``beta=None`` uses the background fraction of ``target`` (as in HED, Xie and Tu 2015), so
    the rarer class weighs more (a target that is all tumour then gives β = 0 and a loss of 0).
    Equals ``(1 − β) * BCEWithLogits(pos_weight=β / (1 − β))``.
    """
    logits = _checks.tensor("logits", logits, kind="float")
    target = _checks.tensor("target", target, kind="number")
    if logits.shape != target.shape:
        raise _checks.ArgumentError(f"logits and target must have the same shape, got "
                                    f"{tuple(logits.shape)} and {tuple(target.shape)}")
    if ((target != 0) & (target != 1)).any():
        raise _checks.ArgumentError("target must hold only 0 and 1")
    target = target.to(logits.dtype)
    if beta is None:
        beta = float(1 - target.mean())
    else:
        beta = _checks.probability("beta", beta)
    pos = F.logsigmoid(logits)
    neg = F.logsigmoid(-logits)
    return -(beta * target * pos + (1 - beta) * (1 - target) * neg).mean()


def postprocess_tumour(mask: Any, *, min_size: int, radius: int) -> np.ndarray:
    """The paper's four morphology steps on a binary tumour mask (H, W), returned as bool.

    1. remove objects smaller than ``min_size`` pixels (8-connected);
    2. close with a disk of ``radius`` pixels (the image padded so the border does not cut it);
    3. fill holes; 4. keep the largest object. An empty result stays empty.
    """
    from skimage.morphology import remove_small_objects

    mask = _checks.array("mask", mask, ndim=2, kind=None)
    if mask.dtype.kind not in "biuf" or not np.isin(mask, (0, 1)).all():
        raise _checks.ArgumentError("mask must be a binary (H, W) array of 0/1 or bool values")
    min_size = _checks.integer("min_size", min_size, low=0)
    radius = _checks.integer("radius", radius, low=0)
    kept = remove_small_objects(mask.astype(bool), max_size=max(min_size - 1, 0),
                                connectivity=2) if min_size > 0 else mask.astype(bool)
    return _clean(kept, radius)


def confusion_counts(pred: Any, target: Any) -> np.ndarray:
    """``[[TN, FP], [FN, TP]]`` (int64) of binary masks ``pred`` and ``target`` of equal shape
    (one image or a batch); rows are the truth, columns the prediction (as scikit-learn)."""
    pred = _checks.array("pred", pred, kind=None)
    target = _checks.array("target", target, kind=None)
    if pred.shape != target.shape:
        raise _checks.ArgumentError(
            f"pred and target must have the same shape, got {pred.shape} and {target.shape}")
    for name, value in (("pred", pred), ("target", target)):
        if value.dtype.kind not in "biuf" or not np.isin(value, (0, 1)).all():
            raise _checks.ArgumentError(f"{name} must be a binary mask of 0/1 or bool values")
    p, t = pred.astype(bool).ravel(), target.astype(bool).ravel()
    tp = int(np.count_nonzero(p & t))
    fp = int(np.count_nonzero(p & ~t))
    fn = int(np.count_nonzero(~p & t))
    return np.array([[p.size - tp - fp - fn, fp], [fn, tp]], dtype=np.int64)


def segmentation_scores(counts: Any) -> dict[str, float]:
    """Dataset-level scores from a summed 2 x 2 confusion matrix ``[[TN, FP], [FN, TP]]``.

    ``global_accuracy`` (TP + TN) / all, ``tumour_accuracy`` TP / (TP + FN) (the tumour row's
    recall), ``tumour_iou`` TP / (TP + FP + FN), ``background_iou`` TN / (TN + FN + FP). A score
    whose denominator is 0 is NaN (no tumour anywhere: tumour accuracy is undefined).
    """
    cm = _checks.array("counts", counts, kind="number")
    if cm.shape != (2, 2):
        raise _checks.ArgumentError(f"counts must be a 2 x 2 matrix, got shape {cm.shape}")
    if (cm < 0).any():
        raise _checks.ArgumentError(f"counts must be non-negative, got {cm.tolist()}")
    (tn, fp), (fn, tp) = cm.astype(np.float64)

    def ratio(a: float, b: float) -> float:
        return float(a / b) if b > 0 else float("nan")

    return dict(global_accuracy=ratio(tp + tn, cm.sum()), tumour_accuracy=ratio(tp, tp + fn),
                tumour_iou=ratio(tp, tp + fp + fn), background_iou=ratio(tn, tn + fn + fp))
