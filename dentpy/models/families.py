"""Four CNN families in miniature: VGG, Inception, Xception and Inception-ResNet.

Each network keeps the one idea its family is known for and is small enough (between about
10k and 100k parameters at ``width=16``) to train on a CPU in seconds:

- ``TinyVGG``: stacks of 3x3 convolutions and max pooling, nothing else;
- ``TinyInception``: Inception modules, four branches (1x1; 1x1 then 3x3; 1x1 then two 3x3;
  3x3 max pool then 1x1) concatenated along the channels;
- ``TinyXception``: depthwise-separable convolutions (a 3x3 per channel, then a 1x1 across
  channels) in blocks with a strided 1x1 shortcut;
- ``TinyInceptionResNet``: Inception-ResNet blocks, whose concatenated branches are projected
  back by a linear 1x1 and added to the input after scaling by ``residual_scale``.

All four take (N, in_channels, H, W) images (H, W at least 16) and return (N, num_classes)
logits; every convolution but the projections is followed by batch normalisation and a ReLU
(the original VGG has no batch normalisation: we add it so that the four train with one
recipe), and a global average pool feeds the linear head ``fc``. ``build_family(name, ...)``
builds one by name (``FAMILIES``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from dentpy import _checks

__all__ = ["FAMILIES", "ConvBNReLU", "InceptionModule", "InceptionResNetBlock",
           "SeparableConv", "TinyInception", "TinyInceptionResNet", "TinyVGG", "TinyXception",
           "XceptionBlock", "build_family"]


def _positive(**values: Any) -> list[int]:
    """Each keyword's value checked as an integer >= 1, in order."""
    return [_checks.integer(name, value, low=1) for name, value in values.items()]


class ConvBNReLU(nn.Sequential):
    """Convolution (no bias, 'same' padding for odd kernels), batch norm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1):
        in_channels, out_channels, kernel_size, stride = _positive(
            in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
            stride=stride)
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2,
                      bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class InceptionModule(nn.Module):
    """Four parallel branches of ``branch`` channels each, concatenated: 4 * branch out."""

    def __init__(self, in_channels: int, branch: int):
        in_channels, branch = _positive(in_channels=in_channels, branch=branch)
        super().__init__()
        self.b1 = ConvBNReLU(in_channels, branch, 1)
        self.b3 = nn.Sequential(ConvBNReLU(in_channels, branch, 1), ConvBNReLU(branch, branch))
        self.b5 = nn.Sequential(ConvBNReLU(in_channels, branch, 1), ConvBNReLU(branch, branch),
                                ConvBNReLU(branch, branch))
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), ConvBNReLU(in_channels, branch, 1))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x)], dim=1)


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 (one filter per channel) then pointwise 1x1, batch norm (no ReLU)."""

    def __init__(self, in_channels: int, out_channels: int):
        in_channels, out_channels = _positive(in_channels=in_channels, out_channels=out_channels)
        super().__init__(
            nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )


class XceptionBlock(nn.Module):
    """ReLU, separable conv, ReLU, separable conv, 3x3 max pool stride 2, plus a strided 1x1
    shortcut: (N, C_in, H, W) -> (N, C_out, ceil(H/2), ceil(W/2))."""

    def __init__(self, in_channels: int, out_channels: int):
        in_channels, out_channels = _positive(in_channels=in_channels, out_channels=out_channels)
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(), SeparableConv(in_channels, out_channels),
            nn.ReLU(), SeparableConv(out_channels, out_channels),
            nn.MaxPool2d(3, 2, 1),
        )
        self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, 2, bias=False),
                                      nn.BatchNorm2d(out_channels))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + self.shortcut(x)


class InceptionResNetBlock(nn.Module):
    """``relu(x + residual_scale * project(concat(branches(x))))``, shape-preserving.

    Branches: 1x1; 1x1 then 3x3; 1x1 then two 3x3 (``branch`` channels each); ``project`` is a
    linear 1x1 convolution (with bias, no norm, no ReLU) back to ``channels``.
    """

    def __init__(self, channels: int, branch: int, residual_scale: float = 0.17):
        channels, branch = _positive(channels=channels, branch=branch)
        residual_scale = _checks.number("residual_scale", residual_scale, low=0, high=1)
        super().__init__()
        self.b1 = ConvBNReLU(channels, branch, 1)
        self.b3 = nn.Sequential(ConvBNReLU(channels, branch, 1), ConvBNReLU(branch, branch))
        self.b5 = nn.Sequential(ConvBNReLU(channels, branch, 1), ConvBNReLU(branch, branch),
                                ConvBNReLU(branch, branch))
        self.project = nn.Conv2d(3 * branch, channels, 1)
        self.residual_scale = residual_scale

    def forward(self, x: Tensor) -> Tensor:
        mixed = torch.cat([self.b1(x), self.b3(x), self.b5(x)], dim=1)
        return torch.relu(x + self.residual_scale * self.project(mixed))


class _Family(nn.Module):
    """Shared head: features -> global average pool -> dropout -> linear ``fc``."""

    def __init__(self, features: nn.Module, channels: int, num_classes: int, dropout: float):
        super().__init__()
        self.features = features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = _checks.tensor("x", x, ndim=4, kind="float")
        if x.shape[1] != self.in_channels or min(x.shape[-2:]) < 16:
            raise _checks.ArgumentError(
                f"x must be (N, {self.in_channels}, H, W) images with H, W >= 16, "
                f"got shape {tuple(x.shape)}")
        return self.fc(self.dropout(self.pool(self.features(x)).flatten(1)))


def _options(num_classes: Any, in_channels: Any, width: Any, dropout: Any) -> tuple:
    return (_checks.integer("num_classes", num_classes, low=1),
            _checks.integer("in_channels", in_channels, low=1),
            _checks.integer("width", width, low=2),
            _checks.number("dropout", dropout, low=0, high=1, high_open=True))


class TinyVGG(_Family):
    """Three stages of two 3x3 convolutions (width, 2*width, 4*width), max pool after each."""

    def __init__(self, num_classes: int, *, in_channels: int = 1, width: int = 16,
                 dropout: float = 0.2):
        k, c, w, p = _options(num_classes, in_channels, width, dropout)
        stages, prev = [], c
        for out in (w, 2 * w, 4 * w):
            stages += [ConvBNReLU(prev, out), ConvBNReLU(out, out), nn.MaxPool2d(2)]
            prev = out
        super().__init__(nn.Sequential(*stages), prev, k, p)
        self.in_channels = c


class TinyInception(_Family):
    """Stem (3x3 conv, pool), Inception module, pool, two Inception modules, 4*width out."""

    def __init__(self, num_classes: int, *, in_channels: int = 1, width: int = 16,
                 dropout: float = 0.2):
        k, c, w, p = _options(num_classes, in_channels, width, dropout)
        b = w
        features = nn.Sequential(
            ConvBNReLU(c, w), nn.MaxPool2d(2),
            InceptionModule(w, b), nn.MaxPool2d(2),
            InceptionModule(4 * b, 2 * b), InceptionModule(8 * b, 2 * b), nn.MaxPool2d(2),
        )
        super().__init__(features, 8 * b, k, p)
        self.in_channels = c


class TinyXception(_Family):
    """Stem (3x3 conv stride 2), three Xception blocks (width, 2*width, 4*width), ReLU."""

    def __init__(self, num_classes: int, *, in_channels: int = 1, width: int = 16,
                 dropout: float = 0.2):
        k, c, w, p = _options(num_classes, in_channels, width, dropout)
        features = nn.Sequential(
            ConvBNReLU(c, w, stride=2),
            XceptionBlock(w, w), XceptionBlock(w, 2 * w), XceptionBlock(2 * w, 4 * w),
            nn.ReLU(),
        )
        super().__init__(features, 4 * w, k, p)
        self.in_channels = c


class TinyInceptionResNet(_Family):
    """Stem (3x3 conv, pool), two Inception-ResNet blocks at width, then a reduction (pool and
    3x3 conv to 2*width) and two more blocks, pool."""

    def __init__(self, num_classes: int, *, in_channels: int = 1, width: int = 16,
                 dropout: float = 0.2, residual_scale: float = 0.17):
        k, c, w, p = _options(num_classes, in_channels, width, dropout)
        s = _checks.number("residual_scale", residual_scale, low=0, high=1)
        b = w
        features = nn.Sequential(
            ConvBNReLU(c, w), nn.MaxPool2d(2),
            InceptionResNetBlock(w, b, s), InceptionResNetBlock(w, b, s),
            nn.MaxPool2d(2), ConvBNReLU(w, 2 * w),
            InceptionResNetBlock(2 * w, b, s), InceptionResNetBlock(2 * w, b, s),
            nn.MaxPool2d(2),
        )
        super().__init__(features, 2 * w, k, p)
        self.in_channels = c


#: The four families by name, in the order the shoulder-implant study lists them.
FAMILIES: dict[str, type[_Family]] = {
    "vgg": TinyVGG,
    "inception": TinyInception,
    "xception": TinyXception,
    "inception_resnet": TinyInceptionResNet,
}


def build_family(name: str, num_classes: int, **options: Any) -> nn.Module:
    """The family ``name`` (a key of ``FAMILIES``) with ``num_classes`` outputs; ``options``
    (``in_channels``, ``width``, ``dropout``) go to its constructor."""
    _checks.choice("name", name, tuple(FAMILIES))
    return FAMILIES[name](num_classes, **options)
