"""Deformable registration of label maps through label-agnostic shape encodings (2-D).

Großbröhmer & Heinrich (MIUA 2023) register two scans through their segmentations only: each
label map is turned into ONE channel, the *encoding*, that no longer depends on how many labels
there are or what they mean, and a registration network predicts a displacement field from the
fixed and moving encodings. Two encodings:

- :func:`medm`, the multi-label Euclidean distance map: for every label (background included)
  the distance of each inside pixel to the label's border, soft-clipped at ``lam`` pixels by an
  ELU and summed over labels;
- :class:`LabelAdaptation`, a learned encoder: the labels are folded into the batch so that one
  single-channel CNN sees each label on its own, then a maximum over the labels joins them. It
  runs on any number of labels.

Conventions follow :mod:`dentpy.registration`: a displacement field has shape ``(B, 2, H, W)``
in pixels, ``u[:, 0]`` along rows (y) and ``u[:, 1]`` along columns (x), and warping samples the
moving image at ``x + u(x)``. :func:`warp` is the differentiable (torch) version of
:func:`dentpy.registration.warp` and agrees with it for bilinear sampling.

Pieces: :func:`make_shape_labelmaps` (2-D label maps of three made-up anatomies),
:func:`random_deformation` (smooth random fields to build pairs), :func:`one_hot`,
:func:`medm`, :class:`LabelAdaptation`, :class:`RegNet` (a small two-stream CNN with smoothed
displacement output), :func:`soft_dice_loss`, :func:`dice_per_label`, :func:`hd95_per_label`,
:func:`jacobian_std` and :func:`instance_optimise`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

from dentpy import _checks
from dentpy import registration as _rg

__all__ = [
    "KIND_LABELS",
    "LabelAdaptation",
    "RegNet",
    "dice_per_label",
    "hd95_per_label",
    "instance_optimise",
    "jacobian_std",
    "make_shape_labelmaps",
    "medm",
    "one_hot",
    "random_deformation",
    "soft_dice_loss",
    "warp",
]

#: Number of foreground labels of each made-up anatomy (background is label 0).
KIND_LABELS = {"teeth": 7, "vessels": 5, "axial": 11}


# ------------------------------------------------------------------------------- checks
def _labels(name: str, value: Any, *, ndim: int = 3) -> torch.Tensor:
    """Integer label maps as an int64 tensor of ``ndim`` dims, no negative labels."""
    t = _checks.tensor(name, value, ndim=ndim, kind="integer")  # bool is refused too
    if (t < 0).any():
        _checks.fail(name, "labels >= 0", value)
    return t.long()


def _float(name: str, value: Any, *, ndim: int) -> torch.Tensor:
    t = _checks.tensor(name, value, ndim=ndim, kind="number")
    return t.float() if not t.is_floating_point() else t


def _disp(name: str, value: Any, shape: tuple[int, ...] | None = None) -> torch.Tensor:
    """A displacement field (B, 2, H, W), float, matching ``(B, H, W)`` when given."""
    t = _float(name, value, ndim=4)
    if t.shape[1] != 2:
        _checks.fail(name, "a displacement field of shape (B, 2, H, W)", value)
    if shape is not None and (t.shape[0], *t.shape[2:]) != tuple(shape):
        raise _checks.ArgumentError(
            f"{name} must have shape ({shape[0]}, 2, {shape[1]}, {shape[2]}) to match the "
            f"images, got {tuple(t.shape)}")
    return t


# ---------------------------------------------------------------------------- the data
def _ellipse(yy, xx, cy, cx, ry, rx, angle=0.0):
    c, s = math.cos(angle), math.sin(angle)
    y, x = yy - cy, xx - cx
    return ((c * x + s * y) / rx) ** 2 + ((-s * x + c * y) / ry) ** 2 <= 1.0


def _teeth(rng: np.random.Generator, size: int) -> np.ndarray:
    """A panoramic-like strip: a jaw band and six upright teeth (crown + root) along a curve."""
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    out = np.zeros((size, size), np.int64)
    s = size / 64
    bend = rng.uniform(0.002, 0.008)
    base = size * rng.uniform(0.55, 0.62)
    jaw_curve = base + bend * (xx - size / 2) ** 2
    out[(yy >= jaw_curve - 4 * s) & (yy <= jaw_curve + rng.uniform(10, 14) * s)] = 1
    n_teeth = 6
    xs = np.linspace(size * 0.16, size * 0.84, n_teeth) + rng.normal(0, 1.0 * s, n_teeth)
    for k, x0 in enumerate(xs):
        y_top = base + bend * (x0 - size / 2) ** 2 - rng.uniform(18, 24) * s
        width = rng.uniform(3.0, 4.2) * s
        tilt = rng.normal(0, 0.12)
        crown = _ellipse(yy, xx, y_top + 5 * s, x0, 5.5 * s, width, tilt)
        root = _ellipse(yy, xx, y_top + 15 * s, x0 + 8 * s * tilt, 9 * s, width * 0.55, tilt)
        out[crown | root] = 2 + k
    return out


def _tube(yy, xx, pts: np.ndarray, radius: float) -> np.ndarray:
    """Pixels within ``radius`` of a polyline through ``pts`` (K, 2) as (y, x)."""
    mask = np.zeros(yy.shape, bool)
    for (y0, x0), (y1, x1) in zip(pts[:-1], pts[1:], strict=True):
        dy, dx = y1 - y0, x1 - x0
        t = np.clip(((yy - y0) * dy + (xx - x0) * dx) / max(dy * dy + dx * dx, 1e-9), 0, 1)
        mask |= (yy - y0 - t * dy) ** 2 + (xx - x0 - t * dx) ** 2 <= radius**2
    return mask


def _vessels(rng: np.random.Generator, size: int) -> np.ndarray:
    """Two big blobs (heart- and lung-like) and three thick curved tubes."""
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    out = np.zeros((size, size), np.int64)
    s = size / 64
    for k, cx in enumerate((0.3, 0.7)):
        out[_ellipse(yy, xx, size * rng.uniform(0.4, 0.6), size * cx + rng.normal(0, 2 * s),
                     rng.uniform(10, 15) * s, rng.uniform(7, 10) * s, rng.normal(0, 0.3))] = 1 + k
    for k in range(3):
        x0 = size * rng.uniform(0.2, 0.8)
        ys = np.linspace(size * 0.05, size * 0.95, 5)
        xs = x0 + np.cumsum(rng.normal(0, 4 * s, 5))
        out[_tube(yy, xx, np.stack([ys, xs], 1), rng.uniform(2.0, 3.2) * s)] = 3 + k
    return out


def _axial(rng: np.random.Generator, size: int) -> np.ndarray:
    """An axial jaw slice: horseshoe mandible, eight small round roots in it, tongue, airway."""
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    out = np.zeros((size, size), np.int64)
    s = size / 64
    cy, cx = size * rng.uniform(0.58, 0.66), size / 2 + rng.normal(0, 1.5 * s)
    ry, rx = rng.uniform(22, 26) * s, rng.uniform(20, 24) * s
    half = rng.uniform(3.0, 4.0) * s
    r = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
    arch = (np.abs(r - 1) * min(ry, rx) <= half) & (yy <= cy + 2 * s)
    out[arch] = 1
    out[_ellipse(yy, xx, cy - 6 * s, cx, rng.uniform(9, 12) * s, rng.uniform(8, 11) * s)] = 2
    out[_ellipse(yy, xx, cy + rng.uniform(8, 12) * s, cx, rng.uniform(3, 4.5) * s,
                 rng.uniform(4, 6) * s)] = 3
    angles = np.linspace(0.2, math.pi - 0.2, 8) + rng.normal(0, 0.04, 8)
    for k, a in enumerate(angles):
        rr = rng.uniform(1.6, 2.6) * s
        out[_ellipse(yy, xx, cy - ry * math.sin(a), cx + rx * math.cos(a), rr, rr)] = 4 + k
    return out


_MAKERS = {"teeth": _teeth, "vessels": _vessels, "axial": _axial}


def make_shape_labelmaps(kind: str, n: int, *, size: int = 64, seed: int = 0) -> np.ndarray:
    """``n`` label maps (n, size, size), int64, of one made-up anatomy.

    ``kind``: ``"teeth"`` (a jaw band and six teeth, 7 labels), ``"vessels"`` (two blobs and
    three tubes, 5 labels) or ``"axial"`` (mandible, tongue, airway and eight small roots,
    11 labels). Label 0 is background; map ``i`` is a pure function of ``(kind, seed, i)``."""
    kind = _checks.choice("kind", kind, tuple(_MAKERS))
    n = _checks.integer("n", n, low=1)
    size = _checks.integer("size", size, low=16)
    seed = _checks.integer("seed", seed, low=0)
    salt = sorted(_MAKERS).index(kind)
    return np.stack([_MAKERS[kind](np.random.default_rng([seed, salt, i]), size)
                     for i in range(n)])


def random_deformation(
    n: int, size: int, *, amplitude: float = 3.0, affine: float = 0.05, seed: int = 0
) -> torch.Tensor:
    """``n`` smooth random displacement fields (n, 2, size, size) in pixels.

    An affine part (the 2 x 2 matrix ``I + affine * N(0, 1)`` about the centre plus a shift of
    up to ``amplitude / 2`` pixels) plus a smooth part: 4 x 4 Gaussian noise upsampled bicubically
    and scaled so its longest vector is ``amplitude`` pixels. Pure function of ``seed``."""
    n = _checks.integer("n", n, low=1)
    size = _checks.integer("size", size, low=4)
    amplitude = _checks.number("amplitude", amplitude, low=0)
    affine = _checks.number("affine", affine, low=0)
    seed = _checks.integer("seed", seed, low=0)
    g = torch.Generator().manual_seed(seed)
    coords = torch.stack(torch.meshgrid(torch.arange(size, dtype=torch.float32),
                                        torch.arange(size, dtype=torch.float32),
                                        indexing="ij"))  # (2, H, W)
    centred = coords - (size - 1) / 2
    mats = affine * torch.randn(n, 2, 2, generator=g)
    shift = (torch.rand(n, 2, 1, 1, generator=g) - 0.5) * amplitude
    lin = torch.einsum("nij,jhw->nihw", mats, centred) + shift
    noise = torch.randn(n, 2, 4, 4, generator=g)
    smooth = F.interpolate(noise, size=(size, size), mode="bicubic", align_corners=True)
    length = smooth.pow(2).sum(1).sqrt().amax(dim=(1, 2)).clamp_min(1e-9)
    return lin + smooth * (amplitude / length)[:, None, None, None]


# ---------------------------------------------------------------------------- encodings
def one_hot(labels: Any, n_labels: int) -> torch.Tensor:
    """Label maps (B, H, W) as one-hot float channels (B, n_labels + 1, H, W), background first.
    Labels above ``n_labels`` raise an error."""
    labels = _labels("labels", labels)
    n_labels = _checks.integer("n_labels", n_labels, low=1)
    if labels.numel() and int(labels.max()) > n_labels:
        raise _checks.ArgumentError(
            f"labels must be <= n_labels={n_labels}, got a label {int(labels.max())}")
    return F.one_hot(labels, n_labels + 1).permute(0, 3, 1, 2).float()


def medm(labels: Any, n_labels: int, *, lam: float = 3.0) -> torch.Tensor:
    """Multi-label Euclidean distance map (B, 1, H, W) of label maps (B, H, W).

    ``sum_j (lam - ELU(lam - EDT(S_j))) / lam`` over the one-hot channels ``S_j``, background
    included, with ``EDT`` the distance (pixels) of each pixel inside ``S_j`` to the nearest
    pixel outside it (``scipy.ndimage.distance_transform_edt``). Each pixel lies in exactly one
    label, so the sum is its own label's inside distance, linear up to ``lam`` and then
    soft-clipped towards ``1 + 1 / lam``: 0 next to every border, about 1 deep inside."""
    hot = one_hot(labels, n_labels).numpy().astype(bool)
    lam = _checks.number("lam", lam, low=0, low_open=True)
    dist = np.stack([[ndimage.distance_transform_edt(ch) for ch in item] for item in hot])
    d = torch.from_numpy(dist).float()
    return ((lam - F.elu(lam - d)) * torch.from_numpy(hot)).sum(1, keepdim=True) / lam


def _block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1),
                         nn.InstanceNorm2d(c_out), nn.ReLU(inplace=True))


class LabelAdaptation(nn.Module):
    """Learned label encoding: one-hot maps (B, L, H, W) -> one channel (B, 1, H, W).

    The L labels are folded into the batch, (B * L, 1, H, W), so the first three blocks (16, 32,
    32 channels, the first with stride 2) see every label on its own and cannot learn which label
    is which. The maximum over the labels joins them, then two blocks, a x2 bilinear upsampling
    and a 1 x 1 convolution give the encoding. Any L works, also one never seen in training.
    H and W must be even."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        width = _checks.integer("width", width, low=1)
        self.per_label = nn.Sequential(_block(1, width, 2), _block(width, 2 * width),
                                       _block(2 * width, 2 * width))
        self.joint = _block(2 * width, width)
        self.refine = _block(width, width)
        self.out = nn.Conv2d(width, 1, 1)

    def forward(self, onehot: torch.Tensor) -> torch.Tensor:
        onehot = _float("onehot", onehot, ndim=4)
        b, n, h, w = onehot.shape
        if h % 2 or w % 2 or min(h, w) < 4:
            raise _checks.ArgumentError(f"onehot must have even H, W >= 4, got {h} x {w}")
        feats = self.per_label(onehot.reshape(b * n, 1, h, w))
        feats = feats.reshape(b, n, *feats.shape[1:]).amax(dim=1)
        feats = self.joint(feats)
        feats = F.interpolate(feats, size=(h, w), mode="bilinear", align_corners=False)
        return self.out(self.refine(feats))


# ----------------------------------------------------------------------------- warping
def warp(image: Any, displacement: Any, *, mode: str = "bilinear") -> torch.Tensor:
    """``image`` (B, C, H, W) sampled at ``x + displacement(x)`` (B, 2, H, W, pixels), with
    ``torch.nn.functional.grid_sample`` (border values repeated outside). Differentiable.
    ``mode``: ``"bilinear"`` or ``"nearest"`` (for label maps)."""
    image = _float("image", image, ndim=4)
    disp = _disp("displacement", displacement, (image.shape[0], *image.shape[2:]))
    mode = _checks.choice("mode", mode, ("bilinear", "nearest"))
    _, _, h, w = image.shape
    if min(h, w) < 2:
        raise _checks.ArgumentError(f"image must be at least 2 x 2 pixels, got {h} x {w}")
    ys = torch.arange(h, dtype=disp.dtype, device=disp.device)
    xs = torch.arange(w, dtype=disp.dtype, device=disp.device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    y = (gy + disp[:, 0]) * (2 / (h - 1)) - 1
    x = (gx + disp[:, 1]) * (2 / (w - 1)) - 1
    grid = torch.stack([x, y], dim=-1)  # grid_sample wants (x, y): reversed dimension order
    return F.grid_sample(image, grid, mode=mode, padding_mode="border", align_corners=True)


def _smooth(disp: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Upsample x2 (until ``size``) with average pooling of widths 3 and 5 after each step."""
    while disp.shape[-1] < size[-1]:
        disp = F.interpolate(disp, scale_factor=2, mode="bilinear", align_corners=False)
        disp = F.avg_pool2d(disp, 3, stride=1, padding=1, count_include_pad=False)
        disp = F.avg_pool2d(disp, 5, stride=1, padding=2, count_include_pad=False)
    return disp


class RegNet(nn.Module):
    """Two-stream CNN: fixed and moving encodings (B, C, H, W) -> displacement (B, 2, H, W) px.

    A shared encoder (blocks of w, 2w, 2w, 4w, 4w channels with ``w = width``, two with
    stride 2; the paper's 16, 32, 32, 64, 64 for ``width=16``) runs on each
    input; the concatenated features pass two blocks and a 3 x 3 convolution to 2 channels,
    ``tanh * max_disp`` (a fraction of the image size), then two rounds of x2 upsampling and
    average pooling (3 and 5) give a smooth full-resolution field. With ``levels=2`` the moving
    input is warped by the first field and a second head predicts the residual, composed as
    ``u(x) = u2(x) + u1(x + u2(x))``. H and W must be multiples of 4."""

    def __init__(self, in_channels: int = 1, *, width: int = 16, levels: int = 2,
                 max_disp: float = 0.25) -> None:
        super().__init__()
        self.in_channels = _checks.integer("in_channels", in_channels, low=1)
        w = _checks.integer("width", width, low=1)
        self.levels = _checks.integer("levels", levels, low=1, high=2)
        self.max_disp = _checks.number("max_disp", max_disp, low=0, low_open=True, high=1)
        self.encoder = nn.Sequential(_block(in_channels, w), _block(w, 2 * w, 2),
                                     _block(2 * w, 2 * w), _block(2 * w, 4 * w, 2),
                                     _block(4 * w, 4 * w))
        self.heads = nn.ModuleList(
            nn.Sequential(_block(8 * w, 4 * w), _block(4 * w, 2 * w),
                          nn.Conv2d(2 * w, 2, 3, padding=1))
            for _ in range(self.levels))
        for head in self.heads:  # start from the identity
            nn.init.zeros_(head[-1].weight)
            nn.init.zeros_(head[-1].bias)

    def _field(self, head: nn.Module, f_fix: torch.Tensor, f_mov: torch.Tensor,
               hw: tuple[int, int]) -> torch.Tensor:
        raw = head(torch.cat([f_fix, f_mov], dim=1))
        scale = torch.tensor([hw[0] - 1, hw[1] - 1], dtype=raw.dtype) * (self.max_disp / 2)
        return _smooth(torch.tanh(raw) * scale[None, :, None, None], hw)

    def forward(self, fixed: torch.Tensor, moving: torch.Tensor) -> torch.Tensor:
        fixed = _float("fixed", fixed, ndim=4)
        moving = _float("moving", moving, ndim=4)
        if fixed.shape != moving.shape:
            raise _checks.ArgumentError(f"fixed and moving must have the same shape: fixed "
                                        f"{tuple(fixed.shape)}, moving {tuple(moving.shape)}")
        if fixed.shape[1] != self.in_channels:
            raise _checks.ArgumentError(
                f"fixed must have {self.in_channels} channels (the network's in_channels), "
                f"got {fixed.shape[1]}")
        hw = tuple(fixed.shape[2:])
        if hw[0] % 4 or hw[1] % 4:
            raise _checks.ArgumentError(f"fixed must have H, W multiples of 4, got {hw}")
        f_fix = self.encoder(fixed)
        u = self._field(self.heads[0], f_fix, self.encoder(moving), hw)
        if self.levels == 2:
            u2 = self._field(self.heads[1], f_fix, self.encoder(warp(moving, u)), hw)
            u = u2 + warp(u, u2)
        return u


# ---------------------------------------------------------------------- loss and scores
def soft_dice_loss(warped: Any, target: Any) -> torch.Tensor:
    """1 - mean soft Dice over the foreground channels (1:) of (B, L + 1, H, W) maps,
    averaged over the labels present in ``target``; 0-dim tensor, differentiable."""
    warped = _float("warped", warped, ndim=4)
    target = _float("target", target, ndim=4)
    if warped.shape != target.shape:
        raise _checks.ArgumentError(f"warped and target must have the same shape: "
                                    f"{tuple(warped.shape)} and {tuple(target.shape)}")
    if warped.shape[1] < 2:
        raise _checks.ArgumentError("warped must have a background and >= 1 label channel")
    w, t = warped[:, 1:], target[:, 1:]
    inter = (w * t).sum((2, 3))
    dice = 2 * inter / (w.sum((2, 3)) + t.sum((2, 3))).clamp_min(1e-6)
    present = (t.sum((2, 3)) > 0).float()
    return 1 - (dice * present).sum() / present.sum().clamp_min(1.0)


def _pair(a: Any, b: Any, n_labels: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    a = _labels("reference", a)
    b = _labels("registered", b)
    if a.shape != b.shape:
        raise _checks.ArgumentError(f"reference and registered must have the same shape: "
                                    f"{tuple(a.shape)} and {tuple(b.shape)}")
    n_labels = _checks.integer("n_labels", n_labels, low=1)
    return a, b, n_labels


def dice_per_label(reference: Any, registered: Any, n_labels: int) -> np.ndarray:
    """Dice of each foreground label 1..n_labels (B, n_labels) of label maps (B, H, W);
    NaN where the label is absent from ``reference``."""
    a, b, n_labels = _pair(reference, registered, n_labels)
    out = np.full((a.shape[0], n_labels), np.nan)
    for k in range(1, n_labels + 1):
        ra, rb = (a == k).flatten(1), (b == k).flatten(1)
        na, nb = ra.sum(1).double(), rb.sum(1).double()
        inter = (ra & rb).sum(1).double()
        dice = (2 * inter / (na + nb).clamp_min(1)).numpy()
        out[:, k - 1] = np.where(na.numpy() > 0, dice, np.nan)
    return out


def hd95_per_label(reference: Any, registered: Any, n_labels: int) -> np.ndarray:
    """95th-percentile Hausdorff distance (pixels) per foreground label (B, n_labels), with
    ``monai.metrics.compute_hausdorff_distance``; NaN where a label is absent from either map."""
    from monai.metrics import compute_hausdorff_distance

    a, b, n_labels = _pair(reference, registered, n_labels)
    ha = one_hot(a, n_labels)
    hb = one_hot(b, n_labels)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = compute_hausdorff_distance(hb, ha, include_background=False, percentile=95)
    d = d.numpy().astype(float)
    absent = (ha[:, 1:].sum((2, 3)) == 0) | (hb[:, 1:].sum((2, 3)) == 0)
    d[absent.numpy()] = np.nan
    return d


def jacobian_std(displacement: Any) -> np.ndarray:
    """Standard deviation over pixels of the Jacobian determinant of each field (B,), the
    determinants from :func:`dentpy.registration.jacobian_determinant` (central differences)."""
    disp = _disp("displacement", displacement)
    return np.array([_rg.jacobian_determinant(u.detach().cpu().numpy()).std() for u in disp])


def instance_optimise(
    fixed: Any, moving: Any, displacement: Any, *, iters: int = 50, lr: float = 0.5,
    smooth: float = 0.65,
) -> torch.Tensor:
    """Refine ``displacement`` (B, 2, H, W) for one pair of encodings (B, C, H, W) by ``iters``
    Adam steps on ``mean((fixed - warp(moving, u))^2) + smooth * mean(|grad u|^2)``.
    Returns the refined field (detached)."""
    fixed = _float("fixed", fixed, ndim=4).detach()
    moving = _float("moving", moving, ndim=4).detach()
    if fixed.shape != moving.shape:
        raise _checks.ArgumentError(f"fixed and moving must have the same shape: "
                                    f"{tuple(fixed.shape)} and {tuple(moving.shape)}")
    disp = _disp("displacement", displacement, (fixed.shape[0], *fixed.shape[2:]))
    iters = _checks.integer("iters", iters, low=0)
    lr = _checks.number("lr", lr, low=0, low_open=True)
    smooth = _checks.number("smooth", smooth, low=0)
    u = disp.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([u], lr=lr)
    for _ in range(iters):
        opt.zero_grad()
        sim = (fixed - warp(moving, u)).pow(2).mean()
        reg = (u[:, :, 1:] - u[:, :, :-1]).pow(2).mean() + (u[..., 1:] - u[..., :-1]).pow(2).mean()
        (sim + smooth * reg).backward()
        opt.step()
    return u.detach()
