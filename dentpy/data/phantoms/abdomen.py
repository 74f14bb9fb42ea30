"""Axial abdominal slices in two modalities, CT-like and T2-MR-like, with a liver mask.

Slice ``index`` of domain ``domain`` with ``seed`` is a pure function of the three: the random
generator is ``numpy.random.default_rng([seed, index, domain number])``, as in the dental world,
so the "ct" and "mr" slices of one index are different patients.

The anatomy (``ABDOMEN_TISSUES``, the values of ``labels``) is drawn in the radiological
convention (the patient's right on the image's left):

0. **air** outside the body; 1. **fat**, the subcutaneous rim and the fat between the organs;
2. **soft tissue** (muscle, bowel); 3. **liver**, a union of two to four ellipses in the upper
left of the body, bent by a smooth random displacement field; its size follows a random slice
height (large near the dome, small near the tip); 4. **spleen** on the right, behind;
5. **kidneys**, on both sides of the spine (the left one below the liver); 6. **spine**, a
vertebral body at the back; 7. **aorta**, a small disc in front of the spine.

Each tissue has one grey value per domain plus a smooth texture. In **CT** bone is brightest, the
liver a little brighter than spleen and muscle, fat dark; noise is Gaussian. In **MR** (T2-like)
the order changes and is not monotone in CT's grey: fat and spleen bright, liver dark, bone
grey, the aorta a flow void; a smooth multiplicative bias field (coil sensitivity) and Rician
noise follow, then a per-slice min–max normalisation to [0, 1]. The liver mask is the same
anatomy in both domains: only the physics of contrast differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter, map_coordinates

from dentpy import _checks
from dentpy.data.synthetic._common import check_index, check_seed

__all__ = ["ABDOMEN_DOMAINS", "ABDOMEN_TISSUES", "MIN_ABDOMEN_SIZE", "AbdomenSample",
           "make_abdomen", "make_abdomen_batch"]

#: Tissue names, in the order of the ``labels`` values.
ABDOMEN_TISSUES = ("air", "fat", "soft tissue", "liver", "spleen", "kidney", "spine", "aorta")

#: The two domains: plentiful "ct" and scarce "mr" (T2-like).
ABDOMEN_DOMAINS = ("ct", "mr")

#: Smallest slice side the generator accepts, in pixels.
MIN_ABDOMEN_SIZE = 32

#: Grey value of each tissue per domain (before texture, bias and noise).
_GREY = {
    "ct": np.array([0.0, 0.22, 0.45, 0.62, 0.54, 0.68, 0.95, 0.75]),
    "mr": np.array([0.02, 0.85, 0.32, 0.48, 0.70, 0.76, 0.40, 0.08]),
}
_DOMAIN_NUMBER = {"ct": 0, "mr": 1}


@dataclass
class AbdomenSample:
    """One slice: ``image`` (H, W) float32 in [0, 1]; ``liver`` (H, W) bool; ``labels`` (H, W)
    int64 with values 0..7 (``ABDOMEN_TISSUES``); ``height`` the slice's position in [0, 1]
    (1 near the liver's dome, where the liver is largest)."""

    image: np.ndarray
    liver: np.ndarray
    labels: np.ndarray
    height: float


def _ellipse(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, rx: float, ry: float,
             theta: float = 0.0) -> np.ndarray:
    u = (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta)
    v = -(xx - cx) * np.sin(theta) + (yy - cy) * np.cos(theta)
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def make_abdomen(index: int, *, seed: int = 0, domain: str = "ct", size: int = 64
                 ) -> AbdomenSample:
    """Generate slice ``index`` of domain ``domain`` (``"ct"`` or ``"mr"``) of phantom ``seed``.

    ``size``: slice side in pixels (at least ``MIN_ABDOMEN_SIZE``); lengths scale with it.
    """
    index = check_index(index)
    seed = check_seed(seed)
    _checks.choice("domain", domain, ABDOMEN_DOMAINS)
    size = _checks.integer("size", size, low=MIN_ABDOMEN_SIZE)
    rng = np.random.default_rng([seed, index, _DOMAIN_NUMBER[domain]])
    s = size / 64  # lengths below are in pixels of a 64-pixel slice
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    c = size / 2
    labels = np.zeros((size, size), dtype=np.int64)

    # body: an ellipse, a fat rim, soft tissue inside
    brx, bry = rng.uniform(27, 30.5) * s, rng.uniform(20, 24) * s
    bcy = c + rng.uniform(-1.5, 1.5) * s
    body = _ellipse(xx, yy, c, bcy, brx, bry)
    rim = rng.uniform(1.8, 3.2) * s
    inner = _ellipse(xx, yy, c, bcy, brx - rim, bry - rim)
    labels[body] = 1
    labels[inner] = 2
    top, bottom, left = bcy - bry, bcy + bry, c - brx

    # spine and aorta at the back, in the middle
    scx, scy = c + rng.uniform(-1, 1) * s, bottom - rng.uniform(8, 10) * s
    spine = _ellipse(xx, yy, scx, scy, rng.uniform(4.5, 5.5) * s, rng.uniform(4, 5) * s)
    aorta = _ellipse(xx, yy, scx + rng.uniform(1, 3) * s, scy - rng.uniform(7, 8.5) * s,
                     2.0 * s, 2.0 * s)
    # kidneys on both sides of the spine
    kidneys = np.zeros_like(body)
    for side in (-1, 1):
        kx = scx + side * rng.uniform(11, 13) * s
        ky = scy - rng.uniform(1, 4) * s
        kidneys |= _ellipse(xx, yy, kx, ky, rng.uniform(3.5, 4.5) * s, rng.uniform(5, 6.5) * s,
                            side * rng.uniform(0.2, 0.5)) & inner
    # spleen: the patient's left, i.e. the image's right, at the back
    spleen = _ellipse(xx, yy, c + rng.uniform(15, 19) * s, bcy + rng.uniform(-3, 3) * s,
                      rng.uniform(4, 6.5) * s, rng.uniform(6, 9) * s,
                      rng.uniform(-0.6, 0.1)) & inner

    # liver: a union of ellipses in the upper left, larger for higher slices, bent smoothly
    height = float(rng.uniform(0.0, 1.0))
    grow = 0.7 + 0.4 * height
    liver = np.zeros_like(body)
    lcx, lcy = left + rng.uniform(15, 18) * s, bcy - rng.uniform(2, 5) * s
    liver |= _ellipse(xx, yy, lcx, lcy, rng.uniform(13, 16) * s * grow,
                      rng.uniform(11, 14) * s * grow, rng.uniform(-0.5, 0.5))
    for _ in range(int(rng.integers(1, 4))):  # lobes reaching towards the midline and the front
        ang = rng.uniform(-1.3, 0.5)
        dist = rng.uniform(6, 12) * s * grow
        liver |= _ellipse(xx, yy, lcx + dist * np.cos(ang), lcy + dist * np.sin(ang),
                          rng.uniform(5, 9) * s * grow, rng.uniform(4, 7) * s * grow,
                          rng.uniform(0, np.pi))
    field = gaussian_filter(rng.standard_normal((2, size, size)), (0, 6 * s, 6 * s))
    field *= rng.uniform(1.5, 3.0) * s / (np.abs(field).max() + 1e-12)
    liver = map_coordinates(liver.astype(float), [yy - 0.5 + field[0], xx - 0.5 + field[1]],
                            order=1, mode="constant") > 0.5
    liver &= inner & ~kidneys & ~spine & ~aorta
    liver[: int(top + rim + 1)] = False  # (inner already excludes the rim; belt and braces)

    labels[spleen & ~liver] = 4
    labels[kidneys] = 5
    labels[liver] = 3
    labels[spine & inner] = 6
    labels[aorta & inner] = 7
    liver = labels == 3

    # intensities: a grey value per tissue, a smooth texture, the domain's physics
    grey = _GREY[domain] * np.exp(0.06 * rng.standard_normal(len(ABDOMEN_TISSUES)))
    texture = gaussian_filter(rng.standard_normal((size, size)), 1.2 * s)
    texture /= texture.std() + 1e-12
    image = grey[labels] * (1 + 0.05 * texture) * (labels > 0)
    image = gaussian_filter(image, rng.uniform(0.5, 0.9) * s)
    if domain == "ct":
        image = image + rng.uniform(0.015, 0.035) * rng.standard_normal(image.shape)
    else:
        bias = gaussian_filter(rng.standard_normal((size, size)), size / 4)
        image = image * np.exp(rng.uniform(0.25, 0.4) * bias / (bias.std() + 1e-12))
        sigma = rng.uniform(0.03, 0.06)
        image = np.hypot(image + sigma * rng.standard_normal(image.shape),
                         sigma * rng.standard_normal(image.shape))
    lo, hi = image.min(), image.max()
    image = (image - lo) / (hi - lo + 1e-12)
    return AbdomenSample(image=image.astype(np.float32), liver=liver, labels=labels,
                         height=height)


def make_abdomen_batch(n: int, *, seed: int = 0, start: int = 0, domain: str = "ct",
                       size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Slices ``start .. start + n - 1`` stacked for a segmentation network: ``(images
    (n, 1, size, size) float32 in [0, 1], livers (n, 1, size, size) float32 of 0 and 1)``."""
    n = _checks.integer("n", n, low=1)
    start = check_index(start, "start")
    samples = [make_abdomen(start + i, seed=seed, domain=domain, size=size) for i in range(n)]
    return (np.stack([x.image for x in samples])[:, None],
            np.stack([x.liver for x in samples])[:, None].astype(np.float32))
