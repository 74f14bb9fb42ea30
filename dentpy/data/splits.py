"""Train/validation/test splits that keep class balance and keep each patient on one side.

All functions take the per-item ``labels`` (class ids or names, shape (N,)) first and return
int64 index arrays into them. ``groups`` (shape (N,), e.g. patient ids) makes a split
patient-level: every item of a group lands in the same part, so no patient is seen in both
training and testing. Built on scikit-learn's splitters; ``seed`` makes every split repeatable.
Bad arguments raise errors naming the argument (see :mod:`dentpy._checks`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from sklearn.model_selection import (
    GroupKFold,
    GroupShuffleSplit,
    KFold,
    StratifiedGroupKFold,
    StratifiedKFold,
    train_test_split,
)

from dentpy import _checks
from dentpy._checks import ArgumentError, ArgumentTypeError, describe


def _values(name: str, value: object) -> np.ndarray:
    """A 1-D array of class ids, names or patient ids (numbers or text, NaN-free)."""
    if value is None or isinstance(value, str | bytes | Mapping):
        raise ArgumentTypeError(f"{name} must be a 1-D sequence of class ids or names, got "
                                f"{describe(value)}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged lists
        raise ArgumentTypeError(f"{name} must be a 1-D sequence, got {describe(value)}: "
                                f"{error}") from error
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ArgumentError(f"{name} must not contain NaN or infinity")
    return array


def _labels(labels: Sequence | np.ndarray) -> np.ndarray:
    array = _values("labels", labels)
    if array.ndim != 1 or array.size == 0:
        raise ArgumentError(f"labels must be a non-empty 1-D sequence, got shape {array.shape}")
    return array


def _groups(groups: Sequence | np.ndarray | None, n: int) -> np.ndarray | None:
    if groups is None:
        return None
    array = _values("groups", groups)
    if array.shape != (n,):
        raise ArgumentError(f"groups must have shape ({n},) like labels, got {array.shape}")
    return array


def _seed(seed: object) -> int:
    return _checks.integer("seed", seed, low=0)


def _fraction(value: float, name: str) -> float:
    return _checks.number(name, value, low=0.0, high=1.0, high_open=True)


def _holdout(
    index: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray | None,
    fraction: float,
    *,
    stratify: bool,
    seed: int,
    name: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``index`` into (rest, held) with about ``fraction`` of the items held out."""
    if fraction == 0:
        return index, index[:0]
    sub_labels = labels[index]
    if groups is None:
        try:
            rest, held = train_test_split(
                index, test_size=fraction, random_state=seed,
                stratify=sub_labels if stratify else None,
            )
        except ValueError as error:
            raise ValueError(f"cannot hold out {name}={fraction} of {len(index)} items "
                             f"with stratify={stratify}: {error}") from error
        return np.sort(rest), np.sort(held)
    sub_groups = groups[index]
    n_groups = len(np.unique(sub_groups))
    if stratify:
        # StratifiedGroupKFold with k = round(1 / fraction) folds: take one fold as held out.
        k = max(2, round(1 / fraction))
        if n_groups < k:
            raise ValueError(f"{name}={fraction} needs at least {k} groups, got {n_groups}")
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        rest, held = next(splitter.split(index, sub_labels, sub_groups))
    else:
        if n_groups < 2:
            raise ValueError(f"{name}={fraction} needs at least 2 groups, got {n_groups}")
        splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        rest, held = next(splitter.split(index, sub_labels, sub_groups))
    return np.sort(index[rest]), np.sort(index[held])


def train_val_test_split(
    labels: Sequence | np.ndarray,
    *,
    val: float = 0.15,
    test: float = 0.15,
    stratify: bool = True,
    groups: Sequence | np.ndarray | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split item indices into (train, val, test), disjoint and together covering 0..N-1.

    ``val`` and ``test`` are fractions of all items (test is taken first, then val from the
    rest). ``stratify`` keeps each part's class proportions close to the whole's. With
    ``groups`` the split is by group (patient): fractions then hold approximately, and with
    stratification they are rounded to 1/k for the nearest whole number k of folds.
    """
    labels = _labels(labels)
    val, test = _fraction(val, "val"), _fraction(test, "test")
    if val + test >= 1:
        raise ArgumentError(f"val + test must be below 1 to leave a training set, got "
                            f"{val + test}")
    stratify = _checks.flag("stratify", stratify)
    groups = _groups(groups, len(labels))
    seed = _seed(seed)
    index = np.arange(len(labels))
    rest, test_idx = _holdout(index, labels, groups, test, stratify=stratify, seed=seed,
                              name="test")
    val_of_rest = val / (1 - test)
    train_idx, val_idx = _holdout(rest, labels, groups, val_of_rest, stratify=stratify,
                                  seed=seed, name="val")
    return train_idx.astype(np.int64), val_idx.astype(np.int64), test_idx.astype(np.int64)


def kfold(
    labels: Sequence | np.ndarray,
    k: int = 5,
    *,
    stratify: bool = True,
    groups: Sequence | np.ndarray | None = None,
    seed: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``k`` pairs (train_idx, val_idx): every item is validated exactly once.

    Uses ``StratifiedKFold``, ``StratifiedGroupKFold``, ``GroupKFold`` or ``KFold`` (shuffled
    with ``seed``) depending on ``stratify`` and ``groups``. The arguments are checked when
    ``kfold`` is called, not when the first fold is taken.
    """
    labels = _labels(labels)
    k = _checks.integer("k", k, low=2)
    stratify = _checks.flag("stratify", stratify)
    groups = _groups(groups, len(labels))
    seed = _seed(seed)
    if groups is not None and len(np.unique(groups)) < k:
        raise ValueError(f"k={k} folds need at least {k} groups, got {len(np.unique(groups))}")
    if groups is None and len(labels) < k:
        raise ValueError(f"k={k} folds need at least {k} items, got {len(labels)}")
    if stratify:
        smallest = np.unique(labels, return_counts=True)[1].min()
        if groups is None and smallest < k:
            raise ValueError(f"stratified k={k} folds need at least {k} items of each class; "
                             f"the smallest class has {smallest} (lower k or stratify=False)")
        if groups is None:
            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        else:
            splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    elif groups is None:
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    else:
        # GroupKFold has no shuffle before scikit-learn 1.6: permute the group names instead.
        names, codes = np.unique(groups, return_inverse=True)
        groups = np.random.default_rng(seed).permutation(len(names))[codes]
        splitter = GroupKFold(n_splits=k)
    return _folds(splitter, labels, groups)


def _folds(splitter, labels: np.ndarray, groups: np.ndarray | None) -> Iterator:
    for train_idx, val_idx in splitter.split(np.zeros(len(labels)), labels, groups):
        yield np.sort(train_idx).astype(np.int64), np.sort(val_idx).astype(np.int64)


def balanced_holdout(
    labels: Sequence | np.ndarray,
    n_test: int,
    *,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out ``n_test`` items with an equal count per class; return (rest_idx, test_idx).

    ``n_test`` must be a multiple of the number of classes, and each class needs at least
    ``n_test / n_classes`` items (e.g. 136 = 68 + 68 radiographs, as in the osteoporosis study).
    """
    labels = _labels(labels)
    seed = _seed(seed)
    classes, counts = np.unique(labels, return_counts=True)
    n_test = _checks.integer("n_test", n_test, low=1)
    if n_test % len(classes):
        raise ValueError(f"n_test={n_test} must be a multiple of the {len(classes)} classes")
    per_class = n_test // len(classes)
    if counts.min() < per_class:
        small = classes[np.argmin(counts)]
        raise ValueError(f"n_test={n_test} needs {per_class} items per class; class {small!r} "
                         f"has only {counts.min()}")
    rng = np.random.default_rng(seed)
    held = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in classes]
    test_idx = np.sort(np.concatenate(held))
    rest_idx = np.setdiff1d(np.arange(len(labels)), test_idx)
    return rest_idx.astype(np.int64), test_idx.astype(np.int64)


def check_leakage(
    splits: Mapping[str, Sequence[int] | np.ndarray],
    *,
    groups: Sequence | np.ndarray | None = None,
    raise_error: bool = True,
) -> dict[str, list]:
    """Find items, and with ``groups`` patients, present in more than one split.

    ``splits``: split name → item indices (e.g. ``{"train": ..., "val": ..., "test": ...}``);
    ``groups``: group (patient) id of every item, indexed by item index. Returns a report
    ``{"train/test": [...], ...}`` listing, for each pair of splits that share something, the
    shared indices (as ``("index", i)``) and groups (as ``("group", g)``); empty if clean.
    With ``raise_error`` (the default) any leak raises ``ValueError`` carrying the report.
    """
    if not isinstance(splits, Mapping):
        raise ArgumentTypeError(f"splits must be a mapping {{name: indices}}, e.g. "
                                f"{{'train': ..., 'test': ...}}, got {describe(splits)}")
    if len(splits) < 2:
        raise ArgumentError(f"splits must map at least 2 names to indices, got {list(splits)}")
    raise_error = _checks.flag("raise_error", raise_error)
    arrays = {}
    for name, indices in splits.items():
        where = f"splits[{name!r}]"
        if indices is None or isinstance(indices, str | bytes | Mapping):
            raise ArgumentTypeError(f"{where} must be a 1-D array of integer indices, got "
                                    f"{describe(indices)}")
        array = np.asarray(indices)
        if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
            raise ArgumentError(f"{where} must be a 1-D array of integer indices, got "
                                f"{describe(indices)}")
        if array.size and array.min() < 0:
            # -1 would silently name the last item: refuse negative indices outright
            raise ArgumentError(f"{where} must hold indices >= 0, got {int(array.min())}")
        arrays[name] = array
    group_array = None
    if groups is not None:
        group_array = _values("groups", groups)
        if group_array.ndim != 1:
            raise ArgumentError(f"groups must be 1-D (one group per item), got shape "
                                f"{group_array.shape}")
        for name, array in arrays.items():
            if array.size and array.max() >= len(group_array):
                raise ArgumentError(f"splits[{name!r}] has indices outside groups (length "
                                    f"{len(group_array)})")
    report: dict[str, list] = {}
    names = list(arrays)
    for a_pos, a in enumerate(names):
        for b in names[a_pos + 1:]:
            shared = [("index", int(i)) for i in np.intersect1d(arrays[a], arrays[b])]
            if group_array is not None:
                common = np.intersect1d(group_array[arrays[a]], group_array[arrays[b]])
                shared += [("group", g.item() if hasattr(g, "item") else g) for g in common]
            if shared:
                report[f"{a}/{b}"] = shared
    if report and raise_error:
        summary = "; ".join(f"{pair}: {items[:5]}{' ...' if len(items) > 5 else ''}"
                            for pair, items in report.items())
        raise ValueError(f"leakage between splits: {summary}")
    return report
