"""Betti curves of grayscale images from the sublevel-set filtration (cubical persistence).

For an image ``x`` and a threshold ``t``, the sublevel set ``X_t`` is the union of the closed
unit squares of the pixels with ``x <= t``. Two such squares that share only a corner are
connected (8-connectivity), and a hole is a bounded part of the complement, whose pixels connect
through edges only (4-connectivity). The Betti numbers of ``X_t`` are

- ``beta0(t)``: the number of connected components,
- ``beta1(t)``: the number of holes (loops),

and the Betti curves are these numbers on a grid of thresholds. They equal the number of
intervals ``(birth, death)`` of the persistence diagram of the image's cubical complex (the
"top-dimensional cells" complex of gudhi) with ``birth <= t < death``.

Two counts, both vectorised over the images of a batch and over the thresholds:

- ``beta0`` by labelling every thresholded image at once (one ``scipy.ndimage.label`` call on a
  stack of binary images, connected within each image only);
- ``beta1 = beta0 - chi`` from the Euler characteristic ``chi = V - E + F`` of the sublevel
  complex, which only needs, for every vertex, edge and square of the pixel grid, the first
  threshold at which it enters (the lowest value of the pixels it touches).

``tests/test_topology.py`` checks both against gudhi and against per-threshold hole counting.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from scipy import ndimage

from dentpy import _checks

__all__ = ["betti_curves", "euler_curves"]

# in-plane 8-connectivity for a stack of images: nothing connects along the stacking axis
_STACK_8 = np.zeros((3, 3, 3), dtype=bool)
_STACK_8[1] = True
_CHUNK_VOXELS = 1 << 24  # thresholded pixels labelled per scipy call (16 M bools)


def _check_images(images: Any, name: str = "images") -> np.ndarray:
    """``images`` as a float64 array (..., H, W), finite, real, at least 1 x 1."""
    array = _checks.array(name, images, kind=None, finite=False, nonempty=False)
    if array.dtype.kind not in "biuf":
        raise _checks.ArgumentTypeError(
            f"{name} must hold real numbers (bool, int or float), got dtype {array.dtype}")
    if array.ndim < 2:
        raise _checks.ArgumentError(
            f"{name} must have shape (H, W) or (..., H, W), got shape {array.shape}")
    if 0 in array.shape:
        raise _checks.ArgumentError(f"{name} must not be empty, got shape {array.shape}")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise _checks.ArgumentError(f"{name} must be finite (no NaN or inf)")
    return array


def _check_thresholds(thresholds: Any, name: str = "thresholds") -> np.ndarray:
    """``thresholds`` as a strictly increasing, finite float64 vector of length >= 1."""
    if isinstance(thresholds, numbers.Number) and not isinstance(thresholds, bool):
        thresholds = [thresholds]
    t = _checks.array(name, thresholds, kind=None, finite=False, nonempty=False)
    if t.dtype.kind not in "iuf" or t.ndim != 1 or t.size == 0:
        raise _checks.ArgumentError(
            f"{name} must be a non-empty 1-D sequence of numbers, got dtype "
            f"{t.dtype} and shape {t.shape}")
    t = t.astype(np.float64, copy=False)
    if not np.isfinite(t).all():
        raise _checks.ArgumentError(f"{name} must be finite (no NaN or inf)")
    if t.size > 1 and not (np.diff(t) > 0).all():
        raise _checks.ArgumentError(f"{name} must be strictly increasing")
    return t


def _entry_counts(entry: np.ndarray, n_thresholds: int) -> np.ndarray:
    """(N, T) counts of the cells of each image that have entered by threshold k.

    ``entry`` (N, M) holds each cell's entry index: the first k with value <= t[k] (T: never).
    """
    n, m = entry.shape
    k = entry.astype(np.int64).ravel() + np.repeat(np.arange(n) * (n_thresholds + 1), m)
    counts = np.bincount(k, minlength=n * (n_thresholds + 1)).reshape(n, n_thresholds + 1)
    return np.cumsum(counts, axis=1)[:, :n_thresholds]


def _euler(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(N, T) Euler characteristic V - E + F of the sublevel complexes of images x (N, H, W)."""
    n, n_t = len(x), len(t)
    # a cell enters with the lowest pixel it touches; entry indices are monotone in the value,
    # so the minimum can be taken over the pixels' indices (padding: T, never enters)
    k = np.searchsorted(t, x, side="left").astype(np.int32)
    pad = np.pad(k, ((0, 0), (1, 1), (1, 1)), constant_values=n_t)
    rows = np.minimum(pad[:, :-1], pad[:, 1:])  # (H + 1, W + 2): pixels above and below
    horizontal = rows[:, :, 1:-1]  # (H + 1, W) edges between two vertically adjacent pixels
    vertices = np.minimum(rows[:, :, :-1], rows[:, :, 1:])  # (H + 1, W + 1): four pixels
    vertical = np.minimum(pad[:, 1:-1, :-1], pad[:, 1:-1, 1:])  # (H, W + 1) edges
    faces = _entry_counts(k.reshape(n, -1), n_t)
    edges = (_entry_counts(horizontal.reshape(n, -1), n_t)
             + _entry_counts(vertical.reshape(n, -1), n_t))
    return _entry_counts(vertices.reshape(n, -1), n_t) - edges + faces


def _count_per_slice(labels: np.ndarray, count: int) -> np.ndarray:
    """Number of distinct labels in each slice of ``labels`` (S, H, W), no label in two slices.

    Fast path: scipy numbers components in raster order, so each slice holds a consecutive run
    of labels, counted from its smallest and largest; the runs are checked to tile 1..count.
    Otherwise each label's slice is looked up from its pixels.
    """
    flat = labels.reshape(len(labels), -1).astype(np.int32, copy=False)
    high = flat.max(axis=1)
    # the smallest non-zero label: 0 - 1 wraps to the largest uint32, above every label
    low = (flat.view(np.uint32) - np.uint32(1)).min(axis=1).astype(np.int64) + 1
    used = high > 0
    runs_low, runs_high = low[used], high[used]
    if (count == 0 or (runs_low[0] == 1 and runs_high[-1] == count
                       and np.array_equal(runs_low[1:], runs_high[:-1] + 1))):
        return np.where(used, high - low + 1, 0)
    on = np.flatnonzero(flat)  # only if scipy ever numbers components in another order
    slice_of = np.zeros(count + 1, dtype=np.int64)
    slice_of[flat.ravel()[on]] = on // flat.shape[1]
    return np.bincount(slice_of[1:], minlength=len(labels))


def _components(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(N, T) number of 8-connected components of ``x[i] <= t[k]``, by stacked labelling."""
    n, h, w = x.shape
    step = max(1, _CHUNK_VOXELS // (len(t) * h * w))
    out = np.empty((n, len(t)), dtype=np.int64)
    for start in range(0, n, step):
        block = x[start: start + step]
        masks = block[:, None] <= t[None, :, None, None]  # (b, T, H, W)
        labels, count = ndimage.label(masks.reshape(-1, h, w), structure=_STACK_8)
        out[start: start + len(block)] = _count_per_slice(labels, count).reshape(len(block), -1)
    return out


def euler_curves(images: Any, thresholds: Any) -> np.ndarray:
    """Euler characteristic ``beta0 - beta1`` of each sublevel set, on a grid of thresholds.

    Parameters
    ----------
    images : array (H, W) or (..., H, W) of real numbers (bool, int or float), finite.
    thresholds : 1-D strictly increasing sequence of T finite numbers (or one number).

    Returns
    -------
    int64 array (..., T): ``chi[..., k] = V - E + F`` of the complex of the pixels ``<= t[k]``.
    """
    x = _check_images(images)
    t = _check_thresholds(thresholds)
    batch = x.shape[:-2]
    return _euler(x.reshape(-1, *x.shape[-2:]), t).reshape(*batch, len(t))


def betti_curves(images: Any, thresholds: Any) -> tuple[np.ndarray, np.ndarray]:
    """Betti curves ``(beta0, beta1)`` of the sublevel-set filtration of grayscale images.

    ``beta0[..., k]`` counts the connected components (8-connected) of the pixels with value
    ``<= thresholds[k]``, ``beta1[..., k]`` the holes in them (bounded 4-connected regions of the
    other pixels). They equal the persistence intervals ``birth <= t < death`` of dimensions 0
    and 1 of ``gudhi.CubicalComplex(top_dimensional_cells=image)``.

    Parameters
    ----------
    images : array (H, W) or (..., H, W) of real numbers (bool, int or float), finite; a torch
        tensor on the CPU works too. Every leading axis is a batch axis.
    thresholds : 1-D strictly increasing sequence of T finite numbers (or one number), in the
        units of the images (e.g. ``numpy.linspace(0, 1, 100)`` for images in [0, 1]).

    Returns
    -------
    beta0, beta1 : int64 arrays (..., T).

    Examples
    --------
    >>> import numpy as np
    >>> ring = np.array([[0, 0, 0], [0, 9, 0], [0, 0, 0]])
    >>> b0, b1 = betti_curves(ring, [0, 9])
    >>> b0.tolist(), b1.tolist()
    ([1, 1], [1, 0])
    """
    x = _check_images(images)
    t = _check_thresholds(thresholds)
    batch = x.shape[:-2]
    x = x.reshape(-1, *x.shape[-2:])
    b0 = _components(x, t)
    b1 = b0 - _euler(x, t)
    return b0.reshape(*batch, len(t)), b1.reshape(*batch, len(t))
