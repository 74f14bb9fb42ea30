"""The record of one training run: per-epoch losses and metrics, and the best epoch."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from dentpy import _checks

MODES = ("min", "max")


def _real(name: str, value: Any) -> float:
    """``value`` as a float; NaN is allowed (a diverged epoch), anything not a number raises."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    elif isinstance(value, np.ndarray | np.generic) and value.size == 1:
        value = value.item()
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isnan(value):
        return math.nan
    return _checks.number(name, value, finite=False)


def is_improvement(value: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    """``True`` when ``value`` beats ``best`` by more than ``min_delta`` (NaN never improves)."""
    value = _real("value", value)
    if best is not None:
        best = _real("best", best)
    _checks.choice("mode", mode, MODES)
    min_delta = _checks.number("min_delta", min_delta, low=0)
    if math.isnan(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


class History:
    """Per-epoch values of one run, read as ``history["val_loss"]`` (a list, one per epoch).

    Columns: ``epoch`` (1-based), ``train_loss``, ``val_loss``, ``train_<metric>``,
    ``val_<metric>``, ``lr`` (first parameter group, at the end of the epoch) and ``time_s``
    (wall seconds of the epoch). ``best_epoch`` is the 1-based epoch with the best
    ``monitor`` value (first one on ties), chosen on validation by default.
    """

    def __init__(self, *, monitor: str = "val_loss", mode: str = "min"):
        if not isinstance(monitor, str):
            raise _checks.ArgumentTypeError(
                f"monitor must be a column name (a string), got {_checks.describe(monitor)}"
            )
        _checks.choice("mode", mode, MODES)
        self.monitor = monitor
        self.mode = mode
        self.stopped_early = False
        self._columns: dict[str, list[float]] = {}

    def append(self, record: Mapping[str, float]) -> None:
        """Add the values of one epoch (missing columns of earlier epochs read as NaN).

        ``record`` maps column names to numbers and must hold ``"epoch"``.
        """
        if not isinstance(record, Mapping):
            raise _checks.ArgumentTypeError(
                f"record must be a dict of column values, got {_checks.describe(record)}"
            )
        if "epoch" not in record:
            raise _checks.ArgumentError(f"record must hold an 'epoch' value, got {record!r}")
        values = {key: _real(f"record[{key!r}]", value)
                  for key, value in record.items()}
        n = len(self)
        for key in values:
            self._columns.setdefault(key, [math.nan] * n)
        for key, column in self._columns.items():
            column.append(values.get(key, math.nan))

    def __len__(self) -> int:
        return len(self._columns.get("epoch", []))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self._columns:
            raise KeyError(f"history has no column {key!r}; it has {self.keys()}")
        return list(self._columns[key])

    def __contains__(self, key: object) -> bool:
        return key in self._columns

    def keys(self) -> list[str]:
        """The column names."""
        return list(self._columns)

    @property
    def train_loss(self) -> list[float]:
        return self["train_loss"]

    @property
    def val_loss(self) -> list[float]:
        return self["val_loss"]

    @property
    def best_epoch(self) -> int | None:
        """1-based epoch with the best ``monitor`` value; ``None`` before any finite value."""
        best, best_epoch = None, None
        epochs = self._columns.get("epoch", [])
        for epoch, value in zip(epochs, self._columns.get(self.monitor, []), strict=False):
            if is_improvement(value, best, self.mode):
                best, best_epoch = value, int(epoch)
        return best_epoch

    @property
    def best_value(self) -> float | None:
        """The ``monitor`` value at ``best_epoch``."""
        epoch = self.best_epoch
        return None if epoch is None else self[self.monitor][self["epoch"].index(epoch)]

    def at_best(self, column: str) -> float:
        """The value of ``column`` (e.g. ``"val_accuracy"``) at ``best_epoch``.

        This is the number to report for the model ``fit`` restored: chosen on ``monitor``,
        read in another column of the same epoch (not the best of that column over epochs).
        """
        if column not in self._columns:
            raise ValueError(f"column must be one of {self.keys()}, got {column!r}")
        epoch = self.best_epoch
        if epoch is None:
            raise ValueError(f"history has no finite {self.monitor!r} value yet: no best epoch")
        return self._columns[column][self._columns["epoch"].index(epoch)]

    def epochs_without_improvement(self, min_delta: float = 0.0) -> int:
        """Epochs since ``monitor`` last beat its running best by more than ``min_delta``."""
        min_delta = _checks.number("min_delta", min_delta, low=0)
        best, wait = None, 0
        for value in self._columns.get(self.monitor, []):
            if is_improvement(value, best, self.mode, min_delta):
                best, wait = value, 0
            else:
                wait += 1
        return wait

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready dict; ``pandas.DataFrame(h.to_dict()["epochs"])`` gives a table."""
        return {
            "monitor": self.monitor,
            "mode": self.mode,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "epochs": {key: list(column) for key, column in self._columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        """Rebuild a history written by :meth:`to_dict`."""
        missing = ([key for key in ("monitor", "mode", "epochs") if key not in data]
                   if isinstance(data, Mapping) else None)
        if missing is None or missing or not isinstance(data["epochs"], Mapping):
            raise _checks.ArgumentError(
                "data must be what History.to_dict() returned (keys 'monitor', 'mode' and "
                f"'epochs'), got {_checks.describe(data)}"
            )
        history = cls(monitor=data["monitor"], mode=data["mode"])
        history.stopped_early = bool(data.get("stopped_early", False))
        history._columns = {key: [float(v) for v in col] for key, col in data["epochs"].items()}
        return history

    def plot(self, keys: Sequence[str] | None = None, *, ax: Any = None) -> Any:
        """Plot the curves against the epoch and mark ``best_epoch``; returns the figure.

        ``keys`` defaults to the losses; each metric ``m`` can be added as ``"m"`` (its train and
        val curves) or by its column name.
        """
        import matplotlib.pyplot as plt

        keys = ["loss"] if keys is None else [keys] if isinstance(keys, str) else list(keys)
        if ax is None:
            fig, ax = plt.subplots(figsize=(5, 3.2))
        else:
            fig = ax.figure
        epochs = self._columns.get("epoch", [])
        for key in keys:
            names = [key] if key in self._columns else [f"train_{key}", f"val_{key}"]
            present = [name for name in names if name in self._columns]
            if not present:
                raise ValueError(f"keys: {key!r} is not in the history; it has {self.keys()}")
            for name in present:
                ax.plot(epochs, self._columns[name], marker="o", markersize=3, label=name)
        if self.best_epoch is not None:
            ax.axvline(self.best_epoch, color="grey", linestyle=":", label="best epoch")
        ax.set_xlabel("epoch")
        ax.legend()
        return fig

    def __repr__(self) -> str:
        return (f"History(epochs={len(self)}, monitor={self.monitor!r}, "
                f"best_epoch={self.best_epoch})")
