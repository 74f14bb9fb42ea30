"""Argument checks and small numeric helpers shared by the synthetic generators."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from dentpy import _checks
from dentpy._checks import ArgumentError, ArgumentTypeError


def check_seed(seed: object, name: str = "seed") -> int:
    """Return ``seed`` as an int; it must be a non-negative integer (not a bool or a float)."""
    return _checks.integer(name, seed, low=0)


def check_index(index: object, name: str = "index") -> int:
    """Return ``index`` (of an item of a synthetic world) as a non-negative int."""
    return _checks.integer(name, index, low=0)


def check_size(size: object, minimum: Sequence[int], name: str = "size") -> tuple[int, ...]:
    """Return ``size`` as a tuple of ints, each at least the matching entry of ``minimum``."""
    n = len(minimum)
    ok = isinstance(size, Sequence) and not isinstance(size, str) and len(size) == n
    if ok:
        ok = all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= m
            for v, m in zip(size, minimum, strict=True)
        )
    if not ok:
        sequence = isinstance(size, Sequence) and not isinstance(size, str)
        raise (ArgumentError if sequence else ArgumentTypeError)(
            f"{name} must be a sequence of {n} integers, each at least {tuple(minimum)}, "
            f"got {size!r}"
        )
    return tuple(int(v) for v in size)


def rng_for(seed: int, index: int) -> np.random.Generator:
    """The generator of item ``index`` of the dataset with ``seed``: a pure function of both."""
    return np.random.default_rng([seed, index])


def upsample(fields: np.ndarray, factor: int, out_hw: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling of (C, h, w) float32 fields by an integer ``factor``, cropped to out_hw.

    Low-resolution pixel ``j`` is centred on full-resolution coordinate ``(j + 0.5) * factor``,
    which is exactly what ``interpolate(..., align_corners=False)`` assumes for an integer factor.
    """
    if factor == 1:
        return fields[:, : out_hw[0], : out_hw[1]]
    c, h, w = fields.shape
    # channels as a batch of one-channel images: torch's single-channel path is the fast one
    t = torch.from_numpy(np.ascontiguousarray(fields, dtype=np.float32))[:, None]
    up = F.interpolate(t, size=(h * factor, w * factor), mode="bilinear", align_corners=False)
    return up[:, 0, : out_hw[0], : out_hw[1]].numpy()


def soft(margin: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] from a margin in mm (> 0 inside, about a distance)."""
    return np.clip(margin * np.float32(px_per_mm) + np.float32(0.5), 0.0, 1.0)


class Frame:
    """Maps canonical mm (x right, y down) to pixel-edge coordinates (u = column, v = row).

    ``u = ox + s (x cos a - y sin a)``, ``v = oy + s (x sin a + y cos a)`` for a scale ``s`` in
    pixels per mm and a tilt ``a`` in radians.
    """

    def __init__(self, ox: float, oy: float, px_per_mm: float, tilt: float) -> None:
        self.ox, self.oy, self.s = ox, oy, px_per_mm
        self.c, self.sn = math.cos(tilt), math.sin(tilt)

    def to_px(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-edge coordinates (u, v) of canonical points (x, y)."""
        return (
            self.ox + self.s * (x * self.c - y * self.sn),
            self.oy + self.s * (x * self.sn + y * self.c),
        )

    def linear(self, fx, fy, f0):
        """Coefficients (cu, cv, c0) with ``fx x + fy y + f0 = cu u + cv v + c0``.

        Works elementwise on arrays of coefficients as well as on floats.
        """
        c, sn, s = self.c, self.sn, self.s
        au, av, a0 = c / s, sn / s, -(self.ox * c + self.oy * sn) / s
        bu, bv, b0 = -sn / s, c / s, (self.ox * sn - self.oy * c) / s
        return fx * au + fy * bu, fx * av + fy * bv, fx * a0 + fy * b0 + f0

    def field(self, coef: tuple[float, float, float], u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(len(v), len(u)) float32 values of a linear canonical function at pixel coordinates."""
        cu, cv, c0 = coef
        return (np.float32(cu) * u)[None, :] + (np.float32(cv) * v + np.float32(c0))[:, None]


def ellipse(x: np.ndarray, y: np.ndarray, cx, cy, rx, ry) -> np.ndarray:
    """Approximate margin in mm (> 0 inside, about the distance) of an axis-aligned ellipse."""
    rho = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
    scale = np.minimum(rx, ry)
    return (1.0 - np.sqrt(rho)) * (float(scale) if np.ndim(scale) == 0 else scale)
