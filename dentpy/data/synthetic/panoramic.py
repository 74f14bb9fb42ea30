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
restorations are drawn at full resolution inside each tooth's own bounding window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from dentpy import _checks
from dentpy.data.synthetic._common import (
    Frame,
    check_index,
    check_seed,
    check_size,
    ellipse,
    rng_for,
    soft,
    upsample,
)
from dentpy.data.synthetic._teeth import DAC_CLASS_RANGES, arch_teeth, draw_teeth, plan_chart

__all__ = [
    "DAC_CLASS_RANGES",
    "MIN_PANORAMIC_SIZE",
    "OSTEOPOROSIS_T_SCORE",
    "PanoramicSample",
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


def _anatomy(rng: np.random.Generator, frame: Frame, hw, factor: int, bone: dict) -> np.ndarray:
    """(3, h, w) coarse fields: attenuation of the smooth anatomy, mandible margin, cortex field.

    The cortex field is < 0 inside the cortical bone of the mandible (when the margin is > 0).
    """
    h, w = -(-hw[0] // factor), -(-hw[1] // factor)
    u = (np.arange(w, dtype=np.float32) + 0.5) * factor
    v = (np.arange(h, dtype=np.float32) + 0.5) * factor
    X = frame.field(frame.linear(1, 0, 0), u, v)
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
    ypal = -31.0 - bite / 2 + 0.0012 * X * X
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


def _expose(rng: np.random.Generator, att: np.ndarray, device: int) -> np.ndarray:
    """Attenuation to float32 brightness in [0, 1]: exposure, the device's curve, noise."""
    img = np.exp(np.float32(-rng.uniform(0.85, 1.2)) * np.maximum(att, 0.0))
    np.subtract(1.0, img, out=img)
    if device == 0:  # a soft, slightly lifted curve with more noise
        g = rng.uniform(0.15, 0.3)
        img = 0.04 + 0.92 * img * ((1 + g) - g * img)
        sd = rng.uniform(0.012, 0.03)
    else:  # a harder, darker curve with less noise
        img = np.clip(rng.uniform(1.15, 1.3) * (img - 0.14), 0.0, 1.0)
        img *= (1 - rng.uniform(0.2, 0.4)) + rng.uniform(0.2, 0.4) * img
        sd = rng.uniform(0.006, 0.016)
    noise = rng.random(img.shape, dtype=np.float32)
    img += np.float32(sd * math.sqrt(12.0)) * (noise - np.float32(0.5))
    return np.clip(img, 0.0, 1.0, out=img)


def make_panoramic(
    index: int,
    *,
    seed: int = 0,
    size: tuple[int, int] = (256, 512),
    dtype: str = "float32",
) -> PanoramicSample:
    """Generate item ``index`` of the synthetic panoramic world ``seed``.

    Parameters
    ----------
    index, seed : non-negative ints; the sample is a pure function of both.
    size : ``(H, W)`` in pixels, at least ``MIN_PANORAMIC_SIZE``; real devices are about
        1536 x 2836.
    dtype : ``"float32"`` (values in [0, 1]), ``"uint8"`` (0..255) or ``"uint16"`` (the
        device's range: 12 bits, 0..4095, for device 0 and 16 bits for device 1).

    Returns
    -------
    PanoramicSample with the image and every label (masks are (H, W), boxes xyxy in pixels).
    """
    index = check_index(index)
    seed = check_seed(seed)
    hw = check_size(size, MIN_PANORAMIC_SIZE)
    _checks.choice("dtype", dtype, tuple(_OUTPUTS))
    rng = rng_for(seed, index)
    H, W = hw
    frame = _frame(rng, hw)
    device = int(rng.integers(2))
    curve, bite = rng.uniform(0.0018, 0.0035), rng.uniform(0.5, 3.0)
    bone = _bone_state(rng, curve, bite)
    teeth = arch_teeth(rng, curve, bite)
    chart = plan_chart(rng, teeth)

    factor = max(1, round(H / 150))
    att, mand, cortex = upsample(_anatomy(rng, frame, hw, factor, bone), factor, hw)
    s = frame.s
    cov_m = soft(mand, s)
    cortical = soft(-cortex, s)
    cortical *= cov_m
    att = att + 0.08 * cov_m + 0.6 * cortical
    masks = {
        "instance": np.zeros(hw, np.int32),
        "restoration": np.zeros(hw, bool),
        "lesion": np.zeros(hw, bool),
    }
    boxes = draw_teeth(rng, frame, teeth, chart, att, masks, hw)

    img = _expose(rng, att, device)
    max_value = _OUTPUTS[dtype] or _DEVICE_MAX_UINT16[device]
    if dtype != "float32":
        img = np.rint(img * np.float32(max_value)).astype(dtype)

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
        tooth_mask=(inst > 0).view(np.uint8),
        instance_mask=inst,
        restoration_mask=rest.view(np.uint8),
        lesion_mask=masks["lesion"].view(np.uint8),
        mandible_mask=(mand > 0).view(np.uint8),
        cortex_mask=((cortex < 0) & (mand > 0)).view(np.uint8),
        device=device,
        patient_id=f"syn-{seed}-{index}",
        px_per_mm=float(s),
        max_value=float(max_value),
    )
