"""Demons-style deformable registration of 2-D images, with intensity and shape similarities.

A displacement field ``u`` has shape ``(2, H, W)``: ``u[0]`` moves along rows (y) and ``u[1]``
along columns (x), in pixels. Warping a moving image ``M`` by ``u`` samples it at ``x + u(x)``:
``warp(M, u)(x) = M(x + u(x))``, so ``u`` maps the fixed image's grid into the moving image.

:func:`register` runs a demons-style loop on one of three similarity terms, each a sum of
squared differences (SSD) between a fixed map ``F`` and the current warped map ``W``:

- ``"int"``: the images' intensities;
- ``"dt"``: distance transforms of the two masks, the moving one computed once and then
  interpolated like an image (it stops being a distance to the warped object's border);
- ``"udt"``: the *updated* distance transform: the moving mask is warped, binarised again and
  its distance transform recomputed at every iteration (Grélard et al., MIUA 2023).

Each iteration adds a demons force ``(F - W) g / (|g|^2 + alpha^2 (F - W)^2)`` with ``g`` the mean
of both maps' gradients, smooths the update (``sigma_fluid``) and the whole field (``sigma``):
Gaussian (diffusion-like) regularisation. Evaluation: :func:`mask_overlap` (the paper's
precision, recall and F-measure of two masks), :func:`mutual_information_bits`,
:func:`jacobian_determinant` and :func:`folding_fraction`. :func:`smooth_displacement` draws a
smooth random deformation to build test pairs. ``tests/test_registration.py`` checks the pieces
against scipy, scikit-learn and known answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from dentpy import _checks

__all__ = [
    "METRICS",
    "RegistrationResult",
    "distance_map",
    "demons_force",
    "folding_fraction",
    "jacobian_determinant",
    "mask_overlap",
    "mutual_information_bits",
    "register",
    "smooth_displacement",
    "similarity_maps",
    "warp",
]

METRICS = ("int", "dt", "udt")


# ------------------------------------------------------------------------------- checks
def _image(name: str, value: Any) -> np.ndarray:
    """A finite, real 2-D array of at least 2 x 2 pixels, as float64."""
    array = _checks.array(name, value, ndim=2, kind="number")
    if min(array.shape) < 2:
        _checks.fail(name, "at least 2 x 2 pixels", value)
    return array.astype(np.float64)


def _mask(name: str, value: Any) -> np.ndarray:
    """A 2-D mask of 0/1 (bool or integer) values, as bool."""
    array = _checks.array(name, value, ndim=2, kind="number")
    if array.dtype.kind == "f":
        _checks.fail(name, "a mask of bool or integer 0/1 values (not floats)", value,
                     wrong_type=True)
    if not np.isin(array, (0, 1)).all():
        _checks.fail(name, "a mask of 0/1 values", value)
    if min(array.shape) < 2:
        _checks.fail(name, "at least 2 x 2 pixels", value)
    return array.astype(bool)


def _field(name: str, value: Any, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A finite displacement field (2, H, W) as float64 (matching ``shape`` when given)."""
    array = _checks.array(name, value, ndim=3, kind="number")
    if array.shape[0] != 2 or min(array.shape[1:]) < 2:
        _checks.fail(name, "a displacement field of shape (2, H, W), H, W >= 2", value)
    if shape is not None and array.shape[1:] != shape:
        raise _checks.ArgumentError(
            f"{name} must have shape (2, {shape[0]}, {shape[1]}) to match the image, "
            f"got {array.shape}")
    return array.astype(np.float64)


def _metric_masks(metric: str, fixed: np.ndarray, fixed_mask: Any,
                  moving_mask: Any) -> tuple[np.ndarray, np.ndarray]:
    """The two masks a distance metric needs, checked against ``fixed``'s shape."""
    if fixed_mask is None or moving_mask is None:
        raise _checks.ArgumentError(
            f"fixed_mask and moving_mask are required for metric={metric!r}")
    fixed_mask = _mask("fixed_mask", fixed_mask)
    moving_mask = _mask("moving_mask", moving_mask)
    _same_shape(fixed=fixed, fixed_mask=fixed_mask, moving_mask=moving_mask)
    return fixed_mask, moving_mask


def _same_shape(**named: np.ndarray) -> None:
    shapes = {name: a.shape for name, a in named.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise _checks.ArgumentError(f"{' and '.join(shapes)} must have the same shape: {listed}")


# ------------------------------------------------------------------------------- pieces
def warp(image: Any, displacement: Any, *, order: int = 1) -> np.ndarray:
    """``image`` (H, W) sampled at ``x + displacement(x)``: shape (H, W), float64.

    ``order`` 1 is bilinear, 0 nearest neighbour (for label maps), 3 cubic spline; outside the
    image the border value is repeated (``scipy.ndimage.map_coordinates``, ``mode="nearest"``).
    """
    image = _image("image", image)
    displacement = _field("displacement", displacement, image.shape)
    order = _checks.integer("order", order, low=0, high=5)
    grid = np.indices(image.shape, dtype=np.float64)
    return ndimage.map_coordinates(image, grid + displacement, order=order, mode="nearest")


def distance_map(mask: Any) -> np.ndarray:
    """Euclidean distance transform of ``mask`` (H, W): for each pixel of the object, the
    distance in pixels to the nearest pixel outside it; 0 outside. Float64 (H, W)."""
    mask = _mask("mask", mask)
    return ndimage.distance_transform_edt(mask)


def similarity_maps(
    fixed: Any,
    moving: Any,
    displacement: Any,
    *,
    metric: str,
    fixed_mask: Any = None,
    moving_mask: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The maps ``(F, W)`` whose squared difference the ``metric`` sums, for the current
    ``displacement`` (2, H, W). ``"int"``: the fixed image and the warped moving image.
    ``"dt"``: the fixed mask's distance map and the *interpolated* moving distance map.
    ``"udt"``: the fixed mask's distance map and the distance map of the warped moving mask,
    binarised at 0.5 and recomputed. The masks are required for ``"dt"`` and ``"udt"``."""
    metric = _checks.choice("metric", metric, METRICS)
    fixed = _image("fixed", fixed)
    moving = _image("moving", moving)
    _same_shape(fixed=fixed, moving=moving)
    displacement = _field("displacement", displacement, fixed.shape)
    if metric == "int":
        return fixed, warp(moving, displacement)
    fixed_mask, moving_mask = _metric_masks(metric, fixed, fixed_mask, moving_mask)
    target = distance_map(fixed_mask)
    if metric == "dt":
        return target, warp(distance_map(moving_mask), displacement)
    warped_mask = warp(moving_mask.astype(np.float64), displacement) >= 0.5
    return target, distance_map(warped_mask)


def demons_force(fixed_map: Any, warped_map: Any, *, alpha: float = 1.0) -> np.ndarray:
    """The demons update (2, H, W) that moves ``warped_map`` towards ``fixed_map`` (both H, W).

    ``(F - W) g / (|g|^2 + alpha^2 (F - W)^2)`` with ``g = (grad F + grad W) / 2`` (central
    differences); 0 where the denominator vanishes. Its length is at most ``1 / (2 alpha)``
    pixels, so ``alpha`` bounds the step.
    """
    f = _image("fixed_map", fixed_map)
    w = _image("warped_map", warped_map)
    _same_shape(fixed_map=f, warped_map=w)
    alpha = _checks.number("alpha", alpha, low=0, low_open=True)
    g = (np.stack(np.gradient(f)) + np.stack(np.gradient(w))) / 2
    diff = f - w
    denom = (g**2).sum(0) + alpha**2 * diff**2
    safe = denom > 1e-12
    return np.where(safe, diff * g / np.where(safe, denom, 1.0), 0.0)


@dataclass
class RegistrationResult:
    """What :func:`register` returns.

    ``displacement`` (2, H, W) pixels; ``warped`` the moving image warped by it (H, W);
    ``energy`` the mean squared difference of the metric's maps before each iteration and
    after the last (``iterations + 1`` values); ``snapshots`` {iteration: displacement} at
    the requested ``checkpoints``."""

    displacement: np.ndarray
    warped: np.ndarray
    energy: list[float]
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)


def register(
    fixed: Any,
    moving: Any,
    *,
    metric: str = "udt",
    fixed_mask: Any = None,
    moving_mask: Any = None,
    iterations: int = 100,
    sigma: float = 2.0,
    sigma_fluid: float = 1.0,
    alpha: float = 1.0,
    checkpoints: Sequence[int] = (),
) -> RegistrationResult:
    """Align ``moving`` (H, W) onto ``fixed`` (H, W) with a demons-style loop.

    Each iteration: ``(F, W) = similarity_maps(...)``; ``u += G_sigma_fluid * demons_force(F,
    W, alpha)``; ``u = G_sigma * u`` (Gaussian smoothing, sigmas in pixels; 0 turns a smoothing
    off). ``metric`` is ``"int"``, ``"dt"`` or ``"udt"`` (see the module docstring); the
    distance metrics need ``fixed_mask`` and ``moving_mask`` (H, W, 0/1). ``checkpoints``:
    iterations (1..iterations) after which the field is kept in ``snapshots``.
    """
    metric = _checks.choice("metric", metric, METRICS)
    fixed = _image("fixed", fixed)
    moving = _image("moving", moving)
    _same_shape(fixed=fixed, moving=moving)
    iterations = _checks.integer("iterations", iterations, low=1)
    sigma = _checks.number("sigma", sigma, low=0)
    sigma_fluid = _checks.number("sigma_fluid", sigma_fluid, low=0)
    alpha = _checks.number("alpha", alpha, low=0, low_open=True)
    if isinstance(checkpoints, str | bytes) or not isinstance(checkpoints, Sequence):
        _checks.fail("checkpoints", "a sequence of iteration numbers", checkpoints,
                     wrong_type=True)
    keep = {_checks.integer(f"checkpoints[{i}]", c, low=1, high=iterations)
            for i, c in enumerate(checkpoints)}
    if metric != "int":
        fixed_mask, moving_mask = _metric_masks(metric, fixed, fixed_mask, moving_mask)
        if not fixed_mask.any() or not moving_mask.any():
            raise _checks.ArgumentError(
                f"fixed_mask and moving_mask must each hold an object for metric={metric!r}")
    u = np.zeros((2, *fixed.shape))
    energy: list[float] = []
    snapshots: dict[int, np.ndarray] = {}
    for it in range(1, iterations + 1):
        f_map, w_map = similarity_maps(fixed, moving, u, metric=metric, fixed_mask=fixed_mask,
                                       moving_mask=moving_mask)
        energy.append(float(np.mean((f_map - w_map) ** 2)))
        du = demons_force(f_map, w_map, alpha=alpha)
        if sigma_fluid > 0:
            du = ndimage.gaussian_filter(du, (0, sigma_fluid, sigma_fluid), mode="nearest")
        u = u + du
        if sigma > 0:
            u = ndimage.gaussian_filter(u, (0, sigma, sigma), mode="nearest")
        if it in keep:
            snapshots[it] = u.copy()
    f_map, w_map = similarity_maps(fixed, moving, u, metric=metric, fixed_mask=fixed_mask,
                                   moving_mask=moving_mask)
    energy.append(float(np.mean((f_map - w_map) ** 2)))
    return RegistrationResult(u, warp(moving, u), energy, snapshots)


# ------------------------------------------------------------------------------ measures
def mask_overlap(reference: Any, registered: Any) -> tuple[float, float, float]:
    """The paper's ``(p, r, F)`` of two masks (H, W): precision = common pixels / pixels of
    ``registered``, recall = common pixels / pixels of ``reference``, F = 2pr / (p + r)
    (the Dice coefficient). An empty mask gives 0 for the ratios it divides (and F = 0), or
    (1, 1, 1) when both are empty."""
    a = _mask("reference", reference)
    b = _mask("registered", registered)
    _same_shape(reference=a, registered=b)
    common = float(np.logical_and(a, b).sum())
    na, nb = float(a.sum()), float(b.sum())
    if na == 0 and nb == 0:
        return 1.0, 1.0, 1.0
    p = common / nb if nb else 0.0
    r = common / na if na else 0.0
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return p, r, f


def mutual_information_bits(a: Any, b: Any, *, bins: int = 32) -> float:
    """Mutual information (bits) of the grey values of two images of one shape, from their
    joint histogram with ``bins`` equal-width bins per image (over each image's own range)."""
    a = _image("a", a)
    b = _image("b", b)
    _same_shape(a=a, b=b)
    bins = _checks.integer("bins", bins, low=2)
    joint, _, _ = np.histogram2d(a.ravel(), b.ravel(), bins=bins)
    pxy = joint / joint.sum()
    px, py = pxy.sum(1, keepdims=True), pxy.sum(0, keepdims=True)
    nz = pxy > 0
    return float((pxy[nz] * np.log2(pxy[nz] / (px @ py)[nz])).sum())


def jacobian_determinant(displacement: Any) -> np.ndarray:
    """det(I + grad u) of the map ``x -> x + u(x)`` at every pixel (H, W), central differences.
    Values <= 0 mark folding (the map is not locally invertible there)."""
    u = _field("displacement", displacement)
    dy = np.gradient(u[0])  # (d u_y / dy, d u_y / dx)
    dx = np.gradient(u[1])
    return (1 + dy[0]) * (1 + dx[1]) - dy[1] * dx[0]


def folding_fraction(displacement: Any) -> float:
    """Fraction of pixels where the Jacobian determinant of ``displacement`` is <= 0."""
    return float(np.mean(jacobian_determinant(displacement) <= 0))


def smooth_displacement(
    shape: Sequence[int], *, amplitude: float, sigma: float, seed: int = 0
) -> np.ndarray:
    """A random smooth displacement (2, H, W): white noise smoothed by a Gaussian of ``sigma``
    pixels, scaled so that its longest vector is ``amplitude`` pixels. Pure function of
    ``seed``."""
    h, w = _checks.integer_pair("shape", shape, low=2)
    amplitude = _checks.number("amplitude", amplitude, low=0)
    sigma = _checks.number("sigma", sigma, low=0, low_open=True)
    seed = _checks.integer("seed", seed, low=0)
    noise = np.random.default_rng(seed).standard_normal((2, h, w))
    field_ = ndimage.gaussian_filter(noise, (0, sigma, sigma), mode="wrap")
    length = np.sqrt((field_**2).sum(0)).max()
    return field_ * (amplitude / length) if length > 0 else field_
