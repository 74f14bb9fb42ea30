"""Pretraining on a source task, the offline stand-in for downloaded ImageNet weights.

Transfer learning in three steps: ``pretrain`` a classifier on a (synthetic) source task,
give it a new head with ``replace_head(model, num_classes)``, then fine-tune it on the target
task with some blocks frozen (``freeze_blocks``) using ``dentpy.train.fit``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split

from dentpy import _checks
from dentpy.train import History, fit


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of rows of ``outputs`` (N, C) logits whose argmax equals ``targets`` (N,).

    ``targets`` are class indices (integers, or floats holding whole numbers); the two must
    have the same, non-zero, number of rows.
    """
    outputs = _checks.tensor("outputs", outputs, ndim=2, kind="float")
    targets = _checks.tensor("targets", targets, ndim=1, kind="number")
    _checks.same_length(outputs=outputs, targets=targets)
    if targets.is_floating_point() and not torch.equal(targets, targets.round()):
        raise _checks.ArgumentError(
            f"targets must be class indices (whole numbers), got {_checks.describe(targets)}"
        )
    return (outputs.argmax(dim=1) == targets.to(outputs.device)).float().mean().item()


def pretrain(
    model: nn.Module,
    source_dataset: Dataset,
    *,
    epochs: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    val_fraction: float = 0.2,
    seed: int = 0,
    **fit_kwargs: Any,
) -> History:
    """Train ``model`` (its head sized for the source classes) on ``source_dataset``.

    Items are ``(image, class index)`` pairs or dicts (see ``fit``'s ``input_key``). A seeded
    random ``val_fraction`` of the items is the validation split; Adam with learning rate
    ``lr`` minimises the cross-entropy; ``val_accuracy`` is recorded. The model ends with
    its best validation weights. Other keywords go to :func:`dentpy.train.fit`.
    """
    if not isinstance(model, nn.Module):
        raise _checks.ArgumentTypeError(
            f"model must be a torch.nn.Module, got {_checks.describe(model)}"
        )
    if isinstance(source_dataset, str | bytes | dict) or not (
        hasattr(source_dataset, "__getitem__") and hasattr(source_dataset, "__len__")
    ):
        raise _checks.ArgumentTypeError(
            f"source_dataset must be a map-style Dataset of (image, class) items, got "
            f"{_checks.describe(source_dataset)}"
        )
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    lr = _checks.number("lr", lr, low=0, low_open=True)
    val_fraction = _checks.number("val_fraction", val_fraction, low=0, high=1, low_open=True,
                                  high_open=True)
    seed = _checks.integer("seed", seed, low=0, high=2**63 - 1)
    n = len(source_dataset)
    n_val = max(1, round(n * val_fraction))
    if n - n_val < 1:
        raise ValueError(f"source_dataset: {n} item(s) are too few to split off a validation set")
    generator = torch.Generator().manual_seed(seed)
    train_set, val_set = random_split(source_dataset, [n - n_val, n_val], generator=generator)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=generator)
    val_loader = DataLoader(val_set, batch_size=batch_size)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    metrics = {"accuracy": accuracy, **(fit_kwargs.pop("metrics", None) or {})}
    return fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs,
               metrics=metrics, **fit_kwargs)
