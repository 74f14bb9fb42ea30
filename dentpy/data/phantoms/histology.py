"""H&E tissue tiles with a class mask per pixel (a small PanNuke-like segmentation phantom).

Tile ``index`` with ``seed`` is a pure function of both: the random generator is
``numpy.random.default_rng([seed, index])``, as in the dental world.

Each tile has four classes (``HISTOLOGY_CLASSES``):

0. **stroma** (background): pink eosin-stained connective tissue, a smooth random field;
1. **gland**: an elliptical ring of epithelium (moderately purple) around a pale lumen;
2. **inflammatory** nuclei: small, round and very dark;
3. **neoplastic** nuclei: large, irregular (a wobbly outline), moderately dark, with coarse
   chromatin texture.

Staining follows Beer–Lambert: optical density ``strength * (H * h_rgb + E * e_rgb)`` and light
``exp(-OD)``. Every tile draws its own haematoxylin and eosin colour vectors, stain strength,
optical blur and noise (the stain variation between slides that the paper's denoising step is
meant to absorb). Later objects paint over earlier ones in the mask: glands, then neoplastic,
then inflammatory nuclei.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from dentpy import _checks
from dentpy.data.synthetic._common import check_index, check_seed, rng_for

__all__ = ["HISTOLOGY_CLASSES", "MIN_HISTOLOGY_SIZE", "HistologySample", "make_histology",
           "make_histology_batch"]

#: Class names, in the order of the mask's values.
HISTOLOGY_CLASSES = ("stroma", "gland", "inflammatory", "neoplastic")

#: Smallest tile side the generator accepts, in pixels.
MIN_HISTOLOGY_SIZE = 32

_HAEM = np.array([0.65, 0.70, 0.29])  # haematoxylin optical density per R, G, B
_EOSIN = np.array([0.07, 0.99, 0.11])


@dataclass
class HistologySample:
    """One tile: ``image`` (3, H, W) float32 in [0, 1] (R, G, B); ``mask`` (H, W) int64 with
    values 0..3 (``HISTOLOGY_CLASSES``); ``stain_strength`` the tile's stain multiplier."""

    image: np.ndarray
    mask: np.ndarray
    stain_strength: float


def make_histology(index: int, *, seed: int = 0, size: int = 64, stain_jitter: float = 0.15
                   ) -> HistologySample:
    """Generate tile ``index`` of the histology phantom ``seed``.

    ``size``: tile side in pixels (at least ``MIN_HISTOLOGY_SIZE``); object counts scale with
    the area of a 64-pixel tile. ``stain_jitter``: relative spread (log scale) of the stain
    vectors and strength from tile to tile, in [0, 0.5].
    """
    index = check_index(index)
    seed = check_seed(seed)
    size = _checks.integer("size", size, low=MIN_HISTOLOGY_SIZE)
    stain_jitter = _checks.number("stain_jitter", stain_jitter, low=0.0, high=0.5)
    rng = rng_for(seed, index)
    area = (size / 64) ** 2
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    mask = np.zeros((size, size), dtype=np.int64)
    haem = np.zeros((size, size))
    lumen = np.zeros((size, size))

    for _ in range(int(rng.integers(0, 3))):  # glands: epithelial ring around a lumen
        cx, cy = rng.uniform(0, size, 2)
        rx, ry = rng.uniform(8, 15), rng.uniform(6, 11)
        theta = rng.uniform(0, np.pi)
        u = (xx - cx) * np.cos(theta) + (yy - cy) * np.sin(theta)
        v = -(xx - cx) * np.sin(theta) + (yy - cy) * np.cos(theta)
        rho = np.sqrt((u / rx) ** 2 + (v / ry) ** 2)
        wall = rng.uniform(0.3, 0.45)
        outer, inner = rho <= 1.0, rho <= 1.0 - wall
        mask[outer] = 1
        haem += 0.35 * (outer & ~inner)
        lumen = np.maximum(lumen, inner.astype(float))

    texture = gaussian_filter(rng.standard_normal((size, size)), 0.8)
    texture /= texture.std() + 1e-12
    for _ in range(int(rng.poisson(5 * area))):  # neoplastic: large, irregular, textured
        cx, cy = rng.uniform(0, size, 2)
        r0 = rng.uniform(3.5, 5.5)
        phase = rng.uniform(0, 2 * np.pi, 3)
        amp = rng.uniform(0.1, 0.25, 3)
        angle = np.arctan2(yy - cy, xx - cx)
        radius = r0 * (1 + sum(a * np.cos((k + 2) * angle + p)
                               for k, (a, p) in enumerate(zip(amp, phase, strict=True))))
        inside = np.hypot(xx - cx, yy - cy) <= radius
        mask[inside] = 3
        haem = np.where(inside, rng.uniform(0.7, 1.0) * (1 + 0.3 * texture), haem)

    for _ in range(int(rng.poisson(10 * area))):  # inflammatory: small, round, very dark
        cx, cy = rng.uniform(0, size, 2)
        inside = np.hypot(xx - cx, yy - cy) <= rng.uniform(1.5, 2.4)
        mask[inside] = 2
        haem = np.where(inside, rng.uniform(1.5, 1.9), haem)

    stroma = gaussian_filter(rng.standard_normal((size, size)), 3.0)
    eosin = np.clip(0.45 + 0.15 * stroma / (stroma.std() + 1e-12), 0.05, None)
    eosin = eosin * (1 - 0.85 * lumen) * np.clip(1 - haem, 0.3, 1)
    haem = np.clip(haem, 0, None)

    h_vec = _HAEM * np.exp(stain_jitter * rng.standard_normal(3))
    e_vec = _EOSIN * np.exp(stain_jitter * rng.standard_normal(3))
    strength = float(np.exp(2 * stain_jitter * rng.standard_normal()))
    od = strength * (haem[None] * h_vec[:, None, None] + eosin[None] * e_vec[:, None, None])
    blur = rng.uniform(0.4, 1.2)
    light = gaussian_filter(np.exp(-od), (0, blur, blur))
    light = light + rng.uniform(0.01, 0.04) * rng.standard_normal(light.shape)
    return HistologySample(image=np.clip(light, 0.0, 1.0).astype(np.float32), mask=mask,
                           stain_strength=strength)


def make_histology_batch(n: int, *, seed: int = 0, start: int = 0, size: int = 64,
                         stain_jitter: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Tiles ``start .. start + n - 1`` stacked: ``(images (n, 3, size, size) float32,
    masks (n, size, size) int64)``."""
    n = _checks.integer("n", n, low=1)
    start = check_index(start, "start")
    samples = [make_histology(start + i, seed=seed, size=size, stain_jitter=stain_jitter)
               for i in range(n)]
    return np.stack([s.image for s in samples]), np.stack([s.mask for s in samples])
