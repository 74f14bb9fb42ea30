"""Grad-CAM: where in the image a CNN found the evidence for a class.

Grad-CAM (Selvaraju et al., 2017) weighs the feature maps ``A_k`` of one convolutional layer
by how much the class score ``y_c`` grows with them, ``alpha_k = mean_ij dy_c / dA_k(i, j)``,
keeps the positive part of ``sum_k alpha_k A_k`` and upsamples it to the image. Here a forward
hook on the target layer keeps its output ``A``, and autograd gives ``dy_c / dA`` for that
tensor (the backward pass stops at the layer, as Captum's ``LayerGradCam`` does).

``grad_cam`` leaves the model as it found it: the hook is removed (also on error), each
module's train/eval mode is restored, and the parameters are not touched: their
``requires_grad`` and ``.grad`` stay as they were, because the graph is recorded from an input
that requires grad (so frozen models work too) and only ``dy_c / dA`` is computed.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from dentpy import _checks

__all__ = ["find_layer", "grad_cam", "last_conv_layer"]


def _check_model(model: nn.Module) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise _checks.ArgumentTypeError(
            f"model must be a torch.nn.Module, got {_checks.describe(model)}")
    return model


def find_layer(model: nn.Module, name: str) -> nn.Module:
    """The submodule of ``model`` at the dotted path ``name`` (``"layer4"``, ``"features.28"``).

    Raises ``ValueError`` naming a few valid names when there is no such submodule.
    """
    _check_model(model)
    if not isinstance(name, str):
        raise _checks.ArgumentTypeError(
            f"name must be a str (a dotted module path), got {_checks.describe(name)}")
    try:
        return model.get_submodule(name)
    except AttributeError as err:
        names = [n for n, _ in model.named_modules() if n]
        shown = ", ".join(names[-8:])
        raise _checks.ArgumentError(
            f"name: {type(model).__name__} has no submodule {name!r}; the last ones are {shown}"
        ) from err


def last_conv_layer(model: nn.Module) -> nn.Module:
    """The last ``nn.Conv2d`` of ``model`` in registration order: Grad-CAM's usual target layer.

    For torchvision ResNets this is the last convolution inside the last block, before the
    skip connection; ``find_layer(model, "layer4")`` gives the block's output instead (the map
    the classifier actually pools), which is the more common choice for ResNets.
    """
    convs = [m for m in _check_model(model).modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise _checks.ArgumentError(f"model: {type(model).__name__} has no nn.Conv2d layer")
    return convs[-1]


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor):
        raise _checks.ArgumentTypeError(
            f"images must be a torch.Tensor, got {_checks.describe(images)}")
    if images.ndim != 4:
        raise _checks.ArgumentError(
            f"images must have shape (B, C, H, W), got {tuple(images.shape)}")
    if images.shape[0] == 0:
        raise _checks.ArgumentError("images is empty (batch size 0)")
    if not images.is_floating_point():
        raise _checks.ArgumentTypeError(
            f"images must be a floating-point tensor, got {images.dtype}")
    if not torch.isfinite(images).all():
        raise _checks.ArgumentError("images contains NaN or infinite values")


def _class_index(
    class_idx: int | Sequence[int] | torch.Tensor | None, logits: torch.Tensor
) -> torch.Tensor:
    batch, num_classes = logits.shape
    if class_idx is None:
        return logits.argmax(1)
    if isinstance(class_idx, bool) or isinstance(class_idx, str | bytes | dict):
        raise _checks.ArgumentTypeError(
            f"class_idx must be an int or a (B,) tensor, got {_checks.describe(class_idx)}")
    if not isinstance(class_idx, torch.Tensor):
        class_idx = _checks.array("class_idx", class_idx, kind=None, nonempty=False)
    idx = torch.as_tensor(class_idx, device=logits.device)
    if idx.is_floating_point() or idx.is_complex() or idx.dtype == torch.bool:
        raise _checks.ArgumentTypeError(f"class_idx must hold integers, got dtype {idx.dtype}")
    if idx.ndim == 0:
        idx = idx.expand(batch)
    if idx.shape != (batch,):
        raise _checks.ArgumentError(f"class_idx must be an int or have shape ({batch},), got "
                         f"{tuple(idx.shape)}")
    if idx.min() < 0 or idx.max() >= num_classes:
        raise _checks.ArgumentError(f"class_idx must lie in [0, {num_classes}), got values "
                         f"{idx.min().item()}..{idx.max().item()}")
    return idx.long()


def grad_cam(
    model: nn.Module,
    images: torch.Tensor,
    *,
    target_layer: nn.Module | str,
    class_idx: int | Sequence[int] | torch.Tensor | None = None,
) -> torch.Tensor:
    """Grad-CAM maps of ``images`` for ``class_idx``, one per image, in ``[0, 1]``.

    Args:
        model: a classifier returning logits ``(B, num_classes)``; run in eval mode here.
        images: float tensor ``(B, C, H, W)`` (any ``C``, e.g. 1 for radiographs).
        target_layer: a module of ``model`` (or its dotted name) whose output is a feature
            map ``(B, K, h, w)`` and which runs once per forward pass; see
            :func:`last_conv_layer`.
        class_idx: the class to explain: ``None`` for each image's predicted class, an int
            for all images, or a ``(B,)`` sequence/tensor of ints.

    Returns:
        float tensor ``(B, H, W)`` on ``images``' device: ``ReLU(sum_k alpha_k A_k)`` upsampled
        bilinearly to ``(H, W)`` and divided by its per-image maximum (an all-zero map stays 0).
    """
    _check_model(model)
    _check_images(images)
    if isinstance(target_layer, str):
        target_layer = find_layer(model, target_layer)
    if not isinstance(target_layer, nn.Module) or not any(
        m is target_layer for m in model.modules()
    ):
        raise _checks.ArgumentError("target_layer must be a module of model (or its name in model)")

    activations: list[torch.Tensor] = []

    def keep_output(_module: nn.Module, _inputs: object, output: object) -> torch.Tensor:
        if not isinstance(output, torch.Tensor):
            raise _checks.ArgumentError(
                "target_layer must output a single tensor (B, K, h, w), got "
                f"{type(output).__name__}")
        activations.append(output)
        # the rest of the model gets a copy, so an in-place op after the layer (e.g.
        # ReLU(inplace=True)) leaves the kept feature map and its gradient untouched
        return output.clone()

    modes = {m: m.training for m in model.modules()}
    handle = target_layer.register_forward_hook(keep_output)
    try:
        model.eval()
        x = images.detach().requires_grad_(True)
        with torch.enable_grad():
            logits = model(x)
            if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
                raise _checks.ArgumentError("model must return logits of shape (B, num_classes)")
            if len(activations) != 1:
                raise _checks.ArgumentError(f"target_layer must run once per forward pass, ran "
                                 f"{len(activations)} times")
            if activations[0].ndim != 4:
                raise _checks.ArgumentError(
                    "target_layer must output a feature map (B, K, h, w), got "
                    f"shape {tuple(activations[0].shape)}")
            idx = _class_index(class_idx, logits)
            score = logits.gather(1, idx[:, None]).sum()
            acts = activations[0]
            grads = (torch.autograd.grad(score, acts, allow_unused=True)[0]
                     if acts.requires_grad else None)
    finally:
        handle.remove()
        for module, training in modes.items():
            module.train(training)

    if grads is None:
        raise _checks.ArgumentError(
            "target_layer: the class score does not depend on this layer's output")
    acts = acts.detach()
    weights = grads.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * acts).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    peak = cam.amax(dim=(1, 2), keepdim=True)
    return cam / peak.clamp_min(torch.finfo(cam.dtype).tiny)
