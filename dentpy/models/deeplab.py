"""A small DeepLabV3+ for 2-D images: a strided encoder, torchvision's ASPP, a light decoder.

Encoder: four (3×3 convolution, batch norm, ReLU) blocks, the first three with stride 2 and the
last dilated (output stride 8, as DeepLabV3+ with an atrous backbone). The low-level features
at stride 4 feed the decoder through a 1×1 projection; the stride-8 features go through
atrous spatial pyramid pooling (``torchvision.models.segmentation.deeplabv3.ASPP``: parallel
dilated convolutions and an image-level pooled branch), are upsampled to stride 4, concatenated
with the low-level features, refined by two 3×3 convolutions and upsampled to the input size.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.segmentation.deeplabv3 import ASPP

from dentpy import _checks
from dentpy.models.small import _check_input

__all__ = ["MiniDeepLabV3Plus"]


def _block(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation,
                                   bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class MiniDeepLabV3Plus(nn.Module):
    """``(N, in_channels, H, W)`` → logits ``(N, out_channels, H, W)``; H and W divisible by 8.

    ``width``: channels of the first block (the deepest has ``8 * width``); ``rates``: the
    ASPP's dilation rates at stride 8. The pooled ASPP branch uses batch norm on a 1×1 map, so
    training needs batches of at least 2 images.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 1, *, width: int = 8,
                 rates: Any = (2, 4, 6)):
        super().__init__()
        in_channels = _checks.integer("in_channels", in_channels, low=1)
        out_channels = _checks.integer("out_channels", out_channels, low=1)
        width = _checks.integer("width", width, low=1)
        rates = tuple(_checks.integer("rates", r, low=1) for r in _rates(rates))
        self.in_channels = in_channels
        self.stem = _block(in_channels, width, stride=2)  # stride 2
        self.low = _block(width, 2 * width, stride=2)  # stride 4: low-level features
        self.mid = _block(2 * width, 4 * width, stride=2)  # stride 8
        self.deep = _block(4 * width, 8 * width, dilation=2)  # stride 8, dilated
        self.aspp = ASPP(8 * width, list(rates), out_channels=4 * width)
        self.project = nn.Sequential(nn.Conv2d(2 * width, width, 1, bias=False),
                                     nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.decoder = nn.Sequential(_block(5 * width, 4 * width), _block(4 * width, 4 * width))
        self.head = nn.Conv2d(4 * width, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, 4, self.in_channels, f"(N, {self.in_channels}, H, W)")
        if x.shape[-2] % 8 or x.shape[-1] % 8:
            raise _checks.ArgumentError(
                f"x: spatial size {tuple(x.shape[2:])} must be divisible by 8")
        low = self.low(self.stem(x))
        deep = self.aspp(self.deep(self.mid(low)))
        deep = F.interpolate(deep, size=low.shape[-2:], mode="bilinear", align_corners=False)
        out = self.head(self.decoder(torch.cat([deep, self.project(low)], dim=1)))
        return F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)


def _rates(rates: Any) -> tuple:
    if isinstance(rates, (str, bytes)) or not hasattr(rates, "__iter__"):
        raise _checks.ArgumentTypeError(
            f"rates must be a sequence of dilation rates, got {_checks.describe(rates)}")
    rates = tuple(rates)
    if not rates:
        raise _checks.ArgumentError("rates must hold at least one dilation rate, got ()")
    return rates
