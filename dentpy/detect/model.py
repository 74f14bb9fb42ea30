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
import warnings
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from dentpy import _checks
from dentpy.detect.anchors import _check_wh
from dentpy.detect.decode import decode

__all__ = ["BACKBONES", "YOLODetector"]

BACKBONES = ("tiny", "resnet18")
_DECODE_OPTIONS = ("score_threshold", "iou_threshold", "max_detections", "class_agnostic",
                   "image_size")


def _conv(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.SiLU(inplace=True),
    )


def _stage(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(_conv(cin, cout, stride=2), _conv(cout, cout))


def _backbone_weights(arch: str, value: Any, name: str, *, stacklevel: int = 3) -> Any:
    """The torchvision weights enum member that ``value`` names for architecture ``arch``
    (``None`` for ``None``), its state dict fetched now (from torchvision's cache or the
    network).

    A name that is not one of the architecture's weights (``"DEFAULT"``, ``"IMAGENET1K_V1"``,
    ...), another architecture's enum member, ``True`` or any other value raises an
    :class:`~dentpy._checks.ArgumentError` naming ``name`` and the known names: weights are
    never fetched or dropped on a guess. Only when fetching a known name fails for want of a
    network or a cache (an ``OSError``) does it warn (``RuntimeWarning``) and return ``None``
    (random weights).
    """
    from torchvision.models import get_model_weights
    from torchvision.models._api import WeightsEnum

    if value is None:
        return None
    enum = get_model_weights(arch)
    known = tuple(enum.__members__)
    if isinstance(value, WeightsEnum):
        if value not in tuple(enum.__members__.values()):
            raise _checks.ArgumentError(
                f"{name} must be None or one of {known} ({enum.__name__}) for {arch}, got "
                f"{type(value).__name__}.{value.name}, the weights of another architecture")
        weights = value
    elif isinstance(value, str):
        key = value.removeprefix(f"{enum.__name__}.")
        if key not in enum.__members__:
            raise _checks.ArgumentError(f"{name} must be None or one of {known} for {arch}, "
                                        f"got {value!r}")
        weights = enum.__members__[key]
    else:
        raise _checks.ArgumentTypeError(
            f"{name} must be None or one of {known} for {arch} (a string), got "
            f"{_checks.describe(value)}; for ImageNet weights write {name}='DEFAULT'")
    try:
        weights.get_state_dict(progress=False)  # fetch now (or read the cache), or fail here
    except OSError as error:  # offline, no cache: train from scratch, and say so
        warnings.warn(f"{name}={value!r} could not be fetched ({type(error).__name__}: "
                      f"{error}); using random weights", RuntimeWarning, stacklevel=stacklevel)
        return None
    return weights


def _resnet18(in_channels: int, weights: Any) -> tuple[nn.Module, nn.Module, int, int]:
    from torchvision.models import resnet18

    from dentpy.models.classifiers import adapt_first_conv

    net = adapt_first_conv(resnet18(weights=weights), in_channels, pretrained=weights is not None)
    trunk = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool,
                          net.layer1, net.layer2, net.layer3)
    return trunk, net.layer4, 256, 512


def _check_channels(channels: Any, at_least: int) -> tuple[int, ...]:
    """Stage widths: a sequence of at least ``at_least`` integers >= 1."""
    if isinstance(channels, str | bytes) or not isinstance(channels, Sequence) \
            or len(channels) < at_least:
        raise _checks.ArgumentTypeError(f"channels must be a tuple of at least {at_least} "
                                        f"integers >= 1, got {_checks.describe(channels)}")
    return tuple(_checks.integer(f"channels[{k}]", c, low=1) for k, c in enumerate(channels))


def _check_images(images: Any, in_channels: int, *, finite: bool = False) -> Tensor:
    """A floating batch ``(B, in_channels, H, W)``, finite when ``finite`` is set."""
    if not isinstance(images, Tensor):
        raise _checks.ArgumentTypeError(f"images must be a tensor (B, {in_channels}, H, W), "
                                        f"got {_checks.describe(images)}")
    if images.ndim != 4 or images.shape[1] != in_channels:
        raise _checks.ArgumentError(f"images must be a tensor (B, {in_channels}, H, W), got "
                                    f"shape {tuple(images.shape)}")
    if not images.is_floating_point():
        raise _checks.ArgumentTypeError(f"images must be a floating tensor (convert with "
                                        f".float()), got dtype {images.dtype}")
    if finite and not torch.isfinite(images).all():
        raise _checks.ArgumentError("images contains NaN or infinite values")
    return images


class YOLODetector(nn.Module):
    """One-stage detector predicting ``len(anchors)`` boxes per grid cell.

    Parameters: ``num_classes`` (``C >= 1``); ``anchors`` ``(A, 2)`` box shapes (width, height
    in input pixels), e.g. from :func:`~dentpy.detect.anchors.kmeans_anchors`; keyword-only
    ``in_channels`` (1 for radiographs), ``backbone`` (``"tiny"`` or ``"resnet18"``),
    ``channels`` (the tiny backbone's stage widths), ``neck``, ``weights`` (ResNet-18 only:
    ``None`` = random, or a torchvision weights name such as ``"DEFAULT"``; any other value
    raises, and a known name that cannot be fetched offline warns and falls back to random
    weights), ``prior`` (initial objectness probability: starting near
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
        num_classes = _checks.integer("num_classes", num_classes, low=1)
        in_channels = _checks.integer("in_channels", in_channels, low=1)
        anchors = _check_wh(anchors, "anchors").float()
        _checks.choice("backbone", backbone, BACKBONES)
        prior = _checks.probability("prior", prior, open_ends=True)
        neck = _checks.flag("neck", neck)
        if backbone == "tiny":
            if weights is not None:
                raise _checks.ArgumentError(f"weights must be None with backbone='tiny' (it has "
                                            f"no pretrained weights), got "
                                            f"{_checks.describe(weights)}")
            channels = _check_channels(channels, 1)
            stages = (_stage(a, b) for a, b in pairwise(channels))
            self.trunk = nn.Sequential(_conv(in_channels, channels[0], stride=2), *stages)
            width = deep_width = channels[-1]
            deep = _stage(width, width) if neck else None
            self.stride = 2 ** len(channels)
        else:
            weights = _backbone_weights("resnet18", weights, "weights")
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
        _check_images(images, self.in_channels)
        h, w = images.shape[-2:]
        if h % self.stride or w % self.stride:
            raise _checks.ArgumentError(f"images: height and width must be multiples of the stride "
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
        boxes clipped to the image. Restores the previous train/eval mode. NaN or infinity in
        ``images`` raises."""
        _check_images(images, self.in_channels, finite=True)
        unknown = set(options) - set(_DECODE_OPTIONS)
        if unknown:
            raise _checks.ArgumentTypeError(f"options must be among {_DECODE_OPTIONS}, got "
                                            f"{sorted(unknown)}")
        was_training = self.training
        self.eval()
        try:
            raw = self(images)
        finally:
            self.train(was_training)
        options.setdefault("image_size", tuple(images.shape[-2:]))
        return decode(raw, anchors=self.anchors, stride=self.stride, **options)
