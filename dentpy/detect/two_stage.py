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
weights, which needs the internet or torchvision's cache; if fetching a known name fails for
want of a network, the network is built with random weights and a ``RuntimeWarning``. A name
that is not one of the ResNet's weights names, ``True``, or any weights with
``backbone="tiny"`` raise a ``ValueError``. The first convolution is adapted to
``in_channels`` (:func:`dentpy.models.classifiers.adapt_first_conv`).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from dentpy import _checks
from dentpy.detect.boxes import _check_labels, _check_targets, check_boxes
from dentpy.detect.model import _backbone_weights, _check_channels, _check_images

__all__ = ["TWO_STAGE_BACKBONES", "TwoStageDetector", "TwoStageLoss", "two_stage_collate"]

TWO_STAGE_BACKBONES = ("tiny", "resnet18", "resnet50")


def _faster_rcnn_options() -> frozenset[str]:
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.transform import GeneralizedRCNNTransform

    set_here = {"backbone", "num_classes", "min_size", "max_size", "image_mean", "image_std",
                "rpn_anchor_generator", "box_roi_pool", "box_head", "box_predictor", "kwargs"}
    names = set(inspect.signature(FasterRCNN).parameters) | set(
        inspect.signature(GeneralizedRCNNTransform).parameters)
    return frozenset(names - set_here)


_FASTER_RCNN_OPTIONS = _faster_rcnn_options()


def _sizes(name: str, value: Any, *, low: int) -> tuple[int, ...]:
    """A sequence of integers >= ``low`` (pixels)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise _checks.ArgumentTypeError(f"{name} must be a sequence of integers >= {low}, got "
                                        f"{_checks.describe(value)}")
    return tuple(_checks.integer(f"{name}[{k}]", v, low=low) for k, v in enumerate(value))


def _tiny(in_channels: int, channels: tuple[int, ...], fpn_channels: int) -> nn.Module:
    """The YOLODetector's tiny trunk (a stride-2 stem, then one stride-2 stage per further
    width) with a feature pyramid on every stage after the stem, plus a max-pooled level."""
    from torchvision.models.detection.backbone_utils import BackboneWithFPN

    from dentpy.detect.model import _conv, _stage

    trunk = nn.Sequential(_conv(in_channels, channels[0], stride=2),
                          *(_stage(a, b) for a, b in zip(channels[:-1], channels[1:],
                                                         strict=True)))
    return BackboneWithFPN(trunk, {str(k): str(k - 1) for k in range(1, len(channels))},
                           list(channels[1:]), fpn_channels)


def _backbone(name: str, in_channels: int, weights_backbone: Any, fpn_channels: int
              ) -> nn.Module:
    from torchvision.models import get_model
    from torchvision.ops import FrozenBatchNorm2d

    from dentpy.models.classifiers import adapt_first_conv

    weights = _backbone_weights(name, weights_backbone, "weights_backbone", stacklevel=5)
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

        num_classes = _checks.integer("num_classes", num_classes, low=1)
        in_channels = _checks.integer("in_channels", in_channels, low=1)
        representation = _checks.integer("representation", representation, low=1)
        fpn_channels = _checks.integer("fpn_channels", fpn_channels, low=1)
        _checks.choice("backbone", backbone, TWO_STAGE_BACKBONES)
        image_size = _sizes("image_size", image_size, low=32)
        if len(image_size) != 2:
            raise _checks.ArgumentError(f"image_size must be (H, W) with sides >= 32, got "
                                        f"{_checks.describe(image_size)}")
        if backbone == "tiny":
            channels = _check_channels(channels, 2)
            if weights_backbone is not None:
                raise _checks.ArgumentError(
                    f"weights_backbone must be None with backbone='tiny' (it has no "
                    f"pretrained weights), got {_checks.describe(weights_backbone)}")
        levels = len(channels) if backbone == "tiny" else 5  # pyramid levels, pool included
        if anchor_sizes is None:
            anchor_sizes = tuple((8 * 2 ** k,) for k in range(levels))
        if isinstance(anchor_sizes, str | bytes) or not isinstance(anchor_sizes, Sequence):
            raise _checks.ArgumentTypeError(f"anchor_sizes must be {levels} tuples of sizes, one "
                                            f"per pyramid level, got "
                                            f"{_checks.describe(anchor_sizes)}")
        sizes = tuple(_sizes(f"anchor_sizes[{k}]", level, low=1)
                      for k, level in enumerate(anchor_sizes))
        if len(sizes) != levels or len({len(level) for level in sizes}) != 1:
            raise _checks.ArgumentError(f"anchor_sizes must be {levels} tuples (one per pyramid "
                                        f"level) of equally many sizes >= 1, got "
                                        f"{anchor_sizes!r}")
        ratios = _checks.array("aspect_ratios", aspect_ratios, ndim=1, kind="number")
        if (ratios <= 0).any():
            raise _checks.ArgumentError(f"aspect_ratios must be positive numbers, got "
                                        f"{ratios.tolist()!r}")
        mean = _checks.number("mean", mean)
        std = _checks.number("std", std, low=0, low_open=True)
        unknown = set(options) - _FASTER_RCNN_OPTIONS
        if unknown:
            raise _checks.ArgumentTypeError(
                f"options must be keyword arguments of torchvision's FasterRCNN "
                f"({sorted(_FASTER_RCNN_OPTIONS)}), got {sorted(unknown)}")
        self.num_classes, self.in_channels = num_classes, in_channels
        self.image_size = (int(image_size[0]), int(image_size[1]))
        if backbone == "tiny":
            trunk = _tiny(in_channels, tuple(channels), fpn_channels)
        else:
            trunk = _backbone(backbone, in_channels, weights_backbone, fpn_channels)
        anchors = AnchorGenerator(sizes, (tuple(float(a) for a in ratios),) * len(sizes))
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
        return list(_check_images(images, self.in_channels, finite=True))

    def _targets(self, targets: Any, batch: int) -> list[dict[str, Tensor]]:
        """Targets with labels shifted to torchvision's 1..C (0 is its background)."""
        out = []
        for boxes, labels in _check_targets(targets, batch, self.num_classes):
            out.append({"boxes": boxes.float(), "labels": labels.long() + 1})
        return out

    def forward(self, inputs: Any) -> dict[str, Tensor]:
        """``(images, targets)`` -> the dict of the four losses (RPN objectness and box, head
        class and box). ``targets``: one ``{"boxes" (n, 4) xyxy, "labels" (n,) in [0, C)}`` per
        image. In eval mode the losses are computed with batch norm frozen and no gradient
        bookkeeping changes (for a validation loss); use :meth:`predict` for detections."""
        if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
            raise _checks.ArgumentTypeError("inputs must be a pair (images, targets); use "
                                            "predict(images) for detections")
        images, targets = inputs
        batch = self._images(images)
        shifted = self._targets(targets, len(batch))
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
        score_threshold = _checks.probability("score_threshold", score_threshold)
        iou_threshold = _checks.probability("iou_threshold", iou_threshold)
        max_detections = _checks.integer("max_detections", max_detections, low=1)
        images = self._images(images)
        heads = self.net.roi_heads
        saved = (heads.score_thresh, heads.nms_thresh, heads.detections_per_img, self.training)
        heads.score_thresh, heads.nms_thresh = score_threshold, iou_threshold
        heads.detections_per_img = max_detections
        self.eval()
        try:
            out = self.net(images)
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

    if isinstance(batch, str | bytes) or not isinstance(batch, Sequence) or len(batch) == 0:
        raise _checks.ArgumentTypeError(f"batch must be a non-empty list of items, got "
                                        f"{_checks.describe(batch)}")
    for k, item in enumerate(batch):
        if not isinstance(item, dict) or any(key not in item for key in
                                             ("image", "boxes", "labels")):
            raise _checks.ArgumentTypeError(f"batch[{k}] must be a dict with 'image', 'boxes' "
                                            f"and 'labels', got {_checks.describe(item)}")
        if not isinstance(item["image"], Tensor):
            raise _checks.ArgumentTypeError(f"batch[{k}]['image'] must be a tensor, got "
                                            f"{_checks.describe(item['image'])}")
        boxes = check_boxes(item["boxes"], f"batch[{k}]['boxes']")
        _check_labels(item["labels"], boxes.shape[0], f"batch[{k}]['labels']")
    images, targets = detection_collate(batch)
    return (images, targets), targets


class TwoStageLoss:
    """``loss_fn(outputs, targets)`` for ``fit``: the sum of a :class:`TwoStageDetector`'s loss
    dict (``targets`` were already used by the model). The last parts are in ``last_parts``."""

    def __init__(self) -> None:
        self.last_parts: dict[str, float] = {}

    def __call__(self, outputs: dict[str, Tensor], targets: Any = None) -> Tensor:
        if not isinstance(outputs, dict) or not outputs or not all(
                isinstance(v, Tensor) and v.numel() == 1 for v in outputs.values()):
            raise _checks.ArgumentTypeError(f"outputs must be the non-empty loss dict of a "
                                            f"TwoStageDetector (scalar tensors), got "
                                            f"{_checks.describe(outputs)}")
        self.last_parts = {name: float(value.detach()) for name, value in outputs.items()}
        return sum(outputs.values())
