"""Segmentation and classification losses: focal, soft Dice, Dice + cross-entropy, Jaccard + focal.

Every loss takes raw **logits** ``(B, C, ...)`` (any number of spatial axes, none for plain
classification) and a target in one of two forms:

* class indices ``(B, ...)``, an integer tensor with values in ``[0, C)`` (``{0, 1}`` when
  ``C == 1``);
* one-hot or soft labels ``(B, C, ...)``, the same shape as the logits, values in ``[0, 1]``.

``C == 1`` means a binary problem scored with a sigmoid; ``C > 1`` means mutually exclusive
classes scored with a softmax over the channel axis. Each loss is a function (``focal_loss``,
``dice_loss``, ``jaccard_loss``) and an ``nn.Module`` that holds its options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dentpy import _checks

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS = ("mean", "sum", "none")


def _prepare(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Validate inputs and return the target as float one-hot/soft labels shaped like ``logits``."""
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise _checks.ArgumentTypeError(
            f"logits must be a floating-point tensor (B, C, ...), got {_checks.describe(logits)}")
    if not isinstance(target, torch.Tensor):
        raise _checks.ArgumentTypeError(
            f"target must be a tensor (class indices or one-hot), got {_checks.describe(target)}")
    if logits.ndim < 2 or logits.shape[0] == 0 or logits.numel() == 0:
        raise ValueError(
            f"logits must have shape (B, C, ...) with B, C >= 1, got {tuple(logits.shape)}"
        )
    if not torch.isfinite(logits).all():
        raise ValueError("logits contain NaN or infinite values")
    channels = logits.shape[1]
    if target.shape == logits.shape:
        soft = target.to(logits.dtype)
        if not torch.isfinite(soft).all() or soft.min() < 0 or soft.max() > 1:
            raise ValueError("target given as one-hot/soft labels must hold values in [0, 1]")
        return soft
    if target.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(
            f"target must be class indices {tuple(logits.shape[:1] + logits.shape[2:])} or "
            f"one-hot {tuple(logits.shape)} for logits {tuple(logits.shape)}, "
            f"got {tuple(target.shape)}"
        )
    if target.is_floating_point() or target.is_complex():
        raise _checks.ArgumentTypeError(
            f"target of shape {tuple(target.shape)} is read as class indices and must be an "
            f"integer tensor, got {target.dtype}"
        )
    if target.dtype == torch.bool and channels > 2:
        raise _checks.ArgumentTypeError(
            f"target is a boolean mask but logits have {channels} channels; give integer class "
            f"indices in [0, {channels}) or one-hot labels {tuple(logits.shape)}"
        )
    n_labels = max(channels, 2)
    if target.min() < 0 or target.max() >= n_labels:
        raise ValueError(
            f"target class indices must lie in [0, {n_labels}) for {channels} channel(s), "
            f"got [{int(target.min())}, {int(target.max())}]"
        )
    if channels == 1:
        return target.unsqueeze(1).to(logits.dtype)
    return F.one_hot(target.long(), channels).movedim(-1, 1).to(logits.dtype)


def _probabilities(logits: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(logits) if logits.shape[1] == 1 else torch.softmax(logits, dim=1)


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _check_reduction(reduction: str) -> None:
    _checks.choice("reduction", reduction, REDUCTIONS)


def _check_smooth(smooth: float) -> float:
    return _checks.number("smooth", smooth, low=0)


def _check_weights(**weights: float) -> None:
    for name, value in weights.items():
        _checks.number(name, value, low=0)


def _check_alpha(alpha: float | Sequence[float] | None) -> None:
    """``None``, a number in [0, 1] or a sequence of finite non-negative class weights."""
    if alpha is None:
        return
    if isinstance(alpha, (int, float, np.floating)) and not isinstance(alpha, bool):
        _checks.probability("alpha", alpha)
        return
    weights = _checks.array("alpha", alpha, ndim=1, kind="number")
    if (weights < 0).any():
        raise _checks.ArgumentError(
            f"alpha must be non-negative class weights, got {_checks.describe(alpha)}")


def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | Sequence[float] | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Focal loss -α_t (1 - p_t)^γ log p_t (Lin et al., 2017): cross-entropy muted on easy cases.

    ``C == 1`` (sigmoid): ``alpha`` is the weight of positives, ``1 - alpha`` that of negatives.
    ``C > 1`` (softmax): ``alpha`` is one weight per class, or a number ``a`` meaning
    ``[1 - a, a, ..., a]`` (background against the rest, as MONAI). ``gamma=0`` and no ``alpha``
    give plain (binary) cross-entropy.

    ``reduction="none"`` returns one value per sample/voxel, shape ``(B, ...)``; ``"mean"``
    averages over them. MONAI's softmax ``FocalLoss`` keeps the channel axis and so its mean is
    ours divided by ``C``; the sigmoid form matches MONAI's exactly.
    """
    _check_reduction(reduction)
    gamma = _checks.number("gamma", gamma, low=0)
    _check_alpha(alpha)
    soft = _prepare(logits, target)
    channels = logits.shape[1]
    if channels == 1:
        log_p, log_q = F.logsigmoid(logits), F.logsigmoid(-logits)  # log p, log (1 - p)
        pos = -soft * log_q.exp() ** gamma * log_p
        neg = -(1 - soft) * log_p.exp() ** gamma * log_q
        if alpha is not None:
            if not isinstance(alpha, (int, float, np.floating)) or isinstance(alpha, bool):
                raise _checks.ArgumentError(
                    f"alpha must be a number in [0, 1] for one channel, got {alpha!r}")
            pos, neg = alpha * pos, (1 - alpha) * neg
        return _reduce((pos + neg).squeeze(1), reduction)
    log_p = torch.log_softmax(logits, dim=1)
    loss = -soft * (1 - log_p.exp()) ** gamma * log_p
    if alpha is not None:
        if isinstance(alpha, (int, float, np.floating)):
            alpha = [1 - alpha] + [alpha] * (channels - 1)
        weights = torch.as_tensor(_checks.array("alpha", alpha, ndim=1), dtype=logits.dtype,
                                  device=logits.device)
        if weights.shape != (channels,):
            raise _checks.ArgumentError(
                f"alpha must be {channels} non-negative class weights, got {alpha!r}")
        loss = loss * weights.view(1, -1, *([1] * (logits.ndim - 2)))
    return _reduce(loss.sum(1), reduction)


def _overlap_terms(
    logits: torch.Tensor, target: torch.Tensor, include_background: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Soft intersection and sizes per (B, C): Σ p·t, Σ p, Σ t over the spatial axes."""
    soft = _prepare(logits, target)
    if logits.ndim < 3:
        raise ValueError(f"logits must have spatial axes (B, C, H, ...), got {tuple(logits.shape)}")
    probs = _probabilities(logits)
    if not include_background and logits.shape[1] > 1:
        probs, soft = probs[:, 1:], soft[:, 1:]
    dims = tuple(range(2, logits.ndim))
    return (probs * soft).sum(dims), probs.sum(dims), soft.sum(dims)


def dice_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    include_background: bool = True,
    smooth: float = 1e-5,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Soft Dice loss 1 - (2 Σ p·t + s) / (Σ p + Σ t + s) per image and class (Milletari et al.).

    ``reduction="none"`` gives shape ``(B, C)``; ``"mean"`` averages images and classes.
    ``include_background=False`` drops channel 0 when ``C > 1``. Equal to MONAI's
    ``DiceLoss(sigmoid=C == 1, softmax=C > 1, smooth_nr=s, smooth_dr=s)``.
    """
    _check_reduction(reduction)
    smooth = _check_smooth(smooth)
    include_background = _checks.flag("include_background", include_background)
    inter, p, t = _overlap_terms(logits, target, include_background)
    return _reduce(1 - (2 * inter + smooth) / (p + t + smooth), reduction)


def jaccard_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    include_background: bool = True,
    smooth: float = 1e-5,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Soft Jaccard (IoU) loss 1 - (Σ p·t + s) / (Σ p + Σ t - Σ p·t + s) per image and class.

    Options as :func:`dice_loss`. MONAI's ``DiceLoss(jaccard=True)`` doubles numerator and
    denominator, so its ``smooth_nr = smooth_dr = 2 s`` gives our ``smooth = s``.
    """
    _check_reduction(reduction)
    smooth = _check_smooth(smooth)
    include_background = _checks.flag("include_background", include_background)
    inter, p, t = _overlap_terms(logits, target, include_background)
    return _reduce(1 - (inter + smooth) / (p + t - inter + smooth), reduction)


def _cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    soft = _prepare(logits, target)
    if logits.shape[1] == 1:
        return F.binary_cross_entropy_with_logits(logits, soft)
    return F.cross_entropy(logits, soft)


class FocalLoss(nn.Module):
    """Module form of :func:`focal_loss`: ``FocalLoss(gamma, alpha)(logits, target)``."""

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | None = None,
        *,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        _check_reduction(reduction)
        gamma = _checks.number("gamma", gamma, low=0)
        _check_alpha(alpha)
        self.gamma, self.alpha, self.reduction = gamma, alpha, reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return focal_loss(
            logits, target, gamma=self.gamma, alpha=self.alpha, reduction=self.reduction
        )


class DiceLoss(nn.Module):
    """Module form of :func:`dice_loss`."""

    def __init__(
        self,
        *,
        smooth: float = 1e-5,
        include_background: bool = True,
        reduction: Reduction = "mean",
    ) -> None:
        super().__init__()
        _check_reduction(reduction)
        smooth = _check_smooth(smooth)
        include_background = _checks.flag("include_background", include_background)
        self.smooth, self.include_background, self.reduction = smooth, include_background, reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return dice_loss(
            logits,
            target,
            include_background=self.include_background,
            smooth=self.smooth,
            reduction=self.reduction,
        )


class DiceCELoss(nn.Module):
    """``lambda_dice`` × mean soft Dice loss + ``lambda_ce`` × mean cross-entropy, a scalar.

    Cross-entropy is softmax CE for ``C > 1`` and binary CE with logits for ``C == 1``; it
    always covers every channel (``include_background`` only affects the Dice term), as in
    MONAI's ``DiceCELoss``.
    """

    def __init__(
        self,
        lambda_dice: float = 1.0,
        lambda_ce: float = 1.0,
        *,
        smooth: float = 1e-5,
        include_background: bool = True,
    ) -> None:
        super().__init__()
        _check_weights(lambda_dice=lambda_dice, lambda_ce=lambda_ce)
        smooth = _check_smooth(smooth)
        include_background = _checks.flag("include_background", include_background)
        self.lambda_dice, self.lambda_ce = lambda_dice, lambda_ce
        self.smooth, self.include_background = smooth, include_background

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        dice = dice_loss(
            logits, target, include_background=self.include_background, smooth=self.smooth
        )
        return self.lambda_dice * dice + self.lambda_ce * _cross_entropy(logits, target)


class JaccardFocalLoss(nn.Module):
    """``lambda_jaccard`` × mean soft Jaccard loss + ``lambda_focal`` × mean focal loss, a scalar.

    The Jaccard term rewards overlap (the metric we report); the focal term keeps per-voxel
    gradients informative where the overlap term saturates. ``include_background`` only
    affects the Jaccard term.
    """

    def __init__(
        self,
        lambda_jaccard: float = 1.0,
        lambda_focal: float = 1.0,
        *,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | None = None,
        smooth: float = 1e-5,
        include_background: bool = True,
    ) -> None:
        super().__init__()
        _check_weights(lambda_jaccard=lambda_jaccard, lambda_focal=lambda_focal)
        smooth = _check_smooth(smooth)
        gamma = _checks.number("gamma", gamma, low=0)
        _check_alpha(alpha)
        include_background = _checks.flag("include_background", include_background)
        self.lambda_jaccard, self.lambda_focal = lambda_jaccard, lambda_focal
        self.gamma, self.alpha = gamma, alpha
        self.smooth, self.include_background = smooth, include_background

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        jaccard = jaccard_loss(
            logits, target, include_background=self.include_background, smooth=self.smooth
        )
        focal = focal_loss(logits, target, gamma=self.gamma, alpha=self.alpha)
        return self.lambda_jaccard * jaccard + self.lambda_focal * focal
