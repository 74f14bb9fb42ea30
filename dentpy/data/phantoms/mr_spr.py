"""Paired Dixon-MR-like and stopping-power-ratio (SPR) slices of a jaw, for MR-only proton planning.

Item ``index`` of the phantom with ``seed`` is a pure function of ``(seed, index)``: the random
generator is ``numpy.random.default_rng([seed, index])`` and nothing else is random.

Each item is one axial slice at the level of the teeth: a head outline with a subcutaneous fat
layer and a few fat pads, soft tissue, a U-shaped mandible with fatty marrow and a dark cortex,
a row of teeth along the arch, a vertebra, and air (outside, the airway). From the tissue map:

- **SPR** (times 1000, so water is 1000): per-class values, drawn per image for bone and teeth,
  a marrow texture, partial volume at edges (a light blur) and noise;
- **Dixon MR channels** ``(in-phase, water, fat)``: water + fat = in-phase up to noise; fat is
  bright in-phase and in the fat image, soft tissue in the water image, marrow is mostly fat;
  cortical bone, teeth and air give no signal (bone and air are both dark). A smooth coil
  sensitivity (bias field) multiplies all three channels and Rician noise is added, so that the
  in-phase intensity alone confuses dim fat with bright soft tissue, while the fat fraction
  ``fat / (water + fat)`` does not depend on the bias.

Image metrics for the chapter live here too: :func:`image_mae` and :func:`image_psnr`, whose
peak value must be named (the same error gives very different PSNR with different peaks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from dentpy import _checks
from dentpy.data.synthetic._common import check_index, check_seed

__all__ = ["MR_SPR_CHANNELS", "MR_SPR_CLASSES", "MRSPRSample", "image_mae", "image_psnr",
           "make_mr_spr", "mr_spr_batch"]

#: Tissue classes of the label map, in label order.
MR_SPR_CLASSES = ("air", "fat", "soft tissue", "bone", "teeth")
#: The MR channels, in channel order.
MR_SPR_CHANNELS = ("in-phase", "water", "fat")
MIN_MR_SPR_SIZE = 32

# mean SPR x 1000 per class; bone and teeth are drawn per image around these
_SPR = np.array([1.0, 950.0, 1040.0, 1550.0, 2000.0])
# (water, fat) signal per class before the bias field; marrow is mostly fat, cortex is dark
_WATER = np.array([0.0, 0.06, 0.55, 0.08, 0.0])
_FAT = np.array([0.0, 0.85, 0.06, 0.30, 0.0])


@dataclass
class MRSPRSample:
    """One phantom slice.

    ``mr`` (3, H, W) float32: in-phase, water, fat (arbitrary units, about 0 to 1);
    ``spr`` (H, W) float32: stopping-power ratio times 1000 (water 1000, air about 1);
    ``labels`` (H, W) int64: indices into ``MR_SPR_CLASSES``;
    ``bias`` (H, W) float32: the coil sensitivity that multiplied the MR channels.
    """

    mr: np.ndarray
    spr: np.ndarray
    labels: np.ndarray
    bias: np.ndarray


def _ellipse(yy, xx, cy, cx, ry, rx, angle=0.0):
    c, s = np.cos(angle), np.sin(angle)
    dy, dx = yy - cy, xx - cx
    u, v = c * dx + s * dy, -s * dx + c * dy
    return (u / rx) ** 2 + (v / ry) ** 2


def make_mr_spr(index: int, *, seed: int = 0, size: int = 64, noise: float = 0.03,
                bias: float = 0.5) -> MRSPRSample:
    """Generate item ``index`` of the MR/SPR jaw phantom ``seed``.

    Parameters
    ----------
    index, seed : non-negative ints; the sample is a pure function of both (and the options).
    size : image side in pixels, at least ``MIN_MR_SPR_SIZE`` (32).
    noise : standard deviation of the complex Gaussian MR noise (Rician magnitude), in [0, 0.5].
    bias : depth of the smooth coil sensitivity, in [0, 0.9]: the field spans about
        ``1 - bias`` to ``1 + bias`` over the head.
    """
    index = check_index(index)
    seed = check_seed(seed)
    size = _checks.integer("size", size, low=MIN_MR_SPR_SIZE)
    noise = _checks.number("noise", noise, low=0.0, high=0.5)
    bias = _checks.number("bias", bias, low=0.0, high=0.9)
    rng = np.random.default_rng([seed, index])
    yy, xx = (np.mgrid[0:size, 0:size] + 0.5) / size
    u = rng.uniform

    # head outline, fat layer beneath the skin, soft tissue inside
    cy, cx = 0.5 + u(-0.03, 0.03), 0.5 + u(-0.03, 0.03)
    ry, rx, tilt = u(0.38, 0.44), u(0.34, 0.42), u(-0.15, 0.15)
    head = _ellipse(yy, xx, cy, cx, ry, rx, tilt) <= 1
    fat_depth = u(0.78, 0.9)
    labels = np.zeros((size, size), np.int64)
    labels[head] = 1
    inner = _ellipse(yy, xx, cy, cx, ry * fat_depth, rx * fat_depth, tilt) <= 1
    labels[inner] = 2
    for _ in range(rng.integers(2, 6)):  # fat pads (buccal, parapharyngeal)
        py, px = cy + u(-0.12, 0.15), cx + u(-0.22, 0.22)
        pad = _ellipse(yy, xx, py, px, u(0.03, 0.07), u(0.03, 0.07), u(0, np.pi)) <= 1
        labels[pad & inner] = 1
    # airway behind the tongue and a vertebra behind it
    ay = cy + u(0.05, 0.12)
    airway = _ellipse(yy, xx, ay, cx + u(-0.02, 0.02), u(0.03, 0.06), u(0.04, 0.08)) <= 1
    labels[airway & inner] = 0
    vert = _ellipse(yy, xx, ay + u(0.13, 0.17), cx, u(0.05, 0.07), u(0.06, 0.08)) <= 1
    labels[vert & inner] = 3
    # mandible: an arch (front of the face at the top of the image) and teeth just inside it
    ay0, ary, arx = cy + u(-0.02, 0.04), u(0.2, 0.26), u(0.2, 0.26)
    r = np.sqrt(((yy - ay0) / ary) ** 2 + ((xx - cx) / arx) ** 2)
    front = yy < ay0 + 0.05
    thick = u(0.12, 0.2)
    labels[(np.abs(r - 1) < thick) & front & inner] = 3
    theta = np.linspace(np.pi * 1.12, np.pi * 1.88, rng.integers(6, 11))
    for t in theta:
        ty, tx = ay0 + 0.78 * ary * np.sin(t), cx + 0.78 * arx * np.cos(t)
        tooth = _ellipse(yy, xx, ty, tx, u(0.025, 0.035), u(0.02, 0.03), t) <= 1
        labels[tooth & inner] = 4

    # SPR: per-image values for bone and teeth, marrow texture, partial volume, noise
    values = _SPR.copy()
    values[3] = u(1400, 1700)
    values[4] = u(1850, 2150)
    spr = values[labels]
    texture = gaussian_filter(rng.standard_normal((size, size)), 1.0)
    spr = spr + 60.0 * texture * (labels == 3)
    spr = gaussian_filter(spr, 0.6) + rng.normal(0, 8.0, (size, size))
    spr = np.maximum(spr, 0.0)

    # Dixon channels: tissue signal x smooth bias field + Rician noise
    field = gaussian_filter(rng.standard_normal((size, size)), size / 5)
    field = field / (np.abs(field).max() + 1e-12)
    gy, gx = u(-1, 1), u(-1, 1)
    ramp = gy * (yy - 0.5) + gx * (xx - 0.5)
    field = 0.5 * field + ramp / (np.abs(ramp).max() + 1e-12) * 0.5
    field = 1.0 + bias * field / (np.abs(field[head]).max() + 1e-12)
    channels = []
    for per_class in (_WATER, _FAT):
        clean = gaussian_filter(per_class[labels], 0.6) * field
        re = clean + rng.normal(0, noise, clean.shape)
        im = rng.normal(0, noise, clean.shape)
        channels.append(np.hypot(re, im))
    water, fat = channels
    mr = np.stack([water + fat, water, fat])
    return MRSPRSample(mr=mr.astype(np.float32), spr=spr.astype(np.float32), labels=labels,
                       bias=field.astype(np.float32))


def mr_spr_batch(indices: Sequence[int], *, seed: int = 0, size: int = 64,
                 noise: float = 0.03, bias: float = 0.5
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items ``indices`` stacked: ``mr`` (N, 3, H, W), ``spr`` (N, H, W), ``labels`` (N, H, W)."""
    if isinstance(indices, str | bytes) or not isinstance(indices, Sequence | np.ndarray | range):
        _checks.fail("indices", "a sequence of non-negative integers", indices, wrong_type=True)
    if len(indices) == 0:
        _checks.fail("indices", "a non-empty sequence of non-negative integers", indices)
    samples = [make_mr_spr(int(check_index(i, "indices")), seed=seed, size=size, noise=noise,
                           bias=bias) for i in indices]
    return (np.stack([s.mr for s in samples]), np.stack([s.spr for s in samples]),
            np.stack([s.labels for s in samples]))


def _pair(pred, target):
    p = _checks.array("pred", pred, kind="number").astype(np.float64)
    t = _checks.array("target", target, kind="number").astype(np.float64)
    if p.shape != t.shape:
        raise _checks.ArgumentError(f"pred and target must have the same shape, got {p.shape} "
                                    f"and {t.shape}")
    return p, t


def image_mae(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute error over all pixels (any shape; same shape for both), in target units."""
    p, t = _pair(pred, target)
    return float(np.mean(np.abs(p - t)))


def image_psnr(pred: np.ndarray, target: np.ndarray, *, peak: float | str) -> float:
    """PSNR in dB, ``10 log10(peak**2 / MSE)``, over all pixels.

    ``peak`` must be given: a positive number (the data range, e.g. 2000 for SPR x 1000 up to
    2.0, or 1.0 for images scaled to [0, 1]) or ``"max"`` for ``max(pred.max(), target.max())``
    of this image (the paper's Q). A perfect prediction gives ``inf``.
    """
    p, t = _pair(pred, target)
    if isinstance(peak, str):
        _checks.choice("peak", peak, ("max",))
        q = float(max(p.max(), t.max()))
        if q <= 0:
            raise _checks.ArgumentError(f"peak='max' needs a positive maximum, got {q}")
    else:
        q = _checks.number("peak", peak, low=0, low_open=True)
    mse = float(np.mean((p - t) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(q * q / mse))
