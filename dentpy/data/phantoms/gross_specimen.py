"""Gross pathology photographs of sliced lung specimens, with a tumour mask (a colour phantom).

Slice ``slice_index`` of patient ``patient`` in dataset ``dataset`` with ``seed`` is a pure
function of the four: the patient's properties come from
``numpy.random.default_rng([seed, dataset_number, patient])`` and the slice's from
``default_rng([seed, dataset_number, patient, 1 + slice_index])``, as in the dental world.

What a photograph holds:

- a **tissue slab**: an irregular outline filled with tan-pink lung parenchyma, a mottled
  texture of two spatial scales, dark-red congested patches (blood also appears in healthy
  tissue) and small pale pockets (airways, or agar inside inflated lobes);
- a whitish-grey **tumour** with an irregular outline, whose size follows the slice's height
  through a 3-D blob (slices of one patient look alike); some patients have a dark-red
  **necrotic core** (part of the tumour in the mask) coloured much like the congested patches
  of healthy tissue (as the paper observes), and a few an **adenocarcinoma** whose colour is
  close to the healthy tissue (the paper's failure case);
- a per-patient colour **tint** (fixation and white balance differ between patients);
- a background that depends on the dataset (``GROSS_DATASETS``):

  * ``"A"``: agar, pale beige close in colour to the tissue, smooth, with soft even lighting;
  * ``"B"``: a dark slicing board or a perforated metal workstation, with a ruler (light strip
    with dark ticks) at one edge, uneven lighting, specular reflections on the wet tissue and
    a little blur.

The field of view is ``FIELD_OF_VIEW_MM`` millimetres across whatever ``size``, so one pixel
is ``FIELD_OF_VIEW_MM / size`` mm (``mm_per_pixel``): the paper's photographs have about
0.1 mm pixels, which lets a chapter scale the paper's morphology sizes to this phantom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from dentpy import _checks
from dentpy.data.synthetic._common import check_index, check_seed

__all__ = ["FIELD_OF_VIEW_MM", "GROSS_DATASETS", "MIN_GROSS_SIZE", "GrossSpecimen",
           "make_gross_specimen", "make_gross_specimen_set"]

#: Dataset names and what their background is.
GROSS_DATASETS = {"A": "agar, close in colour to the tissue, even lighting",
                  "B": "dark board or perforated metal with a ruler, reflections"}

#: Smallest image side the generator accepts, in pixels.
MIN_GROSS_SIZE = 48

#: Width of the photographed field, in millimetres, whatever the image size.
FIELD_OF_VIEW_MM = 80.0

_TISSUE = np.array([0.80, 0.57, 0.52])  # tan-pink parenchyma (R, G, B reflectance)
_TUMOUR = np.array([0.86, 0.83, 0.78])  # whitish-grey tumour
_NECROSIS = np.array([0.52, 0.24, 0.22])  # dark-red necrotic core, much like the congestion
_BLOOD = np.array([0.55, 0.25, 0.24])  # congestion in healthy tissue
_AGAR = np.array([0.83, 0.62, 0.55])  # pale pinkish-beige agar, close to the tissue


@dataclass
class GrossSpecimen:
    """One photograph: ``image`` (3, H, W) float32 in [0, 1] (R, G, B); ``tumour`` (H, W) bool
    (the pathologist's outline, necrotic core included); ``tissue`` (H, W) bool (the specimen,
    pockets inside its outline included); the patient's ``necrotic`` and ``adenocarcinoma``
    flags; ``mm_per_pixel`` the pixel side in millimetres."""

    image: np.ndarray
    tumour: np.ndarray
    tissue: np.ndarray
    patient: int
    dataset: str
    necrotic: bool
    adenocarcinoma: bool
    mm_per_pixel: float


def _blob(yy: np.ndarray, xx: np.ndarray, cx: float, cy: float, radius: float,
          amps: np.ndarray, phases: np.ndarray, aspect: float, angle: float) -> np.ndarray:
    """Inside of an irregular closed curve: an ellipse whose radius wobbles with the angle."""
    u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    v = (-(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)) * aspect
    theta = np.arctan2(v, u)
    wobble = 1 + sum(a * np.cos((k + 2) * theta + p)
                     for k, (a, p) in enumerate(zip(amps, phases, strict=True)))
    return np.hypot(u, v) <= radius * wobble


def _noise(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    field = gaussian_filter(rng.standard_normal((size, size)), sigma)
    return field / (field.std() + 1e-12)


def _patient(seed: int, code: int, patient: int, p_necrotic: float, p_adeno: float) -> dict:
    rng = np.random.default_rng([seed, code, patient])
    return dict(
        tint=np.exp(0.07 * rng.standard_normal(3)),
        tumour_colour=_TUMOUR * np.exp(0.05 * rng.standard_normal(3)),
        necrotic=bool(rng.random() < p_necrotic),
        adenocarcinoma=bool(rng.random() < p_adeno),
        radius=rng.uniform(0.13, 0.2),  # tumour radius at its widest slice, fraction of size
        centre=rng.uniform(-0.08, 0.08, 2),  # tumour offset from the tissue centre
        amps=rng.uniform(0.05, 0.16, 3), phases=rng.uniform(0, 2 * np.pi, 3),
        board=int(rng.integers(0, 2)),  # dataset B: 0 dark board, 1 perforated metal
    )


def make_gross_specimen(patient: int, slice_index: int = 0, *, seed: int = 0,
                        dataset: str = "A", size: int = 96, p_necrotic: float = 0.5,
                        p_adenocarcinoma: float = 0.1) -> GrossSpecimen:
    """Photograph ``slice_index`` of patient ``patient`` of ``dataset`` (``"A"`` or ``"B"``).

    ``size``: image side in pixels (at least ``MIN_GROSS_SIZE``); ``p_necrotic`` and
    ``p_adenocarcinoma``: probabilities, per patient, of a necrotic core and of a low-contrast
    adenocarcinoma.
    """
    patient = check_index(patient, "patient")
    slice_index = check_index(slice_index, "slice_index")
    seed = check_seed(seed)
    _checks.choice("dataset", dataset, tuple(GROSS_DATASETS))
    size = _checks.integer("size", size, low=MIN_GROSS_SIZE)
    p_necrotic = _checks.probability("p_necrotic", p_necrotic)
    p_adenocarcinoma = _checks.probability("p_adenocarcinoma", p_adenocarcinoma)
    code = 1 + tuple(GROSS_DATASETS).index(dataset)
    who = _patient(seed, code, patient, p_necrotic, p_adenocarcinoma)
    rng = np.random.default_rng([seed, code, patient, 1 + slice_index])
    yy, xx = np.mgrid[0:size, 0:size] + 0.5

    # tissue slab
    cx, cy = size * (0.5 + rng.uniform(-0.05, 0.05, 2))
    tissue = _blob(yy, xx, cx, cy, size * rng.uniform(0.34, 0.42), rng.uniform(0.03, 0.1, 3),
                   rng.uniform(0, 2 * np.pi, 3), rng.uniform(1.0, 1.35), rng.uniform(0, np.pi))
    colour = np.broadcast_to(_TISSUE[:, None, None], (3, size, size)).copy()
    mottle = 0.07 * _noise(rng, size, size / 40) + 0.05 * _noise(rng, size, size / 12)
    colour *= np.exp(mottle)[None]
    blood = np.clip(_noise(rng, size, size / 16) - 1.2, 0, None)  # congested patches
    blood = np.clip(blood / 0.6, 0, 1)
    colour = colour * (1 - blood) + _BLOOD[:, None, None] * blood
    pockets = np.zeros((size, size), dtype=bool)  # airways (or agar in inflated lobes)
    for _ in range(int(rng.integers(3, 8))):
        px, py = rng.uniform(0.2, 0.8, 2) * size
        pockets |= np.hypot(xx - px, yy - py) <= size * rng.uniform(0.012, 0.03)
    pocket_colour = _AGAR if dataset == "A" else np.array([0.93, 0.90, 0.88])

    # tumour: a slice through a 3-D blob; the slice height sets its radius
    height = rng.uniform(-0.75, 0.75)
    radius = size * who["radius"] * np.sqrt(1 - height ** 2)
    tx, ty = cx + size * who["centre"][0], cy + size * who["centre"][1]
    tumour = _blob(yy, xx, tx, ty, radius, who["amps"] * rng.uniform(0.8, 1.2, 3),
                   who["phases"] + rng.normal(0, 0.2, 3), rng.uniform(1.0, 1.3),
                   rng.uniform(0, np.pi)) & tissue
    pockets &= ~tumour
    tumour_colour = who["tumour_colour"]
    if who["adenocarcinoma"]:  # lepidic growth: barely paler than the parenchyma
        tumour_colour = 0.8 * _TISSUE + 0.2 * _TUMOUR
    shade = np.exp(0.06 * _noise(rng, size, size / 30))
    colour = np.where(tumour[None], tumour_colour[:, None, None] * shade[None], colour)
    if who["necrotic"]:
        core = _blob(yy, xx, tx + rng.normal(0, radius * 0.1), ty + rng.normal(0, radius * 0.1),
                     radius * rng.uniform(0.4, 0.7), rng.uniform(0.05, 0.2, 3),
                     rng.uniform(0, 2 * np.pi, 3), 1.0, 0.0) & tumour
        core_colour = _NECROSIS[:, None, None] * np.exp(0.15 * _noise(rng, size, size / 40))[None]
        colour = np.where(core[None], core_colour, colour)
    colour = np.where(pockets[None], pocket_colour[:, None, None], colour)
    colour *= who["tint"][:, None, None]

    # background
    if dataset == "A":
        back = _AGAR[:, None, None] * np.exp(0.03 * _noise(rng, size, size / 6))[None]
        back = back * np.exp(0.04 * rng.standard_normal(3))[:, None, None]
    elif who["board"] == 0:
        back = np.array([0.14, 0.16, 0.17])[:, None, None] * np.exp(
            0.1 * _noise(rng, size, size / 10))[None]
    else:
        pitch = max(4, size // 12)
        holes = np.hypot((xx % pitch) - pitch / 2, (yy % pitch) - pitch / 2) <= pitch * 0.22
        back = np.where(holes, 0.12, 0.62)[None] * np.array([1.0, 1.0, 1.04])[:, None, None]
    back = np.broadcast_to(back, (3, size, size)).copy()
    if dataset == "B":  # a ruler along one edge, beside the specimen
        width = max(3, size // 14)
        ruler = np.zeros((size, size), dtype=bool)
        ruler[size - width - 1:size - 1, size // 10:size - size // 10] = True
        ticks = ruler & ((xx.astype(int) % max(2, size // 24)) == 0) & (
            yy < size - width / 2 - 1)
        back[:, ruler] = np.array([0.92, 0.9, 0.7])[:, None]
        back[:, ticks] = 0.1
        if rng.random() < 0.5:  # the ruler lies along the left edge instead
            back = back.transpose(0, 2, 1)
    image = np.where(tissue[None], colour, back)

    # lighting, reflections, optics
    gx, gy = rng.normal(0, 1, 2)
    slope = 0.04 if dataset == "A" else 0.18
    light = 1 + slope * ((xx / size - 0.5) * gx + (yy / size - 0.5) * gy)
    image = image * light[None]
    if dataset == "B":
        glare = np.zeros((size, size))
        for _ in range(int(rng.integers(2, 6))):
            gx0, gy0 = rng.uniform(0.25, 0.75, 2) * size
            glare += np.exp(-((xx - gx0) ** 2 + (yy - gy0) ** 2) / (2 * (size * 0.015) ** 2))
        glare = np.clip(glare, 0, 1) * tissue
        image = image * (1 - glare[None]) + 0.98 * glare[None]
    blur = 0.4 if dataset == "A" else 0.8
    image = gaussian_filter(image, (0, blur * size / 96, blur * size / 96))
    image = image + (0.01 if dataset == "A" else 0.02) * rng.standard_normal(image.shape)
    return GrossSpecimen(image=np.clip(image, 0, 1).astype(np.float32), tumour=tumour,
                         tissue=tissue, patient=patient, dataset=dataset,
                         necrotic=who["necrotic"], adenocarcinoma=who["adenocarcinoma"],
                         mm_per_pixel=FIELD_OF_VIEW_MM / size)


def make_gross_specimen_set(n_patients: int, n_slices: int, *, seed: int = 0,
                            dataset: str = "A", size: int = 96, first_patient: int = 0,
                            p_necrotic: float = 0.5, p_adenocarcinoma: float = 0.1
                            ) -> dict[str, np.ndarray]:
    """Slices ``0 .. n_slices - 1`` of patients ``first_patient ..`` of ``dataset``, stacked.

    Returns a dict of arrays with ``N = n_patients * n_slices`` rows: ``image`` (N, 3, H, W)
    float32, ``tumour`` and ``tissue`` (N, H, W) bool, ``patient`` (N,) int64,
    ``necrotic`` and ``adenocarcinoma`` (N,) bool (the patient's flags).
    """
    n_patients = _checks.integer("n_patients", n_patients, low=1)
    n_slices = _checks.integer("n_slices", n_slices, low=1)
    first_patient = check_index(first_patient, "first_patient")
    samples = [make_gross_specimen(first_patient + p, s, seed=seed, dataset=dataset, size=size,
                                   p_necrotic=p_necrotic, p_adenocarcinoma=p_adenocarcinoma)
               for p in range(n_patients) for s in range(n_slices)]
    return dict(
        image=np.stack([s.image for s in samples]),
        tumour=np.stack([s.tumour for s in samples]),
        tissue=np.stack([s.tissue for s in samples]),
        patient=np.array([s.patient for s in samples], dtype=np.int64),
        necrotic=np.array([s.necrotic for s in samples]),
        adenocarcinoma=np.array([s.adenocarcinoma for s in samples]),
    )
