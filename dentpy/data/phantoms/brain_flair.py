"""Axial brain FLAIR slices with white-matter hyperintensities and ischaemic stroke (a phantom).

Slice ``index`` of domain ``quality`` with ``seed`` is a pure function of the three: the random
generator is ``numpy.random.default_rng([seed, quality_number, index])``, as in the dental
world (``quality_number`` is 0 for ``"hq"``, 1 for ``"lq"``).

Each slice has three classes (``BRAIN_FLAIR_CLASSES``):

0. **background**: air, skull, cerebrospinal fluid and normal brain;
1. **WMH**: bright white-matter hyperintensities, caps and bands hugging the two lateral
   ventricles (periventricular) plus a few punctate foci in deep white matter, drawn roughly
   mirror-symmetric;
2. **stroke**: one ischaemic lesion or none. A *subcortical* stroke is a small, compact, bright
   blob in deep white matter, away from the ventricles. A *cortical* stroke is a large wedge
   whose base lies on the cortex and whose tip reaches towards the ventricles; its outline is
   wobbly and its interior patchy, so its deep parts look like confluent WMH.

The tissue intensities imitate FLAIR: dark cerebrospinal fluid (ventricles, the sulcal rim),
white matter at about 0.45, a brighter cortical ribbon at about 0.55, lesions at about 0.85.
Both lesion classes are bright: location and shape are what tell them apart, which is why a
cortical stroke, large and irregular, is by construction the one most easily mistaken for WMH.

Two acquisition domains (``BRAIN_FLAIR_DOMAINS``):

- ``"hq"``: a 3D 3T acquisition, thin slices: sharp, full lesion contrast, little noise;
- ``"lq"``: a 2D 1.5T acquisition with thick slices: lesion contrast scaled by 0.6, partial
  volume along the vertical image axis (the slice profile is averaged over 3 rows and
  interpolated back), twice the Rician noise and a smooth multiplicative bias field.

The label mask is drawn on the fine grid in both domains (the experts' delineation), so in the
low-quality domain thin lesions are blurred in the image but not in the mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter, zoom

from dentpy import _checks
from dentpy.data.synthetic._common import check_index, check_seed

__all__ = ["BRAIN_FLAIR_CLASSES", "BRAIN_FLAIR_DOMAINS", "MIN_BRAIN_FLAIR_SIZE", "STROKE_TYPES",
           "BrainFlairSample", "make_brain_flair", "make_brain_flair_batch"]

#: Class names, in the order of the mask's values.
BRAIN_FLAIR_CLASSES = ("background", "WMH", "stroke")

#: Stroke types a slice can hold.
STROKE_TYPES = ("none", "cortical", "subcortical")

#: Smallest slice side the generator accepts, in pixels.
MIN_BRAIN_FLAIR_SIZE = 48

#: Per-domain acquisition: lesion contrast factor, rows averaged by the thick slice, noise
#: standard deviation (Rician) and bias-field strength (log scale).
BRAIN_FLAIR_DOMAINS: dict[str, dict[str, float]] = {
    "hq": dict(contrast=1.0, slab=1, noise=0.025, bias=0.0),
    "lq": dict(contrast=0.6, slab=3, noise=0.05, bias=0.15),
}

_WM, _GM, _CSF, _LESION = 0.45, 0.55, 0.08, 0.85


@dataclass
class BrainFlairSample:
    """One slice: ``image`` (H, W) float32 (FLAIR grey values, about 0 to 1); ``mask`` (H, W)
    int64 with values 0..2 (``BRAIN_FLAIR_CLASSES``); ``brain`` (H, W) bool, the brain (where
    intensity normalisation and areas are computed); ``stroke`` one of ``STROKE_TYPES``;
    ``quality`` ``"hq"`` or ``"lq"``."""

    image: np.ndarray
    mask: np.ndarray
    brain: np.ndarray
    stroke: str
    quality: str


def _blob(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, r: float,
          rng: np.random.Generator, wobble: float = 0.2) -> np.ndarray:
    """A disc of radius ``r`` whose outline wobbles by a few harmonics (relative ``wobble``)."""
    angle = np.arctan2(yy - cy, xx - cx)
    radius = r * (1 + sum(rng.uniform(0, wobble) * np.cos(k * angle + rng.uniform(0, 2 * np.pi))
                          for k in (2, 3, 5)))
    return np.hypot(yy - cy, xx - cx) <= radius


def make_brain_flair(index: int, *, seed: int = 0, size: int = 96, quality: str = "hq",
                     stroke: str | None = None) -> BrainFlairSample:
    """Generate slice ``index`` of the brain FLAIR phantom ``seed`` in domain ``quality``.

    ``size``: slice side in pixels (at least ``MIN_BRAIN_FLAIR_SIZE``; one pixel is about
    ``180 / size`` mm). ``quality``: ``"hq"`` or ``"lq"`` (``BRAIN_FLAIR_DOMAINS``).
    ``stroke``: ``None`` draws the type (none 10%, cortical 45%, subcortical 45%), or force one
    of ``STROKE_TYPES``.
    """
    index = check_index(index)
    seed = check_seed(seed)
    size = _checks.integer("size", size, low=MIN_BRAIN_FLAIR_SIZE)
    quality = _checks.choice("quality", quality, tuple(BRAIN_FLAIR_DOMAINS))
    if stroke is not None:
        stroke = _checks.choice("stroke", stroke, STROKE_TYPES)
    rng = np.random.default_rng([seed, tuple(BRAIN_FLAIR_DOMAINS).index(quality), index])
    domain = BRAIN_FLAIR_DOMAINS[quality]
    drawn = str(rng.choice(STROKE_TYPES, p=[0.1, 0.45, 0.45]))
    stroke = drawn if stroke is None else stroke
    s = size / 96  # lengths below are given for a 96-pixel slice
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    cy, cx = size / 2 + rng.uniform(-2, 2) * s, size / 2 + rng.uniform(-2, 2) * s
    ry, rx = rng.uniform(40, 44) * s, rng.uniform(32, 36) * s
    rho = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
    brain = rho <= 1.0
    ribbon = 4.5 * s / min(ry, rx)  # cortical thickness in units of rho
    cortex = brain & (rho > 1 - ribbon)
    deep = rho <= 1 - ribbon  # white matter (and deep nuclei)

    intensity = np.where(brain, _WM, 0.0)
    intensity[cortex] = _GM
    # sulcal CSF: dark notches in the outer cortex
    sulci = gaussian_filter(rng.standard_normal((size, size)), 2.0 * s)
    intensity[cortex & (rho > 1 - ribbon / 2) & (sulci > 0.5 * sulci.std())] = _CSF
    # lateral ventricles: two crescent-like dark ellipses either side of the midline
    gap, vy = rng.uniform(4, 6) * s, rng.uniform(-4, 2) * s
    vlen, vwid = rng.uniform(12, 16) * s, rng.uniform(3, 5) * s
    ventricles = np.zeros_like(brain)
    for side in (-1, 1):
        vcx = cx + side * (gap + vwid)
        ventricles |= ((yy - cy - vy) / vlen) ** 2 + ((xx - vcx) / vwid) ** 2 <= 1
    intensity[ventricles] = _CSF

    mask = np.zeros((size, size), dtype=np.int64)
    lesion = np.zeros((size, size))  # lesion contrast above the tissue, before the domain
    # WMH: caps at the ventricles' horns and a band along them, mirrored; punctate deep foci
    burden = rng.uniform(0.4, 1.0)
    for side in (-1, 1):
        vcx = cx + side * (gap + vwid)
        for end in (-1, 1):
            r = rng.uniform(2.5, 5.0) * s * burden + 1.5 * s
            cap = _blob(yy, xx, cy + vy + end * (vlen - 1 * s), vcx + side * 2 * s, r, rng)
            mask[cap & deep & ~ventricles] = 1
        band = (np.abs(xx - vcx) <= vwid + rng.uniform(2.0, 4.5) * s * burden) & (
            np.abs(yy - cy - vy) <= vlen * rng.uniform(0.4, 0.9))
        mask[band & deep & ~ventricles] = 1
    for _ in range(int(rng.poisson(3 * burden))):
        py, px = cy + rng.uniform(-0.7, 0.7) * ry, cx + rng.uniform(-0.7, 0.7) * rx
        focus = _blob(yy, xx, py, px, rng.uniform(1.0, 2.0) * s, rng, 0.1)
        mask[focus & deep & ~ventricles] = 1
    lesion[mask == 1] = _LESION - _WM

    if stroke == "subcortical":  # small compact blob in deep white matter, off the ventricles
        for _ in range(50):
            angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(0.35, 0.6)
            py, px = cy + dist * ry * np.sin(angle), cx + dist * rx * np.cos(angle)
            blob = _blob(yy, xx, py, px, rng.uniform(2.5, 4.0) * s, rng, 0.1)
            if not (blob & (ventricles | (mask == 1))).any():
                break
        region = blob & deep
        mask[region] = 2
        lesion[region] = _LESION + rng.uniform(0.0, 0.05) - _WM
    elif stroke == "cortical":  # large patchy wedge from the cortex towards the ventricles
        angle = rng.uniform(0, 2 * np.pi)
        width = rng.uniform(0.4, 0.7)  # half-angle of the wedge, radians
        depth = rng.uniform(0.5, 0.75)  # how far in (1 - rho) the wedge reaches
        theta = np.arctan2((yy - cy) / ry, (xx - cx) / rx)
        off = np.angle(np.exp(1j * (theta - angle)))
        edge = gaussian_filter(rng.standard_normal((size, size)), 2 * s)
        edge = np.clip(1 + 0.25 * edge / (edge.std() + 1e-12), 0.3, None)
        region = brain & ~ventricles & (np.abs(off) * edge <= width * (rho - (1 - depth))
                                        / depth + 0.05) & (rho > 1 - depth)
        patches = gaussian_filter(rng.standard_normal((size, size)), 1.5 * s)
        patches /= patches.std() + 1e-12
        mask[region] = 2
        lesion[region] = np.clip(_LESION - _WM + 0.12 * patches[region], 0.15, None)
        lesion[region & cortex] += _WM - _GM  # same peak brightness in grey matter

    # acquisition
    image = intensity + domain["contrast"] * lesion
    image = gaussian_filter(image, 0.6)
    slab = int(domain["slab"])
    if slab > 1:  # thick slice: average slab rows, then interpolate back (partial volume)
        rows = size // slab * slab
        coarse = image[:rows].reshape(rows // slab, slab, size).mean(1)
        image = np.vstack([zoom(coarse, (slab, 1), order=1, mode="nearest"), image[rows:]])
    if domain["bias"] > 0:
        field = gaussian_filter(rng.standard_normal((size, size)), size / 4)
        image = image * np.exp(domain["bias"] * field / (field.std() + 1e-12))
    noise = domain["noise"] * rng.uniform(0.8, 1.2)
    real = image + noise * rng.standard_normal(image.shape)
    imag = noise * rng.standard_normal(image.shape)
    image = np.hypot(real, imag)  # Rician magnitude
    return BrainFlairSample(image=image.astype(np.float32), mask=mask, brain=brain,
                            stroke=stroke, quality=quality)


def make_brain_flair_batch(n: int, *, seed: int = 0, start: int = 0, size: int = 96,
                           quality: str = "hq", stroke: str | None = None
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slices ``start .. start + n - 1`` of one domain stacked: ``(images (n, 1, size, size)
    float32, masks (n, size, size) int64, strokes (n,) str)``."""
    n = _checks.integer("n", n, low=1)
    start = check_index(start, "start")
    samples = [make_brain_flair(start + i, seed=seed, size=size, quality=quality, stroke=stroke)
               for i in range(n)]
    return (np.stack([s.image for s in samples])[:, None], np.stack([s.mask for s in samples]),
            np.array([s.stroke for s in samples]))
