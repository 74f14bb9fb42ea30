"""Chromophores from RGB photographs: optical density, sparse (SCA) initialisation, ALS-NMF.

The Beer–Lambert model of a photograph of skin or mucosa: in each colour band ``i`` the optical
density (OD) ``b_i = -log(reflectance_i)`` is a non-negative mix of chromophore concentrations,
``X = M C`` with ``X`` (3 bands × N pixels), ``M`` (3 × 3, band × chromophore) and ``C``
(3 chromophores × N pixels). Rows of ``X`` and ``M`` are ordered **blue, green, red** and the
chromophores **oxy-haemoglobin, deoxy-haemoglobin, melanin**, as in Zokay and Saylani (MIUA 2023).

- ``rgb_to_od`` and ``to_mixtures`` / ``to_image`` turn an RGB image into ``X`` and back;
- ``sca_mixing_matrix`` estimates ``M`` up to column scale from single-source zones (ratios of
  bands that stay constant where only one chromophore is present);
- ``als_nmf`` is the paper's alternating least squares with clipping, batched over images;
- ``match_columns``, ``column_angles``, ``normalise_first_row`` and ``sir_db`` compare an estimate
  with a reference; ``chromophore_criterion`` and ``band_criterion`` are the paper's eqs. 22, 24.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from dentpy import _checks

__all__ = [
    "BANDS",
    "CHROMOPHORES",
    "M_EMP",
    "NMFResult",
    "als_nmf",
    "band_criterion",
    "chromophore_criterion",
    "classical_inversion",
    "column_angles",
    "match_columns",
    "normalise_first_row",
    "patch_order",
    "rgb_to_od",
    "sca_mixing_matrix",
    "sir_db",
    "to_image",
    "to_mixtures",
]

BANDS = ("blue", "green", "red")
CHROMOPHORES = ("oxy-Hb", "deoxy-Hb", "melanin")
#: The paper's empirical mixing matrix (its eq. 23): rows blue, green, red (473, 532, 620 nm);
#: columns oxy-Hb, deoxy-Hb, melanin. Absorption times optical path length, arbitrary units.
M_EMP = np.array([[15.37, 7.55, 76.00],
                  [35.23, 32.60, 82.86],
                  [1.54, 10.21, 97.21]])


# ----------------------------------------------------------------------------- argument checks
def _array(name: str, value: object, ndim: tuple[int, ...], *, nonnegative: bool = False,
           ) -> np.ndarray:
    """``value`` as a finite, non-empty float64 array of real numbers (bool excluded)."""
    array = _checks.array(name, value, ndim=ndim, kind=None, finite=False)
    if array.dtype.kind not in "iuf":
        raise _checks.ArgumentTypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        raise _checks.ArgumentError(f"{name} must be finite (no NaN or inf)")
    if nonnegative and array.min() < 0:
        raise _checks.ArgumentError(
            f"{name} must be non-negative, got a minimum of {array.min():.3g}")
    return array


def _mixtures(name: str, value: object, *, batch: bool = False) -> np.ndarray:
    X = _array(name, value, (2, 3) if batch else (2,), nonnegative=True)
    if X.shape[-2] != 3:
        raise _checks.ArgumentError(
            f"{name} must have 3 rows (blue, green, red), got shape {X.shape}")
    return X


def _positive_int(name: str, value: object, minimum: int = 1) -> int:
    return _checks.integer(name, value, low=minimum)


def _positive_float(name: str, value: object, *, allow_zero: bool = False) -> float:
    return _checks.number(name, value, low=0.0, low_open=not allow_zero)


def _shape(shape: object) -> tuple[int, int]:
    """An image shape ``(H, W)`` of two positive ints."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise _checks.ArgumentTypeError(
            f"shape must be (H, W) with positive ints, got {_checks.describe(shape)}")
    try:
        return (_checks.integer("shape H", shape[0], low=1),
                _checks.integer("shape W", shape[1], low=1))
    except _checks.ArgumentError as err:
        raise type(err)(f"shape must be (H, W) with positive ints, got {shape!r}: {err}") from None


def _mask(name: str, value: object, n: int) -> np.ndarray:
    mask = _checks.array(name, value, ndim=(1, 2), kind=None, nonempty=False)
    if mask.dtype != bool:
        raise _checks.ArgumentTypeError(
            f"{name} must be a boolean mask, got dtype {mask.dtype}")
    mask = mask.reshape(-1, order="F") if mask.ndim == 2 else mask
    if mask.size != n:
        raise _checks.ArgumentError(
            f"{name} must have one entry per pixel ({n}), got shape {np.shape(value)}")
    if not mask.any():
        raise _checks.ArgumentError(f"{name} must select at least one pixel")
    return mask


# ------------------------------------------------------------------------- optical density
def rgb_to_od(rgb: object, *, eps: float = 1 / 255) -> np.ndarray:
    """Optical density ``-log(reflectance)`` of an RGB image, channel by channel.

    ``rgb``: floats in [0, 1] or ``uint8`` (divided by 255), any shape. Values are clipped to
    ``[eps, 1]`` first, so a black pixel gives a finite density and no density is negative.
    """
    eps = _positive_float("eps", eps)
    if eps >= 1:
        raise _checks.ArgumentError(f"eps must be below 1, got {eps!r}")
    rgb = _checks.array("rgb", rgb, ndim=(1, 2, 3, 4), kind=None, finite=False)
    if rgb.dtype == np.uint8:  # a NumPy array or a torch tensor of 8-bit values
        rgb = rgb.astype(np.float64) / 255.0
    values = _array("rgb", rgb, tuple(range(1, 5)))
    if values.min() < 0 or values.max() > 1:
        raise _checks.ArgumentError(
            f"rgb must lie in [0, 1] (or be uint8), got [{values.min():.3g}, "
            f"{values.max():.3g}]")
    return -np.log(np.clip(values, eps, 1.0))


def to_mixtures(od: object) -> np.ndarray:
    """The paper's ``X``: an (H, W, 3) density image in R, G, B channel order → (3, H·W).

    Rows are blue, green, red (the paper's band order); pixels are listed column after column
    (the paper's vectorisation ``f``), so consecutive entries run down the image's columns.
    """
    od = _array("od", od, (3,), nonnegative=True)
    if od.shape[2] != 3:
        raise _checks.ArgumentError(f"od must have shape (H, W, 3), got {od.shape}")
    return np.stack([od[:, :, c].reshape(-1, order="F") for c in (2, 1, 0)])


def to_image(row: object, shape: tuple[int, int]) -> np.ndarray:
    """Undo the vectorisation of :func:`to_mixtures` for one row (or (k, N) rows): (…, H, W)."""
    values = _array("row", row, (1, 2))
    h, w = _shape(shape)
    if values.shape[-1] != h * w:
        raise _checks.ArgumentError(
            f"row must have H·W = {h * w} entries per row, got {values.shape[-1]}")
    return values.reshape(*values.shape[:-1], w, h).swapaxes(-1, -2)


def patch_order(shape: tuple[int, int], patch: int) -> np.ndarray:
    """Column order that lists the (patch × patch) squares of an (H, W) image one after another.

    ``X[:, patch_order(shape, p)]`` turns the paper's 1-D slices of length ``p * p`` into 2-D
    square zones. Rows and columns beyond a multiple of ``patch`` are left out.
    """
    h, w = _shape(shape)
    patch = _positive_int("patch", patch)
    if patch > min(h, w):
        raise _checks.ArgumentError(f"patch must be at most min(H, W) = {min(h, w)}, got {patch}")
    index = np.arange(h * w).reshape(w, h).T  # index[r, c] of pixel (r, c) in column order
    gh, gw = h // patch, w // patch
    blocks = index[:gh * patch, :gw * patch].reshape(gh, patch, gw, patch)
    return blocks.transpose(2, 0, 3, 1).reshape(-1)  # patches column after column, each
    # patch column-major inside


def classical_inversion(X: object, M: object = M_EMP) -> np.ndarray:
    """The "3 × 3 technique": concentrations ``M⁻¹ X`` for a known mixing matrix (default: the
    paper's ``M_EMP``). Nothing keeps them non-negative when ``M`` is not the image's own."""
    X = _mixtures("X", X)
    M = _array("M", M, (2,))
    if M.shape != (3, 3):
        raise _checks.ArgumentError(f"M must be 3 × 3, got shape {M.shape}")
    if abs(np.linalg.det(M)) < 1e-12 * np.abs(M).max() ** 3:
        raise _checks.ArgumentError("M must be invertible")
    return np.linalg.solve(M, X)


# --------------------------------------------------------------------------------- SCA
def sca_mixing_matrix(
    X: object,
    *,
    zone: int = 16,
    n_sources: int = 3,
    min_angle_deg: float = 5.0,
    min_signal: float = 0.1,
    order: object | None = None,
    return_zones: bool = False,
):
    """Estimate the mixing matrix up to column scale from single-source zones (Abrard & Deville).

    Where only chromophore ``j`` is present, ``b_2 / b_1`` and ``b_3 / b_1`` equal ``m_2j / m_1j``
    and ``m_3j / m_1j`` at every pixel, so their variance over the zone is zero. The pixels (in
    the order ``order``, default as given) are cut into consecutive zones of ``zone`` pixels;
    zones whose mean blue density is below ``min_signal`` times the largest zone mean are skipped
    (ratios of near-zero densities are noise). Zones are ranked by the sum of the variances of the
    two ratios; the first gives column 1 ``[1, mean b_2/b_1, mean b_3/b_1]``, and each next
    zone in the ranking whose column is more than ``min_angle_deg`` from every column found so
    far gives the next column, until ``n_sources`` are found.

    Returns the (3, n_sources) estimate with a first row of ones (``M'`` of the paper, columns
    in the order found), and with ``return_zones`` also the indices of the chosen zones.
    Raises ``RuntimeError`` if fewer than ``n_sources`` distinct zones exist.
    """
    X = _mixtures("X", X)
    zone = _positive_int("zone", zone, minimum=2)
    n_sources = _positive_int("n_sources", n_sources)
    if n_sources > 3:
        raise _checks.ArgumentError(
            f"n_sources must be at most 3 (the number of bands), got {n_sources}")
    min_angle = _positive_float("min_angle_deg", min_angle_deg, allow_zero=True)
    if min_angle >= 90:
        raise _checks.ArgumentError(f"min_angle_deg must be below 90, got {min_angle_deg!r}")
    min_signal = _positive_float("min_signal", min_signal, allow_zero=True)
    if min_signal >= 1:
        raise _checks.ArgumentError(f"min_signal must be below 1, got {min_signal!r}")
    return_zones = _checks.flag("return_zones", return_zones)
    if order is not None:
        order = _checks.array("order", order, ndim=1, kind=None)
        if (not np.issubdtype(order.dtype, np.integer)
                or order.min() < 0 or order.max() >= X.shape[1]):
            raise _checks.ArgumentError(f"order must be a 1-D array of column indices of X (0 to "
                             f"{X.shape[1] - 1})")
        X = X[:, order]
    n_zones = X.shape[1] // zone
    if n_zones < n_sources:
        raise _checks.ArgumentError(
            f"zone={zone} leaves {n_zones} zone(s) for {n_sources} sources; "
            f"use a shorter zone")
    Z = X[:, :n_zones * zone].reshape(3, n_zones, zone)
    level = Z[0].mean(axis=1)
    usable = level > min_signal * level.max()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = Z[1:] / Z[0]  # (2, zones, zone)
        usable &= np.all(Z[0] > 0, axis=1)
        score = np.where(usable, ratios.var(axis=2).sum(axis=0), np.inf)
        means = ratios.mean(axis=2)
    columns: list[np.ndarray] = []
    chosen: list[int] = []
    for z in np.argsort(score, kind="stable"):
        if not usable[z]:
            break
        candidate = np.array([1.0, means[0, z], means[1, z]])
        if all(column_angles(candidate[:, None], c[:, None])[0, 0] > min_angle for c in columns):
            columns.append(candidate)
            chosen.append(int(z))
            if len(columns) == n_sources:
                break
    if len(columns) < n_sources:
        raise RuntimeError(f"found {len(columns)} distinct single-source zone(s), needed "
                           f"{n_sources}; try a smaller zone, min_angle_deg or min_signal")
    estimate = np.stack(columns, axis=1)
    return (estimate, np.array(chosen)) if return_zones else estimate


# --------------------------------------------------------------------------------- NMF (ALS)
@dataclass
class NMFResult:
    """What :func:`als_nmf` returns. ``A`` (…, 3, k), ``S`` (…, k, N), ``loss`` (steps, …): the
    loss ½‖X − AS‖² after each step (a stopped problem repeats its last value), ``n_iter`` (…)."""

    A: np.ndarray
    S: np.ndarray
    loss: np.ndarray
    n_iter: np.ndarray


def als_nmf(X: object, A0: object, *, max_iter: int = 1000, tol: float = 1e-6) -> NMFResult:
    """Non-negative factorisation ``X ≈ A S`` by the paper's alternating least squares.

    Each step: ``S = (AᵀA)⁻¹AᵀX`` with negatives set to 0, then ``A = XSᵀ(SSᵀ)⁻¹`` with negatives
    set to 0 (pseudo-inverses, so a column that dies does not stop the run). A problem stops when
    one step lowers the loss by less than ``tol`` times its loss after the first step, or after
    ``max_iter`` steps. ``X`` (3, N) with ``A0`` (3, k), or a batch: ``X`` (B, 3, N) with ``A0``
    (B, 3, k) or (3, k); each problem of a batch stops on its own, with the same result as alone.
    """
    X = _mixtures("X", X, batch=True)
    A = _array("A0", A0, (2, 3), nonnegative=True)
    max_iter = _positive_int("max_iter", max_iter)
    tol = _positive_float("tol", tol, allow_zero=True)
    single = X.ndim == 2
    if single and A.ndim == 3:
        raise _checks.ArgumentError(f"A0 must be (3, k) for a single X, got shape {A.shape}")
    if A.shape[-2] != 3:
        raise _checks.ArgumentError(f"A0 must have 3 rows, got shape {A.shape}")
    Xb = X[None] if single else X
    Ab = np.broadcast_to(A, (Xb.shape[0], *A.shape[-2:])).copy() if A.ndim == 2 else A.copy()
    if Ab.shape[0] != Xb.shape[0]:
        raise _checks.ArgumentError(f"A0 has {Ab.shape[0]} problems but X has {Xb.shape[0]}")
    if not np.all(np.abs(Ab).sum(axis=1) > 0):
        raise _checks.ArgumentError("A0 must not have an all-zero column")
    n_problems, k, n = Xb.shape[0], Ab.shape[2], Xb.shape[2]
    A_out, S_out = Ab.copy(), np.zeros((n_problems, k, n))
    n_iter = np.zeros(n_problems, int)
    first, last = np.zeros(n_problems), np.zeros(n_problems)
    losses: list[np.ndarray] = []
    # the working set holds the problems still running (and, until it is compacted, some that
    # stopped); (B, k, N) arrays live in one buffer, since fresh arrays of that size at every
    # step cost more (page faults) than the arithmetic itself
    where = np.arange(n_problems)  # working row -> problem
    running = np.ones(n_problems, bool)  # per working row
    Xw, Aw = Xb, Ab
    squared = np.einsum("bin,bin->b", Xw, Xw)
    buffer = np.empty((n_problems, k, n))
    for step in range(max_iter):
        At = Aw.swapaxes(1, 2)
        np.matmul(At, Xw, out=buffer)
        S = np.matmul(np.linalg.pinv(At @ Aw), buffer, out=buffer)  # (AᵀA)⁻¹AᵀX
        np.maximum(S, 0.0, out=S)
        gram = S @ S.swapaxes(1, 2)  # S Sᵀ, (B, k, k)
        cross = S @ Xw.swapaxes(1, 2)  # S Xᵀ, (B, k, 3)
        Aw = np.maximum(np.linalg.pinv(gram) @ cross, 0.0).swapaxes(1, 2)  # X Sᵀ (S Sᵀ)⁻¹
        # ½‖X − AS‖² = ½(‖X‖² − 2 tr(Aᵀ X Sᵀ) + tr(AᵀA S Sᵀ)), without an N-sized temporary
        loss = 0.5 * (squared - 2 * np.einsum("bik,bki->b", Aw, cross)
                      + np.einsum("bkj,bjk->b", Aw.swapaxes(1, 2) @ Aw, gram))
        ids = where[running]
        n_iter[ids] += 1
        if step == 0:
            first[ids] = loss[running]
            stopped = np.zeros(len(where), bool)
        else:
            stopped = running & (last[where] - loss < tol * first[where])
        last[ids] = loss[running]
        losses.append(last.copy())
        if step == max_iter - 1:
            stopped = running.copy()
        if stopped.any():
            A_out[where[stopped]] = Aw[stopped]
            S_out[where[stopped]] = S[stopped]
            running &= ~stopped
        if not running.any():
            break
        if running.sum() <= len(where) // 2:  # compact the working set
            Xw, Aw, squared = Xw[running], Aw[running], squared[running]
            where = where[running]
            running = np.ones(len(where), bool)
            buffer = np.empty((len(where), k, n))
    loss_history = np.stack(losses)
    if single:
        return NMFResult(A_out[0], S_out[0], loss_history[:, 0], n_iter[0])
    return NMFResult(A_out, S_out, loss_history, n_iter)


# ------------------------------------------------------------------------ comparing estimates
def column_angles(A: object, B: object) -> np.ndarray:
    """Angles in degrees between every column of ``A`` (3, k) and every column of ``B`` (3, m):
    a (k, m) matrix. Scale-free, so an unnormalised estimate compares with a reference directly.
    A zero column is 90° from everything."""
    A = _array("A", A, (2,))
    B = _array("B", B, (2,))
    if A.shape[0] != B.shape[0]:
        raise _checks.ArgumentError(
            f"A and B must have the same number of rows, got {A.shape}, {B.shape}")
    na, nb = np.linalg.norm(A, axis=0), np.linalg.norm(B, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosine = (A / na).T @ (B / nb)
    cosine = np.where(np.isfinite(cosine), cosine, 0.0)
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def match_columns(A: object, reference: object) -> tuple[np.ndarray, np.ndarray]:
    """Which column of ``A`` is which column of ``reference`` (both (3, k)).

    Returns ``(perm, angles)``: ``A[:, perm]`` lines up with ``reference`` (the assignment with
    the smallest total angle, Hungarian algorithm), and ``angles[j]`` is the angle in degrees
    between ``A[:, perm[j]]`` and ``reference[:, j]``.
    """
    cost = column_angles(A, reference)
    if cost.shape[0] != cost.shape[1]:
        raise _checks.ArgumentError(f"A and reference must have the same number of columns, got "
                         f"{cost.shape[0]} and {cost.shape[1]}")
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty_like(rows)
    perm[cols] = rows
    return perm, cost[perm, np.arange(cost.shape[1])]


def normalise_first_row(A: object, S: object) -> tuple[np.ndarray, np.ndarray]:
    """Divide each column of ``A`` by its first entry and scale ``S``'s rows back, so ``A @ S``
    is unchanged and ``A`` reads as the paper's ``M'`` (first row of ones). A column whose first
    entry is 0 cannot be put in that form; it is divided by its largest entry instead."""
    A = _array("A", A, (2,), nonnegative=True)
    S = _array("S", S, (2,))
    if A.shape[1] != S.shape[0]:
        raise _checks.ArgumentError(f"A has {A.shape[1]} columns but S has {S.shape[0]} rows")
    scale = np.where(A[0] > 0, A[0], A.max(axis=0))
    scale = np.where(scale > 0, scale, 1.0)
    return A / scale, S * scale[:, None]


def sir_db(C: object, C_hat: object) -> np.ndarray:
    """Signal-to-interference ratio in dB of each estimated source (rows already matched).

    Each estimate is first scaled by least squares onto its true source (separation leaves the
    scale free), then ``SIR_j = 10 log10(‖c_j‖² / ‖c_j − α ĉ_j‖²)``.
    """
    C = _array("C", C, (2,))
    C_hat = _array("C_hat", C_hat, (2,))
    if C.shape != C_hat.shape:
        raise _checks.ArgumentError(
            f"C and C_hat must have the same shape, got {C.shape}, {C_hat.shape}")
    power = (C**2).sum(axis=1)
    if np.any(power == 0):
        raise _checks.ArgumentError("C must have no all-zero source")
    denom = (C_hat**2).sum(axis=1)
    alpha = np.where(denom > 0, (C * C_hat).sum(axis=1) / np.where(denom > 0, denom, 1), 0.0)
    error = ((C - alpha[:, None] * C_hat) ** 2).sum(axis=1)
    return 10 * np.log10(power / np.maximum(error, power * 1e-16))


# ------------------------------------------------------------------------------- criteria
def chromophore_criterion(A: object, S: object, mask: object) -> np.ndarray:
    """The paper's eq. 22: ``C_j = (1 / N_R) Σ_{v ∈ R} Σ_i a_ij s_j(v)`` for each source ``j``.

    The contribution of source ``j`` to all three bands, averaged over the region ``mask``
    (an (H, W) mask in the image's layout, or N entries in ``X``'s column order). Equal to
    ``A[:, j].sum() * S[j, mask].mean()``, so it does not depend on how ``A``'s columns are scaled.
    """
    A = _array("A", A, (2,), nonnegative=True)
    S = _array("S", S, (2,))
    if A.shape[1] != S.shape[0]:
        raise _checks.ArgumentError(f"A has {A.shape[1]} columns but S has {S.shape[0]} rows")
    mask = _mask("mask", mask, S.shape[1])
    return A.sum(axis=0) * S[:, mask].mean(axis=1)


def band_criterion(X: object, mask: object) -> np.ndarray:
    """The paper's eq. 24: ``B_i``, the mean density of band ``i`` over the region ``mask``."""
    X = _mixtures("X", X)
    mask = _mask("mask", mask, X.shape[1])
    return X[:, mask].mean(axis=1)
