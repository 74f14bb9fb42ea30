"""Procedural dental panoramic radiographs with ground truth for every task of the course.

Item ``index`` of the world with ``seed`` is a pure function of ``(seed, index)``: the random
generator is ``numpy.random.default_rng([seed, index])`` and nothing else is random.

Geometry lives in a *canonical* frame in millimetres: origin at the midline of the occlusal
line, ``x`` to the image's right (the patient's left), ``y`` down. Each image places that frame
at its own position, scale (pixels per mm) and tilt, which is how the framing varies. Pixel
``(row, col)`` covers ``[col, col + 1) x [row, row + 1)``; boxes are ``(x0, y0, x1, y1)`` in those
pixel-edge coordinates, so a box's ``x1`` is one past its last column.

Rendering is an attenuation sum turned into brightness (``1 - exp(-A)``, bright = dense).
Smooth anatomy (soft tissue, maxilla, sinuses, airway, spine and hyoid ghosts, bone texture and
the mandible's distance fields) is computed on a coarse grid and upsampled; the teeth and their
restorations are drawn at full resolution inside each tooth's own bounding window; the passes
over the full image (mandible, exposure, noise) work in strips of rows that stay in the cache.

Framing: centred or realistic
-----------------------------
``framing="centred"`` (the default) frames every patient the same way: the dental region near
the image's centre (its centre moves by a few per cent of the image), the arch at adult size,
the patient exactly in the focal trough. ``framing="realistic"`` adds a *positioning model*, the
errors and variety of real panoramic radiographs. Its draws come from their own random stream,
``numpy.random.default_rng([seed, index, 1])``, so a realistic sample is the same patient as the
centred one (same device, bone, teeth and restorations; only an edentulous span changes the
chart), positioned differently. Every drawn value is returned in ``sample.positioning``
(:class:`Positioning`; the centred framing holds its neutral values). The model, in the order
of the draws:

* **forward/back of the focal trough** ``forward_mm ~ N(0, 3)`` clipped to +-9 mm (> 0: the
  patient stands too far forward, the incisors are inside the trough). A panoramic's horizontal
  magnification depends on the depth of the object in the trough, its vertical magnification
  hardly: the anterior teeth are narrowed (forward) or widened (back) by
  ``anterior_magnification = 1 - 0.05 forward_mm`` and blurred horizontally (Gaussian, sigma
  ``anterior_blur_mm = 0.3 |forward_mm|``), the effect fading over about 20 mm from the midline.
* **left/right off the midline** ``lateral_mm ~ N(0, 2.5)`` clipped to +-6 mm (> 0: towards the
  patient's left, the image's right): the side nearer the detector is narrowed and the other
  widened, ``side_magnification = (1 - 0.025 lateral_mm) / (1 + 0.025 lateral_mm)`` (image right
  over image left, far from the midline).
* **head tilt** ``head_tilt_deg ~ N(0, 3)`` clipped to +-8 degrees: the whole head rotates in the
  image plane (one condyle higher, the occlusal plane slanted).
* **chin up/down** ``chin_deg ~ N(0, 5)`` clipped to +-12 degrees (> 0: chin down): the occlusal
  plane's curvature gains ``occlusal_curvature = 0.00025 chin_deg`` per mm (``y = -c x^2``): a
  chin down exaggerates the "smile", a chin up flattens it into a "frown"; the palate and the
  mandible's lower border bend with it.
* **arch size**: a child (probability 0.15, ``child``) has ``arch_scale ~ U(0.72, 0.85)``, an
  adult ``N(1, 0.07)`` clipped to [0.86, 1.2]; times a field-of-view scale ``field_scale ~
  U(1.05, 1.3)`` (devices, collimation and the detector's crop differ). The range is set by
  real panoramics' geometry: a detector about 27-30 cm wide by 15 cm high, magnifying the
  arch about 1.2-1.3 times, shows an adult dentition over about 55-70 % of the image's width
  and about half its height. With it the tight dental box averages about 57 % of the width
  (5th-95th percentile 42-70 %) and 43-48 % of the height; children and small arches give the
  smaller ones. (An earlier range, ``U(0.8, 1.05)``, made the box 45 % of the width on average,
  smaller than real adult panoramics and smaller than the smallest box DAC can output.) No
  mixed dentition is modelled.
* **edentulous spans**: none (probability 0.55), one (0.33) or two (0.12) runs of 2-5 adjacent
  missing teeth in one arch, half of them free-end (the molars of one side), given as FDI
  numbers in ``edentulous``; the rest of the chart is drawn as usual around them.
* **position in the field**: the dental region's centre is aimed at the image centre plus
  ``offset = (dx W, dy H)``, ``dx ~ N(0, 0.16)``, ``dy ~ N(0, 0.13)``, then moved just enough to
  keep the tight dental box (with its 2 mm margin) inside the image; a region too big for the
  image is scaled down to fit.

Over many samples the realistic framing moves the dental box's centre with a standard deviation
of about 13 % of the width and 12 % of the height (the bigger box has less room to move than
the offset asks; centred: about 5 % of each) and varies its width and height by about 14 % of
their mean (centred: about 10 %); ``tests/test_synthetic.py`` checks the ranges 12-18 %, 10-15 %
and 13-22 %. A box of the dental box's own size centred in the image overlaps it with a mean
IoU of about 0.48 (centred framing: about 0.73), so cropping has something to find.
``px_per_mm`` is pixels per millimetre of the (adult-sized) canonical anatomy, so it includes the
arch scale; the horizontal magnification of the positioning is on top of it.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.ndimage import gaussian_filter, uniform_filter1d
from scipy.special import erf

from dentpy import _checks
from dentpy.data.synthetic._common import (
    Frame,
    check_index,
    check_seed,
    check_size,
    ellipse,
    rng_for,
    upsample,
)
from dentpy.data.synthetic._teeth import (
    DAC_CLASS_RANGES,
    Tooth,
    arch_teeth,
    draw_teeth,
    plan_chart,
)

__all__ = [
    "DAC_CLASS_RANGES",
    "FRAMINGS",
    "MIN_PANORAMIC_SIZE",
    "OSTEOPOROSIS_T_SCORE",
    "PanoramicSample",
    "Positioning",
    "make_panoramic",
    "restoration_class",
]

#: Smallest (H, W) the generator accepts: below it teeth are only a pixel or two wide.
MIN_PANORAMIC_SIZE: tuple[int, int] = (96, 160)
#: WHO threshold: a T-score at or below it is osteoporotic.
OSTEOPOROSIS_T_SCORE = -2.5

_FIELD_MM = (150.0, 280.0)  # (height, width) of the standard field of view, mm
_ROI_MM = (-80.0, 80.0, -37.0, 37.0)  # canonical extent the teeth can occupy (x0, x1, y0, y1)
_OUTPUTS = {"float32": 1.0, "uint8": 255.0, "uint16": None}
_DEVICE_MAX_UINT16 = (4095.0, 65535.0)  # device 0 stores 12 bits, device 1 stores 16 bits
#: The framings of :func:`make_panoramic`: the course's centred world, or realistic positioning.
FRAMINGS: tuple[str, ...] = ("centred", "realistic")


@dataclass(frozen=True)
class Positioning:
    """How the patient stood in the panoramic machine (see the module's "Framing" section).

    The defaults are the neutral values, which the centred framing reports.
    """

    framing: str = "centred"  #: "centred" or "realistic"
    forward_mm: float = 0.0  #: > 0 forward of the focal trough (incisors narrowed), < 0 behind
    anterior_magnification: float = 1.0  #: horizontal magnification of the incisor region
    anterior_blur_mm: float = 0.0  #: sigma of the horizontal blur of the incisor region, mm
    lateral_mm: float = 0.0  #: > 0 towards the patient's left (the image's right)
    side_magnification: float = 1.0  #: horizontal magnification, image right over image left
    head_tilt_deg: float = 0.0  #: in-plane head tilt, degrees (> 0 clockwise in the image)
    chin_deg: float = 0.0  #: > 0 chin down ("smile"), < 0 chin up ("frown"), degrees
    occlusal_curvature: float = 0.0  #: added to the occlusal curve's ``c`` of ``y = -c x^2``, 1/mm
    arch_scale: float = 1.0  #: size of the jaws relative to the canonical adult
    child: bool = False  #: a child's (smaller) arch
    field_scale: float = 1.0  #: scale of the device's field of view on top of the arch scale
    edentulous: tuple[tuple[int, ...], ...] = ()  #: FDI numbers of each edentulous span
    offset: tuple[float, float] = (0.0, 0.0)  #: aimed centre offset, fractions of (W, H)


@dataclass
class PanoramicSample:
    """One synthetic panoramic radiograph and all of its labels.

    Shapes use ``(H, W)`` for the image size and ``N`` for the number of present teeth; tooth
    ``k`` (0-based) is row ``k`` of ``tooth_boxes`` and value ``k + 1`` of ``instance_mask``.
    """

    image: np.ndarray  #: (H, W) float32 in [0, 1], or uint8 / uint16 (see ``max_value``)
    restoration_count: int  #: number of present teeth carrying a restoration (pontics excluded)
    restoration_class: int  #: 0..4, the DAC class of ``restoration_count``
    osteoporotic: int  #: 1 when ``t_score <= -2.5``
    t_score: float  #: T-score-like bone density value
    cortical_width_mm: float  #: mean inferior cortical width below the mental region, mm
    roi_box: np.ndarray  #: (4,) float32 xyxy box of the dental region (all teeth and pontics)
    tooth_boxes: np.ndarray  #: (N, 4) float32 xyxy boxes, the extents of ``instance_mask``
    tooth_fdi: np.ndarray  #: (N,) int64 FDI numbers 11..48, ascending
    tooth_mask: np.ndarray  #: (H, W) uint8, 1 on teeth
    instance_mask: np.ndarray  #: (H, W) int32, 0 background, k + 1 on tooth k
    restoration_mask: np.ndarray  #: (H, W) uint8, 1 on crowns, fillings, root fillings, pontics
    lesion_mask: np.ndarray  #: (H, W) uint8, 1 on caries-like lesions
    mandible_mask: np.ndarray  #: (H, W) uint8, 1 on the mandible (body, ramus, condyles)
    cortex_mask: np.ndarray  #: (H, W) uint8, 1 on the mandible's cortical bone
    device: int  #: 0 or 1, the simulated scanner
    patient_id: str  #: ``"syn-<seed>-<index>"``
    px_per_mm: float  #: pixels per millimetre of this image
    max_value: float  #: the value of full brightness: 1.0, 255, 4095 or 65535
    positioning: Positioning = field(default_factory=Positioning)  #: the drawn positioning

    def to_dict(self) -> dict:
        """The sample as a plain dict (arrays are not copied)."""
        return dict(self.__dict__)


def restoration_class(count: int) -> int:
    """DAC class (0..4) of a number of restored teeth: 0, 1-3, 4-6, 7-11, 12-32."""
    count = _checks.integer("count", count, low=0, high=32)
    return int(np.searchsorted((1, 4, 7, 12), count, side="right"))


# ----------------------------------------------------------------------------------------------
# the smooth anatomy, on a coarse grid


def _noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Band-limited Gaussian noise with unit standard deviation."""
    n = gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma, mode="wrap")
    return n / max(float(n.std()), 1e-6)


def _band(d: np.ndarray, half: float) -> np.ndarray:
    """Tent profile: 1 at ``d = 0`` falling to 0 at ``|d| = half``."""
    return np.clip(1.0 - np.abs(d) / half, 0.0, 1.0)


def _blob(margin: np.ndarray, edge: float) -> np.ndarray:
    """Soft coverage of a shape from its margin (mm), with an edge ``edge`` mm wide."""
    return np.clip(margin / edge + 0.5, 0.0, 1.0)


def _anatomy(
    rng: np.random.Generator, frame: Frame, hw, factor: int, bone: dict, warp: _Warp | None = None
) -> np.ndarray:
    """(3, h, w) coarse fields: attenuation of the smooth anatomy, mandible margin, cortex field.

    The cortex field is < 0 inside the cortical bone of the mandible (when the margin is > 0).
    ``warp`` (realistic framing) is the horizontal magnification of the patient's positioning.
    """
    h, w = -(-hw[0] // factor), -(-hw[1] // factor)
    u = (np.arange(w, dtype=np.float32) + 0.5) * factor
    v = (np.arange(h, dtype=np.float32) + 0.5) * factor
    X = frame.field(frame.linear(1, 0, 0), u, v)
    if warp is not None:
        X = warp.inverse(X)
    Y = frame.field(frame.linear(0, 1, 0), u, v)
    ax = np.abs(X)
    curve, bite, gx, chin = bone["curve"], bone["bite"], bone["gonion_x"], bone["chin_y"]
    yocc = -curve * X * X
    sigma = max(0.5, 0.45 * frame.s / factor)
    trab = np.clip((_noise(rng, (h, w), sigma) - bone["sparsity"]) / 0.8 + 0.5, 0.0, 1.0)
    pores = _noise(rng, (h, w), sigma * 1.5)

    # soft tissue of the head and neck, tongue, air spaces
    a = 0.34 * np.clip(1.35 - (X / 150) ** 2 - ((Y + 5) / 105) ** 2, 0.15, 1.0)
    a += 0.10 * _blob(ellipse(X, Y, 0, -14, 70, 11), 4.0)
    ypal = -31.0 - bite / 2 + bone.get("palate_curve", 0.0012) * X * X
    a -= 0.07 * _band(Y - ypal - 4.5, 2.5) * (ax < 70)
    a -= 0.09 * _band(ax - gx - 4, 6) * np.clip((Y + 25) / 10, 0, 1)
    # maxilla and palate, sinuses, nasal cavity and septum, zygomatic arches
    maxilla = np.minimum(np.minimum(Y - ypal, yocc - bite / 2 - 8.0 - Y), 76 - ax)
    a += _blob(maxilla, 6.0) * (0.16 + 0.16 * trab)
    a += 0.22 * _band(Y - ypal, 1.8) * _blob(64 - ax, 8.0)
    for sx in (-1, 1):
        a -= 0.10 * _blob(ellipse(X, Y, sx * 44, -38, 22, 11), 8.0)
    a -= 0.10 * _blob(ellipse(X, Y, 0, -42, 15, 8), 6.0)
    a += 0.06 * _band(X, 1.2) * (Y < -35)
    a += 0.22 * _band(Y + 45, 3.5) * _blob(ax - 62, 8.0)
    # ghosts: the cervical spine at both sides, the hyoid below the mandible
    a += 0.42 * _band(ax - 134, 14) * _blob(Y + 20, 15.0)
    for sx in (-1, 1):
        a += 0.14 * _blob(ellipse(X, Y, sx * 46, chin + 14, 24, 3.5), 4.0)

    # mandible: body between the alveolar crest and the inferior border, ramus, condyle, coronoid
    c1 = bone["inf_curve"]
    m_bot = (chin - c1 * X * X - Y) / np.sqrt(1.0 + (2 * c1 * X) ** 2)
    body = np.minimum(np.minimum(m_bot, Y - yocc - bite / 2 - 9.5 - 0.02 * ax), gx + 4 - ax)
    tilt, top = bone["ramus_tilt"], -22.0  # top: the sigmoid notch
    ybot = chin - c1 * gx * gx
    cy, hh, hw_r = (ybot + top) / 2, (ybot - top) / 2, 14.0
    cx = gx + 1 - hw_r
    ct, st = math.cos(tilt), math.sin(tilt)
    p = (ax - cx) * ct + (Y - cy) * st
    q = (Y - cy) * ct - (ax - cx) * st
    ramus = (1.0 - np.cbrt(np.abs(p / hw_r) ** 3 + np.abs(q / hh) ** 3)) * hw_r
    tx = cx + hh * st  # x of the ramus top's centre
    condyle = np.maximum(
        ellipse(ax, Y, tx + 9, top - 15, 8, 5.5), ellipse(ax, Y, tx + 8, top - 6, 4.5, 9)
    )
    coronoid = ellipse(ax, Y, tx - 9, top - 5, 3.8, 9)
    mand = np.maximum(np.maximum(body, ramus), np.maximum(condyle, coronoid))
    cortex = np.minimum(np.where(ax < gx + 2, m_bot - bone["cortex_profile"](X), 99.0), mand - 1.0)
    inside = _blob(mand, 1.5)
    a += inside * (0.16 + 0.16 * trab)
    a -= (
        0.5
        * np.clip((pores - 1.7 + 1.8 * bone["erosion"]) / 0.4, 0, 1)
        * _blob(-cortex, 1.0)
        * inside
    )
    return np.stack([a, mand, cortex]).astype(np.float32, copy=False)


def _bone_state(rng: np.random.Generator, curve: float, bite: float) -> dict:
    """Osteoporosis state: T-score, cortical width profile, erosion and trabecular sparsity."""
    t_score = float(np.clip(rng.normal(-2.0, 1.3), -5.0, 2.5))
    degree = 1.0 / (1.0 + math.exp((t_score + 2.5) * 1.5))
    erosion = 0.45 / (1.0 + math.exp((t_score + 2.0) * 2.0))
    mental = float(np.clip(3.9 + 0.55 * (t_score + 1.0) + rng.normal(0, 0.3), 1.2, 6.5))
    phase = [float(v) for v in rng.uniform(0, 2 * math.pi, 3)]
    freq = [2 * math.pi / float(v) for v in rng.uniform(2.5, 8.0, 3)]

    def profile(x):
        axx = np.abs(x)
        base = mental * np.clip(1.0 - 0.35 * ((axx - 37) / 60) ** 2, 0.45, 1.0)
        wave = sum(np.sin(f * x + p) for f, p in zip(freq, phase, strict=True))
        return base * (1.0 - erosion * (0.5 + wave / 6))

    xs = np.concatenate([np.arange(-45, -30, 0.1), np.arange(30.05, 45, 0.1)])
    gx = rng.uniform(92, 102)
    return {
        "t_score": t_score,
        "cortical_width_mm": float(np.mean(profile(xs))),
        "cortex_profile": profile,
        "erosion": erosion,
        "sparsity": 0.1 + 0.7 * degree,
        "curve": curve,
        "bite": bite,
        "gonion_x": gx,
        "chin_y": rng.uniform(38, 44),
        "inf_curve": rng.uniform(8, 14) / gx**2,
        "ramus_tilt": rng.uniform(0.05, 0.2),
    }


# ----------------------------------------------------------------------------------------------
# the positioning model of the realistic framing

# slots of each arch in image order (FDI), as the edentulous spans run along them
_ARCH_ROWS = (
    tuple(range(18, 10, -1)) + tuple(range(21, 29)),
    tuple(range(48, 40, -1)) + tuple(range(31, 39)),
)
_ANTERIOR_MM = 20.0  # width scale of the forward/back magnification around the midline
_SIDE_MM = 30.0  # width scale over which the left/right magnification sets in


def _draw_positioning(seed: int, index: int) -> Positioning:
    """The realistic positioning of item ``index``: its own stream ``[seed, index, 1]``."""
    rng = np.random.default_rng([seed, index, 1])
    forward = float(np.clip(rng.normal(0.0, 3.0), -9.0, 9.0))
    lateral = float(np.clip(rng.normal(0.0, 2.5), -6.0, 6.0))
    tilt = float(np.clip(rng.normal(0.0, 3.0), -8.0, 8.0))
    chin = float(np.clip(rng.normal(0.0, 5.0), -12.0, 12.0))
    child = bool(rng.random() < 0.15)
    arch = float(rng.uniform(0.72, 0.85) if child else np.clip(rng.normal(1.0, 0.07), 0.86, 1.2))
    field_scale = float(rng.uniform(1.05, 1.3))
    spans = []
    for _ in range(int(rng.choice(3, p=(0.55, 0.33, 0.12)))):
        row = _ARCH_ROWS[int(rng.integers(2))]
        length = int(rng.integers(2, 6))
        if rng.random() < 0.5:  # free end: the back teeth of one side
            start = 0 if rng.random() < 0.5 else len(row) - length
        else:
            start = int(rng.integers(1, len(row) - length))
        spans.append(tuple(sorted(row[start : start + length])))
    offset = (float(rng.normal(0.0, 0.16)), float(rng.normal(0.0, 0.13)))
    e = -0.025 * lateral
    return Positioning(
        framing="realistic",
        forward_mm=forward,
        anterior_magnification=1.0 - 0.05 * forward,
        anterior_blur_mm=0.3 * abs(forward),
        lateral_mm=lateral,
        side_magnification=(1.0 + e) / (1.0 - e),
        head_tilt_deg=tilt,
        chin_deg=chin,
        occlusal_curvature=0.00025 * chin,
        arch_scale=arch,
        child=child,
        field_scale=field_scale,
        edentulous=tuple(spans),
        offset=offset,
    )


class _Warp:
    """Horizontal magnification of the positioning, canonical ``x`` to magnified ``x'``.

    ``m(x) = dx'/dx = 1 + d exp(-(x/a)^2) + e tanh(x/b)``: ``d`` narrows (< 0) or widens (> 0)
    the incisor region, ``e`` magnifies one side and minifies the other.
    """

    def __init__(self, pos: Positioning) -> None:
        self.d = pos.anterior_magnification - 1.0
        self.e = -0.025 * pos.lateral_mm
        xs = np.linspace(-600.0, 600.0, 4801)
        self._x, self._xp = xs, self(xs)

    def m(self, x):
        return 1.0 + self.d * np.exp(-((x / _ANTERIOR_MM) ** 2)) + self.e * np.tanh(x / _SIDE_MM)

    def __call__(self, x):
        a, b = _ANTERIOR_MM, _SIDE_MM
        z = np.abs(x / b)
        logcosh = z + np.log1p(np.exp(-2.0 * z)) - math.log(2.0)
        return x + self.d * a * (math.sqrt(math.pi) / 2) * erf(x / a) + self.e * b * logcosh

    def inverse(self, xp: np.ndarray) -> np.ndarray:
        """Canonical ``x`` of magnified ``x'`` (float32, interpolated in a fine table)."""
        return np.interp(xp, self._xp, self._x).astype(np.float32)


def _warp_teeth(teeth: list[Tooth], warp: _Warp) -> list[Tooth]:
    """Each tooth magnified horizontally by the warp's local magnification at its occlusal point."""
    px = np.array([t.px for t in teeth])
    ms, pxs = warp.m(px).tolist(), warp(px).tolist()
    out = []
    for t, m, x in zip(teeth, ms, pxs, strict=True):
        ax, ay = m * t.ax, t.ay
        length = math.hypot(ax, ay)
        across = math.hypot(m * t.ay, t.ax)  # the magnified width direction
        out.append(
            replace(
                t,
                px=x,
                ax=ax / length,
                ay=ay / length,
                width=t.width * across,
                crown=t.crown * length,
                root=t.root * length,
            )
        )
    return out


def _tooth_corners(teeth: list[Tooth], idx) -> tuple[np.ndarray, np.ndarray]:
    """Canonical x, y of the four corners of each tooth's outline box (crown and root)."""
    x, y = [], []
    for i in idx:
        t = teeth[i]
        half, length = t.width / 2 + 0.5, t.crown + t.root + 0.3
        for sgn in (-1.0, 1.0):
            bx, by = t.px - sgn * t.ay * half, t.py + sgn * t.ax * half
            x += [bx, bx + t.ax * length]
            y += [by, by + t.ay * length]
    return np.array(x), np.array(y)


def _place(hw, teeth: list[Tooth], chart, pos: Positioning) -> Frame:
    """The realistic frame: scale, head tilt and an off-centre position of the dental region."""
    H, W = hw
    base = min(W / _FIELD_MM[1], H / _FIELD_MM[0])
    scale = base * pos.arch_scale * pos.field_scale
    tilt = math.radians(pos.head_tilt_deg)
    idx = sorted(set(np.flatnonzero(~chart.missing).tolist()) | set(chart.pontics))
    x, y = _tooth_corners(teeth, idx)
    u, v = Frame(0.0, 0.0, scale, tilt).to_px(x, y)
    margin = 2.0 * scale + 2.0  # the RoI's 2 mm pad, and two pixels
    fit = min(1.0, (W - 2 * margin) / np.ptp(u), (H - 2 * margin) / np.ptp(v))
    if fit < 1.0:
        scale *= 0.98 * fit
        u, v = Frame(0.0, 0.0, scale, tilt).to_px(x, y)
        margin = 2.0 * scale + 2.0
    half_u, half_v = np.ptp(u) / 2, np.ptp(v) / 2
    cu = np.clip(W * (0.5 + pos.offset[0]), margin + half_u, W - margin - half_u)
    cv = np.clip(H * (0.5 + pos.offset[1]), margin + half_v, H - margin - half_v)
    return Frame(float(cu - (u.min() + u.max()) / 2), float(cv - (v.min() + v.max()) / 2),
                 float(scale), tilt)


def _blur_anterior(
    att: np.ndarray, frame: Frame, warp: _Warp, sigma_mm: float, rows: tuple[int, int]
) -> None:
    """Blur ``att`` horizontally around the incisors (out of the focal trough), in place.

    The blur (three box filters, about a Gaussian of ``sigma_mm``) is blended in with a weight
    that is 1 at the midline and fades over about 20 mm to the sides, and over 6 mm above and
    below the teeth's rows ``rows`` (first, one past the last).
    """
    sigma = sigma_mm * frame.s
    if sigma < 0.3:
        return
    H, W = att.shape
    u = np.arange(W, dtype=np.float64) + 0.5
    x = warp.inverse((u - frame.ox) / (frame.s * frame.c))  # along the occlusal line
    weight = np.exp(-((x / _ANTERIOR_MM) ** 2)).astype(np.float32)
    cols = np.flatnonzero(weight > 0.01)
    if cols.size == 0:
        return
    fade = 6.0 * frame.s
    r0, r1 = max(int(rows[0] - fade), 0), min(int(rows[1] + fade) + 1, H)
    width = max(1, int(round(math.sqrt(4.0 * sigma * sigma + 1.0))))  # 3 boxes: var = sigma^2
    lo, hi = max(int(cols[0]) - 2 * width, 0), min(int(cols[-1]) + 2 * width + 1, W)
    band = att[r0:r1, lo:hi]
    blurred = band
    for _ in range(3):
        blurred = uniform_filter1d(blurred, width, axis=1, mode="nearest")
    v = np.arange(r0, r1, dtype=np.float32) + 0.5
    ramp = np.clip(np.minimum(v - rows[0], rows[1] - v) / fade + 1.0, 0.0, 1.0)
    blurred -= band
    blurred *= ramp[:, None] * weight[None, lo:hi]
    band += blurred


# ----------------------------------------------------------------------------------------------
# the generator


def _frame(rng: np.random.Generator, hw: tuple[int, int]) -> Frame:
    """Random framing that keeps the whole dental region inside the image."""
    H, W = hw
    base = min(W / _FIELD_MM[1], H / _FIELD_MM[0])
    scale = base * rng.uniform(0.9, 1.2)
    tilt = float(np.clip(rng.normal(0, 0.04), -0.1, 0.1))
    x0, x1, y0, y1 = _ROI_MM
    cx = np.array([x0, x1, x0, x1])
    cy = np.array([y0, y0, y1, y1])
    probe = Frame(0.0, 0.0, scale, tilt)
    u, v = probe.to_px(cx, cy)
    fit = min(1.0, (W - 4) / (u.max() - u.min()), (H - 4) / (v.max() - v.min()))
    scale *= fit
    u, v = u * fit, v * fit
    ox = np.clip(W / 2 + rng.normal(0, 0.04 * W), 2 - u.min(), W - 2 - u.max())
    oy = np.clip(H / 2 + rng.normal(0, 0.05 * H), 2 - v.min(), H - 2 - v.max())
    return Frame(float(ox), float(oy), float(scale), tilt)


def _rows(H: int, W: int) -> range:
    """Starts of the row strips the full-resolution passes work on (a few hundred kB each,
    so that every pass over a strip stays in the cache)."""
    return range(0, H, max(8, 49152 // W))


def _compose(att: np.ndarray, mand: np.ndarray, cortex: np.ndarray, s: float):
    """Add the mandible and its cortex to ``att`` in place; return the two (H, W) bool masks.

    Per pixel: ``att + 0.08 soft(mand) + 0.6 soft(-cortex) soft(mand)``; masks ``mand > 0``
    and ``(cortex < 0) & (mand > 0)``. Rows without the mandible are skipped (there both
    additions are 0 and both masks false).
    """
    H, W = att.shape
    s32, half = np.float32(s), np.float32(0.5)
    mand_mask, cortex_mask = np.zeros((H, W), bool), np.zeros((H, W), bool)
    lim = np.float32(-1.0 / s - 0.05)  # below it soft() is 0: nothing to add, masks false
    step = _rows(H, W).step
    for r in _rows(H, W):
        rows = np.flatnonzero((mand[r : r + step] > lim).any(axis=1))
        if rows.size == 0:
            continue
        r0, r1 = r + int(rows[0]), r + int(rows[-1]) + 1
        a, m, c = att[r0:r1], mand[r0:r1], cortex[r0:r1]
        cov = m * s32
        cov += half
        np.clip(cov, 0.0, 1.0, out=cov)
        cor = np.negative(c)
        cor *= s32
        cor += half
        np.clip(cor, 0.0, 1.0, out=cor)
        cor *= cov
        cov *= 0.08
        a += cov
        cor *= 0.6
        a += cor
        mm = np.greater(m, 0, out=mand_mask[r0:r1])
        np.logical_and(c < 0, mm, out=cortex_mask[r0:r1])
    return mand_mask, cortex_mask


def _uniform_noise(rng: np.random.Generator, out: np.ndarray, amp: np.float32) -> np.ndarray:
    """``(rng.random(dtype=np.float32) - 0.5) * amp`` written into ``out``, from the raw stream.

    numpy makes a float32 from each 32-bit half of the PCG64's 64-bit outputs (low half first;
    a half left over waits in the generator's state) as ``(u >> 8) 2**-24``; here the halves
    are taken from ``random_raw`` at once, ``- 0.5`` is done on the integers (exact) and the
    two scalings are one (a power of two: exact), so the values, and the generator's state
    afterwards, are numpy's, in fewer passes. ``out`` is C-contiguous.
    """
    flat = out.reshape(-1)
    bits = rng.bit_generator
    state = bits.state
    if sys.byteorder != "little" or state["bit_generator"] != "PCG64":
        rng.random(dtype=np.float32, out=flat)  # the halves below need PCG64, low half first
        flat -= np.float32(0.5)
        flat *= amp
        return out
    scale, k = amp * np.float32(2.0**-24), 0
    if state["has_uint32"]:  # a half left over by an earlier draw comes first
        flat[0] = np.float32((state["uinteger"] >> 8) - (1 << 23)) * scale
        state["has_uint32"], k = 0, 1
        bits.state = state
    m = flat.size - k
    halves = bits.random_raw((m + 1) // 2).view(np.uint32)
    if m:  # the state numpy leaves: the last high half kept, waiting when m is odd
        state = bits.state
        state["has_uint32"], state["uinteger"] = m % 2, int(halves[-1])
        bits.state = state
    u = np.right_shift(halves[:m], 8, out=halves[:m]).view(np.int32)
    u -= 1 << 23
    np.multiply(u, scale, out=flat[k:], dtype=np.float32)  # |u| < 2**23: converts exactly
    return out


def _expose(
    rng: np.random.Generator, att: np.ndarray, device: int, dtype: str, max_value: float
) -> np.ndarray:
    """Attenuation to brightness: exposure, the device's curve, noise; then ``dtype``.

    Float32 brightness is in [0, 1]; integer outputs are ``rint(brightness * max_value)``.
    Works in row strips (the noise is drawn strip by strip, the same stream as in one go);
    ``att`` is overwritten.
    """
    k = np.float32(-rng.uniform(0.85, 1.2))
    if device == 0:  # a soft, slightly lifted curve with more noise
        g = rng.uniform(0.15, 0.3)
        sd = rng.uniform(0.012, 0.03)
    else:  # a harder, darker curve with less noise
        gain, lo, hi = rng.uniform(1.15, 1.3), rng.uniform(0.2, 0.4), rng.uniform(0.2, 0.4)
        sd = rng.uniform(0.006, 0.016)
    amp = np.float32(sd * math.sqrt(12.0))
    H, W = att.shape
    inplace = dtype == "float32" and att.flags.c_contiguous
    out = att if inplace else np.empty((H, W), dtype)
    step = _rows(H, W).step
    buffer, zero = np.empty((step, W), np.float32), np.zeros((step, W), np.float32)
    for r in _rows(H, W):
        a = att[r : r + step]
        # max with an array of zeros: the same values, faster than with a scalar 0
        x = np.maximum(a, zero[: a.shape[0]], out=a if inplace else None)
        x *= k
        np.exp(x, out=x)
        np.subtract(1.0, x, out=x)
        if device == 0:  # 0.04 + 0.92 x ((1 + g) - g x)
            t = g * x
            np.subtract(1 + g, t, out=t)
            x *= 0.92
            x *= t
            x += 0.04
        else:  # clip(gain (x - 0.14)), then x ((1 - lo) + hi x)
            x -= 0.14
            x *= gain
            np.clip(x, 0.0, 1.0, out=x)
            t = hi * x
            t += 1 - lo
            x *= t
        x += _uniform_noise(rng, buffer[: x.shape[0]], amp)
        np.clip(x, 0.0, 1.0, out=x)
        if dtype == "float32":
            if not inplace:
                out[r : r + step] = x
        else:
            x *= np.float32(max_value)
            np.rint(x, out=x)
            out[r : r + step] = x
    return out


def make_panoramic(
    index: int,
    *,
    seed: int = 0,
    size: tuple[int, int] = (256, 512),
    dtype: str = "float32",
    framing: str = "centred",
) -> PanoramicSample:
    """Generate item ``index`` of the synthetic panoramic world ``seed``.

    Parameters
    ----------
    index, seed : non-negative ints; the sample is a pure function of both.
    size : ``(H, W)`` in pixels, at least ``MIN_PANORAMIC_SIZE``; real devices are about
        1536 x 2836.
    dtype : ``"float32"`` (values in [0, 1]), ``"uint8"`` (0..255) or ``"uint16"`` (the
        device's range: 12 bits, 0..4095, for device 0 and 16 bits for device 1).
    framing : ``"centred"`` (default: every patient framed alike, the dental region near the
        centre) or ``"realistic"`` (the positioning model of the module docstring: forward/back
        of the focal trough with its magnification and blur of the incisors, left/right shift
        with asymmetric magnification, head tilt, chin up/down bending the occlusal plane,
        child or adult arch, edentulous spans, and the dental region well off-centre). Its
        draws come from the separate stream ``[seed, index, 1]``; the centred framing's samples
        never change.

    Returns
    -------
    PanoramicSample with the image and every label (masks are (H, W), boxes xyxy in pixels);
    ``positioning`` holds the drawn positioning (neutral values when centred).
    """
    index = check_index(index)
    seed = check_seed(seed)
    hw = check_size(size, MIN_PANORAMIC_SIZE)
    _checks.choice("dtype", dtype, tuple(_OUTPUTS))
    _checks.choice("framing", framing, FRAMINGS)
    rng = rng_for(seed, index)
    H, W = hw
    frame = _frame(rng, hw)  # drawn in both framings: the draws after it stay the same
    device = int(rng.integers(2))
    curve, bite = rng.uniform(0.0018, 0.0035), rng.uniform(0.5, 3.0)
    pos, warp, absent = Positioning(), None, None
    if framing == "realistic":
        pos = _draw_positioning(seed, index)
        warp = _Warp(pos)
        curve = curve + pos.occlusal_curvature
        gone = {f for span in pos.edentulous for f in span}
    bone = _bone_state(rng, curve, bite)
    teeth = arch_teeth(rng, curve, bite)
    if warp is not None:
        absent = np.array([t.fdi in gone for t in teeth])
        bone["palate_curve"] = 0.0012 + 0.7 * pos.occlusal_curvature
        bone["inf_curve"] = max(bone["inf_curve"] + 0.5 * pos.occlusal_curvature, 2e-4)
    chart = plan_chart(rng, teeth, absent)
    if warp is not None:
        teeth = _warp_teeth(teeth, warp)
        frame = _place(hw, teeth, chart, pos)

    factor = max(1, round(H / 150))
    att, mand, cortex = upsample(_anatomy(rng, frame, hw, factor, bone, warp), factor, hw)
    s = frame.s
    mand_mask, cortex_mask = _compose(att, mand, cortex, s)
    masks = {
        "instance": np.zeros(hw, np.int32),
        "restoration": np.zeros(hw, bool),
        "lesion": np.zeros(hw, bool),
        "tooth": np.zeros(hw, bool),
    }
    boxes = draw_teeth(rng, frame, teeth, chart, att, masks, hw)
    if warp is not None:
        rows = (int(boxes[:, 1].min()), int(boxes[:, 3].max()))
        _blur_anterior(att, frame, warp, pos.anterior_blur_mm, rows)

    max_value = _OUTPUTS[dtype] or _DEVICE_MAX_UINT16[device]
    img = _expose(rng, att, device, dtype, max_value)

    inst = masks["instance"]
    fdi = np.array(sorted(t.fdi for t, m in zip(teeth, chart.missing, strict=True) if not m))
    rest = masks["restoration"]
    extent = boxes.copy()
    if rest.any():
        rows, cols = np.nonzero(rest.any(1))[0], np.nonzero(rest.any(0))[0]
        extent = np.vstack([extent, [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]])
    pad = 2.0 * s
    roi = np.array(
        [
            max(extent[:, 0].min() - pad, 0),
            max(extent[:, 1].min() - pad, 0),
            min(extent[:, 2].max() + pad, W),
            min(extent[:, 3].max() + pad, H),
        ],
        np.float32,
    )
    count = len(chart.kinds)
    return PanoramicSample(
        image=img,
        restoration_count=count,
        restoration_class=restoration_class(count),
        osteoporotic=int(bone["t_score"] <= OSTEOPOROSIS_T_SCORE),
        t_score=bone["t_score"],
        cortical_width_mm=bone["cortical_width_mm"],
        roi_box=roi,
        tooth_boxes=boxes,
        tooth_fdi=fdi.astype(np.int64),
        tooth_mask=masks["tooth"].view(np.uint8),
        instance_mask=inst,
        restoration_mask=rest.view(np.uint8),
        lesion_mask=masks["lesion"].view(np.uint8),
        mandible_mask=mand_mask.view(np.uint8),
        cortex_mask=cortex_mask.view(np.uint8),
        device=device,
        patient_id=f"syn-{seed}-{index}",
        px_per_mm=float(s),
        max_value=float(max_value),
        positioning=pos,
    )
