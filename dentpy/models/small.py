"""A small convolutional classifier that trains in seconds on a CPU: the course's default for
experiments where the lesson is the data or the method, not the network.

``depth`` blocks of (3×3 convolution, batch norm, ReLU, 2× max-pooling), the number of channels
doubling from ``width``; then global average pooling and a linear head. Any input size works.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from dentpy import _checks


def _check_input(x: Any, ndim: int, channels: int, shape: str) -> Tensor:
    """``x`` as a float tensor of rank ``ndim`` with ``channels`` channels (models' forward)."""
    if not isinstance(x, Tensor):
        raise _checks.ArgumentTypeError(
            f"x must be a tensor of shape {shape}, got {_checks.describe(x)}"
        )
    if x.ndim != ndim or x.shape[1] != channels:
        raise _checks.ArgumentError(f"x must have shape {shape}, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise _checks.ArgumentTypeError(
            f"x must be a float tensor (convert with x.float()), got dtype {x.dtype}"
        )
    return x


class SmallCNN(nn.Sequential):
    """Input ``(B, in_channels, H, W)`` → logits ``(B, num_classes)``."""

    def __init__(self, in_channels: int = 1, num_classes: int = 2, *, width: int = 16,
                 depth: int = 4, dropout: float = 0.0):
        in_channels = _checks.integer("in_channels", in_channels, low=1)
        num_classes = _checks.integer("num_classes", num_classes, low=1)
        width = _checks.integer("width", width, low=1)
        depth = _checks.integer("depth", depth, low=1)
        dropout = _checks.number("dropout", dropout, low=0.0, high=1.0, high_open=True)
        layers: list[nn.Module] = []
        channels = in_channels
        for level in range(depth):
            out = width * 2**level
            layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2, ceil_mode=True)]
            channels = out
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                   nn.Linear(channels, num_classes)]
        super().__init__(*layers)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x, 4, self[0].in_channels, f"(B, {self[0].in_channels}, H, W)")
        return super().forward(x)
