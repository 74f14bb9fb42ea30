"""Two compact convolutional networks for multichannel EEG: EEGNet and DeepConvNet.

Both take a batch of windows ``(B, C, T)`` (C electrodes, T samples) and return logits
``(B, n_classes)``. Inside, a window is an image of one channel and height C, so a ``(1, k)``
kernel filters in time and a ``(C, 1)`` kernel mixes electrodes (a spatial filter).

- :class:`EEGNet` (Lawhern et al., 2018): temporal filters, then per-filter spatial filters
  (a depthwise convolution), then a separable convolution (depthwise in time + pointwise);
  average pooling, ELU, dropout. A few thousand weights. The SSVEP variant is the same class
  with ``F1=96, D=1, F2=96, kernel_length=256``.
- :class:`DeepConvNet` (Schirrmeister et al., 2017): a temporal then a spatial convolution,
  then three more (convolution, batch norm, ELU, max-pool) blocks of growing width.

Weights that the original Keras code constrains by a maximum norm (EEGNet's spatial filters
and classifier, DeepConvNet's convolutions and classifier) are renormalised before every
forward pass in training mode, as the constraint is applied after every update.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dentpy import _checks

__all__ = ["DeepConvNet", "EEGNet", "max_norm_"]


def max_norm_(weight: Tensor, max_value: float) -> Tensor:
    """Rescale, in place, each output unit's weights (rows of dim 0) to an L2 norm of at most
    ``max_value``; units already within the bound are unchanged. Returns ``weight``."""
    if not isinstance(weight, Tensor):
        _checks.fail("weight", "a tensor (it is changed in place)", weight, wrong_type=True)
    _checks.tensor("weight", weight, ndim=(2, 3, 4, 5), kind="float")
    max_value = _checks.number("max_value", max_value, low=0.0, low_open=True)
    with torch.no_grad():
        weight.copy_(torch.renorm(weight, p=2, dim=0, maxnorm=max_value))
    return weight


def _check_int(name: str, value: object, low: int) -> int:
    return _checks.integer(name, value, low=low)


def _check_dropout(dropout: object) -> float:
    return _checks.number("dropout", dropout, low=0.0, high=1.0, high_open=True)


def _same(kernel_length: int) -> nn.ZeroPad2d:
    """Zero padding that keeps the time length through a ``(1, kernel_length)`` convolution:
    ``(k - 1) // 2`` samples before and ``k // 2`` after (Keras' "same")."""
    return nn.ZeroPad2d(((kernel_length - 1) // 2, kernel_length // 2, 0, 0))


def _check_input(x: Tensor, n_channels: int, n_times: int) -> Tensor:
    x = _checks.tensor("x", x, ndim=3, kind="float", finite=False)
    if tuple(x.shape[1:]) != (n_channels, n_times):
        _checks.fail("x", f"a tensor of shape (B, {n_channels}, {n_times})", x)
    return x.unsqueeze(1)  # (B, 1, C, T): one input "colour" channel


class EEGNet(nn.Module):
    """EEGNet: input ``(B, n_channels, n_times)`` → logits ``(B, n_classes)``.

    Block 1: ``F1`` temporal filters ``(1, kernel_length)`` ("same" padding) → BN → ``D``
    spatial filters ``(n_channels, 1)`` per temporal filter (depthwise, max-norm 1) → BN → ELU →
    AvgPool ``(1, pool1)`` → dropout: shape ``(B, F1*D, 1, n_times // pool1)``. Block 2: a
    depthwise temporal filter ``(1, 16)`` per map, then ``F2`` pointwise ``1×1`` mixtures → BN →
    ELU → AvgPool ``(1, pool2)`` → dropout: ``(B, F2, 1, n_times // pool1 // pool2)``. Then a
    linear classifier (max-norm 0.25) on the flattened maps.
    """

    def __init__(self, n_channels: int, n_classes: int, n_times: int, *, F1: int = 8,  # noqa: N803
                 D: int = 2, F2: int = 16, kernel_length: int = 64, pool1: int = 4,  # noqa: N803
                 pool2: int = 8, dropout: float = 0.5):
        super().__init__()
        self.n_channels, self.n_times = _check_int("n_channels", n_channels, 1), n_times
        n_classes = _check_int("n_classes", n_classes, 2)
        F1, D, F2 = _check_int("F1", F1, 1), _check_int("D", D, 1), _check_int("F2", F2, 1)
        kernel_length = _check_int("kernel_length", kernel_length, 1)
        pool1, pool2 = _check_int("pool1", pool1, 1), _check_int("pool2", pool2, 1)
        n_out = _check_int("n_times", n_times, 1) // pool1 // pool2
        if n_out < 1:
            _checks.fail("n_times", f"an integer >= pool1 * pool2 = {pool1 * pool2}", n_times)
        dropout = _check_dropout(dropout)
        self.temporal = nn.Sequential(
            _same(kernel_length), nn.Conv2d(1, F1, (1, kernel_length), bias=False),
            nn.BatchNorm2d(F1))
        self.spatial = nn.Conv2d(F1, F1 * D, (n_channels, 1), groups=F1, bias=False)
        self.block1 = nn.Sequential(nn.BatchNorm2d(F1 * D), nn.ELU(), nn.AvgPool2d((1, pool1)),
                                    nn.Dropout(dropout))
        self.block2 = nn.Sequential(
            _same(16), nn.Conv2d(F1 * D, F1 * D, (1, 16), groups=F1 * D, bias=False),
            nn.Conv2d(F1 * D, F2, 1, bias=False), nn.BatchNorm2d(F2), nn.ELU(),
            nn.AvgPool2d((1, pool2)), nn.Dropout(dropout), nn.Flatten())
        self.classifier = nn.Linear(F2 * n_out, n_classes)

    def features(self, x: Tensor) -> Tensor:
        """The flattened maps before the classifier, ``(B, F2 * n_times // pool1 // pool2)``."""
        if self.training:
            max_norm_(self.spatial.weight, 1.0)
        z = self.spatial(self.temporal(_check_input(x, self.n_channels, self.n_times)))
        return self.block2(self.block1(z))

    def forward(self, x: Tensor) -> Tensor:
        if self.training:
            max_norm_(self.classifier.weight, 0.25)
        return self.classifier(self.features(x))


class DeepConvNet(nn.Module):
    """DeepConvNet: input ``(B, n_channels, n_times)`` → logits ``(B, n_classes)``.

    Block 1: ``widths[0]`` temporal filters ``(1, kernel_length)`` then ``widths[0]`` spatial
    filters ``(n_channels, 1)`` (each mixing all temporal maps) → BN → ELU → MaxPool
    ``(1, pool)`` → dropout. Blocks 2…: a ``(1, kernel_length)`` convolution to ``widths[i]``
    maps → BN → ELU → MaxPool → dropout. Every convolution is "valid" (no padding), so the time
    axis shrinks to ``t ← (t - kernel_length + 1) // pool`` per block; a linear classifier
    (max-norm 0.5) reads the flattened maps. Convolutions carry a max-norm of 2.
    """

    def __init__(self, n_channels: int, n_classes: int, n_times: int, *,
                 widths: tuple[int, ...] = (25, 50, 100, 200), kernel_length: int = 5,
                 pool: int = 2, dropout: float = 0.5):
        super().__init__()
        self.n_channels = _check_int("n_channels", n_channels, 1)
        self.n_times = _check_int("n_times", n_times, 1)
        n_classes = _check_int("n_classes", n_classes, 2)
        if isinstance(widths, str | bytes) or not hasattr(widths, "__len__") or not widths:
            _checks.fail("widths", "a non-empty sequence of integers", widths, wrong_type=True)
        widths = tuple(_check_int("widths", w, 1) for w in widths)
        kernel_length = _check_int("kernel_length", kernel_length, 1)
        pool, dropout = _check_int("pool", pool, 1), _check_dropout(dropout)
        t = n_times
        for _ in widths:
            t = (t - kernel_length + 1) // pool
            if t < 1:
                _checks.fail("n_times", f"long enough for {len(widths)} blocks of kernel "
                             f"{kernel_length} and pool {pool}", n_times)
        layers: list[nn.Module] = [nn.Conv2d(1, widths[0], (1, kernel_length)),
                                   nn.Conv2d(widths[0], widths[0], (n_channels, 1), bias=False)]
        for i, width in enumerate(widths):
            if i:
                layers.append(nn.Conv2d(widths[i - 1], width, (1, kernel_length), bias=False))
            layers += [nn.BatchNorm2d(width), nn.ELU(), nn.MaxPool2d((1, pool)),
                       nn.Dropout(dropout)]
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.classifier = nn.Linear(widths[-1] * t, n_classes)

    def features(self, x: Tensor) -> Tensor:
        """The flattened maps before the classifier, ``(B, widths[-1] * t_out)``."""
        if self.training:
            for layer in self.body:
                if isinstance(layer, nn.Conv2d):
                    max_norm_(layer.weight, 2.0)
        return self.body(_check_input(x, self.n_channels, self.n_times))

    def forward(self, x: Tensor) -> Tensor:
        if self.training:
            max_norm_(self.classifier.weight, 0.5)
        return self.classifier(self.features(x))
