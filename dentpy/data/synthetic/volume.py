"""Procedural CBCT-like volumes of the lower jaw with the inferior alveolar nerve canal.

Item ``index`` of the world ``seed`` is a pure function of both. The anatomy is defined in world
millimetres (RAS-like: ``x`` to the patient's left, ``y`` anterior, ``z`` superior) and sampled
on a voxel grid whose axes are slightly rotated and anisotropically spaced, so the affine that
maps voxel indices to world coordinates is not diagonal and must be kept to read the volume
correctly. Intensities are HU-like values shifted by +1000 and clipped to [0, 2100]: air 0,
soft tissue about 1050, trabecular bone about 1400, cortical bone about 1800, enamel 2100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from dentpy.data.synthetic._common import check_index, check_seed, check_size, rng_for

__all__ = ["MIN_VOLUME_SIZE", "VolumeSample", "make_volume"]

#: Smallest (D, H, W) accepted.
MIN_VOLUME_SIZE: tuple[int, int, int] = (16, 24, 24)
_HU_MAX = 2100.0


@dataclass
class VolumeSample:
    """One CBCT-like volume; arrays are indexed ``[i, j, k]`` = (D, H, W)."""

    image: np.ndarray  #: (D, H, W) float32 HU-like values in [0, 2100]
    canal_mask: np.ndarray  #: (D, H, W) uint8, 1 in both inferior alveolar nerve canals
    bone_mask: np.ndarray  #: (D, H, W) uint8, 1 in the mandible
    teeth_mask: np.ndarray  #: (D, H, W) uint8, 1 in the teeth
    spacing: np.ndarray  #: (3,) float64 voxel size along (i, j, k), mm
    direction: np.ndarray  #: (3, 3) float64 rotation, column n = world direction of axis n
    affine: np.ndarray  #: (4, 4) float64 voxel index (i, j, k, 1) -> world (x, y, z, 1) mm
    patient_id: str  #: ``"cbct-<seed>-<index>"``

    def to_dict(self) -> dict:
        """The sample as a plain dict (arrays are not copied)."""
        return dict(self.__dict__)


def _rotation(rng: np.random.Generator) -> np.ndarray:
    """A small random rotation (a few degrees about each axis)."""
    a, b, c = rng.normal(0, 0.05, 3)
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def make_volume(
    index: int,
    *,
    seed: int = 0,
    size: tuple[int, int, int] = (64, 96, 96),
) -> VolumeSample:
    """Generate item ``index`` of the synthetic CBCT world ``seed``.

    The grid's axis 0 runs inferior to superior, axis 1 posterior to anterior and axis 2 from
    the patient's right to left, each turned by a few degrees; the field of view is about
    40 x 70 x 90 mm whatever the size, so larger sizes mean finer (anisotropic) voxels.
    """
    index = check_index(index)
    seed = check_seed(seed)
    shape = check_size(size, MIN_VOLUME_SIZE)
    rng = rng_for(seed, index)
    fov = np.array([40.0, 70.0, 90.0]) * rng.uniform(0.95, 1.05, 3)
    spacing = fov / np.array(shape)
    direction = _rotation(rng)
    # axis n of the array points along world axis perm[n]: i -> z, j -> y, k -> x
    base = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    direction = direction @ base
    centre = np.array(shape, float) / 2 - 0.5
    affine = np.eye(4)
    affine[:3, :3] = direction * spacing[None, :]
    affine[:3, 3] = -affine[:3, :3] @ centre + rng.normal(0, 1.0, 3)

    # world coordinates of every voxel (x, y, z), float32
    i, j, k = (np.arange(n, dtype=np.float32) for n in shape)
    m = affine.astype(np.float32)
    x, y, z = (
        m[r, 0] * i[:, None, None]
        + m[r, 1] * j[None, :, None]
        + m[r, 2] * k[None, None, :]
        + m[r, 3]
        for r in range(3)
    )

    # the arch: a half ellipse in the axial plane, opening towards -y (posterior)
    a_x, a_y = rng.uniform(31, 35), rng.uniform(30, 35)
    y0 = -12.0
    rho = np.sqrt((x / a_x) ** 2 + (np.maximum(y - y0, 0) / a_y) ** 2)
    normal = (rho - 1.0) * np.float32(0.5 * (a_x + a_y))  # about mm from the arch line
    theta = np.arctan2(x / a_x, np.maximum(y - y0, 0) / a_y)  # 0 at the midline
    along = np.where(y >= y0, 0.0, (y0 - y))  # mm behind the arch ends (posterior bodies)
    normal = np.where(y >= y0, normal, np.abs(np.abs(x) - a_x))

    z_bot, height = rng.uniform(-18, -14), rng.uniform(26, 31)
    zc = z - z_bot
    half_w = 5.5 + 1.5 * (zc / height)
    bone = (np.abs(normal) < half_w) & (zc > 0) & (zc < height) & (along < 30)
    shell = bone & ((np.abs(normal) > half_w - 1.6) | (zc < 2.0))

    # inferior alveolar nerve canal: from the ramus end to the mental foramen, on both sides
    canal_z = height * rng.uniform(0.3, 0.4) + 0.08 * along
    r_canal = rng.uniform(1.1, 1.5)
    dist = np.sqrt(normal**2 + (zc - canal_z) ** 2)
    canal = (dist < r_canal) & ((np.abs(theta) > 0.75) | (y < y0)) & (along < 28) & bone

    # teeth: cylinders standing on the crest along the front of the arch
    teeth = np.zeros(shape, bool)
    n_teeth = 12
    angles = np.linspace(-1.35, 1.35, n_teeth) + rng.normal(0, 0.02, n_teeth)
    present = rng.random(n_teeth) > 0.12
    for ang, here in zip(angles, present, strict=True):
        if not here:
            continue
        tx, ty = a_x * math.sin(ang), y0 + a_y * math.cos(ang)
        r = 2.4 if abs(ang) < 0.6 else 3.8
        d = np.sqrt((x - tx) ** 2 + (y - ty) ** 2)
        root_top = height - rng.uniform(13, 16)
        taper = np.clip((zc - root_top) / (height - root_top), 0.35, 1.0)
        teeth |= (d < r * taper) & (zc > root_top) & (zc < height + rng.uniform(8, 10))
    crown = teeth & (zc > height + 1)

    vol = np.full(shape, 1000.0, np.float32)  # soft tissue
    head = (np.abs(x) < 0.48 * fov[2]) & (y > -0.45 * fov[1])
    vol = np.where(head, vol + 50, 80.0).astype(np.float32)
    texture = gaussian_filter(rng.standard_normal(shape, dtype=np.float32), 0.8)
    vol = np.where(bone, 1380 + 90 * texture, vol)
    vol = np.where(shell, 1780.0, vol)
    vol = np.where(canal, 1080.0, vol)
    vol = np.where(teeth, 1750.0, vol)
    vol = np.where(crown, 2100.0, vol)
    vol = gaussian_filter(vol, 0.6) + rng.normal(0, 25.0, shape).astype(np.float32)
    image = np.clip(vol, 0.0, _HU_MAX).astype(np.float32)
    return VolumeSample(
        image=image,
        canal_mask=canal.view(np.uint8),
        bone_mask=(bone | canal).view(np.uint8),
        teeth_mask=teeth.view(np.uint8),
        spacing=spacing,
        direction=direction,
        affine=affine,
        patient_id=f"cbct-{seed}-{index}",
    )
