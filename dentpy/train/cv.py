"""k-fold cross-validation: one fresh model per fold, its history and its predictions.

Folds come from scikit-learn: ``StratifiedGroupKFold`` with labels and groups (e.g. one
patient's images never on both sides), ``StratifiedKFold`` with labels, ``GroupKFold`` with
groups, ``KFold`` otherwise. An optional test split is held out first and never seen while
training or choosing the best epoch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from dentpy import _checks
from dentpy.runtime import seed_everything
from dentpy.train.history import History
from dentpy.train.loop import fit, predict


def _as_column(name: str, values: Sequence[Any] | None, n: int) -> np.ndarray | None:
    if values is None:
        return None
    if isinstance(values, str | bytes | dict):
        raise _checks.ArgumentTypeError(
            f"{name} must be a sequence with one entry per dataset item, got "
            f"{_checks.describe(values)}"
        )
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.ndim != 1 or len(array) != n:
        raise ValueError(f"{name} must be 1-D with one entry per dataset item ({n}), "
                         f"got shape {array.shape}")
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise ValueError(f"{name} contains NaN")
    return array


def fold_indices(
    n: int,
    k: int,
    *,
    labels: Sequence[Any] | None = None,
    groups: Sequence[Any] | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
) -> tuple[np.ndarray | None, list[tuple[np.ndarray, np.ndarray]]]:
    """Split ``range(n)`` into an optional test set and ``k`` (train, val) folds.

    Returns ``(test_indices or None, [(train_indices, val_indices), ...])``; the val parts
    partition everything outside the test set. Stratified on ``labels`` and grouped on
    ``groups`` when given; shuffled with ``seed``.
    """
    from sklearn.model_selection import (  # imported here: it takes seconds to load
        GroupKFold,
        GroupShuffleSplit,
        KFold,
        ShuffleSplit,
        StratifiedGroupKFold,
        StratifiedKFold,
        StratifiedShuffleSplit,
    )

    n = _checks.integer("n", n, low=0)
    k = _checks.integer("k", k, low=2)
    seed = _checks.integer("seed", seed, low=0, high=2**32 - 1)
    if n < k:
        raise _checks.ArgumentError(
            f"n must be at least k={k} (one item per fold): k={k} folds need at least k items, "
            f"the dataset has {n}"
        )
    y = _as_column("labels", labels, n)
    g = _as_column("groups", groups, n)
    everything = np.arange(n)
    test = None
    if test_fraction is not None:
        test_fraction = _checks.number("test_fraction", test_fraction, low=0, high=1,
                                       low_open=True, high_open=True)
        if y is not None and g is not None:
            splits = max(2, round(1 / test_fraction))
            holdout = StratifiedGroupKFold(splits, shuffle=True, random_state=seed)
        elif g is not None:
            holdout = GroupShuffleSplit(1, test_size=test_fraction, random_state=seed)
        elif y is not None:
            holdout = StratifiedShuffleSplit(1, test_size=test_fraction, random_state=seed)
        else:
            holdout = ShuffleSplit(1, test_size=test_fraction, random_state=seed)
        rest, test = next(holdout.split(everything, y, g))
        everything = np.sort(rest)
        test = np.sort(test)
        if len(everything) < k:
            raise ValueError(f"test_fraction={test_fraction} leaves {len(everything)} items "
                             f"for {k} folds")
    y_rest = None if y is None else y[everything]
    g_rest = None if g is None else g[everything]
    if y is not None and g is not None:
        splitter = StratifiedGroupKFold(k, shuffle=True, random_state=seed)
    elif y is not None:
        splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
    elif g is not None:
        if len(np.unique(g_rest)) < k:
            raise ValueError(f"groups: {len(np.unique(g_rest))} distinct groups cannot fill "
                             f"k={k} folds")
        splitter = GroupKFold(k, shuffle=True, random_state=seed)
    else:
        splitter = KFold(k, shuffle=True, random_state=seed)
    folds = [(everything[tr], everything[va])
             for tr, va in splitter.split(everything, y_rest, g_rest)]
    return test, folds


@dataclass
class FoldResult:
    """One fold: its indices into the dataset, history and predictions (best-epoch model).

    ``val_outputs``/``val_targets`` follow ``val_indices``; ``test_outputs`` follow the
    :class:`CVResult`'s ``test_indices`` (``None`` without a test split).
    """

    fold: int
    train_indices: np.ndarray
    val_indices: np.ndarray
    history: History
    val_outputs: torch.Tensor
    val_targets: torch.Tensor
    test_outputs: torch.Tensor | None = None
    test_targets: torch.Tensor | None = None


@dataclass
class CVResult:
    """Every fold's result, plus the held-out test indices (``None`` without a test split)."""

    folds: list[FoldResult]
    test_indices: np.ndarray | None = None

    def best_values(self, column: str) -> np.ndarray:
        """Each fold's value of ``column`` at its best epoch, shape ``(k,)``."""
        return np.asarray([fold.history.at_best(column) for fold in self.folds], dtype=float)

    def summary(self) -> dict[str, tuple[float, float]]:
        """``{column: (mean, sd)}`` over folds, at each fold's best epoch (sd with ddof=1)."""
        columns = [c for c in self.folds[0].history.keys() if c.startswith(("train_", "val_"))]
        return {c: (float(v.mean()), float(v.std(ddof=1)))
                for c in columns for v in [self.best_values(c)]}

    def __str__(self) -> str:
        lines = [f"{len(self.folds)}-fold cross-validation (values at each fold's best epoch)"]
        lines += [f"  {c}: {m:.4g} ± {s:.2g}" for c, (m, s) in self.summary().items()]
        return "\n".join(lines)


def cross_validate(
    make_model: Callable[[], nn.Module],
    dataset: Dataset,
    k: int = 5,
    *,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    epochs: int,
    labels: Sequence[Any] | None = None,
    groups: Sequence[Any] | None = None,
    test_fraction: float | None = None,
    make_optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] | None = None,
    make_scheduler: Callable[[torch.optim.Optimizer], Any] | None = None,
    batch_size: int = 32,
    num_workers: int = 0,
    seed: int = 0,
    checkpoint_dir: str | os.PathLike | None = None,
    **fit_kwargs: Any,
) -> CVResult:
    """Train ``make_model()`` afresh on each of ``k`` folds of ``dataset`` with :func:`fit`.

    ``labels`` (one per item) stratify the folds, ``groups`` (e.g. patient ids) keep each
    group on one side; ``test_fraction`` holds out a test split first, predicted by every
    fold's model but never used for training or model choice. ``make_optimizer(params)``
    defaults to Adam with lr 1e-3. Fold ``i`` is seeded with ``seed + i`` (weights and
    shuffling), so a run repeats exactly. Other keywords go to :func:`fit`; each fold's
    checkpoints go to ``checkpoint_dir/fold<i>``.
    """
    if not callable(make_model) or isinstance(make_model, nn.Module):
        raise _checks.ArgumentTypeError(
            f"make_model must be a callable returning a fresh model (e.g. a lambda), got "
            f"{_checks.describe(make_model)}"
        )
    if isinstance(dataset, str | bytes | dict) or not (
        hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")
    ):
        raise _checks.ArgumentTypeError(
            f"dataset must be a map-style Dataset, got {_checks.describe(dataset)}"
        )
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    num_workers = _checks.integer("num_workers", num_workers, low=0)
    k = _checks.integer("k", k, low=2)
    if len(dataset) < k:
        raise _checks.ArgumentError(
            f"dataset has {len(dataset)} item(s), fewer than the k={k} folds"
        )
    if checkpoint_dir is not None:
        checkpoint_dir = _checks.output_path("checkpoint_dir", checkpoint_dir, kind="dir")
    test, folds = fold_indices(len(dataset), k, labels=labels, groups=groups,
                               test_fraction=test_fraction, seed=seed)
    make_optimizer = make_optimizer or (lambda params: torch.optim.Adam(params, lr=1e-3))
    keys = {key: fit_kwargs[key] for key in ("input_key", "target_key") if key in fit_kwargs}
    results = []
    for i, (train_idx, val_idx) in enumerate(folds):
        seed_everything(seed + i)
        model = make_model()
        if not isinstance(model, nn.Module):
            raise _checks.ArgumentTypeError(
                f"make_model must return a torch.nn.Module, got {_checks.describe(model)}"
            )
        optimizer = make_optimizer(model.parameters())
        scheduler = make_scheduler(optimizer) if make_scheduler is not None else None
        generator = torch.Generator().manual_seed(seed + i)
        train_loader = DataLoader(Subset(dataset, train_idx.tolist()), batch_size=batch_size,
                                  shuffle=True, generator=generator, num_workers=num_workers)
        val_loader = DataLoader(Subset(dataset, val_idx.tolist()), batch_size=batch_size,
                                num_workers=num_workers)
        folder = Path(checkpoint_dir) / f"fold{i}" if checkpoint_dir is not None else None
        history = fit(model, train_loader, val_loader, loss_fn, optimizer, epochs,
                      scheduler=scheduler, checkpoint_dir=folder, **fit_kwargs)
        val_outputs, val_targets = predict(model, val_loader, **keys)
        test_outputs = test_targets = None
        if test is not None:
            test_loader = DataLoader(Subset(dataset, test.tolist()), batch_size=batch_size,
                                     num_workers=num_workers)
            test_outputs, test_targets = predict(model, test_loader, **keys)
        results.append(FoldResult(i, train_idx, val_idx, history, val_outputs, val_targets,
                                  test_outputs, test_targets))
    return CVResult(results, test)
