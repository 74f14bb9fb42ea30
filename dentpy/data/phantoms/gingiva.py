"""Intraoral photographs of pigmented gingiva made from known chromophore maps (Beer–Lambert).

Item ``index`` of the phantom with ``seed`` is a pure function of ``(seed, index)``: the random
generator is ``numpy.random.default_rng([seed, index])`` and nothing else is random.

Each image is a small square of attached gingiva seen from the front, with three chromophores
whose concentration maps are returned as ground truth:

- **oxy-haemoglobin**: a network of superficial vessels (ridges of a smooth random field);
- **deoxy-haemoglobin**: one to three diffuse venous patches, placed away from the lesion;
- **melanin**: one pigmented lesion, either a benign melanotic macule (label 0: round, even,
  lighter) or a mucosal melanoma (label 1: irregular border, darker and patchier on average);
- a faint textured background of all three (healthy mucosa is never free of blood).

Optical density per band is ``M C``. The true matrix ``M`` starts from the paper's empirical
matrix ``M_EMP / 100`` (rows blue, green, red; computed at three single wavelengths), mixes
neighbouring bands by ``crosstalk`` (a camera's colour filters are broad and overlap, so each
channel also sees its neighbours' wavelengths), then perturbs every entry for each image (tissue
optics and lighting differ between photographs). Reflectance is ``exp(-OD)`` times a smooth
illumination field; sensor noise is added and the image is quantised to 8 bits.

Where the concentrations overlap, or the shading, noise and background are large, the
single-source zones that sparse component analysis needs become rare: the keyword arguments
control how far the phantom departs from the paper's assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from dentpy import _checks
from dentpy.chromophores import M_EMP
from dentpy.data.synthetic._common import check_index, check_seed

__all__ = ["GINGIVA_CLASSES", "MIN_GINGIVA_SIZE", "GingivaSample", "make_gingiva"]

#: Names of the two labels.
GINGIVA_CLASSES = ("melanotic macule", "mucosal melanoma")
#: Smallest image side the generator accepts.
MIN_GINGIVA_SIZE = 16
_MELANOMA_SHARE = 0.4  # MED-NODE subset of the paper: 34 melanomas of 85 images


@dataclass
class GingivaSample:
    """One phantom photograph and its ground truth.

    ``rgb`` (H, W, 3) float32 in R, G, B order, values k/255 with k in 1..255;
    ``concentrations`` (3, H, W) float64, oxy-Hb, deoxy-Hb, melanin (arbitrary units);
    ``mixing`` (3, 3): this image's true matrix, rows blue, green, red, so that the noise-free
    density of band i is ``mixing[i] @ concentrations``; ``lesion_mask`` (H, W) bool;
    ``label`` 0 (melanotic macule) or 1 (mucosal melanoma); ``melanin_density`` the lesion's
    mean melanin concentration, as drawn; ``shading`` (H, W) the illumination factor in (0, 1].
    """

    rgb: np.ndarray
    concentrations: np.ndarray
    mixing: np.ndarray
    lesion_mask: np.ndarray
    label: int
    melanin_density: float
    shading: np.ndarray


def _check_unit(name: str, value: object, high: float) -> float:
    return _checks.number(name, value, low=0.0, high=high)


def _field(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    """A smooth Gaussian random field of unit standard deviation (periodic)."""
    values = gaussian_filter(rng.standard_normal((size, size)), sigma, mode="wrap")
    return values / values.std()


def make_gingiva(
    index: int,
    *,
    seed: int = 0,
    size: int = 64,
    label: int | None = None,
    noise: float = 0.003,
    shading: float = 0.05,
    background: float = 0.1,
    mix_jitter: float = 0.15,
    crosstalk: float = 0.15,
) -> GingivaSample:
    """Generate item ``index`` of the pigmented-gingiva phantom ``seed``.

    Parameters
    ----------
    index, seed : non-negative ints; the sample is a pure function of both (and the options).
    size : image side in pixels, at least ``MIN_GINGIVA_SIZE``.
    label : 0 (melanotic macule) or 1 (mucosal melanoma); ``None`` draws it (40% melanomas).
    noise : standard deviation of the sensor noise on reflectance (before 8-bit quantisation).
    shading : depth of the smooth illumination field (0: even light; 0.3: 30% darker corners).
    background : concentration scale of the faint background of every chromophore.
    mix_jitter : log-normal spread of each entry of this image's mixing matrix.
    crosstalk : share of each band's response that comes from its neighbouring bands
        (0: the camera sees the paper's three single wavelengths, M_EMP up to the jitter).
    """
    index = check_index(index)
    seed = check_seed(seed)
    size = _checks.integer("size", size, low=MIN_GINGIVA_SIZE)
    if label is not None:
        label = _checks.integer("label", label, low=0, high=1)
    noise = _check_unit("noise", noise, 0.2)
    shading = _check_unit("shading", shading, 0.9)
    background = _check_unit("background", background, 2.0)
    mix_jitter = _check_unit("mix_jitter", mix_jitter, 1.0)
    crosstalk = _check_unit("crosstalk", crosstalk, 0.5)
    size = int(size)
    rng = np.random.default_rng([seed, int(index)])
    drawn = int(rng.random() < _MELANOMA_SHARE)
    label = drawn if label is None else int(label)
    yy, xx = (np.mgrid[0:size, 0:size] + 0.5) / size

    # the lesion (melanin)
    cy, cx = rng.uniform(0.35, 0.65, 2)
    radius = rng.uniform(0.14, 0.2)
    angle = np.arctan2(yy - cy, xx - cx)
    distance = np.hypot(yy - cy, xx - cx)
    irregular = 0.25 if label else 0.07
    waves = sum(rng.normal() * np.cos(k * angle + rng.uniform(0, 2 * np.pi))
                for k in rng.integers(3, 8, size=3)) / np.sqrt(3)
    border = radius * (1 + irregular * waves)
    inside = 1 / (1 + np.exp(-(border - distance) * size / 1.5))  # soft edge, ~1.5 px
    density = float(rng.lognormal(np.log(1.1 if label else 0.55), 0.25))
    patchiness = 0.5 if label else 0.2
    melanin = density * inside * np.exp(patchiness * _field(rng, size, size / 20))

    # vessels (oxy-Hb): thin ridges of a smooth field, with a patient's level of blood
    blood = rng.uniform(0.6, 1.4)
    ridges = _field(rng, size, size / 8)
    oxy = 2.0 * blood * np.exp(-(ridges / 0.3) ** 2) * np.exp(0.25 * _field(rng, size, size / 12))

    # venous patches (deoxy-Hb), kept clear of the lesion
    deoxy = np.zeros((size, size))
    for _ in range(int(rng.integers(1, 4))):
        for _attempt in range(50):
            py, px = rng.uniform(0.1, 0.9, 2)
            if np.hypot(py - cy, px - cx) > radius * 1.4 + 0.15:
                break
        width = rng.uniform(0.07, 0.12)
        deoxy += np.exp(-((yy - py) ** 2 + (xx - px) ** 2) / (2 * width**2))
    deoxy = 2.5 * blood * np.clip(deoxy, 0, 1) * np.exp(0.25 * _field(rng, size, size / 12))

    faint = [scale * background * np.exp(0.5 * _field(rng, size, size / 5))
             for scale in (1.0, 1.0, 0.2)]  # melanin absorbs most: a fifth of it
    concentrations = np.stack([oxy + faint[0], deoxy + faint[1], melanin + faint[2]])
    c = crosstalk
    bands = np.array([[1 - c, c, 0], [c / 2, 1 - c, c / 2], [0, c, 1 - c]])
    mixing = bands @ M_EMP / 100 * np.exp(mix_jitter * rng.standard_normal((3, 3)))
    od = np.einsum("ij,jhw->ihw", mixing, concentrations)  # bands blue, green, red
    light = 1 - shading * (0.5 + 0.5 * np.clip(_field(rng, size, size / 3), -1, 1))
    reflectance = np.exp(-od) * light + noise * rng.standard_normal(od.shape)
    rgb = np.clip(np.rint(reflectance * 255), 1, 255) / 255  # 8 bits, never fully black
    return GingivaSample(
        rgb=np.ascontiguousarray(rgb[::-1].transpose(1, 2, 0), dtype=np.float32),
        concentrations=concentrations,
        mixing=mixing,
        lesion_mask=inside > 0.5,
        label=label,
        melanin_density=density,
        shading=light,
    )
