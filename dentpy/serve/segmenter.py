"""Train and apply the web tool's segmenter: a small U-Net fitted to label masks.

:func:`train_segmenter` is the whole training of one job, as a plain function of the data and
a :class:`~dentpy.serve.config.TrainConfig`: a seeded split into training and validation pairs,
Adam on cross-entropy over random batches, and a call of ``on_log`` every ``log_every`` steps
with the mean training loss and the validation Dice, so the tool can show progress. The same
seed and data give the same model, in the server or in a notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dentpy import _checks
from dentpy.metrics import dice
from dentpy.models import UNet
from dentpy.serve.config import TrainConfig

IGNORE = 255  #: label of the padding added to reach a size the U-Net accepts


def build_model(config: TrainConfig) -> nn.Module:
    """The U-Net of ``config``: 1 input channel, ``num_classes`` output logits."""
    if not isinstance(config, TrainConfig):
        raise _checks.ArgumentTypeError(f"config must be a TrainConfig, got "
                                        f"{_checks.describe(config)}")
    return UNet(2, 1, config.num_classes, width=config.width, depth=config.depth,
                norm=config.norm)


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of ``n`` pairs into (train, validation) indices; one pair alone trains."""
    n = _checks.integer("n", n, low=1)
    val_fraction = _checks.number("val_fraction", val_fraction, low=0, high=0.9)
    seed = _checks.integer("seed", seed, low=0)
    order = np.random.default_rng(seed).permutation(n)
    n_val = 0 if n < 2 else min(n - 1, max(1, round(val_fraction * n)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _check_data(images: Any, masks: Any, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    images = _checks.array("images", images, ndim=3, kind="float")
    masks = _checks.array("masks", masks, ndim=3, kind="integer")
    if images.shape != masks.shape:
        raise _checks.ArgumentError(f"images and masks must have the same shape (N, H, W), got "
                                    f"{images.shape} and {masks.shape}")
    if masks.min() < 0 or masks.max() >= num_classes:
        raise _checks.ArgumentError(f"masks must hold labels 0..{num_classes - 1}, got "
                                    f"{masks.min()}..{masks.max()}")
    return images.astype(np.float32), masks.astype(np.int64)


def _pad(array: np.ndarray, multiple: int, value: float) -> np.ndarray:
    h, w = array.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    widths = [(0, 0)] * (array.ndim - 2) + [(0, pad_h), (0, pad_w)]
    return np.pad(array, widths, constant_values=value)


def predict_masks(model: nn.Module, images: Any) -> np.ndarray:
    """Label masks ``(N, H, W)`` uint8 of images ``(N, H, W)`` or one ``(H, W)`` image.

    Each image is padded with zeros to a size the U-Net accepts, and the prediction cropped
    back; the model is put in eval mode."""
    if not isinstance(model, nn.Module):
        raise _checks.ArgumentTypeError(f"model must be a torch module, got "
                                        f"{_checks.describe(model)}")
    images = _checks.array("images", images, ndim=(2, 3), kind="float")
    single = images.ndim == 2
    batch = images[None] if single else images
    h, w = batch.shape[-2:]
    multiple = 2 ** (getattr(model, "depth", 1) - 1)
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(_pad(batch.astype(np.float32), multiple, 0.0))[:, None]
        labels = model(x).argmax(1)[:, :h, :w].numpy().astype(np.uint8)
    return labels[0] if single else labels


def mean_dice(pred: Any, target: Any, *, num_classes: int = 2) -> float:
    """Dice averaged over images and foreground classes (1 .. num_classes - 1).

    ``pred`` and ``target`` are label masks of one shape, ``(H, W)`` or ``(N, H, W)``; an
    image where both are empty counts as 1."""
    num_classes = _checks.integer("num_classes", num_classes, low=2)
    pred = _checks.array("pred", pred, ndim=(2, 3), kind="integer")
    target = _checks.array("target", target, ndim=(2, 3), kind="integer")
    if pred.shape != target.shape:
        raise _checks.ArgumentError(f"pred and target must have the same shape, got "
                                    f"{pred.shape} and {target.shape}")
    if pred.ndim == 2:
        pred, target = pred[None], target[None]
    scores = dice(torch.as_tensor(pred.astype(np.int64)), torch.as_tensor(target.astype(np.int64)),
                  num_classes=num_classes, include_background=False)
    return float(scores.mean())


def train_segmenter(
    images: Any,
    masks: Any,
    config: TrainConfig,
    *,
    on_log: Callable[[dict[str, float]], None] | None = None,
) -> tuple[nn.Module, list[dict[str, float]]]:
    """Train the U-Net of ``config`` on images ``(N, H, W)`` in [0, 1] and masks ``(N, H, W)``.

    Returns the model (eval mode) and the history: one dict per log point with ``step``,
    ``loss`` (mean training cross-entropy since the last point) and ``val_dice`` (NaN without
    validation pairs). ``on_log`` receives each dict as it is made. The global torch RNG is
    left as it was.
    """
    if not isinstance(config, TrainConfig):
        raise _checks.ArgumentTypeError(f"config must be a TrainConfig, got "
                                        f"{_checks.describe(config)}")
    if on_log is not None and not callable(on_log):
        raise _checks.ArgumentTypeError(f"on_log must be a function or None, got "
                                        f"{_checks.describe(on_log)}")
    images, masks = _check_data(images, masks, config.num_classes)
    train, val = split_indices(len(images), config.val_fraction, config.seed)
    multiple = 2 ** (config.depth - 1)
    x_all = torch.from_numpy(_pad(images, multiple, 0.0))[:, None]
    y_all = torch.from_numpy(_pad(masks, multiple, IGNORE))
    rng = np.random.default_rng(config.seed + 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = build_model(config)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    history: list[dict[str, float]] = []
    losses: list[float] = []
    for step in range(1, config.steps + 1):
        model.train()
        batch = rng.choice(train, size=min(config.batch_size, len(train)), replace=False)
        loss = F.cross_entropy(model(x_all[batch]), y_all[batch], ignore_index=IGNORE)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
        if step % config.log_every == 0 or step == config.steps:
            val_dice = (mean_dice(predict_masks(model, images[val]), masks[val],
                                  num_classes=config.num_classes) if len(val) else float("nan"))
            point = {"step": step, "loss": float(np.mean(losses)), "val_dice": val_dice}
            losses = []
            history.append(point)
            if on_log is not None:
                on_log(point)
    model.eval()
    return model, history
