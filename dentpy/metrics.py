"""Metrics for segmentation (Dice, IoU, HD95) and classification (thin scikit-learn wrappers).

Segmentation metrics take a batch and return one score per image and class, a tensor of shape
``(B, C)``. Two input forms are accepted, chosen by ``num_classes``:

* ``num_classes=None``: binary masks ``(B, C, H, W)`` or ``(B, C, D, H, W)``, one channel per
  class (one-hot), any dtype whose values are exactly 0 or 1;
* ``num_classes=K``: integer label maps ``(B, H, W)`` or ``(B, D, H, W)`` with values in
  ``[0, K)``; class ``k`` is the mask ``labels == k``.

Conventions for empty masks are explicit (see each function): a correct metric must score two
disjoint masks 0, never 1, and must say what it does when there is nothing to segment.

Classification metrics take 1-D labels (tensors, arrays or lists) and return Python floats,
or NumPy arrays for ``average=None``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import torch
from scipy import ndimage
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

AVERAGES = ("binary", "micro", "macro", "weighted", None)

# --------------------------------------------------------------------------- segmentation


def _to_tensor(x: Any, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach()
    try:
        return torch.as_tensor(np.asarray(x))
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name} must be a tensor or an array, got {type(x).__name__}") from err


def _binary(x: torch.Tensor, name: str) -> torch.Tensor:
    if x.is_floating_point() and torch.isnan(x).any():
        raise ValueError(f"{name} contains NaN; masks must hold only 0 and 1")
    if x.dtype != torch.bool and not ((x == 0) | (x == 1)).all():
        raise ValueError(
            f"{name} must be a binary mask (values 0 or 1) when num_classes is None; "
            "pass num_classes=K for integer label maps"
        )
    return x.bool()


def _one_hot(x: torch.Tensor, name: str, num_classes: int) -> torch.Tensor:
    if x.is_floating_point() or x.is_complex():
        raise ValueError(
            f"{name} must hold integer class labels when num_classes is set, got {x.dtype}"
        )
    lo, hi = int(x.min()), int(x.max())
    if lo < 0 or hi >= num_classes:
        raise ValueError(
            f"{name} holds labels in [{lo}, {hi}], outside [0, num_classes={num_classes})"
        )
    classes = torch.arange(num_classes, device=x.device).view(1, -1, *([1] * (x.ndim - 1)))
    return x.long().unsqueeze(1) == classes


def _as_masks(
    pred: Any, target: Any, num_classes: int | None, include_background: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate both inputs and return boolean masks of shape (B, C, *spatial)."""
    pred, target = _to_tensor(pred, "pred"), _to_tensor(target, "target")
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}"
        )
    if num_classes is None:
        if pred.ndim not in (4, 5):
            raise ValueError(
                "pred must be binary masks (B, C, H, W) or (B, C, D, H, W) when num_classes is "
                f"None, got shape {tuple(pred.shape)}; pass num_classes=K for label maps"
            )
    else:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int or None, got {num_classes!r}")
        if pred.ndim not in (3, 4):
            raise ValueError(
                "pred must be label maps (B, H, W) or (B, D, H, W) when num_classes is set, "
                f"got shape {tuple(pred.shape)}"
            )
    if pred.numel() == 0:
        raise ValueError(f"pred is empty (shape {tuple(pred.shape)}); need at least one image")
    if num_classes is None:
        p, t = _binary(pred, "pred"), _binary(target, "target")
    else:
        p, t = _one_hot(pred, "pred", num_classes), _one_hot(target, "target", num_classes)
    if not include_background and p.shape[1] > 1:
        p, t = p[:, 1:], t[:, 1:]
    return p, t


def _overlap(
    pred: Any, target: Any, num_classes: int | None, include_background: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    p, t = _as_masks(pred, target, num_classes, include_background)
    dims = tuple(range(2, p.ndim))
    inter = (p & t).sum(dims)
    return inter, p.sum(dims), t.sum(dims)


def _fill(empty: str, allowed: dict[str, float]) -> float:
    if empty not in allowed:
        raise ValueError(f"empty must be one of {tuple(allowed)}, got {empty!r}")
    return allowed[empty]


def dice(
    pred: Any,
    target: Any,
    *,
    num_classes: int | None = None,
    include_background: bool = True,
    empty: Literal["one", "nan"] = "one",
) -> torch.Tensor:
    """Dice coefficient 2|P∩T| / (|P| + |T|) per image and class, shape (B, C), float.

    Conventions: one mask empty and the other not → 0.0; both empty → 1.0 (``empty="one"``,
    nothing to find and nothing found) or NaN (``empty="nan"``, to leave such cases out of a
    ``nanmean``). ``include_background=False`` drops channel/class 0 when there is more than
    one. MONAI's ``DiceMetric(ignore_empty=False)`` gives the same numbers; its default
    ``ignore_empty=True`` instead returns NaN whenever the *target* is empty.
    """
    fill = _fill(empty, {"one": 1.0, "nan": float("nan")})
    inter, p, t = _overlap(pred, target, num_classes, include_background)
    denom = (p + t).to(torch.get_default_dtype())
    score = 2 * inter / denom.clamp(min=1)
    return torch.where(denom > 0, score, torch.full_like(score, fill))


def iou(
    pred: Any,
    target: Any,
    *,
    num_classes: int | None = None,
    include_background: bool = True,
    empty: Literal["one", "nan"] = "one",
) -> torch.Tensor:
    """Intersection over union (Jaccard index) |P∩T| / |P∪T| per image and class, shape (B, C).

    Same input forms and empty-mask conventions as :func:`dice` (MONAI's
    ``MeanIoU(ignore_empty=False)`` matches). IoU = Dice / (2 - Dice) for every pair.
    """
    fill = _fill(empty, {"one": 1.0, "nan": float("nan")})
    inter, p, t = _overlap(pred, target, num_classes, include_background)
    union = (p + t - inter).to(torch.get_default_dtype())
    score = inter / union.clamp(min=1)
    return torch.where(union > 0, score, torch.full_like(score, fill))


def _sampling(spacing: float | Sequence[float] | None, ndim: int) -> np.ndarray:
    if spacing is None:
        return np.ones(ndim)
    values = np.atleast_1d(np.asarray(spacing, dtype=float))
    if values.ndim != 1 or values.size not in (1, ndim):
        raise ValueError(f"spacing must be a number or {ndim} numbers (mm), got {spacing!r}")
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"spacing must be finite and positive (mm), got {spacing!r}")
    return np.broadcast_to(values, (ndim,)).copy()


def _surfaces(masks: np.ndarray) -> np.ndarray:
    """Boundary voxels of each mask in a stack (N, *spatial): in the mask, not in its erosion."""
    ndim = masks.ndim - 1
    cross = ndimage.generate_binary_structure(ndim, 1)[None]  # no coupling across the stack
    return masks & ~ndimage.binary_erosion(masks, structure=cross)


def hd95(
    pred: Any,
    target: Any,
    *,
    num_classes: int | None = None,
    include_background: bool = True,
    spacing: float | Sequence[float] | None = None,
    percentile: float = 95.0,
    empty: Literal["nan", "zero"] = "nan",
) -> torch.Tensor:
    """95th-percentile symmetric Hausdorff distance between mask surfaces, shape (B, C), float.

    Surfaces are the mask voxels removed by a one-voxel erosion (face connectivity; the image
    border counts as outside). For each direction (pred → target, target → pred) the distances
    from every surface voxel to the nearest surface voxel of the other mask are taken, their
    ``percentile`` (linear interpolation) computed, and the larger of the two returned; this is
    MONAI's ``compute_hausdorff_distance(percentile=95)`` definition. ``percentile=100`` gives the
    classic Hausdorff distance.

    ``spacing``: voxel size in mm, one number or one per spatial axis in array order
    (e.g. ``(dz, dy, dx)``); ``None`` measures in voxels. Distances come back in those units.

    Conventions: one mask empty → ``inf`` (no surface to reach; MONAI returns ``inf`` for the
    plain Hausdorff distance but NaN for its percentile form, an artefact of interpolating
    between infinities); both empty → NaN (``empty="nan"``, as MONAI) or 0.0 (``empty="zero"``).
    """
    fill = _fill(empty, {"nan": float("nan"), "zero": 0.0})
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must lie in [0, 100], got {percentile!r}")
    p, t = _as_masks(pred, target, num_classes, include_background)
    batch, channels, *shape = p.shape
    sampling = _sampling(spacing, len(shape))
    p_np = p.cpu().numpy().reshape(batch * channels, *shape)
    t_np = t.cpu().numpy().reshape(batch * channels, *shape)
    p_surf, t_surf = _surfaces(p_np), _surfaces(t_np)
    out = np.empty(batch * channels)
    for k, (ps, ts) in enumerate(zip(p_surf, t_surf, strict=True)):
        if not (ps.any() and ts.any()):
            out[k] = fill if not (ps.any() or ts.any()) else np.inf
            continue
        # every surface voxel lies in the box around both masks, so the distance transforms
        # can run on that box alone (much smaller than the image for thin structures)
        box = ndimage.find_objects((ps | ts).astype(np.int8))[0]
        ps, ts = ps[box], ts[box]
        to_t = ndimage.distance_transform_edt(~ts, sampling=sampling)
        to_p = ndimage.distance_transform_edt(~ps, sampling=sampling)
        out[k] = max(np.percentile(to_t[ps], percentile), np.percentile(to_p[ts], percentile))
    result = torch.as_tensor(out, dtype=torch.get_default_dtype()).view(batch, channels)
    return result.to(p.device)


# ------------------------------------------------------------------------- classification


def _as_array(x: Any, name: str, ndims: tuple[int, ...] = (1,)) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        arr = x.detach().cpu().numpy()
    else:
        arr = np.asarray(x)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype.kind in "bU"):
        raise ValueError(f"{name} must hold numbers, booleans or strings, got dtype {arr.dtype}")
    if arr.ndim not in ndims:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dims, got {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; need at least one sample")
    if np.issubdtype(arr.dtype, np.floating) and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def _pair(
    y_true: Any, y_other: Any, other: str, ndims: tuple[int, ...] = (1,)
) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_array(y_true, "y_true"), _as_array(y_other, other, ndims)
    if len(a) != len(b):
        raise ValueError(f"y_true and {other} must have the same length, got {len(a)} and {len(b)}")
    return a, b


def _check_average(average: str | None) -> None:
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")


def _number(value: Any) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else np.asarray(value)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted label equals the true label (``accuracy_score``)."""
    return float(skm.accuracy_score(*_pair(y_true, y_pred, "y_pred")))


def _count_score(score: Any, y_true: Any, y_pred: Any, **options: Any) -> float | np.ndarray:
    """Check the inputs, then call a scikit-learn score on predicted labels with ``options``."""
    _check_average(options["average"])
    a, b = _pair(y_true, y_pred, "y_pred")
    return _number(score(a, b, **options))


def precision(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    labels: Sequence[Any] | None = None,
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """TP / (TP + FP): of the cases called positive, the fraction that are (``precision_score``).

    ``average``: ``"binary"`` (scikit-learn's default: the ``pos_label`` class only), ``"micro"``
    (pool all classes' counts), ``"macro"`` (mean over classes), ``"weighted"`` (mean weighted
    by class support) or ``None`` (one value per class, an array). ``zero_division`` is returned
    when nothing is predicted positive (scikit-learn would also warn).
    """
    return _count_score(skm.precision_score, y_true, y_pred, average=average, labels=labels,
                        pos_label=pos_label, zero_division=zero_division)


def recall(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    labels: Sequence[Any] | None = None,
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """TP / (TP + FN), also called sensitivity: the fraction of true positives found.

    Options as in :func:`precision`; ``zero_division`` is returned when a class has no true cases.
    """
    return _count_score(skm.recall_score, y_true, y_pred, average=average, labels=labels,
                        pos_label=pos_label, zero_division=zero_division)


sensitivity = recall


def f1(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    labels: Sequence[Any] | None = None,
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """Harmonic mean of precision and recall (``f1_score``); options as in :func:`precision`."""
    return _count_score(skm.f1_score, y_true, y_pred, average=average, labels=labels,
                        pos_label=pos_label, zero_division=zero_division)


def specificity(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    labels: Sequence[Any] | None = None,
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """TN / (TN + FP): the fraction of true negatives called negative (scikit-learn lacks it).

    For class ``k`` (one-vs-rest) the negatives are all samples whose true label is not ``k``.
    ``average`` works as in :func:`precision`: ``"binary"`` scores ``pos_label`` against the
    rest, ``"micro"`` pools TN and FP over classes, ``"weighted"`` weights by class support
    (number of true cases of each class, as scikit-learn does). ``zero_division`` is returned
    for a class with no negatives.
    """
    _check_average(average)
    a, b = _pair(y_true, y_pred, "y_pred")
    if average == "binary":
        present = np.union1d(a, b)
        if present.size > 2:
            raise ValueError(
                f"average='binary' needs at most two labels, y_true/y_pred hold {present.size}; "
                "choose average='macro', 'micro', 'weighted' or None"
            )
        negatives = a != pos_label
        tn, neg = np.sum(negatives & (b != pos_label)), np.sum(negatives)
        return float(tn / neg) if neg else float(zero_division)
    mcm = skm.multilabel_confusion_matrix(a, b, labels=labels)
    tn, fp, support = mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0] + mcm[:, 1, 1]
    if average == "micro":
        neg = tn.sum() + fp.sum()
        return float(tn.sum() / neg) if neg else float(zero_division)
    neg = tn + fp
    per_class = np.where(neg > 0, tn / np.maximum(neg, 1), zero_division).astype(float)
    if average is None:
        return per_class
    if average == "macro":
        return float(per_class.mean())
    return float(np.average(per_class, weights=support)) if support.sum() else float(zero_division)


def sensitivity_specificity(
    y_true: Any, y_score_or_pred: Any, *, threshold: float = 0.5
) -> tuple[float, float]:
    """(sensitivity, specificity) of a binary screening test.

    ``y_true`` holds 0 (healthy) and 1 (disease); ``y_score_or_pred`` holds scores or
    probabilities (positive when ``>= threshold``) or 0/1 predictions (unchanged by any
    threshold in (0, 1]). A ``y_true`` with no positives or no negatives is a ``ValueError``:
    one of the two rates is then undefined.
    """
    a, s = _pair(y_true, y_score_or_pred, "y_score_or_pred")
    if not np.isin(a, (0, 1)).all():
        raise ValueError("y_true must hold only 0 and 1 for a binary screening test")
    pos, neg = a == 1, a == 0
    if not pos.any() or not neg.any():
        raise ValueError("y_true needs both positive (1) and negative (0) cases")
    called = s >= threshold
    return float(np.mean(called[pos])), float(np.mean(~called[neg]))


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Sequence[Any] | None = None,
    normalize: Literal["true", "pred", "all"] | None = None,
) -> np.ndarray:
    """Counts C[i, j] of samples with true label i predicted as j (``confusion_matrix``).

    ``normalize="true"`` divides each row by its total (rows then hold per-class recall).
    """
    a, b = _pair(y_true, y_pred, "y_pred")
    return skm.confusion_matrix(a, b, labels=labels, normalize=normalize)


def roc_auc(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    multi_class: Literal["ovr", "ovo"] = "ovr",
    labels: Sequence[Any] | None = None,
) -> float | np.ndarray:
    """Area under the ROC curve (``roc_auc_score``).

    Binary: ``y_score`` (N,) scores of the positive class. Multi-class: ``y_score`` (N, K)
    probabilities (rows summing to 1), scored one-vs-rest by default.
    """
    if average == "binary":
        raise ValueError("average='binary' does not apply to roc_auc; use 'macro' or None")
    _check_average(average)
    a, s = _pair(y_true, y_score, "y_score", ndims=(1, 2))
    return _number(skm.roc_auc_score(a, s, average=average, multi_class=multi_class, labels=labels))


def average_precision(
    y_true: Any, y_score: Any, *, average: str | None = "macro", pos_label: Any = 1
) -> float | np.ndarray:
    """Area under the precision-recall curve, as a step sum (``average_precision_score``).

    Binary: ``y_score`` (N,) scores of ``pos_label``. Multi-class: ``y_score`` (N, K), one-vs-rest.
    """
    if average == "binary":
        raise ValueError("average='binary' does not apply to average_precision; use 'macro'")
    _check_average(average)
    a, s = _pair(y_true, y_score, "y_score", ndims=(1, 2))
    return _number(skm.average_precision_score(a, s, average=average, pos_label=pos_label))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error, in the units of the targets (``mean_absolute_error``)."""
    a, b = _pair(y_true, y_pred, "y_pred")
    return float(skm.mean_absolute_error(a, b))


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: Any,
    y_pred: Any,
    *,
    n: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(estimate, low, high): ``metric`` on all samples and its percentile bootstrap interval.

    All ``n`` resamples (with replacement, same size as the data) are drawn at once from
    ``numpy.random.default_rng(seed)``; ``low`` and ``high`` are the ``alpha/2`` and
    ``1 - alpha/2`` quantiles of the resampled scores. ``y_pred`` may be labels, scores or
    (N, K) probabilities. Resamples on which the metric is undefined (it raises ``ValueError`` or
    returns NaN, e.g. ROC AUC on a resample with one class) are left out; if more than half
    are, the data are too few or too imbalanced and a ``ValueError`` says so.
    """
    a, b = _pair(y_true, y_pred, "y_pred", ndims=(1, 2))
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    estimate = metric(a, b)
    if np.ndim(estimate) != 0:
        raise ValueError("metric must return one number (use a scalar average, not None)")
    draws = np.random.default_rng(seed).integers(0, len(a), size=(n, len(a)))
    scores = np.full(n, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for i, rows in enumerate(draws):
            try:
                scores[i] = metric(a[rows], b[rows])
            except ValueError:
                continue
    valid = scores[~np.isnan(scores)]
    if valid.size * 2 < n:
        raise ValueError(
            f"metric was undefined on {n - valid.size} of {n} resamples; too few samples per class"
        )
    low, high = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
    return float(estimate), float(low), float(high)
