"""Comparing models on small test sets: intervals for a score difference over repeated splits.

When the same data are split again and again (train on one part, test on the rest), the
scores of the splits are not independent: their training sets overlap, so a plain t interval
over the splits is too narrow. Nadeau and Bengio's corrected resampled t interval widens the
variance of the mean from ``s^2 / J`` to ``(1 / J + n_test / n_train) * s^2`` for ``J`` splits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from dentpy import _checks

__all__ = ["repeated_split_interval"]


def repeated_split_interval(
    scores: Any,
    *,
    n_train: int,
    n_test: int,
    alpha: float = 0.05,
    corrected: bool = True,
) -> tuple[float, float, float]:
    """(mean, low, high): the mean of per-split ``scores`` and its ``1 - alpha`` t interval.

    ``scores`` (J,) one number per split, J >= 2 (typically the difference of two models'
    accuracies on the same split); ``n_train``, ``n_test`` the sizes of each split's training
    and test parts. ``corrected=True`` uses Nadeau and Bengio's variance correction
    ``(1 / J + n_test / n_train)``; ``False`` the naive ``1 / J``, which assumes independent
    splits and is too narrow. Equal scores give a zero-width interval.
    """
    values = _checks.array("scores", scores, ndim=1, kind="number", finite=True)
    if values.size < 2:
        raise _checks.ArgumentError(
            f"scores must hold at least 2 splits for an interval, got {values.size}")
    n_train = _checks.integer("n_train", n_train, low=1)
    n_test = _checks.integer("n_test", n_test, low=1)
    alpha = _checks.number("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    corrected = _checks.flag("corrected", corrected)
    j = values.size
    mean = float(values.mean())
    factor = 1 / j + (n_test / n_train if corrected else 0.0)
    half = stats.t.ppf(1 - alpha / 2, j - 1) * np.sqrt(factor * values.var(ddof=1))
    return mean, float(mean - half), float(mean + half)
