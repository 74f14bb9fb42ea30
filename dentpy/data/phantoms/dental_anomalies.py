"""Radiograph-like crops of single teeth with landmarks, in twelve shape classes, some of them rare.

Item ``index`` of the phantom with ``seed`` is a pure function of ``(seed, index)`` (and the
options): the random generator is ``numpy.random.default_rng([seed, index])`` and nothing else
is random.

Each crop shows one tooth, crown up, on a textured background: dentine, a brighter enamel cap
above the cervical line and a darker pulp. Its outline and pulp are polygons through
``NUM_KEYPOINTS`` landmarks, which are returned as ground truth, so the landmarks describe the
shape exactly (what a face-landmark detector gives a face-phenotyping model, without the
detector's errors).

A class is a named vector of nine shape parameters (crown width and height, root length, apex
width, cervical width, incisal width, notch depth of the incisal edge, root bend, pulp width);
``ANOMALY_SHAPES`` holds them. Every tooth draws its own parameters around its class's vector
(``spread``), then a pose (rotation, scale, shift), a contrast, a background and sensor noise.
The first eight classes are the frequent ones (``BASE_CLASSES``), the last four the rare ones
(``NOVEL_CLASSES``): each rare anomaly combines traits that frequent classes show separately
(a wide crown with a deep notch, a constricted neck, a club-shaped apex).

The classes are loosely named after dental anomalies of shape and size; the shapes are
cartoons, not a clinical atlas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage.draw import polygon as fill_polygon

from dentpy import _checks
from dentpy.data.synthetic._common import check_index, check_seed

__all__ = ["ANOMALY_CLASSES", "ANOMALY_SHAPES", "BASE_CLASSES", "KEYPOINT_NAMES",
           "MIN_TOOTH_SIZE", "NOVEL_CLASSES", "NUM_KEYPOINTS", "ToothSample", "make_tooth"]

#: Shape parameters (fractions of the image side, except the ratios): crown width, crown height,
#: root length, apex width (ratio of the crown width), cervical width (ratio), incisal width
#: (ratio), notch depth, root bend (lateral shift of the apex), pulp width (ratio).
SHAPE_PARAMETERS = ("crown_w", "crown_h", "root_len", "apex", "neck", "incisal", "notch", "bend",
                    "pulp")
_SPREAD = np.array([0.04, 0.035, 0.05, 0.05, 0.06, 0.08, 0.02, 0.03, 0.06])
ANOMALY_SHAPES = {
    # frequent (base) classes
    "normal":             (0.42, 0.30, 0.44, 0.12, 0.72, 0.85, 0.03, 0.00, 0.35),
    "microdont":          (0.30, 0.22, 0.34, 0.12, 0.72, 0.85, 0.03, 0.00, 0.35),
    "macrodont":          (0.56, 0.36, 0.44, 0.12, 0.72, 0.85, 0.03, 0.00, 0.35),
    "short root":         (0.42, 0.30, 0.24, 0.16, 0.72, 0.85, 0.03, 0.00, 0.35),
    "taurodont":          (0.42, 0.30, 0.34, 0.30, 0.95, 0.85, 0.03, 0.00, 0.65),
    "dilacerated root":   (0.42, 0.30, 0.44, 0.12, 0.72, 0.85, 0.03, 0.16, 0.35),
    "peg-shaped":         (0.42, 0.30, 0.44, 0.12, 0.72, 0.30, 0.00, 0.00, 0.35),
    "notched edge":       (0.42, 0.30, 0.44, 0.12, 0.72, 0.85, 0.12, 0.00, 0.35),
    # rare (novel) classes: combinations of the traits above
    "fused crowns":       (0.56, 0.32, 0.44, 0.12, 0.72, 0.90, 0.13, 0.00, 0.35),
    "bulbous crown":      (0.50, 0.32, 0.40, 0.12, 0.45, 0.85, 0.03, 0.00, 0.30),
    "hypercementosis":    (0.42, 0.30, 0.40, 0.45, 0.72, 0.85, 0.03, 0.00, 0.35),
    "stunted dilacerated": (0.42, 0.30, 0.28, 0.16, 0.72, 0.85, 0.03, 0.14, 0.35),
}
#: Names of the classes, label ``k`` is ``ANOMALY_CLASSES[k]``.
ANOMALY_CLASSES = tuple(ANOMALY_SHAPES)
#: Labels of the frequent classes and of the rare ones.
BASE_CLASSES = tuple(range(8))
NOVEL_CLASSES = tuple(range(8, 12))
#: Landmarks, in order: 14 on the outline (clockwise from the incisal-left corner), 4 on the pulp.
KEYPOINT_NAMES = (
    "incisal left", "cusp left", "notch", "cusp right", "incisal right", "crown bulge right",
    "cervical right", "root mid right", "root low right", "apex", "root low left",
    "root mid left", "cervical left", "crown bulge left",
    "pulp horn", "pulp right", "pulp apex", "pulp left",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
#: Smallest image side the generator accepts.
MIN_TOOTH_SIZE = 16


@dataclass
class ToothSample:
    """One phantom crop and its ground truth.

    ``image`` (H, W) float32 in [0, 1]; ``keypoints`` (NUM_KEYPOINTS, 2) float64 as (x, y) =
    (column, row) in pixels, pixel centres at integers; ``label`` the class index;
    ``shape`` this tooth's nine shape parameters, as drawn (see ``SHAPE_PARAMETERS``).
    """

    image: np.ndarray
    keypoints: np.ndarray
    label: int
    shape: np.ndarray


def _landmarks(p: np.ndarray) -> np.ndarray:
    """Landmarks (x, y) in units of the image side, tooth centred at (0.5, 0.5), crown up."""
    cw, ch, root, apex, neck, incisal, notch, bend, pulp = p
    top = 0.5 - (ch + root) / 2
    cervical, tip = top + ch, top + ch + root
    half, neck_half = cw / 2, neck * cw / 2
    inc_half, apex_half = incisal * cw / 2, max(apex * cw / 2, 0.015)
    mid = (cervical + tip) / 2
    mid_half = (neck_half + apex_half) / 2 + 0.01
    low = tip - 0.06
    outline = [
        (-inc_half, top + 0.03), (-inc_half / 2, top), (0.0, top + notch), (inc_half / 2, top),
        (inc_half, top + 0.03), (half, top + 0.55 * ch), (neck_half, cervical),
        (mid_half + 0.25 * bend, mid), (apex_half + 0.8 * bend, low), (bend, tip),
        (-apex_half + 0.8 * bend, low), (-mid_half + 0.25 * bend, mid), (-neck_half, cervical),
        (-half, top + 0.55 * ch),
    ]
    pulp_half = pulp * neck_half
    inner = [(0.0, top + 0.4 * ch + notch / 2), (pulp_half, cervical),
             (0.9 * bend, tip - 0.09), (-pulp_half, cervical)]
    points = np.array(outline + inner)
    points[:, 0] += 0.5
    return points


def make_tooth(
    index: int,
    *,
    seed: int = 0,
    label: int | None = None,
    size: int = 32,
    spread: float = 1.0,
    pose: float = 1.0,
    noise: float = 0.04,
) -> ToothSample:
    """Generate item ``index`` of the tooth-anomaly phantom ``seed``.

    Parameters
    ----------
    index, seed : non-negative ints; the sample is a pure function of both (and the options).
    label : a class index in ``0..11``; ``None`` draws one of the eight frequent classes.
    size : image side in pixels, at least ``MIN_TOOTH_SIZE``.
    spread : scale of the individual variation of the shape parameters around the class's
        (0: every tooth of a class has the same shape).
    pose : scale of the pose variation (rotation up to 10 degrees, scale 0.9 to 1.1, shift up to
        6% of the side, times ``pose``).
    noise : standard deviation of the sensor noise.
    """
    index = check_index(index)
    seed = check_seed(seed)
    if label is not None:
        label = _checks.integer("label", label, low=0, high=len(ANOMALY_CLASSES) - 1)
    size = _checks.integer("size", size, low=MIN_TOOTH_SIZE)
    spread = _checks.number("spread", spread, low=0.0, high=3.0)
    pose = _checks.number("pose", pose, low=0.0, high=3.0)
    noise = _checks.number("noise", noise, low=0.0, high=0.5)
    rng = np.random.default_rng([seed, index])
    drawn = int(rng.integers(len(BASE_CLASSES)))
    label = drawn if label is None else label
    shape = np.array(ANOMALY_SHAPES[ANOMALY_CLASSES[label]])
    shape = shape + spread * _SPREAD * rng.standard_normal(shape.size)
    shape[[0, 1, 2]] = np.clip(shape[[0, 1, 2]], 0.12, 0.7)
    shape[[3, 4, 5, 8]] = np.clip(shape[[3, 4, 5, 8]], 0.05, 1.0)
    shape[6] = max(shape[6], 0.0)
    if shape[1] + shape[2] > 0.86:  # keep the whole tooth in the crop
        shape[[1, 2]] *= 0.86 / (shape[1] + shape[2])

    # pose: rotate and scale about the centre, then shift
    angle = np.deg2rad(10 * pose * rng.uniform(-1, 1))
    scale = 1 + 0.1 * pose * rng.uniform(-1, 1)
    shift = 0.06 * pose * rng.uniform(-1, 1, 2)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    unit = (_landmarks(shape) - 0.5) @ rotation.T * scale + 0.5 + shift
    keypoints = unit * size - 0.5  # pixel centres at integers

    # rendering: dentine, enamel above the cervical line, darker pulp
    def mask(points: np.ndarray) -> np.ndarray:
        out = np.zeros((size, size))
        rows, cols = fill_polygon(points[:, 1], points[:, 0], (size, size))
        out[rows, cols] = 1.0
        return gaussian_filter(out, 0.6)

    tooth = mask(keypoints[:14])
    pulp = mask(keypoints[14:])
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    (x0, y0), (x1, y1) = keypoints[12], keypoints[6]
    side = (x1 - x0) * (yy - y0) - (y1 - y0) * (xx - x0)  # < 0 above the cervical line
    enamel = tooth * (1 / (1 + np.exp(np.clip(side / size, -50, 50) * 2.0)))
    field = gaussian_filter(rng.standard_normal((size, size)), size / 8, mode="wrap")
    background = 0.18 + 0.05 * field / (field.std() + 1e-12)
    contrast = rng.uniform(0.8, 1.2)
    image = background + contrast * (0.42 * tooth + 0.25 * enamel - 0.3 * pulp * tooth)
    image = image + noise * rng.standard_normal((size, size))
    image = np.clip(image, 0.0, 1.0).astype(np.float32)
    return ToothSample(image=image, keypoints=keypoints, label=int(label), shape=shape)
