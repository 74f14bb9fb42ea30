"""EfficientNet's building block, tiny encoder U-Nets and denoising-autoencoder pretraining.

- :class:`SqueezeExcite`: global average pool, a 1x1 bottleneck and a sigmoid gate per channel
  (the same layout and parameter names as ``torchvision.ops.SqueezeExcitation``);
- :func:`stochastic_depth`: drop a residual branch for whole samples while training;
- :class:`MBConv`: the inverted-residual block of MobileNetV2/EfficientNet: 1x1 expansion,
  depthwise kxk convolution, squeeze-and-excitation, 1x1 linear projection, and a residual
  connection (with stochastic depth) when the shape is kept. Its parameters are laid out like
  ``torchvision.models.efficientnet.MBConv``, so a state dict loads from one into the other;
- :class:`EfficientEncoder` (stages of MBConv blocks) and :class:`ResNetEncoder` (stages of
  basic residual blocks): both return the features of every scale, full resolution first;
- :class:`SegUNet`: a U-Net decoder (upsample, concatenate the skip, a 3x3 convolution) on
  either encoder, ``n_out`` output channels at the input resolution;
- :func:`corrupt`: the denoising autoencoder's input corruption (Gaussian noise plus masked
  square patches); a :class:`SegUNet` with 3 outputs trained to undo it is the autoencoder, and
  its encoder initialises a segmentation network.

Images are ``(N, C, H, W)`` float tensors; ``H`` and ``W`` must be divisible by
``2 ** (number of stages)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from dentpy import _checks

__all__ = ["EfficientEncoder", "MBConv", "ResNetEncoder", "SegUNet", "SqueezeExcite",
           "corrupt", "stochastic_depth"]


def _widths(name: str, value: object) -> tuple[int, ...]:
    ok = isinstance(value, Sequence) and not isinstance(value, str) and len(value) >= 1
    if not ok:
        _checks.fail(name, "a non-empty sequence of positive integers", value, wrong_type=True)
    return tuple(_checks.integer(f"{name}[{i}]", v, low=1) for i, v in enumerate(value))


def _stages(widths: object, depths: object) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Checked ``(widths, depths)`` of an encoder: one depth per width."""
    widths, depths = _widths("widths", widths), _widths("depths", depths)
    if len(depths) != len(widths):
        _checks.fail("depths", f"{len(widths)} entries (one per width)", depths)
    return widths, depths


class SqueezeExcite(nn.Module):
    """Channel gate: ``x * sigmoid(fc2(act(fc1(mean_hw(x)))))``; ``fc1``, ``fc2`` are 1x1 convs
    ``channels -> squeeze -> channels``. ``(N, channels, H, W) -> same shape``."""

    def __init__(self, channels: int, squeeze: int, activation: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        channels = _checks.integer("channels", channels, low=1)
        squeeze = _checks.integer("squeeze", squeeze, low=1)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = activation()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.fc2(self.activation(self.fc1(self.avgpool(x))))
        return x * self.scale_activation(gate)


def stochastic_depth(x: torch.Tensor, p: float, training: bool,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero the residual branch ``x`` (N, ...) for a random share ``p`` of the samples and
    divide the kept ones by ``1 - p`` (so the expectation is unchanged); identity when not
    ``training`` or ``p == 0``."""
    x = _checks.tensor("x", x, kind="float", finite=False)
    if x.ndim < 1:
        _checks.fail("x", "a tensor with a batch dimension", x)
    p = _checks.number("p", p, low=0.0, high=1.0)
    training = _checks.flag("training", training)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = torch.empty((x.shape[0],) + (1,) * (x.ndim - 1), dtype=x.dtype, device=x.device)
    keep.bernoulli_(1.0 - p, generator=generator)
    return x * keep / (1.0 - p)


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1,
             act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out)]
    if act:
        layers.append(nn.SiLU(inplace=True))
    return nn.Sequential(*layers)


class MBConv(nn.Module):
    """Inverted residual block with squeeze-and-excitation, ``(N, c_in, H, W) ->
    (N, c_out, H / stride, W / stride)``.

    ``expand``: expansion ratio of the hidden width (``c_in * expand``; no expansion layer when
    1); ``kernel``: odd depthwise kernel size; ``stride``: 1 or 2; ``drop_path``: stochastic
    depth probability of the residual branch (used only when ``stride == 1`` and
    ``c_in == c_out``). The SE bottleneck has ``max(1, c_in // 4)`` channels, as in EfficientNet.
    """

    def __init__(self, c_in: int, c_out: int, *, expand: int = 4, kernel: int = 3, stride: int = 1,
                 drop_path: float = 0.0) -> None:
        super().__init__()
        c_in = _checks.integer("c_in", c_in, low=1)
        c_out = _checks.integer("c_out", c_out, low=1)
        expand = _checks.integer("expand", expand, low=1)
        kernel = _checks.integer("kernel", kernel, low=1)
        if kernel % 2 == 0:
            _checks.fail("kernel", "an odd integer", kernel)
        self.stride = _checks.choice("stride", stride, (1, 2))
        self.drop_path = _checks.number("drop_path", drop_path, low=0.0, high=1.0, high_open=True)
        hidden = c_in * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn(c_in, hidden, 1))
        layers.append(_conv_bn(hidden, hidden, kernel, stride, groups=hidden))
        layers.append(SqueezeExcite(hidden, max(1, c_in // 4), activation=nn.SiLU))
        layers.append(_conv_bn(hidden, c_out, 1, act=False))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        if self.residual:
            out = stochastic_depth(out, self.drop_path, self.training) + x
        return out


class _BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 conv-BN (ReLU between), a 1x1 projection when the shape
    changes."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.short = (nn.Identity() if stride == 1 and c_in == c_out else
                      nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                    nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.short(x))


class _Encoder(nn.Module):
    widths: tuple[int, ...]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Features of every stage: ``[(N, widths[0], H/2, W/2), (N, widths[1], H/4, W/4),
        ...]`` (the stem halves the resolution, as in EfficientNet and ResNet)."""
        x = _checks.tensor("x", x, ndim=4, kind="float")
        if x.shape[1] != self.in_channels:
            _checks.fail("x", f"a tensor with {self.in_channels} channels", x)
        step = 2 ** len(self.widths)
        if x.shape[-1] % step or x.shape[-2] % step:
            _checks.fail("x", f"a tensor with height and width divisible by {step}", x)
        feats = []
        out = self.stem(x)
        for stage in self.stages:
            out = stage(out)
            feats.append(out)
        return feats


class EfficientEncoder(_Encoder):
    """A tiny EfficientNet-style encoder: a 3x3 conv-BN-SiLU stem, then one stage of MBConv
    blocks per width (stride 1 for the first stage, 2 for the others), ``depths[i]`` blocks in
    stage ``i``; stochastic depth grows linearly from 0 to ``drop_path`` over the blocks."""

    def __init__(self, in_channels: int = 3, widths: Sequence[int] = (16, 24, 32, 48),
                 depths: Sequence[int] = (1, 1, 2, 2), *, expand: int = 4,
                 drop_path: float = 0.1) -> None:
        super().__init__()
        self.in_channels = _checks.integer("in_channels", in_channels, low=1)
        self.widths, depths = _stages(widths, depths)
        drop_path = _checks.number("drop_path", drop_path, low=0.0, high=1.0, high_open=True)
        self.stem = _conv_bn(self.in_channels, self.widths[0], 3, stride=2)
        total, k, stages, c = sum(depths), 0, [], self.widths[0]
        for i, (w, d) in enumerate(zip(self.widths, depths, strict=True)):
            blocks = []
            for j in range(d):
                blocks.append(MBConv(c, w, expand=1 if i == 0 else expand,
                                     stride=2 if (i > 0 and j == 0) else 1,
                                     drop_path=drop_path * k / max(1, total - 1)))
                c, k = w, k + 1
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)


class ResNetEncoder(_Encoder):
    """A tiny ResNet-style encoder: a 3x3 conv-BN-ReLU stem, then ``depths[i]`` basic residual
    blocks per width (stride 2 at the start of every stage but the first)."""

    def __init__(self, in_channels: int = 3, widths: Sequence[int] = (16, 24, 32, 48),
                 depths: Sequence[int] = (1, 1, 1, 1)) -> None:
        super().__init__()
        self.in_channels = _checks.integer("in_channels", in_channels, low=1)
        self.widths, depths = _stages(widths, depths)
        self.stem = nn.Sequential(nn.Conv2d(self.in_channels, self.widths[0], 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(self.widths[0]), nn.ReLU(inplace=True))
        stages, c = [], self.widths[0]
        for i, (w, d) in enumerate(zip(self.widths, depths, strict=True)):
            blocks = []
            for j in range(d):
                blocks.append(_BasicBlock(c, w, 2 if (i > 0 and j == 0) else 1))
                c = w
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)


class SegUNet(nn.Module):
    """U-Net on an encoder: from the deepest feature up, upsample by 2 (bilinear), concatenate
    the skip of that scale, one 3x3 conv-BN-ReLU; a 1x1 conv gives ``n_out`` channels at
    half resolution, upsampled (bilinear) to the input's size.
    ``(N, C, H, W) -> (N, n_out, H, W)`` (logits for segmentation, an image for the DAE)."""

    def __init__(self, encoder: nn.Module, n_out: int) -> None:
        super().__init__()
        if not isinstance(encoder, _Encoder):
            _checks.fail("encoder", "an EfficientEncoder or a ResNetEncoder", encoder,
                         wrong_type=True)
        n_out = _checks.integer("n_out", n_out, low=1)
        self.encoder = encoder
        w = encoder.widths
        self.ups = nn.ModuleList()
        for deep, skip in zip(w[:0:-1], w[-2::-1], strict=True):
            self.ups.append(nn.Sequential(
                nn.Conv2d(deep + skip, skip, 3, 1, 1, bias=False), nn.BatchNorm2d(skip),
                nn.ReLU(inplace=True)))
        self.head = nn.Conv2d(w[0], n_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(x)
        out = feats[-1]
        for up, skip in zip(self.ups, feats[-2::-1], strict=True):
            out = F.interpolate(out, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            out = up(torch.cat([out, skip], dim=1))
        out = F.interpolate(self.head(out), size=x.shape[-2:], mode="bilinear",
                            align_corners=False)
        return out


def corrupt(images: torch.Tensor, *, noise: float = 0.1, mask_fraction: float = 0.25,
            patch: int = 8, generator: torch.Generator | None = None) -> torch.Tensor:
    """The DAE's corruption of ``images`` (N, C, H, W): add Gaussian noise of standard deviation
    ``noise``, then set about ``mask_fraction`` of the ``patch`` x ``patch`` squares (a grid
    over the image, drawn per image) to the image's mean colour. Returns a new tensor."""
    images = _checks.tensor("images", images, ndim=4, kind="float")
    noise = _checks.number("noise", noise, low=0.0)
    mask_fraction = _checks.probability("mask_fraction", mask_fraction)
    patch = _checks.integer("patch", patch, low=1)
    n, c, h, w = images.shape
    out = images + noise * torch.randn(images.shape, generator=generator, dtype=images.dtype)
    if mask_fraction > 0:
        gh, gw = -(-h // patch), -(-w // patch)
        grid = torch.rand((n, 1, gh, gw), generator=generator) < mask_fraction
        hole = grid.repeat_interleave(patch, 2).repeat_interleave(patch, 3)[..., :h, :w]
        mean = images.mean(dim=(2, 3), keepdim=True)
        out = torch.where(hole, mean.expand_as(out), out)
    return out
