"""A small convolutional classifier that trains in seconds on a CPU: the course's default for
experiments where the lesson is the data or the method, not the network.

``depth`` blocks of (3×3 convolution, batch norm, ReLU, 2× max-pooling), the number of channels
doubling from ``width``; then global average pooling and a linear head. Any input size works.
"""

from __future__ import annotations

from torch import Tensor, nn


class SmallCNN(nn.Sequential):
    """Input ``(B, in_channels, H, W)`` → logits ``(B, num_classes)``."""

    def __init__(self, in_channels: int = 1, num_classes: int = 2, *, width: int = 16,
                 depth: int = 4, dropout: float = 0.0):
        for name, value, low in (("in_channels", in_channels, 1), ("num_classes", num_classes, 1),
                                 ("width", width, 1), ("depth", depth, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
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
        if x.ndim != 4 or x.shape[1] != self[0].in_channels:
            raise ValueError(f"x must have shape (B, {self[0].in_channels}, H, W), "
                             f"got {tuple(x.shape)}")
        return super().forward(x)
