"""Image classifiers from torchvision, adapted to dental images and to fine-tuning.

``build_classifier`` takes a torchvision architecture, makes its first convolution accept
``in_channels`` (1 for a radiograph) and gives it a new ``num_classes`` head.
``conv_blocks`` names the network's convolutional blocks, bottom (input side) to top, and
``freeze_blocks(model, n)`` leaves only the top ``n`` of them (and the head) trainable: the
fine-tuning degrees TF0 (head only) to TF5 (everything) of a 5-block VGG-16 or ResNet.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchvision.models import VGG, DenseNet, EfficientNet, ResNet, get_model, get_model_weights
from torchvision.models._api import WeightsEnum

from dentpy import _checks

ARCHITECTURES = (
    "resnet18", "resnet34", "resnet50", "resnet101", "vgg11", "vgg16", "vgg16_bn",
    "efficientnet_b0", "efficientnet_b1", "densenet121",
)


def _check_module(name: str, value: Any) -> nn.Module:
    if not isinstance(value, nn.Module):
        raise _checks.ArgumentTypeError(
            f"{name} must be a torch.nn.Module, got {_checks.describe(value)}"
        )
    return value


def _known_weights(name: str) -> dict[str, WeightsEnum]:
    """The torchvision weights names of architecture ``name`` (``"DEFAULT"`` included)."""
    enum = get_model_weights(name)
    known = {key: member for key, member in enum.__members__.items()}
    known |= {f"{enum.__name__}.{key}": member for key, member in enum.__members__.items()}
    return known


def _resolve_weights(name: str, weights: Any) -> WeightsEnum | Path | None:
    """``None``, a state-dict file, or the torchvision weights enum member ``weights`` names.

    Anything else (``True``, a misspelt name, another architecture's weights) raises: weights
    are never fetched or dropped on a guess.
    """
    if weights is None:
        return None
    known = _known_weights(name)
    names = tuple(k for k in known if "." not in k)
    if isinstance(weights, WeightsEnum):
        if weights not in known.values():
            raise _checks.ArgumentError(
                f"weights must be None, a .pt/.pth file or one of {names} for {name}, got "
                f"{type(weights).__name__}.{weights.name} (another architecture's weights)"
            )
        return weights
    if isinstance(weights, os.PathLike) or (
        isinstance(weights, str) and weights.endswith((".pt", ".pth"))
    ):
        return _checks.existing_path("weights", weights, kind="file")
    if isinstance(weights, str):
        if weights not in known:
            raise _checks.ArgumentError(
                f"weights must be None, a .pt/.pth file or one of {names} for {name}, "
                f"got {weights!r}"
            )
        return known[weights]
    raise _checks.ArgumentTypeError(
        f"weights must be None, a .pt/.pth file or one of {names} for {name} (a string), got "
        f"{_checks.describe(weights)}; for ImageNet weights write weights='DEFAULT'"
    )


def _set_submodule(model: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, module)


def adapt_first_conv(model: nn.Module, in_channels: int, *, pretrained: bool) -> nn.Module:
    """Replace the first ``Conv2d`` of ``model`` by one reading ``in_channels`` channels.

    With ``pretrained=True`` each new input channel gets the mean of the old channels'
    kernels times ``old_channels / in_channels``: an image whose channels all hold the same
    grey values then gives exactly the activations the original network gives that grey
    image copied into its three RGB channels (for one channel: the sum of the RGB kernels).
    Without it the new convolution keeps PyTorch's random initialisation. Returns ``model``.
    """
    _check_module("model", model)
    in_channels = _checks.integer("in_channels", in_channels, low=1)
    pretrained = _checks.flag("pretrained", pretrained)
    found = next(((path, m) for path, m in model.named_modules() if isinstance(m, nn.Conv2d)),
                 None)
    if found is None:
        raise ValueError(f"model: {type(model).__name__} has no Conv2d layer to adapt")
    path, conv = found
    if conv.in_channels == in_channels:
        return model
    if conv.groups != 1:
        raise ValueError(f"model: the first convolution ({path}) is grouped; cannot adapt it")
    new = nn.Conv2d(in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                    padding=conv.padding, dilation=conv.dilation, bias=conv.bias is not None,
                    padding_mode=conv.padding_mode, device=conv.weight.device,
                    dtype=conv.weight.dtype)
    if pretrained:
        with torch.no_grad():
            mean = conv.weight.mean(dim=1, keepdim=True) * (conv.in_channels / in_channels)
            new.weight.copy_(mean.expand(-1, in_channels, -1, -1))
            if conv.bias is not None:
                new.bias.copy_(conv.bias)
    _set_submodule(model, path, new)
    return model


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Give ``model`` a new, randomly initialised last ``Linear`` layer with ``num_classes``
    outputs (logits). Returns ``model``."""
    _check_module("model", model)
    num_classes = _checks.integer("num_classes", num_classes, low=1)
    found = [(path, m) for path, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not found:
        raise ValueError(f"model: {type(model).__name__} has no Linear layer to replace")
    path, last = found[-1]
    new = nn.Linear(last.in_features, num_classes, bias=last.bias is not None,
                    device=last.weight.device, dtype=last.weight.dtype)
    _set_submodule(model, path, new)
    return model


def build_classifier(
    name: str,
    *,
    in_channels: int = 1,
    num_classes: int,
    weights: str | os.PathLike | Any = None,
) -> nn.Module:
    """A torchvision classifier for ``(N, in_channels, H, W)`` float images → ``(N, num_classes)``
    logits.

    ``name`` is one of :data:`ARCHITECTURES`. ``weights=None`` initialises randomly;
    a torchvision weights name or enum of this architecture (``"DEFAULT"``,
    ``"IMAGENET1K_V1"``) downloads the pretrained weights (internet needed); a path to a
    ``.pt``/``.pth`` state dict of the original 3-channel, 1000-class network loads it from
    disk. Any other ``weights`` (``True``, a misspelt name) raises ``ValueError``. Only when
    the download of a known name fails for want of a network does it warn (``UserWarning``)
    and fall back to random weights. With weights, the first convolution is adapted from the
    RGB kernels (see :func:`adapt_first_conv`); the head is always new.
    """
    _checks.choice("name", name, ARCHITECTURES)
    in_channels = _checks.integer("in_channels", in_channels, low=1)
    num_classes = _checks.integer("num_classes", num_classes, low=1)
    resolved = _resolve_weights(name, weights)
    if isinstance(resolved, Path):
        model = get_model(name, weights=None)
        try:
            state = torch.load(resolved, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError) as err:
            raise _checks.ArgumentError(
                f"weights: {str(resolved)!r} is not a readable state dict ({err})"
            ) from err
        if not isinstance(state, dict):
            raise _checks.ArgumentError(
                f"weights: {str(resolved)!r} holds a {type(state).__name__}, not a state dict"
            )
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            raise _checks.ArgumentError(
                f"weights: {str(resolved)!r} is not a state dict of {name} ({err})"
            ) from err
    elif resolved is not None:
        try:
            model = get_model(name, weights=resolved)
        except OSError as err:  # no network (URLError, socket and connection errors)
            warnings.warn(
                f"weights={weights!r}: could not download the {name} weights ({err}); "
                "falling back to random weights",
                UserWarning,
                stacklevel=2,
            )
            model, resolved = get_model(name, weights=None), None
    else:
        model = get_model(name, weights=None)
    adapt_first_conv(model, in_channels, pretrained=resolved is not None)
    return replace_head(model, num_classes)


def conv_blocks(model: nn.Module) -> dict[str, nn.Module]:
    """The convolutional blocks of a torchvision ResNet, VGG, EfficientNet or DenseNet,
    ordered from the input to the top.

    ResNet: ``stem`` (first conv + norm) and ``layer1``..``layer4``; VGG: ``block1``..``block5``
    (the convolutions up to each max-pooling); EfficientNet: ``features.0``..``features.8``;
    DenseNet: ``stem`` and ``block1``..``block4`` (dense block + transition). The modules are
    the model's own (views, not copies).
    """
    if isinstance(model, ResNet):
        return {"stem": nn.ModuleList([model.conv1, model.bn1]),
                **{f"layer{i}": getattr(model, f"layer{i}") for i in range(1, 5)}}
    if isinstance(model, VGG):
        blocks, start = {}, 0
        for i, layer in enumerate(model.features):
            if isinstance(layer, nn.MaxPool2d):
                blocks[f"block{len(blocks) + 1}"] = model.features[start:i + 1]
                start = i + 1
        return blocks
    if isinstance(model, EfficientNet):
        return {f"features.{i}": block for i, block in enumerate(model.features)}
    if isinstance(model, DenseNet):
        f = model.features
        return {
            "stem": nn.ModuleList([f.conv0, f.norm0]),
            "block1": nn.ModuleList([f.denseblock1, f.transition1]),
            "block2": nn.ModuleList([f.denseblock2, f.transition2]),
            "block3": nn.ModuleList([f.denseblock3, f.transition3]),
            "block4": nn.ModuleList([f.denseblock4, f.norm5]),
        }
    raise ValueError(
        "model must be a torchvision ResNet, VGG, EfficientNet or DenseNet (as made by "
        f"build_classifier), got {type(model).__name__}"
    )


def freeze_blocks(model: nn.Module, n_trainable: int) -> nn.Module:
    """Freeze all conv blocks but the top ``n_trainable``; the head always stays trainable.

    ``n_trainable=0`` is TF0 (train the head only), ``len(conv_blocks(model))`` trains
    everything. Sets ``requires_grad`` in place and returns ``model``; build the optimizer
    afterwards (or over ``p for p in model.parameters() if p.requires_grad``). Batch-norm
    running statistics of frozen blocks still update in ``train()`` mode.
    """
    blocks = list(conv_blocks(model).values())
    n_trainable = _checks.integer("n_trainable", n_trainable, low=0, high=len(blocks))
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    for block in blocks[: len(blocks) - n_trainable]:
        for parameter in block.parameters():
            parameter.requires_grad_(False)
    return model


def trainable_blocks(model: nn.Module) -> int:
    """How many conv blocks of ``model`` have all their parameters trainable."""
    return sum(all(p.requires_grad for p in block.parameters())
               for block in conv_blocks(model).values())


def parameter_summary(model: nn.Module) -> dict[str, Any]:
    """Parameter counts: ``total``, ``trainable``, ``frozen`` and, for the architectures of
    :func:`conv_blocks`, ``blocks``: ``{name: (total, trainable)}`` from input to top."""
    def count(module: nn.Module) -> tuple[int, int]:
        params = list(module.parameters())
        return (sum(p.numel() for p in params),
                sum(p.numel() for p in params if p.requires_grad))

    _check_module("model", model)
    total, trainable = count(model)
    try:
        blocks = {name: count(block) for name, block in conv_blocks(model).items()}
    except ValueError:
        blocks = {}
    return {"total": total, "trainable": trainable, "frozen": total - trainable,
            "blocks": blocks}
