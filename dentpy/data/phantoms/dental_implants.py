"""Periapical-like radiographs of single dental implants, in seven systems of four makers.

Item ``index`` of the phantom with ``seed`` is a pure function of ``(seed, index)`` (and the
options): the random generator is ``numpy.random.default_rng([seed, index])`` and nothing else
is random.

Each image shows one screw-shaped implant, platform up, in textured alveolar bone, with the
abutment and sometimes a crown above the crest and parts of the neighbouring roots at the
sides. A system is a named vector of eight design parameters (``IMPLANT_DESIGNS``): body
length and radius, taper, thread pitch and depth, the height of the smooth collar, the apex
shape and an apical vent hole. The four ``Alveo`` systems share one maker's body and differ in
one detail each (a vent, finer threads, a longer collar), the way one maker's product line
does; the other three makers' systems differ in their whole shape. Every implant draws its own
parameters around its system's (``spread``), then a pose, an exposure and sensor noise.

The systems and makers are invented; the shapes are cartoons of implant design, not a
catalogue. ``PAPER_COUNTS`` holds the class sizes of the shoulder-implant study this phantom
stands in for (MIUA 2023 paper 9), in the order of ``IMPLANT_SYSTEMS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from dentpy import _checks
from dentpy.data.synthetic._common import check_index, check_seed

__all__ = ["DESIGN_PARAMETERS", "IMPLANT_DESIGNS", "IMPLANT_MAKERS", "IMPLANT_SYSTEMS",
           "MIN_IMPLANT_SIZE", "PAPER_COUNTS", "SOURCE_CLASSES", "SOURCE_DESIGNS",
           "ImplantSample", "make_implant", "make_implant_set", "make_source_implant"]

#: Design parameters, lengths in fractions of the image side: body length, radius at the
#: platform, taper (apex radius / platform radius), thread pitch, thread depth, smooth collar
#: height, apex shape (0 flat, 1 round, 2 pointed) and apical vent hole (0 or 1).
DESIGN_PARAMETERS = ("length", "radius", "taper", "pitch", "depth", "collar", "apex", "vent")
_SPREAD = np.array([0.03, 0.006, 0.04, 0.004, 0.003, 0.008, 0.0, 0.0])
IMPLANT_DESIGNS = {
    "Orbis Parallel":      (0.52, 0.085, 0.95, 0.085, 0.016, 0.06, 0, 0),
    "Kestrel Short":       (0.36, 0.110, 0.85, 0.075, 0.020, 0.05, 1, 0),
    "Alveo Tapered":       (0.56, 0.080, 0.62, 0.085, 0.020, 0.05, 2, 0),
    "Alveo Tapered Vent":  (0.56, 0.080, 0.62, 0.085, 0.020, 0.05, 2, 1),
    "Alveo Tapered Fine":  (0.56, 0.080, 0.62, 0.050, 0.012, 0.05, 2, 0),
    "Alveo Tapered Neck":  (0.56, 0.080, 0.62, 0.085, 0.020, 0.16, 2, 0),
    "Zeta Bone Level":     (0.48, 0.090, 0.78, 0.095, 0.026, 0.02, 1, 0),
}
#: Names of the systems: label ``k`` is ``IMPLANT_SYSTEMS[k]``.
IMPLANT_SYSTEMS = tuple(IMPLANT_DESIGNS)
#: The maker of each system (same order as ``IMPLANT_SYSTEMS``).
IMPLANT_MAKERS = tuple(name.split()[0] for name in IMPLANT_SYSTEMS)
#: Images per class in the shoulder-implant study (its Table 1), in the order of the systems:
#: seven classes, 164 images, the four classes of one maker in positions 2 to 5.
PAPER_COUNTS = (26, 10, 20, 22, 15, 37, 34)
#: Smallest image side the generator accepts.
MIN_IMPLANT_SIZE = 32
_SUPERSAMPLE = 2


@dataclass
class ImplantSample:
    """One phantom radiograph and its ground truth.

    ``image`` (H, W) float32 in [0, 1]; ``label`` the system's index in ``IMPLANT_SYSTEMS``;
    ``maker`` its maker; ``design`` this implant's eight parameters as drawn
    (``DESIGN_PARAMETERS``).
    """

    image: np.ndarray
    label: int
    maker: str
    design: np.ndarray


def _rendering_options(size: object, spread: object, pose: object,
                       noise: object) -> tuple[int, float, float, float]:
    """The options shared by both generators, checked: (size, spread, pose, noise)."""
    return (_checks.integer("size", size, low=MIN_IMPLANT_SIZE),
            _checks.number("spread", spread, low=0.0, high=3.0),
            _checks.number("pose", pose, low=0.0, high=3.0),
            _checks.number("noise", noise, low=0.0, high=0.5))


def _radius(v: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Half-width of the implant (image-side units) at depth ``v`` below the platform."""
    length, radius, taper, pitch, depth, collar, apex, _ = design
    r = radius * (1 - (1 - taper) * np.clip(v / length, 0, 1))
    phase = np.mod((v - collar) / pitch, 1.0)
    threads = depth * (1 - np.abs(2 * phase - 1))  # triangular thread profile
    r = r + np.where(v > collar, threads, 0.0)
    tip = radius * taper
    if apex == 1:  # round: a half disc of the apical radius
        below = np.clip(v - (length - tip), 0, None)
        r = np.where(below > 0, np.sqrt(np.clip(tip**2 - below**2, 0, None)), r)
    elif apex == 2:  # pointed: the last fifth narrows linearly
        cone = np.clip((length - v) / (0.2 * length), 0, 1)
        r = r * np.sqrt(cone)
    return np.where((v >= 0) & (v <= length), r, 0.0)


def make_implant(
    index: int,
    *,
    seed: int = 0,
    label: int | None = None,
    size: int = 64,
    spread: float = 1.0,
    pose: float = 1.0,
    noise: float = 0.03,
) -> ImplantSample:
    """Generate item ``index`` of the implant phantom ``seed``.

    Parameters
    ----------
    index, seed : non-negative ints; the sample is a pure function of both (and the options).
    label : a system index in ``0..6``; ``None`` draws one uniformly.
    size : image side in pixels, at least ``MIN_IMPLANT_SIZE``.
    spread : scale of the individual variation of the design around the system's (0: every
        implant of a system is identical).
    pose : scale of the pose variation (tilt up to 15 degrees, scale 0.9 to 1.1, shift up to
        5% of the side, times ``pose``).
    noise : standard deviation of the sensor noise.
    """
    index = check_index(index)
    seed = check_seed(seed)
    if label is not None:
        label = _checks.integer("label", label, low=0, high=len(IMPLANT_SYSTEMS) - 1)
    size, spread, pose, noise = _rendering_options(size, spread, pose, noise)
    rng = np.random.default_rng([seed, index])
    drawn = int(rng.integers(len(IMPLANT_SYSTEMS)))
    label = drawn if label is None else label
    design = np.array(IMPLANT_DESIGNS[IMPLANT_SYSTEMS[label]], dtype=float)
    design = design + spread * _SPREAD * rng.standard_normal(design.size)
    design[:6] = np.maximum(design[:6], [0.2, 0.04, 0.3, 0.03, 0.004, 0.0])
    image = _render(design, rng, size, pose, noise)
    return ImplantSample(image=image, label=int(label), maker=IMPLANT_MAKERS[label],
                         design=design)


def _render(design: np.ndarray, rng: np.random.Generator, size: int, pose: float,
            noise: float) -> np.ndarray:
    """The (size, size) float32 radiograph of one implant of ``design``."""
    # pose: tilt and scale about the platform centre, then shift
    angle = np.deg2rad(15 * pose * rng.uniform(-1, 1))
    scale = 1 + 0.1 * pose * rng.uniform(-1, 1)
    platform = np.array([0.5, 0.36]) + 0.05 * pose * rng.uniform(-1, 1, 2)  # (x, y)

    n = size * _SUPERSAMPLE
    yy, xx = (np.mgrid[0:n, 0:n] + 0.5) / n
    dx, dy = xx - platform[0], yy - platform[1]
    cos, sin = np.cos(angle), np.sin(angle)
    u = (cos * dx + sin * dy) / scale  # across the implant
    v = (-sin * dx + cos * dy) / scale  # down the implant's axis
    body = (np.abs(u) <= _radius(v, design)).astype(float)
    if design[7] > 0.5:  # vent: an oval window through the apical third
        length, radius = design[0], design[1]
        centre = 0.72 * length
        window = ((u / (0.5 * radius)) ** 2 + ((v - centre) / (0.09 * length)) ** 2) <= 1
        body *= 1 - 0.6 * window  # thinner metal: the window is darker, not empty
    abutment_h = 0.08 + 0.02 * rng.uniform(-1, 1)
    abutment = (np.abs(u) <= 0.55 * design[1]) & (v < 0) & (v >= -abutment_h)
    has_crown = rng.uniform() < 0.6
    crown_v = (v + abutment_h) / 0.14  # 0 at the abutment's top, -1 at the crown's edge
    crown = has_crown & (crown_v < 0) & ((u / (1.8 * design[1])) ** 2 + crown_v**2 <= 1)

    # anatomy: bone below the crest (trabecular texture), soft tissue above, neighbour roots
    crest = platform[1] + 0.01 + 0.02 * rng.uniform(-1, 1)
    texture = gaussian_filter(rng.standard_normal((n, n)), n / 40, mode="wrap")
    texture /= texture.std() + 1e-12
    bone = 1 / (1 + np.exp(-(yy - crest) * 80))
    image = 0.12 + bone * (0.28 + 0.05 * texture)
    for side in (-1, 1):
        centre = 0.5 + side * rng.uniform(0.36, 0.44)
        root_half = 0.09 * np.clip(1 - (yy - 0.25) / 0.75, 0.1, 1)
        root = (np.abs(xx - centre) <= root_half) & (yy > 0.15)
        image = image + 0.14 * root
    image = image + 0.5 * crown + 0.62 * body + 0.62 * abutment
    image = image.reshape(size, _SUPERSAMPLE, size, _SUPERSAMPLE).mean(axis=(1, 3))

    # exposure and sensor: blur, gamma, noise
    image = gaussian_filter(image, 0.5 * rng.uniform(0.6, 1.4))
    image = np.clip(image, 0, 1) ** rng.uniform(0.8, 1.25)
    image = image + noise * rng.standard_normal((size, size))
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def _source_designs(n: int) -> np.ndarray:
    """``n`` invented designs, fixed once and for all (generator seed 2023), spanning the
    range of the seven systems with every apex shape and with and without a vent."""
    rng = np.random.default_rng(2023)
    low = np.array([0.34, 0.07, 0.6, 0.045, 0.01, 0.02])
    high = np.array([0.58, 0.115, 1.0, 0.1, 0.026, 0.17])
    continuous = low + (high - low) * rng.uniform(size=(n, 6))
    apex = np.arange(n) % 3
    vent = (np.arange(n) // 3) % 2
    return np.column_stack([continuous, apex, vent])


#: Number of invented systems in the pretraining source (``make_source_implant``).
SOURCE_CLASSES = 12
SOURCE_DESIGNS = _source_designs(SOURCE_CLASSES)


def make_source_implant(
    index: int,
    *,
    seed: int = 0,
    size: int = 64,
    spread: float = 1.0,
    pose: float = 1.0,
    noise: float = 0.03,
) -> ImplantSample:
    """Item ``index`` of the pretraining source: an implant of one of ``SOURCE_CLASSES``
    invented systems (``SOURCE_DESIGNS``), drawn uniformly.

    The source shares the target's radiographic look and task (name the system) but none of
    its systems: a stand-in for the large, loosely related dataset (ImageNet in the study) that
    transfer learning starts from. ``maker`` is ``"source"``; arguments as in
    :func:`make_implant`, and the random stream differs from ``make_implant``'s.
    """
    index = check_index(index)
    seed = check_seed(seed)
    size, spread, pose, noise = _rendering_options(size, spread, pose, noise)
    rng = np.random.default_rng([seed, index, 1])
    label = int(rng.integers(SOURCE_CLASSES))
    design = SOURCE_DESIGNS[label] + spread * _SPREAD * rng.standard_normal(8)
    design[:6] = np.maximum(design[:6], [0.2, 0.04, 0.3, 0.03, 0.004, 0.0])
    return ImplantSample(image=_render(design, rng, size, pose, noise), label=label,
                         maker="source", design=design)


def make_implant_set(
    counts: Sequence[int] = PAPER_COUNTS,
    *,
    seed: int = 0,
    size: int = 64,
    **options: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A labelled set with ``counts[k]`` implants of system ``k``: (images, labels).

    ``images`` (N, 1, size, size) float32 in [0, 1] and ``labels`` (N,) int64, N =
    ``sum(counts)``, ordered by system. Item ``i`` is ``make_implant(i, seed=seed, label=...)``,
    a pure function of ``(seed, i)`` as for every phantom. ``options`` (``spread``, ``pose``,
    ``noise``) go to :func:`make_implant`.
    """
    if isinstance(counts, str | bytes) or not isinstance(counts, Sequence):
        raise _checks.ArgumentTypeError(
            f"counts must be a sequence of {len(IMPLANT_SYSTEMS)} class sizes, "
            f"got {_checks.describe(counts)}")
    if len(counts) != len(IMPLANT_SYSTEMS):
        raise _checks.ArgumentError(
            f"counts must hold one size per system ({len(IMPLANT_SYSTEMS)}), got {len(counts)}")
    counts = [_checks.integer(f"counts[{k}]", c, low=0) for k, c in enumerate(counts)]
    if sum(counts) == 0:
        raise _checks.ArgumentError("counts must ask for at least one image, got all zeros")
    labels = np.repeat(np.arange(len(counts)), counts).astype(np.int64)
    images = np.stack([make_implant(i, seed=seed, label=int(k), size=size, **options).image
                       for i, k in enumerate(labels)])
    return images[:, None], labels
