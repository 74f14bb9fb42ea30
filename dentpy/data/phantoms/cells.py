"""Stained tissue tiles with mitoses, scanned at different sites (Beer–Lambert H&E phantom).

Item ``index`` of site ``site`` with ``seed`` is a pure function of ``(seed, site, index)``:
the random generator is ``numpy.random.default_rng([seed, site_number, index])``.

A tile holds three kinds of dark objects, drawn as haematoxylin (nuclear stain) density:

- **normal nuclei**: ellipses with a fine chromatin texture, moderate density (not targets);
- **mitoses** (the targets): a tight cluster of small, very dark chromosome blobs, irregular
  and spiky; their centres are returned as ground truth;
- **imposters**: dark, round, smooth nuclei (pyknotic cells) as dark as a mitosis, which only
  the *shape* tells apart.

Eosin (the pink counter-stain) fills the stroma as a smooth random field. Optical density per
colour channel is ``strength * (H * h_rgb + E * e_rgb)`` and the transmitted light is
``exp(-OD)``. Each *site* (scanner and staining lab) has its own stain vectors, stain strength,
optical blur and noise (``STAIN_SITES``), and each tile jitters them a little. A detector that
learns "dark purple blob" on one site meets a different purple, darkness and sharpness on
another: the domain shift of the MIDOG challenge, in miniature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from dentpy import _checks
from dentpy.data.synthetic._common import check_index, check_seed

__all__ = ["MIN_CELL_SIZE", "STAIN_SITES", "CellSample", "make_cell_batch", "make_cells"]

#: Smallest tile side the generator accepts, in pixels.
MIN_CELL_SIZE = 32

#: Per-site staining and scanning: haematoxylin and eosin optical-density vectors (R, G, B),
#: stain strength (a multiplier of both densities), Gaussian blur sigma (pixels) and the
#: standard deviation of additive noise. "A": a standard lab; "B": over-stained, bluish-purple
#: haematoxylin, sharper; "C": pale and blurry; "D": a brownish haematoxylin, mildly blurred.
STAIN_SITES: dict[str, dict[str, object]] = {
    "A": dict(haem=(0.65, 0.70, 0.29), eosin=(0.07, 0.99, 0.11), strength=1.0, blur=0.7,
              noise=0.02),
    "B": dict(haem=(0.80, 0.65, 0.20), eosin=(0.10, 0.90, 0.30), strength=1.45, blur=0.5,
              noise=0.03),
    "C": dict(haem=(0.55, 0.75, 0.38), eosin=(0.05, 0.95, 0.20), strength=0.6, blur=1.5,
              noise=0.02),
    "D": dict(haem=(0.45, 0.70, 0.75), eosin=(0.15, 0.85, 0.30), strength=0.9, blur=1.0,
              noise=0.04),
}


@dataclass
class CellSample:
    """One phantom tile and its ground truth.

    ``image`` (3, H, W) float32 in [0, 1], channels R, G, B; ``centres`` (M, 2) float64 of the
    mitoses, (x, y) in pixels (pixel centres at ``i + 0.5``); ``haematoxylin`` (H, W) the
    nuclear-stain density before staining and scanning; ``n_nuclei`` and ``n_imposters`` the
    counts of the non-target objects; ``site`` the site's name.
    """

    image: np.ndarray
    centres: np.ndarray
    haematoxylin: np.ndarray
    n_nuclei: int
    n_imposters: int
    site: str


def _place(rng: np.random.Generator, taken: list[tuple[float, float, float]], size: int,
           radius: float) -> tuple[float, float] | None:
    """A centre at least ``radius`` from the border and clear of the placed objects."""
    for _ in range(40):
        x, y = rng.uniform(radius + 1, size - radius - 1, 2)
        if all(np.hypot(x - px, y - py) > radius + pr + 1 for px, py, pr in taken):
            taken.append((x, y, radius))
            return float(x), float(y)
    return None


def make_cells(
    index: int,
    *,
    site: str = "A",
    seed: int = 0,
    size: int = 64,
    mitoses: float = 1.5,
    nuclei: float = 8.0,
    imposters: float = 1.5,
    jitter: float = 0.08,
) -> CellSample:
    """Generate tile ``index`` of site ``site`` of the stained-cell phantom ``seed``.

    Parameters
    ----------
    index, seed : non-negative ints; the tile is a pure function of both, the site and options.
    site : a key of ``STAIN_SITES`` ("A", "B", "C", "D").
    size : tile side in pixels, at least ``MIN_CELL_SIZE``; object counts scale with the area
        of a 64-pixel tile.
    mitoses, nuclei, imposters : mean number of each kind of object per 64 x 64 pixels (Poisson).
    jitter : relative spread of the stain vectors and strength from tile to tile within a site.
    """
    index = check_index(index)
    seed = check_seed(seed)
    _checks.choice("site", site, tuple(STAIN_SITES))
    size = _checks.integer("size", size, low=MIN_CELL_SIZE)
    mitoses = _checks.number("mitoses", mitoses, low=0.0, high=20.0)
    nuclei = _checks.number("nuclei", nuclei, low=0.0, high=60.0)
    imposters = _checks.number("imposters", imposters, low=0.0, high=20.0)
    jitter = _checks.number("jitter", jitter, low=0.0, high=0.5)
    rng = np.random.default_rng([seed, sorted(STAIN_SITES).index(site), index])
    scale = (size / 64) ** 2
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    haem = np.zeros((size, size))
    taken: list[tuple[float, float, float]] = []

    centres = []
    for _ in range(int(rng.poisson(mitoses * scale))):  # mitoses first: they are never dropped
        spot = _place(rng, taken, size, 4.5)
        if spot is None:
            continue
        cx, cy = spot
        centres.append(spot)
        for _blob in range(int(rng.integers(5, 9))):  # chromosome clumps, spiky arrangement
            angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 3.2)
            bx, by = cx + dist * np.cos(angle), cy + dist * np.sin(angle)
            r = rng.uniform(0.7, 1.2)
            haem += rng.uniform(1.3, 1.8) * np.exp(-((xx - bx) ** 2 + (yy - by) ** 2) / (2 * r * r))
    n_imp = 0
    for _ in range(int(rng.poisson(imposters * scale))):  # dark, round, smooth
        spot = _place(rng, taken, size, 4.0)
        if spot is None:
            continue
        n_imp += 1
        r = rng.uniform(2.6, 3.4)
        d = np.hypot(xx - spot[0], yy - spot[1])
        haem += rng.uniform(1.2, 1.6) / (1 + np.exp((d - r) / 0.5))
    n_nuc = 0
    texture = gaussian_filter(rng.standard_normal((size, size)), 0.7)
    texture /= texture.std()
    for _ in range(int(rng.poisson(nuclei * scale))):  # ordinary nuclei, elongated, textured
        spot = _place(rng, taken, size, 5.0)
        if spot is None:
            continue
        n_nuc += 1
        rx, ry = rng.uniform(2.8, 4.8), rng.uniform(2.2, 3.6)
        theta = rng.uniform(0, np.pi)
        u = (xx - spot[0]) * np.cos(theta) + (yy - spot[1]) * np.sin(theta)
        v = -(xx - spot[0]) * np.sin(theta) + (yy - spot[1]) * np.cos(theta)
        rho = np.sqrt((u / rx) ** 2 + (v / ry) ** 2)
        inside = 1 / (1 + np.exp((rho - 1) * 6))
        haem += rng.uniform(0.45, 0.75) * inside * (1 + 0.25 * texture)
    stroma = gaussian_filter(rng.standard_normal((size, size)), 4.0)
    eosin = np.clip(0.35 + 0.15 * stroma / (stroma.std() + 1e-12), 0.05, None)
    eosin *= np.clip(1 - haem, 0.2, 1)  # nuclei displace the stroma

    spec = STAIN_SITES[site]
    h_vec = np.asarray(spec["haem"]) * np.exp(jitter * rng.standard_normal(3))
    e_vec = np.asarray(spec["eosin"]) * np.exp(jitter * rng.standard_normal(3))
    strength = float(spec["strength"]) * np.exp(jitter * rng.standard_normal())
    od = strength * (haem[None] * h_vec[:, None, None] + eosin[None] * e_vec[:, None, None])
    light = np.exp(-od)
    light = gaussian_filter(light, (0, float(spec["blur"]), float(spec["blur"])))
    light = light + float(spec["noise"]) * rng.standard_normal(light.shape)
    return CellSample(
        image=np.clip(light, 0.0, 1.0).astype(np.float32),
        centres=np.asarray(centres, dtype=np.float64).reshape(-1, 2),
        haematoxylin=haem,
        n_nuclei=n_nuc,
        n_imposters=n_imp,
        site=site,
    )


def make_cell_batch(
    n: int,
    *,
    site: str = "A",
    seed: int = 0,
    start: int = 0,
    size: int = 64,
    **options: float,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Tiles ``start .. start + n - 1`` of one site, stacked: ``(images (n, 3, size, size)
    float32, centres: a list of n (M_i, 2) arrays of mitosis centres (x, y) in pixels)``.

    ``options`` are passed to :func:`make_cells` (``mitoses``, ``nuclei``, ``imposters``,
    ``jitter``).
    """
    n = _checks.integer("n", n, low=1)
    start = check_index(start, "start")
    samples = [make_cells(start + i, site=site, seed=seed, size=size, **options)
               for i in range(n)]
    return np.stack([s.image for s in samples]), [s.centres for s in samples]
