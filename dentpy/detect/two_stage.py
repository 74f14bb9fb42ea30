"""A two-stage detector (Faster R-CNN) from torchvision, in the call shape of ``dentpy.detect``.

torchvision's ``FasterRCNN`` takes a list of 3-channel images and labels counted from 1 (0 is
its background), returns a dict of losses in training mode and detections in eval mode, and
by default resizes images to 800 pixels. :class:`TwoStageDetector` wraps it so that it reads
like :class:`~dentpy.detect.model.YOLODetector`:

* images ``(B, in_channels, H, W)`` in [0, 1] at their own size (no resizing), labels from 0;
* ``forward((images, targets))`` returns the loss dict (in eval mode too, with batch norm
  frozen, so that ``dentpy.train.fit`` can report a validation loss); pair it with
  :func:`two_stage_collate` and :class:`TwoStageLoss`;
* ``predict(images, score_threshold=..., iou_threshold=...)`` returns the list of
  ``{"boxes", "scores", "labels"}`` dicts that ``dentpy.detect`` evaluates.

Backbones: ``"tiny"`` (the trunk of :class:`~dentpy.detect.model.YOLODetector`, stages at
strides 4, 8, ... with a feature pyramid on them: the same features as our one-stage model, so
a comparison isolates the heads), ``"resnet18"`` (ResNet-18 with a feature pyramid on strides
4, 8, 16 and 32, as torchvision's ``resnet_fpn_backbone``; trainable batch norm when trained
from scratch) and ``"resnet50"``. ``weights_backbone`` (e.g. ``"DEFAULT"``) loads ImageNet
weights, which needs the internet or torchvision's cache; if loading fails the network is
built with random weights and a warning, never an exception. The first convolution is adapted to
``in_channels`` (:func:`dentpy.models.classifiers.adapt_first_conv`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["TWO_STAGE_BACKBONES", "TwoStageDetector", "TwoStageLoss", "two_stage_collate"]

TWO_STAGE_BACKBONES = ("tiny", "resnet18", "resnet50")


def _tiny(in_channels: int, channels: tuple[int, ...], fpn_channels: int) -> nn.Module:
    """The YOLODetector's tiny trunk (a stride-2 stem, then one stride-2 stage per further
    width) with a feature pyramid on every stage after the stem, plus a max-pooled level."""
    from torchvision.models.detection.backbone_utils import BackboneWithFPN

    from dentpy.detect.model import _conv, _stage

    if len(channels) < 2 or any(isinstance(c, bool) or not isinstance(c, int) or c < 1
                                for c in channels):
        raise ValueError(f"channels must be a tuple of at least two ints >= 1, got "
                         f"{channels!r}")
    trunk = nn.Sequential(_conv(in_channels, channels[0], stride=2),
                          *(_stage(a, b) for a, b in zip(channels[:-1], channels[1:],
                                                         strict=True)))
    return BackboneWithFPN(trunk, {str(k): str(k - 1) for k in range(1, len(channels))},
                           list(channels[1:]), fpn_channels)


def _backbone(name: str, in_channels: int, weights_backbone: Any, fpn_channels: int
              ) -> nn.Module:
    from torchvision.models import get_model, get_model_weights
    from torchvision.ops import FrozenBatchNorm2d

    from dentpy.models.classifiers import adapt_first_conv

    weights = None
    if weights_backbone is not None:
        try:
            weights = get_model_weights(name)[weights_backbone] \
                if isinstance(weights_backbone, str) else weights_backbone
            weights.get_state_dict(progress=False)  # download now, or fail here
        except Exception as error:  # offline, no cache, bad name: train from scratch
            warnings.warn(f"weights_backbone={weights_backbone!r} could not be loaded "
                          f"({type(error).__name__}: {error}); using random weights",
                          RuntimeWarning, stacklevel=3)
            weights = None
    pretrained = weights is not None
    resnet = get_model(name, weights=weights,
                       norm_layer=FrozenBatchNorm2d if pretrained else nn.BatchNorm2d)
    adapt_first_conv(resnet, in_channels, pretrained=pretrained)
    return _fpn(resnet, 3 if pretrained else 5, fpn_channels)


def _fpn(resnet: nn.Module, trainable_layers: int, out_channels: int) -> nn.Module:
    """As torchvision's ``resnet_fpn_backbone`` (levels at strides 4..32 plus a max-pooled
    stride 64), with a pyramid ``out_channels`` wide."""
    from torchvision.models.detection.backbone_utils import BackboneWithFPN

    trainable = ["layer4", "layer3", "layer2", "layer1", "conv1"][:trainable_layers]
    if trainable_layers == 5:
        trainable.append("bn1")
    for name, parameter in resnet.named_parameters():
        if all(not name.startswith(layer) for layer in trainable):
            parameter.requires_grad_(False)
    widths = [resnet.inplanes // 8 * 2 ** k for k in range(4)]  # layer1..layer4 widths
    return BackboneWithFPN(resnet, {f"layer{k + 1}": str(k) for k in range(4)}, widths,
                           out_channels)


class TwoStageDetector(nn.Module):
    """Faster R-CNN (region proposals, then RoIAlign and a box head) for ``num_classes``
    classes labelled ``0..C-1``.

    Keyword-only: ``image_size`` ``(H, W)`` of the inputs (they are not resized);
    ``backbone`` (:data:`TWO_STAGE_BACKBONES`); ``channels`` (the tiny trunk's widths);
    ``in_channels``; ``anchor_sizes``, one tuple of sizes (pixels) per pyramid level (strides
    4, 8, 16, ...; 5 levels for ResNets, ``len(channels)`` for ``"tiny"``), each with the same
    number of sizes (default ``8, 16, 32, ...``); ``aspect_ratios`` (height / width) used at
    every level; ``representation`` the width of the box head's two fully connected layers
    (torchvision uses 1024);
    ``fpn_channels`` the width of the feature pyramid (torchvision uses 256; 64 is four
    times cheaper in the pyramid and in RoIAlign, which matters on a CPU);
    ``weights_backbone``; ``mean`` and ``std`` for input normalisation; other ``options`` go
    to torchvision's ``FasterRCNN`` (e.g. ``box_batch_size_per_image``).
    """

    def __init__(
        self,
        num_classes: int,
        *,
        image_size: Sequence[int],
        backbone: str = "resnet18",
        in_channels: int = 1,
        anchor_sizes: Sequence[Sequence[int]] | None = None,
        aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0, 3.0),
        representation: int = 256,
        fpn_channels: int = 64,
        channels: tuple[int, ...] = (16, 32, 64, 128),
        weights_backbone: Any = None,
        mean: float = 0.5,
        std: float = 0.25,
        **options: Any,
    ) -> None:
        super().__init__()
        from torchvision.models.detection import FasterRCNN
        from torchvision.models.detection.anchor_utils import AnchorGenerator
        from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
        from torchvision.ops import MultiScaleRoIAlign

        for name, value in (("num_classes", num_classes), ("in_channels", in_channels),
                            ("representation", representation), ("fpn_channels", fpn_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if backbone not in TWO_STAGE_BACKBONES:
            raise ValueError(f"backbone must be one of {TWO_STAGE_BACKBONES}, got {backbone!r}")
        if len(image_size) != 2 or min(image_size) < 32:
            raise ValueError(f"image_size must be (H, W) with sides >= 32, got {image_size!r}")
        levels = len(channels) if backbone == "tiny" else 5  # pyramid levels, pool included
        if anchor_sizes is None:
            anchor_sizes = tuple((8 * 2 ** k,) for k in range(levels))
        sizes = tuple(tuple(int(s) for s in level) for level in anchor_sizes)
        if len(sizes) != levels or len({len(level) for level in sizes}) != 1 \
                or min(min(level) for level in sizes) < 1:
            raise ValueError(f"anchor_sizes must be {levels} tuples (one per pyramid level) of "
                             f"equally many sizes >= 1, got {anchor_sizes!r}")
        if not aspect_ratios or min(aspect_ratios) <= 0:
            raise ValueError(f"aspect_ratios must be positive numbers, got {aspect_ratios!r}")
        self.num_classes, self.in_channels = num_classes, in_channels
        self.image_size = (int(image_size[0]), int(image_size[1]))
        if backbone == "tiny":
            trunk = _tiny(in_channels, tuple(channels), fpn_channels)
        else:
            trunk = _backbone(backbone, in_channels, weights_backbone, fpn_channels)
        anchors = AnchorGenerator(sizes, (tuple(float(a) for a in aspect_ratios),) * len(sizes))
        options.setdefault("box_batch_size_per_image", 256)
        options.setdefault("rpn_post_nms_top_n_train", 1000)
        options.setdefault("rpn_post_nms_top_n_test", 300)
        self.net = FasterRCNN(
            trunk, num_classes=None, rpn_anchor_generator=anchors,
            box_roi_pool=MultiScaleRoIAlign([str(k) for k in range(levels - 1)], 7, 2),
            box_head=TwoMLPHead(trunk.out_channels * 7 * 7, representation),
            box_predictor=FastRCNNPredictor(representation, num_classes + 1),
            min_size=min(self.image_size), max_size=max(self.image_size),
            image_mean=[mean] * in_channels, image_std=[std] * in_channels, **options)

    def _images(self, images: Any) -> list[Tensor]:
        if not isinstance(images, Tensor) or images.ndim != 4 \
                or images.shape[1] != self.in_channels:
            raise ValueError(f"images must be a tensor (B, {self.in_channels}, H, W), got "
                             f"{tuple(getattr(images, 'shape', ()))}")
        return list(images)

    def forward(self, inputs: Any) -> dict[str, Tensor]:
        """``(images, targets)`` -> the dict of the four losses (RPN objectness and box, head
        class and box). ``targets``: one ``{"boxes" (n, 4) xyxy, "labels" (n,) in [0, C)}`` per
        image. In eval mode the losses are computed with batch norm frozen and no gradient
        bookkeeping changes (for a validation loss); use :meth:`predict` for detections."""
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise ValueError("inputs must be a pair (images, targets); use predict(images) for "
                             "detections")
        images, targets = inputs
        batch = self._images(images)
        if not isinstance(targets, Sequence) or len(targets) != len(batch):
            raise ValueError(f"targets must be a list of {len(batch)} dicts")
        shifted = [{"boxes": t["boxes"].float(), "labels": t["labels"].long() + 1}
                   for t in targets]
        if self.training:
            return self.net(batch, shifted)
        norms = [m for m in self.net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        self.net.train()
        for m in norms:
            m.eval()
        try:
            return self.net(batch, shifted)
        finally:
            self.net.eval()

    @torch.no_grad()
    def predict(self, images: Tensor, *, score_threshold: float = 0.05,
                iou_threshold: float = 0.5, max_detections: int = 100) -> list[dict[str, Tensor]]:
        """Detections per image ``{"boxes" (K, 4) xyxy, "scores" (K,), "labels" (K,) in
        [0, C)}``, by decreasing score, in eval mode (the previous mode is restored). NMS is
        per class with ``iou_threshold``."""
        if not 0.0 <= score_threshold <= 1.0 or not 0.0 <= iou_threshold <= 1.0:
            raise ValueError(f"score_threshold and iou_threshold must be in [0, 1], got "
                             f"{score_threshold!r}, {iou_threshold!r}")
        heads = self.net.roi_heads
        saved = (heads.score_thresh, heads.nms_thresh, heads.detections_per_img, self.training)
        heads.score_thresh, heads.nms_thresh = score_threshold, iou_threshold
        heads.detections_per_img = max_detections
        self.eval()
        try:
            out = self.net(self._images(images))
        finally:
            heads.score_thresh, heads.nms_thresh, heads.detections_per_img = saved[:3]
            self.train(saved[3])
        return [{"boxes": o["boxes"], "scores": o["scores"], "labels": o["labels"] - 1}
                for o in out]


def two_stage_collate(batch: Sequence[dict]) -> tuple[tuple[Tensor, list[dict]], list[dict]]:
    """Collate detection items for ``dentpy.train.fit`` with a :class:`TwoStageDetector`:
    ``((images (B, C, H, W), targets), targets)``, targets as in
    :func:`dentpy.data.datasets.detection_collate` (the model needs them as input)."""
    from dentpy.data.datasets import detection_collate

    images, targets = detection_collate(batch)
    return (images, targets), targets


class TwoStageLoss:
    """``loss_fn(outputs, targets)`` for ``fit``: the sum of a :class:`TwoStageDetector`'s loss
    dict (``targets`` were already used by the model). The last parts are in ``last_parts``."""

    def __init__(self) -> None:
        self.last_parts: dict[str, float] = {}

    def __call__(self, outputs: dict[str, Tensor], targets: Any = None) -> Tensor:
        if not isinstance(outputs, dict) or not outputs:
            raise ValueError("outputs must be the non-empty loss dict of a TwoStageDetector")
        self.last_parts = {name: float(value.detach()) for name, value in outputs.items()}
        return sum(outputs.values())
