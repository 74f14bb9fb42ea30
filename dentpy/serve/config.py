"""The training config of the web tool: a dataclass whose every field is checked.

``TrainConfig.from_dict`` reads the JSON a user sends and reports *all* problems at once
(unknown keys, wrong types, values out of range) in one :class:`ConfigError`, whose
``problems`` list holds one sentence per field; the web tool answers it with HTTP 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from dentpy import _checks

NORMS = ("instance", "batch", "none")


class ConfigError(ValueError):
    """A training config with one or more problems (``problems``: one sentence each)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid config: " + "; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class TrainConfig:
    """How to train the segmenter of one job.

    ``steps`` optimiser steps of Adam (learning rate ``lr``) on random batches of
    ``batch_size`` training pairs; a U-Net (:class:`dentpy.models.UNet`) of ``depth`` levels
    with ``width`` channels at the first, ``norm`` its normalisation; ``val_fraction`` of the
    pairs held out for validation Dice, measured every ``log_every`` steps; ``num_classes``
    mask labels (0 is background); ``seed`` fixes the split, the weights and the batches.
    """

    steps: int = 100
    lr: float = 3e-3
    batch_size: int = 4
    width: int = 8
    depth: int = 3
    norm: str = "instance"
    val_fraction: float = 0.25
    log_every: int = 10
    num_classes: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        problems = _problems(asdict(self))
        if problems:
            raise ConfigError(problems)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainConfig:
        """A config from user JSON; missing keys take the defaults, unknown keys are refused."""
        if not isinstance(values, Mapping):
            raise ConfigError([f"the config must be a JSON object, got "
                               f"{_checks.describe(values)}"])
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in values if key not in known)
        merged = {**asdict(cls()), **{k: v for k, v in values.items() if k in known}}
        problems = [f"unknown setting {key!r} (known: {', '.join(sorted(known))})"
                    for key in unknown] + _problems(merged)
        if problems:
            raise ConfigError(problems)
        return cls(**merged)

    def to_dict(self) -> dict[str, Any]:
        """The config as plain JSON-ready values."""
        return asdict(self)


_INTEGERS = {"steps": (1, 100_000), "batch_size": (1, 256), "width": (1, 128),
             "depth": (2, 6), "log_every": (1, 100_000), "num_classes": (2, 255),
             "seed": (0, 2**31 - 1)}


def _problems(values: dict[str, Any]) -> list[str]:
    """One sentence per invalid field (empty when all are fine)."""
    problems = []
    for key, (low, high) in _INTEGERS.items():
        try:
            _checks.integer(key, values[key], low=low, high=high)
        except ValueError as error:
            problems.append(str(error))
    for key, low_open, high, high_open in (("lr", True, 1.0, False),
                                           ("val_fraction", True, 0.9, False)):
        try:
            _checks.number(key, values[key], low=0.0, low_open=low_open, high=high,
                           high_open=high_open)
        except ValueError as error:
            problems.append(str(error))
    try:
        _checks.choice("norm", values["norm"], NORMS)
    except ValueError as error:
        problems.append(str(error))
    return problems
