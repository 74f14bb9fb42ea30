"""Comparing segmentation architectures at an equal budget: parameters, training time, seeds.

The tools of a fair "architecture A vs. architecture B" study (e.g. U-Net vs. SegFormer):

- ``unet_parameters(width, ...)`` counts the trainable parameters of a
  :class:`dentpy.models.UNet` in closed form, and ``match_unet_width(target, ...)`` picks the
  width whose count is closest to a parameter budget (the "U-Net Lite" matched to another model);
- ``fit_timed(model, train, val, ...)`` trains any segmenter with the same recipe (AdamW, the
  average of binary cross-entropy and soft Dice), times every epoch, keeps the epoch with the
  best validation Dice and can save the predictions of a few images after chosen epochs;
- ``time_steps(models, images, masks, ...)`` times training steps of several models taken in
  turns, so that a machine's changing load slows them all alike;
- ``paired_bootstrap(a, b, ...)`` gives a 95% interval for the difference (or the relative
  change) of two models' mean scores over a grid of seeds x test items, resampling both.

Images are ``(N, C, H, W)`` float tensors, masks ``(N, K, H, W)`` tensors of 0 and 1 (``K``
labels, each scored with its own sigmoid); a model maps images to ``(N, K, H, W)`` logits.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from monai.losses import DiceLoss
from torch import nn

from dentpy import _checks
from dentpy.models.unet import NORMS
from dentpy.transfer import dice_per_image

__all__ = [
    "TimedHistory",
    "fit_timed",
    "match_unet_width",
    "paired_bootstrap",
    "seg_loss",
    "time_steps",
    "unet_parameters",
]


def unet_parameters(width: int, *, depth: int = 4, in_channels: int = 1, out_channels: int = 1,
                    dim: int = 2, norm: str = "batch") -> int:
    """Trainable parameters of ``dentpy.models.UNet(dim, in_channels, out_channels, width=width,
    depth=depth, norm=norm)``, counted in closed form (no model is built).

    Level ``i`` has ``c_i = width * 2**i`` channels. Each level's double convolution has
    ``3**dim * (c_in * c_out + c_out * c_out)`` weights, plus two norm affines (``2 * c_out``
    each) or two biases (``c_out`` each, ``norm="none"``); each up-sampling is a transposed
    convolution with ``2**dim * c_{i+1} * c_i + c_i`` parameters; the head has
    ``c_0 * out_channels + out_channels``. The count is quadratic in ``width``.
    """
    width = _checks.integer("width", width, low=1)
    depth = _checks.integer("depth", depth, low=2)
    in_channels = _checks.integer("in_channels", in_channels, low=1)
    out_channels = _checks.integer("out_channels", out_channels, low=1)
    dim = _checks.integer("dim", dim, low=2, high=3)
    _checks.choice("norm", norm, NORMS)
    k, up = 3**dim, 2**dim
    per_layer = 2 if norm != "none" else 1  # affine scale and shift, or one bias
    channels = [width * 2**i for i in range(depth)]
    total = 0
    for c_in, c_out in zip([in_channels, *channels[:-1]], channels, strict=True):
        total += k * (c_in * c_out + c_out * c_out) + 2 * per_layer * c_out
    for i in range(depth - 1):
        c = channels[i]
        total += up * channels[i + 1] * c + c  # transposed convolution
        total += k * (2 * c * c + c * c) + 2 * per_layer * c  # decoder double convolution
    return total + channels[0] * out_channels + out_channels


def match_unet_width(target: int, *, depth: int = 4, in_channels: int = 1,
                     out_channels: int = 1, dim: int = 2, norm: str = "batch") -> int:
    """The width of ``dentpy.models.UNet`` whose parameter count is closest to ``target``.

    The count grows with the width, so the widths are tried upwards until the count passes
    ``target``; of the last two, the closer wins (the smaller on a tie). A budget below the
    count of width 1 gives width 1.
    """
    target = _checks.integer("target", target, low=1)
    options = dict(depth=depth, in_channels=in_channels, out_channels=out_channels, dim=dim,
                   norm=norm)
    width, count = 1, unet_parameters(1, **options)
    while count < target:
        bigger = unet_parameters(width + 1, **options)
        if bigger >= target:
            return width + 1 if bigger - target < target - count else width
        width, count = width + 1, bigger
    return width


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters(), torch.empty(0)).device


def seg_loss(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """``(BCE + soft Dice) / 2``: the paper's polyp/instrument loss, one sigmoid per label.

    ``logits`` and ``masks`` (N, K, H, W); the binary cross-entropy is averaged over every
    pixel, the soft Dice loss (MONAI's ``DiceLoss(sigmoid=True)``, smoothing 1e-5) over images
    and labels. For ``K = 1`` this equals MONAI's ``DiceCELoss(sigmoid=True, lambda_dice=0.5,
    lambda_ce=0.5)``.
    """
    logits = _checks.tensor("logits", logits, ndim=4, kind="float")
    masks = _checks.tensor("masks", masks, ndim=4, kind="number")
    if tuple(masks.shape) != tuple(logits.shape):
        _checks.fail("masks", f"of the logits' shape {tuple(logits.shape)}", masks)
    masks = masks.to(logits.dtype)
    bce = nn.functional.binary_cross_entropy_with_logits(logits, masks)
    return 0.5 * bce + 0.5 * DiceLoss(sigmoid=True)(logits, masks)


@dataclass
class TimedHistory:
    """What :func:`fit_timed` measured, one entry per epoch (epochs count from 1)."""

    train_loss: list[float] = field(default_factory=list)  #: mean training loss per epoch
    val_loss: list[float] = field(default_factory=list)  #: validation loss per epoch
    val_dice: list[float] = field(default_factory=list)  #: mean validation Dice per epoch
    seconds: list[float] = field(default_factory=list)  #: wall-clock training time per epoch
    best_epoch: int = 0  #: the epoch whose weights the model keeps
    parameters: int = 0  #: number of trainable parameters
    #: sigmoid probabilities (n, K, H, W) of the snapshot images after the listed epochs
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def best_val_dice(self) -> float:
        """Validation Dice of the kept weights."""
        return self.val_dice[self.best_epoch - 1]

    @property
    def seconds_per_epoch(self) -> float:
        """Mean training time of one epoch, seconds."""
        return float(np.mean(self.seconds))


def fit_timed(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    batch_size: int = 8,
    seed: int = 0,
    snapshot_images: torch.Tensor | None = None,
    snapshot_epochs: Sequence[int] = (),
) -> TimedHistory:
    """Train ``model`` in place with one recipe for every architecture; keep its best epoch.

    AdamW (``lr``, ``weight_decay``) minimises :func:`seg_loss` over batches in an order fixed
    by ``seed``; each epoch's training time (``time.perf_counter``, training steps only) is
    recorded, then the validation loss and Dice. The model ends with the weights of the epoch
    of best validation Dice, in evaluation mode. After each epoch listed in
    ``snapshot_epochs``, the sigmoid probabilities of ``snapshot_images`` (n, C, H, W) are kept.
    """
    if not isinstance(model, nn.Module):
        _checks.fail("model", "a torch.nn.Module", model, wrong_type=True)
    train = _checks.images_and_masks("train", train)
    val = _checks.images_and_masks("val", val)
    if train[0].shape[1:] != val[0].shape[1:] or train[1].shape[1] != val[1].shape[1]:
        _checks.fail("val", f"images and masks shaped like train's {tuple(train[0].shape[1:])} "
                     f"and {train[1].shape[1]} label(s)", val[0])
    epochs = _checks.integer("epochs", epochs, low=1)
    lr = _checks.number("lr", lr, low=0.0, low_open=True)
    weight_decay = _checks.number("weight_decay", weight_decay, low=0.0)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    seed = _checks.integer("seed", seed, low=0)
    if snapshot_images is not None:
        snapshot_images = _checks.tensor("snapshot_images", snapshot_images, ndim=4, kind="float")
        if snapshot_images.shape[1:] != train[0].shape[1:]:
            _checks.fail("snapshot_images", f"images shaped like train's "
                         f"{tuple(train[0].shape[1:])}", snapshot_images)
    if isinstance(snapshot_epochs, str | bytes) or not isinstance(snapshot_epochs, Sequence):
        _checks.fail("snapshot_epochs", "a sequence of epoch numbers", snapshot_epochs,
                     wrong_type=True)
    wanted = {_checks.integer(f"snapshot_epochs[{i}]", e, low=1, high=epochs)
              for i, e in enumerate(snapshot_epochs)}
    if wanted and snapshot_images is None:
        _checks.fail("snapshot_images", "images to snapshot when snapshot_epochs is given", None)

    params = [p for p in model.parameters() if p.requires_grad]
    history = TimedHistory(parameters=sum(p.numel() for p in params))
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    device = _device(model)
    images, masks = train
    best_dice, best_state = -1.0, None
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        start_time = time.perf_counter()
        for start in range(0, len(images), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = seg_loss(model(images[batch].to(device)), masks[batch].to(device))
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        history.seconds.append(time.perf_counter() - start_time)
        history.train_loss.append(total / len(images))
        model.eval()
        with torch.no_grad():
            history.val_loss.append(float(seg_loss(model(val[0].to(device)), val[1].to(device))))
            if epoch in wanted:
                history.snapshots[epoch] = torch.sigmoid(
                    model(snapshot_images.to(device))).cpu().numpy()
        history.val_dice.append(float(dice_per_image(model, *val).mean()))
        if history.val_dice[-1] > best_dice:
            best_dice, best_state = history.val_dice[-1], copy.deepcopy(model.state_dict())
            history.best_epoch = epoch
    model.load_state_dict(best_state)
    model.eval()
    return history


def time_steps(models: Mapping[str, nn.Module], images: torch.Tensor, masks: torch.Tensor, *,
               batch_size: int = 4, repeats: int = 5, warmup: int = 1) -> dict[str, np.ndarray]:
    """Seconds per training step of each model, ``{name: (repeats,)}``, measured in turns.

    A step is what :func:`fit_timed` does per batch: forward, :func:`seg_loss`, backward and an
    AdamW update, on the first ``batch_size`` of ``images`` (N, C, H, W) and ``masks``
    (N, K, H, W). Each model is copied first (the originals are not changed); in every round
    each model takes one step, so a change of the machine's load during the measurement hits
    every model alike. ``warmup`` untimed rounds come first.
    """
    if isinstance(models, str | bytes) or not isinstance(models, Mapping) or not models:
        _checks.fail("models", "a non-empty dict {name: torch.nn.Module}", models,
                     wrong_type=not isinstance(models, Mapping))
    for name, model in models.items():
        if not isinstance(model, nn.Module):
            _checks.fail(f"models[{name!r}]", "a torch.nn.Module", model, wrong_type=True)
    images, masks = _checks.images_and_masks("data", (images, masks))
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    repeats = _checks.integer("repeats", repeats, low=1)
    warmup = _checks.integer("warmup", warmup, low=0)
    copies = {name: copy.deepcopy(model).train() for name, model in models.items()}
    optimizers = {name: torch.optim.AdamW(m.parameters(), lr=1e-3) for name, m in copies.items()}
    seconds: dict[str, list[float]] = {name: [] for name in copies}
    for round_ in range(warmup + repeats):
        for name, model in copies.items():
            device = _device(model)
            x, y = images[:batch_size].to(device), masks[:batch_size].to(device)
            start = time.perf_counter()
            optimizers[name].zero_grad()
            seg_loss(model(x), y).backward()
            optimizers[name].step()
            if round_ >= warmup:
                seconds[name].append(time.perf_counter() - start)
    return {name: np.asarray(values) for name, values in seconds.items()}


def paired_bootstrap(a: object, b: object, *, kind: str = "difference", n_boot: int = 2000,
                     alpha: float = 0.05, seed: int = 0) -> tuple[float, float, float]:
    """(estimate, low, high) for ``mean(a) - mean(b)`` (or ``mean(a) / mean(b) - 1``).

    ``a`` and ``b`` are paired scores of the same shape: ``(S, N)`` (S seeds x N test items,
    the same items for every seed) or ``(N,)``. Each bootstrap draw resamples the rows (seeds)
    and the columns (items) independently with replacement, the same draws for ``a`` and ``b``,
    so the interval holds both the spread over training seeds and over test items. ``kind`` is
    ``"difference"`` or ``"relative"`` (``b`` must then have a positive mean). The interval is
    the ``alpha / 2`` and ``1 - alpha / 2`` percentiles of ``n_boot`` draws.
    """
    first = _checks.array("a", a, ndim=(1, 2), kind="number")
    second = _checks.array("b", b, ndim=(1, 2), kind="number")
    if first.shape != second.shape:
        _checks.fail("b", f"of a's shape {first.shape}", second)
    _checks.choice("kind", kind, ("difference", "relative"))
    n_boot = _checks.integer("n_boot", n_boot, low=1)
    alpha = _checks.number("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    seed = _checks.integer("seed", seed, low=0)
    first = np.atleast_2d(first.astype(np.float64))
    second = np.atleast_2d(second.astype(np.float64))
    if kind == "relative" and not second.mean() > 0:
        _checks.fail("b", "scores with a positive mean (kind='relative')", float(second.mean()))

    def statistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        mx, my = x.mean(axis=(-2, -1)), y.mean(axis=(-2, -1))
        return mx - my if kind == "difference" else mx / np.where(my > 0, my, np.nan) - 1

    rng = np.random.default_rng(seed)
    s, n = first.shape
    estimate = float(statistic(first, second))
    draws = np.empty(n_boot)
    for start in range(0, n_boot, 256):
        m = min(256, n_boot - start)
        rows = rng.integers(0, s, size=(m, s))[:, :, None]
        cols = rng.integers(0, n, size=(m, n))[:, None, :]
        draws[start:start + m] = statistic(first[rows, cols], second[rows, cols])
    draws = draws[np.isfinite(draws)]
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return estimate, float(low), float(high)
