"""Mixup augmentation: input mixup, and keypoint-guided mixup (piecewise-affine warp, then blend).

Input mixup (Zhang et al., 2018) trains on blends of two images and of their labels with the
same weight ``lam``: ``x = lam * x_i + (1 - lam) * x_j`` and ``y = lam * y_i + (1 - lam) * y_j``.
Keypoint-guided mixup first moves both images' landmarks to their blend,
``k = lam * k_i + (1 - lam) * k_j``, with a piecewise-affine warp (one affine map per triangle of
a fixed triangulation), so that the anatomy of the two images lines up, and then blends the
warped images and the labels with the same ``lam``.

Images are ``(B, C, H, W)`` float tensors; keypoints are ``(B, K, 2)`` as ``(x, y)`` =
``(column, row)`` in pixels, pixel centres at integers (the convention of scikit-image's
transforms); labels are ``(B, num_classes)`` rows of probabilities (one-hot for hard labels).
The warp is checked against ``skimage.transform.PiecewiseAffineTransform`` in the tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.spatial import Delaunay

from dentpy import _checks

__all__ = ["border_anchors", "delaunay_triangles", "keypoint_mixup", "mixup",
           "piecewise_affine_warp"]

_MODES = ("bilinear", "bicubic", "nearest")


def border_anchors(height: int, width: int) -> torch.Tensor:
    """The eight fixed points (corners and edge midpoints) of an ``height`` × ``width`` image,
    ``(8, 2)`` as (x, y): appended to every keypoint set, they make the triangulation cover the
    whole image, so the background moves with the anatomy and nothing falls outside."""
    height = _checks.integer("height", height, low=2)
    width = _checks.integer("width", width, low=2)
    r, c = height - 1, width - 1
    return torch.tensor([[0, 0], [c / 2, 0], [c, 0], [c, r / 2], [c, r], [c / 2, r], [0, r],
                         [0, r / 2]], dtype=torch.float64)


def delaunay_triangles(points: Any) -> torch.Tensor:
    """Delaunay triangles ``(T, 3)`` (int64 vertex indices) of ``points`` ``(K, 2)``, K >= 3.

    Compute them once, on the mean keypoints (with :func:`border_anchors`), and use them for
    every warp, as the keypoint-guided mixup does: then every image is cut into the same
    triangles."""
    pts = _checks.array("points", points, ndim=2, kind="number")
    if pts.shape[1] != 2 or pts.shape[0] < 3:
        _checks.fail("points", "of shape (K, 2) with K >= 3", points)
    try:
        tri = Delaunay(pts.astype(np.float64))
    except Exception as err:  # scipy's QhullError: collinear or repeated points
        raise _checks.ArgumentError(
            f"points must not all lie on one line, got {_checks.describe(points)}: {err}"
        ) from err
    return torch.as_tensor(tri.simplices, dtype=torch.int64)


def _images(name: str, x: Any) -> torch.Tensor:
    x = _checks.tensor(name, x, ndim=4, kind="float")
    return x


def _keypoints(name: str, value: Any, batch: int, size: tuple[int, int] | None = None
               ) -> torch.Tensor:
    k = _checks.tensor(name, value, ndim=3, kind="number")
    if k.shape[0] != batch or k.shape[2] != 2:
        raise _checks.ArgumentError(
            f"{name} must have shape ({batch}, K, 2), got {tuple(k.shape)}")
    return k.to(torch.float64)


def piecewise_affine_warp(
    images: Any,
    src: Any,
    dst: Any,
    *,
    triangles: Any = None,
    border: bool = True,
    mode: str = "bilinear",
) -> torch.Tensor:
    """Warp ``images`` so that their landmarks ``src`` move to ``dst``, one affine map per triangle.

    ``images`` (B, C, H, W) float; ``src``, ``dst`` (B, K, 2) keypoints (x, y) in pixels.
    ``triangles`` (T, 3) vertex indices into the keypoints (plus the 8 anchors appended when
    ``border``); ``None`` triangulates the first image's ``dst`` (with the anchors). For every
    output pixel the triangle of ``dst`` that holds it is found, its barycentric coordinates give
    the matching point of the same triangle of ``src`` (the inverse map), and the image is
    sampled there (``mode``: ``"bilinear"``, ``"bicubic"`` or ``"nearest"``). Pixels outside every
    triangle are 0. Returns (B, C, H, W), the dtype of ``images``.
    """
    x = _images("images", images)
    b, _, h, w = x.shape
    src_k = _keypoints("src", src, b)
    dst_k = _keypoints("dst", dst, b)
    if src_k.shape != dst_k.shape:
        raise _checks.ArgumentError(
            f"src and dst must have the same shape, got {tuple(src_k.shape)} and "
            f"{tuple(dst_k.shape)}")
    border = _checks.flag("border", border)
    mode = _checks.choice("mode", mode, _MODES)
    if border:
        anchors = border_anchors(h, w).to(src_k).expand(b, 8, 2)
        src_k = torch.cat([src_k, anchors], 1)
        dst_k = torch.cat([dst_k, anchors], 1)
    n_points = src_k.shape[1]
    if triangles is None:
        tris = delaunay_triangles(dst_k[0])
    else:
        tris = _checks.tensor("triangles", triangles, ndim=2, kind="integer").to(torch.int64)
        if tris.shape[1] != 3:
            raise _checks.ArgumentError(
                f"triangles must have shape (T, 3), got {tuple(tris.shape)}")
        if tris.min() < 0 or tris.max() >= n_points:
            raise _checks.ArgumentError(
                f"triangles must index the {n_points} keypoints"
                f"{' (with the 8 border anchors)' if border else ''}: values in "
                f"[0, {n_points - 1}], got [{int(tris.min())}, {int(tris.max())}]")
    return _sample(x, src_k, tris, _lookup(dst_k, tris, h, w), mode)


def _lookup(dst: torch.Tensor, tris: torch.Tensor, h: int, w: int):
    """For every pixel of an h x w output: the triangle of ``dst`` (B, K, 2) that holds it and
    its barycentric coordinates there (the part of the warp that depends on the target only)."""
    tris = tris.to(dst.device)
    d_tri = dst[:, tris]  # (B, T, 3, 2)
    a, e1, e2 = d_tri[:, :, 0], d_tri[:, :, 1] - d_tri[:, :, 0], d_tri[:, :, 2] - d_tri[:, :, 0]
    det = e1[..., 0] * e2[..., 1] - e2[..., 0] * e1[..., 1]  # (B, T)
    usable = det.abs() > 1e-12
    det = torch.where(usable, det, torch.ones_like(det))[..., None]
    xs = torch.arange(w, dtype=dst.dtype, device=dst.device).repeat(h)
    ys = torch.arange(h, dtype=dst.dtype, device=dst.device).repeat_interleave(w)
    ox = xs - a[..., 0:1]  # (B, T, N)
    oy = ys - a[..., 1:2]
    u = (e2[..., 1:2] * ox - e2[..., 0:1] * oy) / det
    v = (e1[..., 0:1] * oy - e1[..., 1:2] * ox) / det
    eps = 1e-9 if dst.dtype == torch.float64 else 1e-5  # pixels on an edge or the frame
    inside = (u >= -eps) & (v >= -eps) & (u + v <= 1 + eps) & usable[..., None]
    found = inside.any(1)  # (B, N)
    first = inside.to(torch.uint8).argmax(1, keepdim=True)  # the first triangle holding the pixel
    return first[:, 0], u.gather(1, first)[:, 0], v.gather(1, first)[:, 0], found


def _sample(x: torch.Tensor, src: torch.Tensor, tris: torch.Tensor, lookup, mode: str
            ) -> torch.Tensor:
    """Sample images ``x`` at the points of ``src``'s triangles that ``lookup`` names."""
    first, u, v, found = lookup
    b, _, h, w = x.shape
    s_tri = src.to(x.device)[:, tris.to(x.device)]  # (B, T, 3, 2)
    corners = s_tri.gather(1, first[:, :, None, None].expand(-1, -1, 3, 2))  # (B, N, 3, 2)
    a = corners[:, :, 0]
    source = a + u[..., None] * (corners[:, :, 1] - a) + v[..., None] * (corners[:, :, 2] - a)
    grid = torch.stack([2 * source[..., 0] / max(w - 1, 1) - 1,
                        2 * source[..., 1] / max(h - 1, 1) - 1], -1).view(b, h, w, 2)
    work = torch.float64 if x.dtype == torch.float64 else torch.float32
    out = F.grid_sample(x.to(work), grid.to(work), mode=mode, padding_mode="zeros",
                        align_corners=True)
    out = out * found.view(b, 1, h, w)
    return out.to(x.dtype)


def _lam(lam: Any) -> float:
    return _checks.probability("lam", lam)


def _partners(perm: Any, batch: int) -> torch.Tensor:
    if perm is None:
        return torch.randperm(batch)
    p = _checks.tensor("perm", perm, ndim=1, kind="integer").to(torch.int64).cpu()
    if p.numel() != batch or not torch.equal(torch.sort(p).values, torch.arange(batch)):
        raise _checks.ArgumentError(
            f"perm must be a permutation of 0..{batch - 1}, got {_checks.describe(perm)}")
    return p


def _labels(y: Any, batch: int) -> torch.Tensor:
    t = _checks.tensor("y", y, ndim=2, kind="float")
    if t.shape[0] != batch:
        raise _checks.ArgumentError(f"y must have {batch} rows (one per image), got {t.shape[0]}")
    if (t < 0).any() or not torch.allclose(t.sum(1), torch.ones_like(t[:, 0]), atol=1e-4):
        raise _checks.ArgumentError(
            "y must hold one probability row per image (one-hot for hard labels): "
            "non-negative, each row summing to 1")
    return t


def mixup(x: Any, y: Any, lam: float, *, perm: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Input mixup of a batch with itself: image ``i`` blends with image ``perm[i]``.

    ``x`` (B, ...) float, ``y`` (B, num_classes) probability rows (one-hot); ``lam`` in [0, 1];
    ``perm`` a permutation of ``0..B-1`` (``None``: a random one, from torch's generator).
    Returns ``(lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm])``.
    """
    x = _checks.tensor("x", x, kind="float")
    if x.ndim < 2:
        raise _checks.ArgumentError(f"x must be a batch (B, ...), got shape {tuple(x.shape)}")
    y = _labels(y, x.shape[0])
    lam = _lam(lam)
    p = _partners(perm, x.shape[0]).to(x.device)
    return lam * x + (1 - lam) * x[p], lam * y + (1 - lam) * y[p.to(y.device)]


def keypoint_mixup(
    x: Any,
    keypoints: Any,
    y: Any,
    lam: float,
    *,
    perm: Any = None,
    triangles: Any = None,
    mode: str = "bilinear",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keypoint-guided mixup: warp both images to the blended keypoints, then blend.

    ``x`` (B, C, H, W) float; ``keypoints`` (B, K, 2) (x, y) in pixels; ``y`` (B, num_classes)
    probability rows; ``lam`` in [0, 1]; ``perm`` as in :func:`mixup`. ``triangles`` (T, 3)
    index the K keypoints followed by the 8 :func:`border_anchors` (compute them once with
    :func:`delaunay_triangles` on the mean keypoints and the anchors); ``None`` triangulates
    each call's first target. Returns the mixed images, the mixed labels and the target
    keypoints ``lam * k + (1 - lam) * k[perm]`` (B, K, 2).
    """
    x = _images("x", x)
    b = x.shape[0]
    k = _keypoints("keypoints", keypoints, b)
    if x.dtype != torch.float64:  # float32 images: float32 geometry (sub-1e-4 pixel error)
        k = k.to(torch.float32)
    y = _labels(y, b)
    lam = _lam(lam)
    p = _partners(perm, b)
    target = lam * k + (1 - lam) * k[p]
    if triangles is None:
        anchors = border_anchors(x.shape[2], x.shape[3]).to(k)
        triangles = delaunay_triangles(torch.cat([target.mean(0), anchors]))
    else:
        triangles = _checks.tensor("triangles", triangles, ndim=2, kind="integer")
    mode = _checks.choice("mode", mode, _MODES)
    n_points = k.shape[1] + 8
    tris = triangles.to(torch.int64)
    if tris.shape[1] != 3 or tris.min() < 0 or tris.max() >= n_points:
        raise _checks.ArgumentError(
            f"triangles must have shape (T, 3) and index the {k.shape[1]} keypoints and the 8 "
            f"border anchors (values in [0, {n_points - 1}]), got {_checks.describe(triangles)}")
    anchors = border_anchors(x.shape[2], x.shape[3]).to(k).expand(b, 8, 2)
    full_k, full_t = torch.cat([k, anchors], 1), torch.cat([target, anchors], 1)
    lookup = _lookup(full_t, tris, x.shape[2], x.shape[3])  # the target is shared: look up once
    first = _sample(x, full_k, tris, lookup, mode)
    second = _sample(x[p.to(x.device)], full_k[p], tris, lookup, mode)
    return lam * first + (1 - lam) * second, lam * y + (1 - lam) * y[p.to(y.device)], target
