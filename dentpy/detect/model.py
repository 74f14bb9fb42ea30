"""A small one-stage, anchor-based detector in the YOLOv2/v3 mould: backbone, neck, head.

* **Backbone**: ``"tiny"`` is a plain stack: a stride-2 3x3 convolution (the stem) and then
  stages of a stride-2 3x3 convolution and a 3x3 convolution (batch norm and SiLU after each),
  one resolution halving per entry of ``channels``, so the grid has stride
  ``2 ** len(channels)`` (16 by default). ``"resnet18"`` uses torchvision's ResNet-18 up to
  ``layer3`` (stride 16, 256 channels) with a first convolution reading ``in_channels``.
* **Neck** (``neck=True``): one more stage at twice the stride (``layer4`` for ResNet-18)
  sees a wider context; a 1x1 convolution maps it to the grid's width, it is upsampled to the
  grid and added to the grid features, and a 3x3 convolution mixes the sum: a one-step feature
  pyramid. A tooth spans several cells, so this context helps the cell at its centre.
* **Head**: a 1x1 convolution giving, per cell and anchor, ``4`` box offsets, ``1``
  objectness logit and ``C`` class logits; see :mod:`dentpy.detect.decode` for their meaning.

``forward`` returns the raw output ``(B, A, H / stride, W / stride, 5 + C)``; ``predict``
decodes it into boxes. Image sides must be multiples of ``stride``.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from dentpy.detect.anchors import _check_wh
from dentpy.detect.decode import decode

__all__ = ["BACKBONES", "YOLODetector"]

BACKBONES = ("tiny", "resnet18")


def _conv(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.SiLU(inplace=True),
    )


def _stage(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(_conv(cin, cout, stride=2), _conv(cout, cout))


def _resnet18(in_channels: int, weights: Any) -> tuple[nn.Module, nn.Module, int, int]:
    from torchvision.models import resnet18

    from dentpy.models.classifiers import adapt_first_conv

    net = adapt_first_conv(resnet18(weights=weights), in_channels, pretrained=weights is not None)
    trunk = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool,
                          net.layer1, net.layer2, net.layer3)
    return trunk, net.layer4, 256, 512


class YOLODetector(nn.Module):
    """One-stage detector predicting ``len(anchors)`` boxes per grid cell.

    Parameters: ``num_classes`` (``C >= 1``); ``anchors`` ``(A, 2)`` box shapes (width, height
    in input pixels), e.g. from :func:`~dentpy.detect.anchors.kmeans_anchors`; keyword-only
    ``in_channels`` (1 for radiographs), ``backbone`` (``"tiny"`` or ``"resnet18"``),
    ``channels`` (the tiny backbone's stage widths), ``neck``, ``weights`` (torchvision weights
    for ResNet-18, ``None`` = random), ``prior`` (initial objectness probability: starting near
    0.01 keeps the many empty cells from swamping the first steps, as in RetinaNet).
    """

    def __init__(
        self,
        num_classes: int,
        anchors: Any,
        *,
        in_channels: int = 1,
        backbone: str = "tiny",
        channels: tuple[int, ...] = (16, 32, 64, 128),
        neck: bool = True,
        weights: Any = None,
        prior: float = 0.01,
    ) -> None:
        super().__init__()
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        anchors = _check_wh(anchors, "anchors").float()
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")
        if not 0.0 < prior < 1.0:
            raise ValueError(f"prior must be in (0, 1), got {prior!r}")
        if backbone == "tiny":
            if not channels or any(isinstance(c, bool) or not isinstance(c, int) or c < 1
                                   for c in channels):
                raise ValueError(f"channels must be a non-empty tuple of ints >= 1, got "
                                 f"{channels!r}")
            stages = (_stage(a, b) for a, b in pairwise(channels))
            self.trunk = nn.Sequential(_conv(in_channels, channels[0], stride=2), *stages)
            width = deep_width = channels[-1]
            deep = _stage(width, width) if neck else None
            self.stride = 2 ** len(channels)
        else:
            self.trunk, deep, width, deep_width = _resnet18(in_channels, weights)
            self.stride = 16
        self.num_classes, self.in_channels = num_classes, in_channels
        self.register_buffer("anchors", anchors)
        self.deep = deep if neck else None
        if neck:
            self.lateral = _conv(deep_width, width, kernel=1)
            self.fuse = _conv(width, width)
        num_anchors = anchors.shape[0]
        self.head = nn.Conv2d(width, num_anchors * (5 + num_classes), 1)
        with torch.no_grad():
            bias = self.head.bias.view(num_anchors, 5 + num_classes)
            bias.zero_()
            bias[:, 4] = math.log(prior / (1 - prior))

    def forward(self, images: Tensor) -> Tensor:
        """``(B, in_channels, H, W)`` -> raw output ``(B, A, H / stride, W / stride, 5 + C)``."""
        if not isinstance(images, Tensor) or images.ndim != 4 \
                or images.shape[1] != self.in_channels:
            raise ValueError(f"images must be a tensor (B, {self.in_channels}, H, W), got "
                             f"{tuple(getattr(images, 'shape', ()))}")
        h, w = images.shape[-2:]
        if h % self.stride or w % self.stride:
            raise ValueError(f"images: height and width must be multiples of the stride "
                             f"{self.stride}, got {h} x {w}")
        features = self.trunk(images)
        if self.deep is not None:
            context = F.interpolate(self.lateral(self.deep(features)), size=features.shape[-2:],
                                    mode="nearest")
            features = self.fuse(features + context)
        out = self.head(features)
        b, _, gh, gw = out.shape
        return out.view(b, self.anchors.shape[0], 5 + self.num_classes, gh, gw).permute(
            0, 1, 3, 4, 2)

    @torch.no_grad()
    def predict(self, images: Tensor, **options: Any) -> list[dict[str, Tensor]]:
        """Detections for a batch, in eval mode: :func:`~dentpy.detect.decode.decode` of the
        output, with ``options`` (``score_threshold``, ``iou_threshold``, ...) passed on and
        boxes clipped to the image. Restores the previous train/eval mode."""
        was_training = self.training
        self.eval()
        try:
            raw = self(images)
        finally:
            self.train(was_training)
        options.setdefault("image_size", tuple(images.shape[-2:]))
        return decode(raw, anchors=self.anchors, stride=self.stride, **options)
