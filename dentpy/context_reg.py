"""Contextual regularisation (CR): mask a detector's features and reconstruct them from context.

During training only, the feature map ``x`` (B, C, H, W) of a detector is masked position by
position, ``x~ = x * m`` with ``m`` (B, 1, H, W) shared by all channels of a position, and a
small transformer (:class:`ReconstructionHead`: the P = H W positions are tokens of dimension
C) predicts ``x`` back. The mean squared error ``(1 / (C P)) sum (x - x^)^2`` (averaged over
the batch) is added to the detection loss with a weight ``lambda``; at inference the masking
and the head are dropped, so the detector costs exactly what it cost before.

Two masks:

- **stochastic** (SCR, :func:`stochastic_mask`): a random binary keep-mask with exactly
  ``round(q P)`` zeros per image;
- **adaptive** (ACR, :class:`AdaptiveMask`): a soft mask computed from the features
  themselves, squeeze-and-excitation style: channel means ``v = GAP(x)`` (B, C), then
  ``s = sigmoid(W2 relu(W1 v))`` with ``W1`` (C/r x C) and ``W2`` (P x C/r), one weight per
  *position*; so the module is tied to one feature-map size.

Reconstructing ``x`` from ``x * s`` is easiest when ``s`` is 1 everywhere, and nothing in the
reconstruction loss stops the gate from getting there; :class:`ContextualRegularizer` reports
the mean of ``s`` and offers a ``budget`` penalty ``(mean(s) - (1 - q))^2`` that holds the
masked share near ``q``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dentpy import _checks

__all__ = ["MASK_MODES", "AdaptiveMask", "ContextualRegularizer", "ReconstructionHead",
           "stochastic_mask"]

#: The masking strategies of :class:`ContextualRegularizer`.
MASK_MODES = ("stochastic", "adaptive")


def _features(name: str, x: Any) -> Tensor:
    return _checks.tensor(name, x, ndim=4, kind="float")


def stochastic_mask(
    x: Tensor,
    *,
    q: float = 0.5,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Mask ``round(q P)`` random positions of each image of ``x`` (B, C, H, W), P = H W.

    Returns ``(x * keep, keep)`` with ``keep`` (B, 1, H, W) of 0s and 1s, shared by all
    channels of a position (SCR's binary vector ``k_p`` with zero ratio ``q``)."""
    x = _features("x", x)
    q = _checks.probability("q", q)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise _checks.ArgumentTypeError(
            f"generator must be a torch.Generator or None, got {_checks.describe(generator)}")
    b, _, h, w = x.shape
    n_zero = int(round(q * h * w))
    ranks = torch.rand(b, h * w, generator=generator).argsort(dim=1).argsort(dim=1)
    keep = (ranks >= n_zero).to(x.dtype).reshape(b, 1, h, w).to(x.device)
    return x * keep, keep


class AdaptiveMask(nn.Module):
    """ACR's gate: ``s = sigmoid(W2 relu(W1 GAP(x)))``, one value in (0, 1) per position.

    ``channels`` C and ``grid_size`` (H, W) fix the shapes (``W2`` has P = H W outputs);
    ``reduction`` r gives the bottleneck width ``max(1, C // r)``. ``forward(x)`` returns
    ``(x * s, s)`` with ``s`` (B, 1, H, W).
    """

    def __init__(self, channels: int, grid_size: tuple[int, int], *, reduction: int = 16
                 ) -> None:
        super().__init__()
        channels = _checks.integer("channels", channels, low=1)
        h, w = _checks.integer_pair("grid_size", grid_size)
        reduction = _checks.integer("reduction", reduction, low=1)
        hidden = max(1, channels // reduction)
        self.squeeze = nn.Linear(channels, hidden)
        self.excite = nn.Linear(hidden, h * w)
        self.channels, self.grid_size = channels, (h, w)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = _features("x", x)
        if x.shape[1] != self.channels or tuple(x.shape[2:]) != self.grid_size:
            _checks.fail("x", f"shape (B, {self.channels}, {self.grid_size[0]}, "
                         f"{self.grid_size[1]})", x)
        v = x.mean(dim=(2, 3))
        s = torch.sigmoid(self.excite(F.relu(self.squeeze(v))))
        s = s.reshape(x.shape[0], 1, *self.grid_size)
        return x * s, s


class ReconstructionHead(nn.Module):
    """Transformer that predicts features (B, C, H, W) from masked ones of the same shape.

    Each of the P = H W positions is a token of dimension C, plus a learned position
    embedding (a masked token must know where it is); ``depth`` pre-LayerNorm encoder blocks
    (``nn.TransformerEncoderLayer(norm_first=True)``: LayerNorm, ``heads``-head attention,
    LayerNorm, MLP of width ``mlp_ratio * C``) and a linear map to C. No final LayerNorm:
    with few channels it would erase each token's scale, which the target keeps.
    ``heads`` must divide ``channels``.
    """

    def __init__(self, channels: int, grid_size: tuple[int, int], *, depth: int = 2,
                 heads: int = 4, mlp_ratio: int = 2) -> None:
        super().__init__()
        channels = _checks.integer("channels", channels, low=1)
        h, w = _checks.integer_pair("grid_size", grid_size)
        depth = _checks.integer("depth", depth, low=1)
        heads = _checks.integer("heads", heads, low=1)
        mlp_ratio = _checks.integer("mlp_ratio", mlp_ratio, low=1)
        if channels % heads:
            _checks.fail("heads", f"a divisor of channels={channels}", heads)
        self.position = nn.Parameter(torch.zeros(1, h * w, channels))
        nn.init.trunc_normal_(self.position, std=0.02)
        layer = nn.TransformerEncoderLayer(channels, heads, mlp_ratio * channels, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.out = nn.Linear(channels, channels)
        self.channels, self.grid_size = channels, (h, w)

    def forward(self, x: Tensor) -> Tensor:
        x = _features("x", x)
        if x.shape[1] != self.channels or tuple(x.shape[2:]) != self.grid_size:
            _checks.fail("x", f"shape (B, {self.channels}, {self.grid_size[0]}, "
                         f"{self.grid_size[1]})", x)
        b, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2) + self.position  # (B, P, C)
        tokens = self.out(self.blocks(tokens))
        return tokens.transpose(1, 2).reshape(b, c, h, w)


class ContextualRegularizer(nn.Module):
    """Mask features, reconstruct them, return the regularisation loss (training only).

    ``forward(x)`` with features ``x`` (B, C, H, W) returns ``(loss, info)``: ``loss`` the
    reconstruction error ``mean((x - x^)^2)`` (plus ``budget * (mean(s) - (1 - q))^2`` for the
    adaptive mask when ``budget`` > 0) and ``info`` a dict of floats: ``"mse"`` and
    ``"kept"`` (the mean of the mask). ``detach_target=True`` stops the gradient through the
    target ``x`` (the paper does not say; ``False``, the default, is the loss as written).
    ``mode`` is one of ``MASK_MODES``; ``q`` the masked share (the stochastic mask's zero
    ratio, and the adaptive budget's target).
    """

    def __init__(
        self,
        channels: int,
        grid_size: tuple[int, int],
        *,
        mode: str = "stochastic",
        q: float = 0.5,
        reduction: int = 16,
        depth: int = 2,
        heads: int = 4,
        budget: float = 0.0,
        detach_target: bool = False,
    ) -> None:
        super().__init__()
        self.mode = _checks.choice("mode", mode, MASK_MODES)
        self.q = _checks.probability("q", q)
        self.budget = _checks.number("budget", budget, low=0.0)
        self.detach_target = _checks.flag("detach_target", detach_target)
        self.gate = (AdaptiveMask(channels, grid_size, reduction=reduction)
                     if mode == "adaptive" else None)
        self.head = ReconstructionHead(channels, grid_size, depth=depth, heads=heads)

    def forward(self, x: Tensor, *, generator: torch.Generator | None = None
                ) -> tuple[Tensor, dict[str, float]]:
        x = _features("x", x)
        if self.gate is None:
            masked, keep = stochastic_mask(x, q=self.q, generator=generator)
        else:
            masked, keep = self.gate(x)
        target = x.detach() if self.detach_target else x
        mse = F.mse_loss(self.head(masked), target)
        loss = mse
        kept = keep.mean()
        if self.gate is not None and self.budget > 0:
            loss = loss + self.budget * (kept - (1 - self.q)) ** 2
        return loss, {"mse": float(mse.detach()), "kept": float(kept.detach())}
