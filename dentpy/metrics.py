"""Metrics for segmentation (Dice, IoU, HD95) and classification (thin scikit-learn wrappers).

Segmentation metrics take a batch and return one score per image and class, a tensor of shape
``(B, C)``. Two input forms are accepted, chosen by ``num_classes``:

* ``num_classes=None``: binary masks ``(B, C, H, W)`` or ``(B, C, D, H, W)``, one channel per
  class (one-hot), any dtype whose values are exactly 0 or 1;
* ``num_classes=K``: integer label maps ``(B, H, W)`` or ``(B, D, H, W)`` with values in
  ``[0, K)``; class ``k`` is the mask ``labels == k``.

Classification metrics take 1-D labels (tensors, arrays or lists) and return Python floats,
or NumPy arrays for ``average=None``.

Bad and degenerate input
------------------------
Input a metric cannot read is a ``ValueError`` naming the argument (see ``dentpy._checks``):
``None`` or a string where labels or masks belong, the wrong number of dimensions, no samples
or an empty batch, NaN or inf, lengths or shapes that differ, an unknown option.

Input that is readable but leaves a score **undefined** follows one rule, the reference
library's: the metric returns a documented value, never raises, and (for classification)
warns with scikit-learn's ``UndefinedMetricWarning``. :func:`bootstrap_ci` leaves such
resamples out.

* Segmentation (empty masks): the ``empty=`` option of each function says what it returns,
  without a warning (an empty mask is an ordinary case in segmentation). :func:`dice` and
  :func:`iou`: one mask empty → 0.0, both empty → 1.0 (``empty="one"``) or NaN
  (``empty="nan"``); :func:`hd95`: one empty → ``inf``, both empty → NaN or 0.0.
* Count metrics (:func:`precision`, :func:`recall`, :func:`f1`, :func:`specificity`,
  :func:`sensitivity_specificity`): a rate with a zero denominator (nothing predicted
  positive, no true positives, no negatives) is ``zero_division``. Its default ``"warn"``
  returns 0.0 with an ``UndefinedMetricWarning``, as scikit-learn; an explicit ``0.0``,
  ``1.0`` or ``np.nan`` is returned silently (the caller chose it).
* Ranking metrics (:func:`roc_auc`, :func:`average_precision`): a single class in
  ``y_true`` (for ``average_precision``: no positives) gives NaN with an
  ``UndefinedMetricWarning``. scikit-learn returns 0.0 for ``average_precision`` without
  positives; NaN is used here instead, since 0.0 reads as "the worst ranking" and would drag a
  mean down, while the score simply does not exist.
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

from dentpy import _checks

AVERAGES = ("binary", "micro", "macro", "weighted", None)
ZeroDivision = float | Literal["warn"]

# --------------------------------------------------------------------------- segmentation


def _to_tensor(x: Any, name: str) -> torch.Tensor:
    # NaN and emptiness are checked below, with messages about masks
    return _checks.tensor(name, x, kind="number", finite=False, nonempty=False).detach()


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
    include_background = _checks.flag("include_background", include_background)
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
        num_classes = _checks.integer("num_classes", num_classes, low=1)
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
    return allowed[_checks.choice("empty", empty, allowed)]


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
    values = np.atleast_1d(_checks.array("spacing", spacing, ndim=(0, 1)).astype(float))
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
    percentile = _checks.number("percentile", percentile, low=0, high=100)
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


def _as_array(x: Any, name: str, ndims: tuple[int, ...] = (1,), kind: Any = None) -> np.ndarray:
    """Labels (numbers, booleans or strings; ``kind="number"`` for scores) as a checked array."""
    return _checks.array(name, x, ndim=ndims, kind=kind)


def _pair(
    y_true: Any, y_other: Any, other: str, ndims: tuple[int, ...] = (1,), kind: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_array(y_true, "y_true"), _as_array(y_other, other, ndims, kind)
    _checks.same_length(y_true=a, **{other: b})
    return a, b


def _check_average(average: str | None) -> None:
    _checks.choice("average", average, AVERAGES)


def _zero_division(value: Any) -> tuple[float, bool]:
    """(value returned for a zero denominator, whether to warn): ``"warn"`` is 0.0 and warns."""
    if isinstance(value, str) and value == "warn":
        return 0.0, True
    if not isinstance(value, bool) and isinstance(value, int | float | np.floating) and (
            np.isnan(value) or value in (0.0, 1.0)):
        return float(value), False
    raise _checks.ArgumentError(
        f"zero_division must be 'warn', 0.0, 1.0 or np.nan, got {_checks.describe(value)}"
    )


def _undefined(message: str) -> None:
    warnings.warn(message, UndefinedMetricWarning, stacklevel=3)


def _number(value: Any) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else np.asarray(value)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted label equals the true label (``accuracy_score``)."""
    return float(skm.accuracy_score(*_pair(y_true, y_pred, "y_pred")))


def _count_score(score: Any, y_true: Any, y_pred: Any, **options: Any) -> float | np.ndarray:
    """Check the inputs, then call a scikit-learn score on predicted labels with ``options``."""
    _check_average(options["average"])
    _zero_division(options["zero_division"])
    a, b = _pair(y_true, y_pred, "y_pred")
    return _number(score(a, b, **options))


def precision(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    labels: Sequence[Any] | None = None,
    pos_label: Any = 1,
    zero_division: ZeroDivision = "warn",
) -> float | np.ndarray:
    """TP / (TP + FP): of the cases called positive, the fraction that are (``precision_score``).

    ``average``: ``"binary"`` (scikit-learn's default: the ``pos_label`` class only), ``"micro"``
    (pool all classes' counts), ``"macro"`` (mean over classes), ``"weighted"`` (mean weighted
    by class support) or ``None`` (one value per class, an array). When nothing is predicted
    positive the score is ``zero_division`` (``"warn"``: 0.0 with an ``UndefinedMetricWarning``;
    see the module docstring).
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
    zero_division: ZeroDivision = "warn",
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
    zero_division: ZeroDivision = "warn",
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
    zero_division: ZeroDivision = "warn",
) -> float | np.ndarray:
    """TN / (TN + FP): the fraction of true negatives called negative (scikit-learn lacks it).

    For class ``k`` (one-vs-rest) the negatives are all samples whose true label is not ``k``.
    ``average`` works as in :func:`precision`: ``"binary"`` scores ``pos_label`` against the
    rest, ``"micro"`` pools TN and FP over classes, ``"weighted"`` weights by class support
    (number of true cases of each class, as scikit-learn does). A ``pos_label`` that is not
    one of two labels present raises, as in :func:`precision`. A class with no negatives scores
    ``zero_division`` (``"warn"``: 0.0 with an ``UndefinedMetricWarning``).
    """
    _check_average(average)
    fill, warn = _zero_division(zero_division)
    a, b = _pair(y_true, y_pred, "y_pred")
    if average == "binary":
        present = np.union1d(a, b)
        if present.size > 2:
            raise _checks.ArgumentError(
                f"average='binary' needs at most two labels, y_true/y_pred hold {present.size}; "
                "choose average='macro', 'micro', 'weighted' or None"
            )
        if present.size == 2 and pos_label not in present:
            raise _checks.ArgumentError(
                f"pos_label={pos_label!r} is not a valid label; it must be one of {present}"
            )
        negatives = a != pos_label
        tn, neg = np.sum(negatives & (b != pos_label)), np.sum(negatives)
        if neg:
            return float(tn / neg)
        if warn:
            _undefined("specificity is undefined: y_true has no negatives; returning 0.0")
        return fill
    mcm = skm.multilabel_confusion_matrix(a, b, labels=labels)
    tn, fp, support = mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0] + mcm[:, 1, 1]
    neg = tn + fp
    if warn and (neg == 0).any():
        _undefined("specificity is undefined for a class with no negatives; it counts as 0.0")
    if average == "micro":
        return float(tn.sum() / neg.sum()) if neg.sum() else fill
    per_class = np.where(neg > 0, tn / np.maximum(neg, 1), fill).astype(float)
    if average is None:
        return per_class
    if average == "macro":
        return float(per_class.mean())
    return float(np.average(per_class, weights=support)) if support.sum() else fill


def sensitivity_specificity(
    y_true: Any,
    y_score_or_pred: Any,
    *,
    threshold: float = 0.5,
    zero_division: ZeroDivision = "warn",
) -> tuple[float, float]:
    """(sensitivity, specificity) of a binary screening test.

    ``y_true`` holds 0 (healthy) and 1 (disease); ``y_score_or_pred`` holds scores or
    probabilities (positive when ``>= threshold``) or 0/1 predictions (unchanged by any
    threshold in (0, 1]). When every value of ``y_score_or_pred`` lies in [0, 1] (probabilities
    or predictions), ``threshold`` must too. A ``y_true`` with no positives (no negatives)
    leaves the sensitivity (specificity) undefined: it is ``zero_division`` (``"warn"``: 0.0
    with an ``UndefinedMetricWarning``), as :func:`recall` and :func:`specificity` do.
    """
    fill, warn = _zero_division(zero_division)
    threshold = _checks.number("threshold", threshold)
    a, s = _pair(y_true, y_score_or_pred, "y_score_or_pred", kind="number")
    if not np.isin(a, (0, 1)).all():
        raise _checks.ArgumentError("y_true must hold only 0 and 1 for a binary screening test")
    if s.min() >= 0 and s.max() <= 1 and not 0 <= threshold <= 1:
        raise _checks.ArgumentError(
            f"threshold must lie in [0, 1] for probabilities or 0/1 predictions, got {threshold}"
        )
    pos, neg = a == 1, a == 0
    called = s >= threshold
    rates = []
    for name, cases, right in (("sensitivity", pos, called), ("specificity", neg, ~called)):
        if cases.any():
            rates.append(float(np.mean(right[cases])))
            continue
        if warn:
            kind = "positive (1)" if name == "sensitivity" else "negative (0)"
            _undefined(f"{name} is undefined: y_true has no {kind} case; returning 0.0")
        rates.append(fill)
    return rates[0], rates[1]


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
    _checks.choice("normalize", normalize, ("true", "pred", "all", None))
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
    probabilities (rows summing to 1), scored one-vs-rest by default. A single class in
    ``y_true`` gives NaN with an ``UndefinedMetricWarning`` (scikit-learn's convention).
    """
    if average == "binary":
        raise _checks.ArgumentError(
            "average='binary' does not apply to roc_auc; use 'macro' or None")
    _check_average(average)
    _checks.choice("multi_class", multi_class, ("ovr", "ovo"))
    a, s = _pair(y_true, y_score, "y_score", ndims=(1, 2), kind="number")
    return _number(skm.roc_auc_score(a, s, average=average, multi_class=multi_class, labels=labels))


def average_precision(
    y_true: Any, y_score: Any, *, average: str | None = "macro", pos_label: Any = 1
) -> float | np.ndarray:
    """Area under the precision-recall curve, as a step sum (``average_precision_score``).

    Binary: ``y_score`` (N,) scores of ``pos_label``. Multi-class: ``y_score`` (N, K),
    one-vs-rest, column ``k`` scoring the ``k``-th of the sorted labels of ``y_true`` (or label
    ``k`` for integer labels when a class is missing from ``y_true``). A class with no positive
    case has no AP: NaN with an ``UndefinedMetricWarning`` (scikit-learn returns 0.0; see the
    module docstring), and a ``"macro"`` or ``"weighted"`` mean over it is NaN too.
    """
    if average == "binary":
        raise _checks.ArgumentError(
            "average='binary' does not apply to average_precision; use 'macro'")
    _check_average(average)
    a, s = _pair(y_true, y_score, "y_score", ndims=(1, 2), kind="number")
    if s.ndim == 1:
        present = np.unique(a)
        if present.size > 2:
            raise _checks.ArgumentError(
                f"y_true holds {present.size} labels: give y_score as (N, K) scores, one column "
                "per class, for a multi-class average precision")
        if present.size == 2 and pos_label not in present:
            raise _checks.ArgumentError(
                f"pos_label={pos_label!r} is not a valid label; it must be one of {present}")
        if pos_label not in present:
            _undefined(f"average precision is undefined: y_true has no positive "
                       f"(pos_label={pos_label!r}) case; returning NaN")
            return float("nan")
        return _number(skm.average_precision_score(a, s, pos_label=pos_label))
    classes = np.unique(a)
    k = s.shape[1]
    if classes.size != k:
        if a.dtype.kind in "iub" and classes.min() >= 0 and classes.max() < k:
            classes = np.arange(k)
        else:
            raise _checks.ArgumentError(
                f"y_score has {k} columns but y_true holds {classes.size} labels {classes}; "
                "give one column per class (integer labels 0..K-1)"
            )
    onehot = (a[:, None] == classes[None, :]).astype(int)
    support = onehot.sum(0)
    if average == "micro":
        return _number(skm.average_precision_score(onehot, s, average="micro"))
    per_class = np.full(k, np.nan)
    for j in np.flatnonzero(support):
        per_class[j] = skm.average_precision_score(onehot[:, j], s[:, j])
    if (support == 0).any():
        _undefined(f"average precision is undefined for classes {classes[support == 0]} "
                   "(no positive case in y_true); they score NaN")
    if average is None:
        return per_class
    if average == "macro":
        return float(per_class.mean())
    return float(np.average(per_class, weights=support))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error, in the units of the targets (``mean_absolute_error``)."""
    a = _as_array(y_true, "y_true", kind="number")
    b = _as_array(y_pred, "y_pred", kind="number")
    _checks.same_length(y_true=a, y_pred=b)
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
    (N, K) probabilities. Resamples on which the metric is undefined (it raises ``ValueError``,
    returns NaN or warns with ``UndefinedMetricWarning``, e.g. ROC AUC on a resample with one
    class) are left out; if more than half are, the data are too few or too imbalanced and a
    ``ValueError`` says so.
    """
    if not callable(metric):
        raise _checks.ArgumentTypeError(
            f"metric must be a function metric(y_true, y_pred), got {_checks.describe(metric)}")
    a, b = _pair(y_true, y_pred, "y_pred", ndims=(1, 2))
    n = _checks.integer("n", n, low=1)
    alpha = _checks.number("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    seed = _checks.integer("seed", seed, low=0)
    estimate = metric(a, b)
    if np.ndim(estimate) != 0:
        raise _checks.ArgumentError(
            "metric must return one number (use a scalar average, not None)")
    draws = np.random.default_rng(seed).integers(0, len(a), size=(n, len(a)))
    scores = np.full(n, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)  # undefined: leave it out
        for i, rows in enumerate(draws):
            try:
                scores[i] = metric(a[rows], b[rows])
            except (ValueError, UndefinedMetricWarning):
                continue
    valid = scores[~np.isnan(scores)]
    if valid.size * 2 < n:
        raise ValueError(
            f"metric was undefined on {n - valid.size} of {n} resamples; too few samples per class"
        )
    low, high = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
    return float(estimate), float(low), float(high)
