"""Differentiable auto-cropping (DAC): find the region of interest by gradient ascent, then crop.

After Top, Yeniad, Özdoğan and Nar (2024). A soft rectangle built from sigmoids (eqs. 1-2) is
laid over a max-minus-min pooled copy of the image (eq. 5); the ratio of the mean inside to the
mean outside (eq. 3) is maximised over the rectangle's centre and size by gradient ascent (eq. 4),
in stages that sharpen the rectangle and shorten the step (Algorithm 1). The crop is then resized
to a fixed output size without distorting the aspect ratio.

The paper's search is ``find_roi(..., aspect="image", contrast_scale=255)``. By default the
window is a band that bends with the arch, its thickness searched apart from its width, and the
contrast map is read in units of its mean, which fits off-centre, smiling or frowning jaws
better on the worlds of ``tests/test_dac_worlds.py`` (see :func:`find_roi`).

Coordinates: the search runs on the pooled grid, where pooled pixel ``j`` sits at ``x = j``
and covers input pixels ``[j*k, (j+1)*k)``. Boxes are returned as ``(x0, y0, x1, y1)`` in input
pixel-edge coordinates (``x0 = 0`` is the left edge of the image, ``x1 = W`` its right edge).
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dentpy import _checks

__all__ = [
    "AutoCrop", "auto_crop", "dac_cost", "find_roi", "fit_aspect", "max_min_dif", "rect_window",
]

_EPS = 1e-6  # keeps the two means of eq. 3 finite when the window covers all or nothing
_RMIN_FRAC = 1 / 3.5  # r_min = w / 3.5 (Algorithm 1)
_R0_FRAC = 1 / 2.3  # initial r_total = w / 2.3 (Algorithm 1)

Number = float | Tensor


def _param(name: str, value: Number, *, positive: bool = False) -> Number:
    """A window parameter: a finite Python number or a finite tensor of shape ``()`` or ``(B,)``
    (``> 0`` everywhere when ``positive``). The value is returned as it came (autograd intact;
    an array or a list is converted later, at the window's precision)."""
    if not isinstance(value, Tensor | numbers.Real | str | bytes) and value is not None:
        checked = _checks.tensor(name, value, ndim=(0, 1), kind="number")
        if positive and bool((checked <= 0).any()):
            raise _checks.ArgumentError(f"{name} must be > 0, got {_checks.describe(value)}")
        return value
    if isinstance(value, Tensor):
        _checks.tensor(name, value, ndim=(0, 1), kind="number")
        if positive and bool((value <= 0).any()):
            raise _checks.ArgumentError(f"{name} must be > 0, got {_checks.describe(value)} "
                                        f"with minimum {float(value.min())}")
        return value
    if positive:
        return _checks.number(name, value, low=0.0, low_open=True)
    return _checks.number(name, value)


def _check_k(k: int) -> int:
    return _checks.integer("k", k, low=1)  # pooling window and stride


def _sigmoid_pair(coord: Tensor, centre: Tensor, half: Tensor, gamma: Tensor) -> Tensor:
    """1D soft box: sigma(gamma (t - (c - h))) * sigma(gamma ((c + h) - t)); shape (..., n)."""
    t = coord - centre[..., None]
    g = gamma[..., None]
    return torch.sigmoid(g * (t + half[..., None])) * torch.sigmoid(g * (half[..., None] - t))


def rect_window(
    h: int,
    w: int,
    xc: Number,
    yc: Number,
    r_total: Number,
    alpha: Number,
    gamma: Number,
) -> Tensor:
    """Soft rectangle of eq. 2, sampled at integer pixel positions.

    ``R(x, y) = A * B`` with ``A = sigma(x - (xc - r), y - (yc - alpha r), gamma)`` and
    ``B = sigma((xc + r) - x, (yc + alpha r) - y, gamma)``, ``sigma(u, v, g)`` the product of two
    logistic functions of ``g u`` and ``g v`` (eq. 1). Half-width ``r_total``, half-height
    ``alpha * r_total`` (pixels), sharpness ``gamma`` (1/pixel).

    Parameters are Python numbers or tensors of shape ``()`` or ``(B,)``; the result is
    ``(h, w)`` when all are scalars, else ``(B, h, w)``, float (float64 if any input is).
    Differentiable in every tensor parameter.
    """
    h = _checks.integer("h", h, low=1)
    w = _checks.integer("w", w, low=1)
    raw = (_param("xc", xc), _param("yc", yc), _param("r_total", r_total),
           _param("alpha", alpha, positive=True), _param("gamma", gamma, positive=True))
    # float64 if any tensor parameter is; Python numbers are converted at that precision
    dtype = (torch.float64 if any(isinstance(p, Tensor) and p.dtype == torch.float64 for p in raw)
             else torch.float32)
    params = [torch.as_tensor(p, dtype=dtype) if not isinstance(p, Tensor) else p.to(dtype)
              for p in raw]
    batched = any(p.ndim > 0 for p in params)
    sizes = {name: p.shape[0] for name, p in zip(("xc", "yc", "r_total", "alpha", "gamma"),
                                                  params, strict=True) if p.ndim == 1}
    if len(set(sizes.values()) - {1}) > 1:
        raise _checks.ArgumentError(
            f"xc, yc, r_total, alpha and gamma must be scalars or (B,) tensors of one length B, "
            f"got lengths {sizes}")
    xc_, yc_, r_, a_, g_ = torch.broadcast_tensors(*[p.reshape(-1) for p in params])
    xs = torch.arange(int(w), dtype=dtype, device=xc_.device)
    ys = torch.arange(int(h), dtype=dtype, device=xc_.device)
    win = _sigmoid_pair(ys, yc_, a_ * r_, g_)[:, :, None] * _sigmoid_pair(xs, xc_, r_, g_)[:, None]
    return win if batched else win[0]


def max_min_dif(x: Tensor, k: int = 10) -> Tensor:
    """Local contrast ``maxPool(x) - minPool(x)`` with window = stride = ``k`` (eq. 5).

    ``minPool(x) = -maxPool(-x)``. Input ``(H, W)`` or ``(B, 1, H, W)``, floating point; output
    ``(H // k, W // k)`` or ``(B, 1, H // k, W // k)``, in the input's units. Trailing rows and
    columns that do not fill a whole window are dropped, as ``F.max_pool2d`` does.
    """
    k = _check_k(k)
    if not isinstance(x, Tensor) or x.ndim not in (2, 4) or (x.ndim == 4 and x.shape[1] != 1):
        error = _checks.ArgumentTypeError if not isinstance(x, Tensor) else _checks.ArgumentError
        raise error(
            f"x must be a tensor of shape (H, W) or (B, 1, H, W), got {_checks.describe(x)}")
    if not x.is_floating_point():
        raise _checks.ArgumentTypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    if x.numel() == 0:
        raise _checks.ArgumentError(f"x must be non-empty, got {_checks.describe(x)}")
    # NaN or inf: NaN propagates through min and max, and an infinity is one of them, so one
    # cheap reduction replaces an elementwise isfinite over the whole image
    if not bool(torch.isfinite(torch.stack(torch.aminmax(x))).all()):
        raise _checks.ArgumentError(
            f"x must be finite (no NaN or inf), got {_checks.describe(x)}")
    if x.shape[-1] < k or x.shape[-2] < k:
        raise _checks.ArgumentError(
            f"x of size {tuple(x.shape[-2:])} is smaller than the window k={k}")
    out = _max_min(x[None, None] if x.ndim == 2 else x, k)
    return out[0, 0] if x.ndim == 2 else out


def _max_min(x4: Tensor, k: int) -> Tensor:
    """:func:`max_min_dif` of a checked ``(B, 1, H, W)`` tensor."""
    b, h, w = x4.shape[0], x4.shape[-2] // k, x4.shape[-1] // k
    # the same as F.max_pool2d(x, k) + F.max_pool2d(-x, k), several times faster on a CPU:
    # first down each band of k rows (an elementwise max/min of whole rows, which vectorises
    # along the contiguous row), then across each window's k columns on the k-times smaller
    # result. Max and min are exact, so the order of the reductions does not change the map.
    bands = x4[..., : h * k, : w * k].reshape(b, 1, h, k, w * k)
    top = bands.amax(3).reshape(b, 1, h, w, k).amax(4)
    bottom = bands.amin(3).reshape(b, 1, h, w, k).amin(4)
    return top - bottom


def dac_cost(
    s: Tensor,
    xc: Number,
    yc: Number,
    r: Number,
    r_min: Number,
    alpha: Number,
    gamma: Number,
) -> Tensor:
    """DAC cost of eq. 3: ``f_inside / (f_outside + 1)``.

    ``f_inside`` is the mean of ``s`` weighted by the window ``z = rect_window(..., r_min + r,
    ...)``, ``f_outside`` its mean weighted by ``1 - z``. ``s`` is ``(h, w)`` or ``(B, h, w)``
    (non-negative, e.g. the output of :func:`max_min_dif`); parameters are scalars or ``(B,)``.
    An integer or boolean ``s`` is computed in float32 (the same cost as ``s.float()``).
    Returns ``()`` or ``(B,)``. A tiny constant (1e-6) is added to both weight sums, so a
    window that covers everything or nothing gives a finite cost.
    """
    if not isinstance(s, Tensor):
        raise _checks.ArgumentTypeError(
            f"s must be a tensor of shape (h, w) or (B, h, w), got {_checks.describe(s)}")
    if s.ndim not in (2, 3):
        raise _checks.ArgumentError(
            f"s must be a tensor of shape (h, w) or (B, h, w), got {_checks.describe(s)}")
    _checks.tensor("s", s, kind="number")  # non-empty, no NaN or inf
    if not s.is_floating_point():
        s = s.float()  # an integer window would round the soft rectangle to 0
    r_min, r = _param("r_min", r_min, positive=True), _param("r", r)
    r_total = torch.as_tensor(r_min) + torch.as_tensor(r)
    z = rect_window(s.shape[-2], s.shape[-1], xc, yc, r_total, alpha, gamma).to(s.dtype)
    if s.ndim == 3 and z.ndim == 3 and z.shape[0] not in (1, s.shape[0]):
        raise _checks.ArgumentError(
            f"s has {s.shape[0]} maps but the parameters give {z.shape[0]} windows")
    sz, s_sum = (s * z).sum((-2, -1)), s.sum((-2, -1))
    z_sum = z.sum((-2, -1))
    f_in = sz / (z_sum + _EPS)
    f_out = (s_sum - sz) / (s.shape[-2] * s.shape[-1] - z_sum + _EPS)
    return f_in / (f_out + 1)


def _cost_and_grad(
    s: Tensor, theta: Tensor, r_min: Tensor, alpha: Tensor, gamma: Tensor
) -> tuple[Tensor, Tensor]:
    """Cost of eq. 3 and its analytic gradient w.r.t. the window's parameters ``theta``, batched.

    ``theta`` is ``(B, 3)``, ``(xc, yc, r)``: the paper's window, half-width ``r_min + r`` and
    half-height ``alpha (r_min + r)``; or ``(B, 4)``, ``(xc, yc, r_x, r_y)``: a window of free
    aspect, half-width ``r_min + r_x`` and half-height ``alpha r_min + r_y`` (pooled pixels).
    Uses that the window is separable, ``z[i, j] = Y[i] X[j]``, so every sum is a cheap
    vector-matrix-vector product. ``s`` is ``(B, h, w)``; the others ``(B,)``. Returns ``(B,)``
    and the gradient, shaped like ``theta``; plain torch ops, so autograd can run through it.
    """
    h, w = s.shape[-2:]
    xc, yc = theta[:, 0], theta[:, 1]
    half_x = r_min + theta[:, 2]
    half_y = alpha * half_x if theta.shape[-1] == 3 else alpha * r_min + theta[:, 3]
    g = gamma[:, None]

    def soft_box(n: int, c: Tensor, half: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        t = torch.arange(n, dtype=s.dtype, device=s.device) - c[:, None]
        p = torch.sigmoid(g * (t + half[:, None]))
        q = torch.sigmoid(g * (half[:, None] - t))
        box = p * q
        return box, g * box * (p - q), g * box * (2 - p - q)  # value, d/dcentre, d/dhalf

    bx, bx_c, bx_h = soft_box(w, xc, half_x)
    by, by_c, by_h = soft_box(h, yc, half_y)
    # (B, 3, h) @ (B, h, w): the y profile and its two derivatives summed down each column
    ys, ysc, ysh = torch.bmm(torch.stack([by, by_c, by_h], 1), s).unbind(1)
    sz = (ys * bx).sum(-1)
    # derivatives w.r.t. (xc, yc, half_x, half_y)
    sz_grad = torch.stack(
        [(ys * bx_c).sum(-1), (ysc * bx).sum(-1), (ys * bx_h).sum(-1), (ysh * bx).sum(-1)], -1
    )
    ex, ey = bx.sum(-1), by.sum(-1)
    z_sum = ex * ey
    z_grad = torch.stack(
        [ey * bx_c.sum(-1), ex * by_c.sum(-1), ey * bx_h.sum(-1), ex * by_h.sum(-1)], -1
    )
    s_sum = s.sum((-2, -1))
    z_in = (z_sum + _EPS)[:, None]
    z_out = (h * w - z_sum + _EPS)[:, None]
    f_in = sz / z_in[:, 0]
    f_out = (s_sum - sz) / z_out[:, 0]
    d_in = sz_grad / z_in - (f_in / z_in[:, 0])[:, None] * z_grad
    d_out = -sz_grad / z_out + (f_out / z_out[:, 0])[:, None] * z_grad
    denom = (f_out + 1)[:, None]
    grad = d_in / denom - f_in[:, None] * d_out / denom**2
    if theta.shape[-1] == 3:  # r moves both halves: d/dr = d/dhalf_x + alpha d/dhalf_y
        grad = torch.stack([grad[:, 0], grad[:, 1], grad[:, 2] + alpha * grad[:, 3]], -1)
    return f_in / (f_out + 1), grad


_BAND_FLOOR = 0.8  # a band's half-thickness >= 0.8 alpha r_min (the box's floor: alpha r_min)


def _band_tables(s: Tensor, gamma: float) -> tuple[Tensor, Tensor, float]:
    """Per-column tables of ``P(t) = sum_y s[y, x] sigmoid(gamma (y - t))`` and of ``dP/dt``.

    ``s`` is ``(B, h, w)``; ``t`` runs from ``-m`` to ``h + m``, ``m = min(h, 12 / gamma)``
    (beyond, ``P`` is flat to 1e-5), at the ``n_t`` whole pooled pixels. Returns the map's
    table ``(B, w, 2 n_t)``, row ``[b, x]`` holding ``P`` and ``dP/dt`` at ``t_0``, then at
    ``t_1``, ... for column ``x`` of map ``b``; the same for a column of ones (the window's own
    mass) as ``(n_t - 1, 4)``, row ``i`` holding both at ``t_i`` and ``t_i+1``; and the first
    ``t``. A band's column
    sum ``sum_y s D(y - c)`` with the soft interval ``D(v) = sigmoid(gamma (v + h_y)) -
    sigmoid(gamma (v - h_y))`` is then ``P(c - h_y) - P(c + h_y)``: two look-ups per column
    instead of a pass down it at every step.
    """
    h = s.shape[-2]
    margin = min(h, math.ceil(12 / gamma))  # past it each sigmoid is within 1e-5 of 0 or 1
    t0 = -float(margin)
    t = t0 + torch.arange(h + 2 * margin + 1, dtype=s.dtype, device=s.device)
    sig = torch.sigmoid(gamma * (torch.arange(h, dtype=s.dtype, device=s.device)[:, None] - t))
    both = torch.stack([sig, -gamma * sig * (1 - sig)], -1)  # (h, n_t, 2)
    mass = both.sum(0)
    return s.transpose(1, 2) @ both.flatten(1), torch.cat([mass[:-1], mass[1:]], -1), t0


def _band_cost_and_grad(
    tables: tuple[Tensor, Tensor, float], maps: Tensor, s_sum: Tensor, theta: Tensor,
    r_min: Tensor, alpha: Tensor, gamma: Tensor, h: int,
) -> tuple[Tensor, Tensor]:
    """Cost of eq. 3 for a curved band and its gradient w.r.t. ``theta`` (B, 5).

    ``theta = (xc, yc, r_x, r_y, bend)``: the band spans half-width ``r_min + r_x`` about
    ``xc`` with the soft profile of eq. 1; its centre line is ``y = yc + bend u^2``, ``u = (x -
    xc) / half_x`` clipped to [-1, 1] (so ``bend`` is its rise at both ends, pooled pixels: > 0
    a smile, < 0 a frown; past the ends the line runs level); across the line it is the soft
    interval of half-thickness ``_BAND_FLOOR alpha r_min + r_y``. Column sums come from
    :func:`_band_tables`, interpolated linearly (the slopes from their own table). ``maps`` (B,)
    says which map of the tables each band lies on, ``s_sum`` is that map's total. Returns
    ``(B,)`` and ``(B, 5)``.
    """
    table, mass, t0 = tables
    n_t, w = mass.shape[0] + 1, table.shape[1]
    xc, yc, bend = theta[:, 0:1], theta[:, 1:2], theta[:, 4:5]
    half_x = (r_min + theta[:, 2])[:, None]
    half_y = (_BAND_FLOOR * alpha * r_min + theta[:, 3])[:, None]
    g = gamma[:, None]
    t = torch.arange(w, dtype=theta.dtype, device=theta.device) - xc
    p, q = torch.sigmoid(g * (t + half_x)), torch.sigmoid(g * (half_x - t))
    box = p * q  # the soft span across x and its derivatives w.r.t. xc and half_x
    g_box = g * box
    box_c, box_h = g_box * (p - q), g_box * (2 - p - q)
    u = t / half_x
    flat = u.abs() >= 1  # past the span's ends the centre line runs on level
    u = u.clamp(-1, 1)
    u2 = u * u
    # both edges of the band in every column (lower, then upper) as positions in the tables
    # (spacing 1); P and dP/dt read at the two table points around each, interpolated linearly
    centre = yc - t0 + bend * u2
    pos = torch.cat([centre - half_y, centre + half_y], -1).clamp(0, n_t - 1)  # (B, 2w)
    j = pos.floor().clamp_max(n_t - 2)
    frac = (pos - j)[..., None]
    j = j.long()
    rows = (maps[:, None] * w + torch.arange(w, device=theta.device).repeat(2)) * n_t + j
    entries = table.reshape(-1)  # a view: overlapping rows of four, P_j, P'_j, P_j+1, P'_j+1
    read = F.embedding(rows, entries.as_strided((entries.numel() // 2 - 1, 4), (2, 1)))
    at = read[..., :2] + frac * (read[..., 2:] - read[..., :2])  # (B, 2w, 2)
    ones = F.embedding(j, mass)  # (B, 2w, 4)
    ones = ones[..., :2] + frac * (ones[..., 2:] - ones[..., :2])
    # per column, for s and for 1 (the window's mass): the sum inside the band (P at the lower
    # edge minus P at the upper), its derivative w.r.t. the centre line and w.r.t. the
    # half-thickness
    both = torch.stack([at, ones], 1).unflatten(2, (2, w))  # (B, 2, edge, w, P or dP/dt)
    diff = both[:, :, 0] - both[:, :, 1]
    per_column = torch.cat([diff.movedim(-1, 1),
                            -(both[:, :, 0, :, 1] + both[:, :, 1, :, 1])[:, None]], 1)
    # ... weighted by the span across x and by the centre line's derivatives (d/dyc = 1)
    bent = (-2 * bend / half_x) * box * ~flat
    weights = torch.stack([box, box_c, box_h, bent * u, bent * u2, box * u2], -1)  # (B, w, 6)
    r = torch.bmm(per_column.flatten(1, 2), weights)  # (B, 6, 6): rows (inside, d/dcentre,
    sums = r[:, 0:2, 0]  # d/dhalf_y) x (s, 1); the sums of s z and of z, then (B, 2, 5)
    grads = torch.stack([r[:, 0:2, 1] + r[:, 2:4, 3], r[:, 2:4, 0], r[:, 0:2, 2] + r[:, 2:4, 4],
                         r[:, 4:6, 0], r[:, 2:4, 5]], -1)
    sz, z_sum, sz_grad, z_grad = sums[:, 0], sums[:, 1], grads[:, 0], grads[:, 1]
    z_in = (z_sum + _EPS)[:, None]
    z_out = (h * w - z_sum + _EPS)[:, None]
    f_in, f_out = sz / z_in[:, 0], (s_sum - sz) / z_out[:, 0]
    d_in = sz_grad / z_in - (f_in / z_in[:, 0])[:, None] * z_grad
    d_out = -sz_grad / z_out + (f_out / z_out[:, 0])[:, None] * z_grad
    denom = (f_out + 1)[:, None]
    return f_in / (f_out + 1), d_in / denom - f_in[:, None] * d_out / denom**2


def _as_batch(images: Tensor, name: str = "images") -> Tensor:
    """Validate ``images`` and return it as float ``(B, 1, H, W)``."""
    if not isinstance(images, Tensor):
        raise _checks.ArgumentTypeError(
            f"{name} must be a torch.Tensor, got {_checks.describe(images)}")
    if images.ndim not in (2, 3, 4) or (images.ndim == 4 and images.shape[1] != 1):
        raise _checks.ArgumentError(
            f"{name} must have shape (H, W), (B, H, W) or (B, 1, H, W), got {tuple(images.shape)}"
        )
    if images.numel() == 0:
        raise _checks.ArgumentError(f"{name} is empty, shape {tuple(images.shape)}")
    if images.dtype == torch.bool or images.is_complex():
        raise _checks.ArgumentTypeError(
            f"{name} must have a real float or integer dtype, got {images.dtype}")
    x = images.reshape(-1, 1, *images.shape[-2:])
    x = x if x.is_floating_point() else x.to(torch.float32)
    # NaN propagates through min and max, and an infinity is one of them: one cheap pass
    if not bool(torch.isfinite(torch.stack(torch.aminmax(x))).all()):
        raise _checks.ArgumentError(f"{name} contains NaN or infinite values")
    return x


@contextmanager
def _one_cpu_thread(device: torch.device):
    """Run the search's many tiny CPU ops on one thread.

    Each ascent step works on arrays of a few thousand pooled pixels; spreading them over
    threads only adds synchronisation, and on a busy machine the waiting threads can make the
    search 10-20 times slower. The previous thread count is restored afterwards.
    """
    if device.type != "cpu":
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


_ASPECTS = ("free", "image")
_SHAPES = ("box", "band")


def _check_shape(shape: str | None, aspect: str) -> str:
    """``"box"`` or ``"band"``; ``None`` is the band with a free aspect and the paper's box with
    the image's aspect."""
    if shape is None:
        return "band" if aspect == "free" else "box"
    if not isinstance(shape, str) or shape not in _SHAPES:
        error = _checks.ArgumentError if isinstance(shape, str) else _checks.ArgumentTypeError
        raise error(
            f"shape must be 'box' (a rectangle), 'band' (a band that bends with the arch) or "
            f"None (the band, or the paper's box with aspect='image'), got "
            f"{_checks.describe(shape)}")
    if shape == "band" and aspect != "free":
        raise _checks.ArgumentError(
            f"shape='band' searches its thickness apart from its width: it needs aspect='free', "
            f"got aspect={aspect!r}")
    return shape


def _check_aspect(aspect: str) -> str:
    if not isinstance(aspect, str) or aspect not in _ASPECTS:
        error = _checks.ArgumentError if isinstance(aspect, str) else _checks.ArgumentTypeError
        raise error(
            f"aspect must be 'free' (width and height searched apart) or 'image' (the paper's "
            f"box, of the image's aspect), got {_checks.describe(aspect)}")
    return aspect


def _check_contrast_scale(contrast_scale: float | str) -> float | str:
    """``"mean"`` or a finite number > 0 (the peak the contrast map is rescaled to)."""
    if isinstance(contrast_scale, str) and contrast_scale == "mean":
        return contrast_scale
    number = isinstance(contrast_scale, numbers.Real) and not isinstance(contrast_scale, bool)
    if number and math.isfinite(float(contrast_scale)) and float(contrast_scale) > 0:
        return float(contrast_scale)
    error = (_checks.ArgumentError if number or isinstance(contrast_scale, str)
             else _checks.ArgumentTypeError)
    raise error(
        f"contrast_scale must be a finite number > 0 (the contrast map's peak: 255 reads it as "
        f"the paper's 8-bit images) or 'mean' (the map in units of its mean), got "
        f"{_checks.describe(contrast_scale)}")


def find_roi(
    images: Tensor,
    *,
    k: int = 10,
    gamma0: float = 0.025,
    gamma_factor: float = 4.0,
    eta0: float = 96.0,
    stages: int = 4,
    max_steps: int = 100,
    tol: float = 0.01,
    clip: float = 0.05,
    alpha: float | None = None,
    aspect: str = "free",
    contrast_scale: float | str = "mean",
    shape: str | None = None,
    band_from_stage: int = 1,
    return_history: bool = False,
) -> Tensor | tuple[Tensor, list[Tensor]]:
    """Find each image's region of interest by staged gradient ascent (Algorithm 1).

    ``images``: ``(H, W)``, ``(B, H, W)`` or ``(B, 1, H, W)``, any real float or integer dtype
    and range. All images are optimised together; each stops a stage on its own once no
    parameter moves by more than ``tol`` pooled pixels, or after ``max_steps``.

    The paper's search is ``aspect="image", contrast_scale=255``. The defaults depart from it
    in three documented ways, chosen on synthetic panoramics whose patients stand off-centre
    (seeds apart from the tests', checked on a third, differently built world; book chapter
    "DAC 2: the search", section 7):

    * ``aspect``: ``"image"`` is the paper's box, half-height ``alpha`` times its half-width,
      so it always has the image's aspect; a wide, flat arch then comes with bands of
      background above and below, and the cost prefers a box that cuts the last molars.
      ``"free"`` (default) searches the half-height on its own, ``alpha r_min + r_y``, next to
      the half-width ``r_min + r_x``; both start as the paper's box and keep its floor.
    * ``contrast_scale``: the unit in which the cost reads the contrast map. The cost of eq. 3,
      ``f_in / (f_out + 1)``, is not scale-free. A number rescales each map to that peak:
      ``255`` reads it as the paper's 8-bit images do (the ``+ 1`` is one grey level, the cost
      about the contrast ratio ``f_in / f_out``, which a box raises by taking in every strong
      edge, the mandible's outline with the teeth); ``1.0`` is the peak-1 reading (the ``+ 1``
      dominates and the box hardly moves from its start). ``"mean"`` (default) divides each
      map by its mean, so the ``+ 1`` is the image's own average contrast: scale-free, not set
      by a single bright filling as the peak is, and between the two extremes.
    * ``shape``: ``"box"`` is a rectangle. ``"band"`` (the default with ``aspect="free"``;
      ``None`` picks it) is a window whose centre line bends, ``y = yc + bend u^2`` with ``u``
      the offset from ``xc`` in half-widths, across the same soft span in ``x``, with a soft
      thickness ``2 (0.8 alpha r_min + r_y)`` about the line: a smiling or frowning arch fills
      it, where a rectangle either cuts the incisors or the last molars or takes in the jaw
      around them, and its thickness floor can be lower than the box's. The returned box is the
      band's bounding box over the columns inside the image. Across the line the window is
      ``sigmoid(gamma (v + h)) - sigmoid(gamma (v - h))`` (the box's profile convolved with a
      logistic), so each column's sum is a difference of two values of a per-column table,
      built once per stage at a spacing of 1 pooled pixel and interpolated linearly.

    Any reading gives the same box for 8-bit, 16-bit and [0, 1] copies of one image.

    The search runs on ``s = max_min_dif(image, k)`` of size ``h x w``: ``alpha = h / w``
    unless given, start at the centre with ``r_min = w / 3.5`` and ``r = w / 2.3 - r_min``
    (``r_x = r``, ``r_y = alpha r`` with a free aspect); stage ``i = 0, 1, ...`` uses sharpness
    ``gamma0 * gamma_factor**i`` (1/pooled pixel) and step ``eta0 / 2**i``. ``gamma_factor=4``
    follows Algorithm 1 (0.025 to 1.6); the paper's text (last value 0.2) implies 2. The
    gradient of eq. 3 is computed analytically; each component is clipped to ``[-clip, clip]``,
    then the centre is put back inside the pooled image and ``r`` (``r_x``, ``r_y``) replaced by
    its absolute value.

    ``band_from_stage`` (default 1): the stage from which the band replaces the box. At the
    first stage (``gamma0 = 0.025``, a sigmoid some 40 pooled pixels wide) a bend of a few
    pixels changes the soft window very little, and a band's step costs about twice a box's, so
    by default that stage climbs the box of free aspect (a quarter less time, the same boxes to
    within the tuning worlds' noise); the box then becomes a flat band of the same place and
    thickness, whose ``bend`` (pooled pixels, ``>= -h`` and ``<= h``) is climbed with the
    other parameters. ``0`` runs the band throughout.

    Returns float32 boxes ``(B, 4)`` as ``(x0, y0, x1, y1)`` in input pixels, clamped to the
    image; with ``return_history=True`` also the ``(B, 4)`` boxes at the start and after each
    stage (``stages + 1`` tensors). A constant image has a zero gradient: its box is the
    initial one.
    """
    k = _check_k(k)
    gamma0, gamma_factor, eta0, clip = (
        _checks.number(name, value, low=0.0, low_open=True)
        for name, value in (("gamma0", gamma0), ("gamma_factor", gamma_factor), ("eta0", eta0),
                            ("clip", clip)))
    if alpha is not None:
        alpha = _checks.number("alpha", alpha, low=0.0, low_open=True)
    aspect = _check_aspect(aspect)
    contrast_scale = _check_contrast_scale(contrast_scale)
    band = _check_shape(shape, aspect) == "band"
    band_from_stage = _checks.integer("band_from_stage", band_from_stage, low=0)
    stages = _checks.integer("stages", stages, low=1)
    max_steps = _checks.integer("max_steps", max_steps, low=1)
    tol = _checks.number("tol", tol, low=0.0)
    return_history = _checks.flag("return_history", return_history)
    x = _as_batch(images)
    big_h, big_w = x.shape[-2:]
    if big_h < 2 * k or big_w < 2 * k:
        raise _checks.ArgumentError(
            f"images of size {big_h}x{big_w} are too small for k={k}: need at least {2 * k} "
            "pixels per side (a 2x2 pooled grid)"
        )
    s = _max_min(x, k)[:, 0]  # x was checked by _as_batch, its size above
    # in the unit the cost reads: mean 1, or the given peak (any dtype, any range)
    if contrast_scale == "mean":
        s = s / s.mean((-2, -1), keepdim=True).clamp_min(1e-12)
    else:
        s = s * (contrast_scale / s.amax((-2, -1), keepdim=True).clamp_min(1e-12))
    n, h, w = s.shape
    opts = {"dtype": s.dtype, "device": s.device}
    alpha_t = torch.full((n,), h / w if alpha is None else float(alpha), **opts)
    r_min = torch.full((n,), w * _RMIN_FRAC, **opts)
    r0 = w * (_R0_FRAC - _RMIN_FRAC)
    start = [(w - 1) / 2, (h - 1) / 2, r0]
    theta = torch.tensor(start, **opts).repeat(n, 1)
    if aspect == "free":
        theta = torch.cat([theta, alpha_t[:, None] * r0], -1)
    upper = torch.tensor([w - 1, h - 1, float("inf"), float("inf"), h], **opts)

    def as_band(th: Tensor) -> Tensor:
        """A box of free aspect (B, 4) as the flat band of the same place and thickness."""
        th = th.clone()
        th[:, 3] += (1 - _BAND_FLOOR) * alpha_t * r_min
        return torch.cat([th, torch.zeros_like(th[:, :1])], -1)

    def to_boxes(th: Tensor) -> Tensor:
        half_x = r_min + th[:, 2]
        if th.shape[-1] == 5:  # a band's bounding box over the columns inside the image
            half_y = _BAND_FLOOR * alpha_t * r_min + th[:, 3]
            reach = torch.maximum(th[:, 0] - (th[:, 0] - half_x).clamp_min(-0.5),
                                  (th[:, 0] + half_x).clamp_max(w - 0.5) - th[:, 0])
            rise = th[:, 4] * (reach / half_x) ** 2
            top, bottom = th[:, 1] + rise.clamp_max(0), th[:, 1] + rise.clamp_min(0)
        else:
            half_y = alpha_t * half_x if aspect == "image" else alpha_t * r_min + th[:, 3]
            top = bottom = th[:, 1]
        box = torch.stack(
            [th[:, 0] - half_x, top - half_y, th[:, 0] + half_x, bottom + half_y], -1
        )
        box = (box + 0.5) * k
        size = torch.tensor([big_w, big_h, big_w, big_h], **opts)
        return torch.minimum(box.clamp_min(0), size).float()

    history = [to_boxes(theta)]
    s_sum = s.sum((-2, -1))
    for stage in range(stages):
        eta = eta0 / 2**stage
        banded = band and stage >= band_from_stage
        if banded and stage == band_from_stage:  # the box so far becomes a flat band
            theta = as_band(theta)
        # a band's per-column tables at this stage's sharpness, on all threads (one stage's at
        # a time: about 0.3 MB per image on the paper's 80 x 148 grid)
        tables = _band_tables(s, gamma0 * gamma_factor**stage) if banded else None
        # the images still moving, and their maps, parameters and constants: an image that
        # has stopped leaves the batch, so the last steps of a stage cost what they use
        idx = torch.arange(n, device=s.device)
        s_a = s_sum if banded else s
        th_a, r_a, al_a = theta, r_min, alpha_t
        g_a = torch.full((n,), gamma0 * gamma_factor**stage, **opts)
        with _one_cpu_thread(s.device):
            for _ in range(max_steps):
                if banded:
                    _, grad = _band_cost_and_grad(tables, idx, s_a, th_a, r_a, al_a, g_a, h)
                else:
                    _, grad = _cost_and_grad(s_a, th_a, r_a, al_a, g_a)
                new = th_a + eta * grad.clamp(-clip, clip)
                new = torch.cat([new[:, :2].clamp_min(0), new[:, 2:4].abs(),
                                 new[:, 4:].clamp_min(-h)], -1)
                new = torch.minimum(new, upper[: new.shape[-1]])
                moving = (new - th_a).abs().amax(-1) > tol
                th_a = new
                if not bool(moving.all()):
                    theta = theta.index_copy(0, idx, th_a)
                    keep = moving.nonzero()[:, 0]
                    if len(keep) == 0:
                        break
                    idx, s_a, th_a = idx[keep], s_a[keep], th_a[keep]
                    r_a, al_a, g_a = r_a[keep], al_a[keep], g_a[keep]
        theta = theta.index_copy(0, idx, th_a)
        history.append(to_boxes(theta))
    return (history[-1], history) if return_history else history[-1]


def fit_aspect(
    boxes: Tensor, aspect: float, *, image_size: tuple[int, int] | None = None
) -> Tensor:
    """Grow ``boxes`` (B, 4, xyxy pixels) about their centres to height/width ``aspect``.

    A box is only ever grown, never shrunk: the result is the smallest box of that aspect
    that holds the input box. With ``image_size = (H, W)`` a grown box is shifted back inside
    the image, and along a side where it is larger than the image it is centred on the image
    (``auto_crop`` fills the overhang with zeros). Used by ``auto_crop`` to avoid distortion,
    and to turn a tight dental-region box into the best box DAC can output (its boxes always
    have the image's aspect).

    Each box must have ``x1 >= x0`` and ``y1 >= y0`` (a reversed box raises); a box narrower
    or lower than 1 pixel is treated as 1 pixel wide or high.
    """
    boxes = _check_boxes(boxes)
    aspect = _checks.number("aspect", aspect, low=0.0, low_open=True)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    bw = (boxes[:, 2] - boxes[:, 0]).clamp_min(1.0)
    bh = (boxes[:, 3] - boxes[:, 1]).clamp_min(1.0)
    bw, bh = torch.maximum(bw, bh / aspect), torch.maximum(bh, bw * aspect)
    if image_size is None:
        return torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)
    height, width = _check_out_size(image_size, "image_size")

    def place(c: Tensor, size: Tensor, limit: int) -> Tensor:
        inside = torch.minimum((c - size / 2).clamp_min(0), limit - size)
        return torch.where(size <= limit, inside, (limit - size) / 2)

    x0, y0 = place(cx, bw, width), place(cy, bh, height)
    return torch.stack([x0, y0, x0 + bw, y0 + bh], -1)


def _check_boxes(boxes: Tensor, batch: int | None = None) -> Tensor:
    """``boxes`` as a float32 ``(B, 4)`` tensor of finite ``(x0, y0, x1, y1)`` with ``x1 >= x0``
    and ``y1 >= y0`` (``B == batch`` when given)."""
    if not isinstance(boxes, Tensor):
        raise _checks.ArgumentTypeError(
            f"boxes must be a (B, 4) tensor of (x0, y0, x1, y1), got {_checks.describe(boxes)}")
    _checks.tensor("boxes", boxes, ndim=2, kind="number", nonempty=False)
    if boxes.shape[-1] != 4 or (batch is not None and boxes.shape[0] != batch):
        wanted = "(B, 4)" if batch is None else f"({batch}, 4)"
        raise _checks.ArgumentError(
            f"boxes must be a {wanted} tensor of (x0, y0, x1, y1), got {_checks.describe(boxes)}")
    boxes = boxes.float()
    reversed_ = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if bool(reversed_.any()):
        i = int(reversed_.nonzero()[0, 0])
        raise _checks.ArgumentError(
            f"boxes must be boxes (x0, y0, x1, y1) with x1 >= x0 and y1 >= y0, got box {i} = "
            f"{tuple(round(v, 3) for v in boxes[i].tolist())}")
    return boxes


def _check_find_roi_kwargs(kwargs: dict[str, object]) -> None:
    """Unknown keyword arguments for :func:`find_roi` raise at once, not at the first search."""
    known = {name for name, p in inspect.signature(find_roi).parameters.items()
             if p.kind is p.KEYWORD_ONLY} - {"return_history"}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise _checks.ArgumentTypeError(
            f"find_roi_kwargs must be keyword arguments of find_roi {tuple(sorted(known))}, "
            f"got unknown {unknown}")


_MAX_SUPERSAMPLE = 4  # at most 4 x 4 bilinear samples averaged per output pixel


def _crop_resize(
    x: Tensor, boxes: Tensor, out_size: tuple[int, int], antialias: bool = True
) -> Tensor:
    """Bilinear crop of ``boxes`` (B, 4, input pixels) from ``x`` (B, C, H, W) to ``out_size``.

    Uses ``affine_grid`` + ``grid_sample`` (``align_corners=False``, zeros outside the image),
    so the result is differentiable w.r.t. ``x`` and ``boxes``. ``grid_sample`` alone has no
    low-pass filter: shrinking a box n times reads one input pixel in n along each side, and a
    small bright filling can fall between the samples. With ``antialias`` the crop is sampled
    ``f`` times finer (``f`` = the largest shrink factor of the batch, rounded up, at most 4)
    and each ``f x f`` block averaged.
    """
    height, width = x.shape[-2:]
    boxes = boxes.to(x.dtype)
    zero = torch.zeros_like(boxes[:, 0])
    scale_x = (boxes[:, 2] - boxes[:, 0]) / width  # box size as a fraction of the image
    scale_y = (boxes[:, 3] - boxes[:, 1]) / height
    shift_x = (boxes[:, 0] + boxes[:, 2]) / width - 1  # box centre in [-1, 1] coordinates
    shift_y = (boxes[:, 1] + boxes[:, 3]) / height - 1
    theta = torch.stack([scale_x, zero, shift_x, zero, scale_y, shift_y], -1).view(-1, 2, 3)
    factor = 1
    if antialias and len(boxes):
        shrink = torch.maximum(scale_x * width / out_size[1], scale_y * height / out_size[0])
        factor = int(min(_MAX_SUPERSAMPLE, max(1, math.ceil(float(shrink.detach().max()) - 1e-6))))
    fine = [x.shape[0], x.shape[1], out_size[0] * factor, out_size[1] * factor]
    grid = F.affine_grid(theta, fine, align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return F.avg_pool2d(out, factor) if factor > 1 else out


def _check_out_size(out_size: tuple[int, int], name: str = "out_size") -> tuple[int, int]:
    if not isinstance(out_size, Sequence) or isinstance(out_size, str) or len(out_size) != 2:
        raise _checks.ArgumentTypeError(
            f"{name} must be (height, width) of two ints >= 1, got {_checks.describe(out_size)}")
    try:
        return (_checks.integer(f"{name} height", out_size[0], low=1),
                _checks.integer(f"{name} width", out_size[1], low=1))
    except _checks.ArgumentError as err:
        raise type(err)(f"{name} must be (height, width) of two ints >= 1, got {out_size!r}: "
                        f"{err}") from None


def auto_crop(
    images: Tensor | Sequence[Tensor],
    out_size: tuple[int, int] = (200, 370),
    *,
    boxes: Tensor | None = None,
    antialias: bool = True,
    aspect: str = "free",
    contrast_scale: float | str = "mean",
    shape: str | None = None,
    **find_roi_kwargs: object,
) -> Tensor:
    """Crop each image's RoI and resize it bilinearly to ``out_size`` = (height, width).

    ``images`` is a tensor accepted by :func:`find_roi` or a list of ``(H, W)`` / ``(1, H, W)``
    tensors of different sizes. ``boxes`` (B, 4), if given, replaces the search; otherwise
    :func:`find_roi` runs with ``find_roi_kwargs`` (same-sized list items are searched as one
    batch). Each box is first grown to the output's aspect ratio, so nothing is distorted;
    a grown box is shifted back inside the image, and where it is larger than the image the
    missing part is zero-padded. ``antialias`` (default) averages a finer bilinear sampling
    when the box shrinks, so small bright details are not skipped; ``False`` is the plain
    one-step bilinear resize. ``aspect`` (default ``"free"``; the paper's ``"image"``),
    ``contrast_scale`` (default ``"mean"``; the paper's 8-bit reading is 255) and ``shape``
    (default: a band with a free aspect, the paper's box with ``aspect="image"``) set the
    search, see :func:`find_roi`; they do not change the crop's values. Returns float32
    ``(B, 1, *out_size)`` in the input's units.
    """
    out_size = _check_out_size(out_size)
    antialias = _checks.flag("antialias", antialias)
    aspect = _check_aspect(aspect)
    contrast_scale = _check_contrast_scale(contrast_scale)
    shape = _check_shape(shape, aspect)
    _check_find_roi_kwargs(find_roi_kwargs)
    find_roi_kwargs = {**find_roi_kwargs, "aspect": aspect, "contrast_scale": contrast_scale,
                       "shape": shape}
    if isinstance(images, Tensor):
        x = _as_batch(images).float()
        found = find_roi(x, **find_roi_kwargs) if boxes is None else _check_boxes(boxes, len(x))
        size = (int(x.shape[-2]), int(x.shape[-1]))
        fitted = fit_aspect(found, out_size[0] / out_size[1], image_size=size)
        return _crop_resize(x, fitted, out_size, antialias)
    if not isinstance(images, Sequence) or isinstance(images, str):
        raise _checks.ArgumentTypeError(
            f"images must be a tensor or a non-empty list of tensors, got "
            f"{_checks.describe(images)}")
    if len(images) == 0:
        raise _checks.ArgumentError("images must be a tensor or a non-empty list of tensors, "
                                    "got an empty list")
    if boxes is not None:
        boxes = _check_boxes(boxes, len(images))
    batch = [_as_batch(im, f"images[{i}]") for i, im in enumerate(images)]
    if any(b.shape[0] != 1 for b in batch):
        raise _checks.ArgumentError(
            "each item of an images list must be one image, (H, W) or (1, H, W)")
    out = torch.empty(len(batch), 1, *out_size)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, b in enumerate(batch):
        groups.setdefault(tuple(b.shape[-2:]), []).append(i)
    for idx in groups.values():
        sub = None if boxes is None else boxes[idx]
        out[idx] = auto_crop(
            torch.cat([batch[i] for i in idx]), out_size, boxes=sub, antialias=antialias,
            **find_roi_kwargs,
        )
    return out


class AutoCrop(nn.Module):
    """DAC as a network layer: find each image's RoI, crop it and resize it to ``out_size``.

    Input ``(B, C, H, W)`` float; the search runs on the channel mean. Output
    ``(B, C, *out_size)``. The crop uses ``grid_sample``, so gradients reach the input. With
    ``detach_search=True`` (default) the box is treated as a constant; with ``False`` autograd
    also runs back through every gradient-ascent step of the search (slower, more memory).
    The boxes of the last forward pass are kept in ``last_boxes`` (B, 4, input pixels).
    ``antialias`` as in :func:`auto_crop`; ``aspect`` (default ``"free"``),
    ``contrast_scale`` (default ``"mean"``) and ``shape`` (default: a band with a free aspect)
    as in :func:`find_roi` (the paper's search: ``aspect="image", contrast_scale=255``). The
    layer has no trainable parameters.
    """

    def __init__(
        self,
        out_size: tuple[int, int] = (200, 370),
        *,
        detach_search: bool = True,
        antialias: bool = True,
        aspect: str = "free",
        contrast_scale: float | str = "mean",
        shape: str | None = None,
        **find_roi_kwargs: object,
    ) -> None:
        super().__init__()
        self.out_size = _check_out_size(out_size)
        self.detach_search = _checks.flag("detach_search", detach_search)
        self.antialias = _checks.flag("antialias", antialias)
        self.aspect = _check_aspect(aspect)
        self.contrast_scale = _check_contrast_scale(contrast_scale)
        self.shape = _check_shape(shape, self.aspect)
        _check_find_roi_kwargs(find_roi_kwargs)
        self.find_roi_kwargs = {**find_roi_kwargs, "aspect": self.aspect,
                                "contrast_scale": self.contrast_scale, "shape": self.shape}
        self.last_boxes: Tensor | None = None

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim != 4 or not x.is_floating_point():
            error = (_checks.ArgumentTypeError
                     if not isinstance(x, Tensor) or not x.is_floating_point()
                     else _checks.ArgumentError)
            raise error(f"x must be a float tensor of shape (B, C, H, W), got "
                        f"{_checks.describe(x)}")
        gray = x.mean(1, keepdim=True)
        if self.detach_search:
            with torch.no_grad():
                boxes = find_roi(gray.detach(), **self.find_roi_kwargs)
        else:
            boxes = find_roi(gray, **self.find_roi_kwargs)
        self.last_boxes = boxes.detach()
        aspect = self.out_size[0] / self.out_size[1]
        fitted = fit_aspect(boxes, aspect, image_size=(int(x.shape[-2]), int(x.shape[-1])))
        return _crop_resize(x, fitted, self.out_size, self.antialias)

    def extra_repr(self) -> str:
        return (
            f"out_size={self.out_size}, detach_search={self.detach_search}, "
            f"antialias={self.antialias}, aspect={self.aspect!r}, "
            f"contrast_scale={self.contrast_scale!r}, shape={self.shape!r}"
        )
