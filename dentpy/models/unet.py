"""A small U-Net for 2-D images and 3-D volumes, sized by ``width`` and ``depth``.

Encoder: at each level two (convolution, normalisation, ReLU) layers, then 2× max-pooling.
Decoder: 2× transposed convolution, concatenation with the encoder's features of the same
level (the skip connection), two more conv layers. A final 1×1 convolution gives logits.
"""

from __future__ import annotations

import torch
from torch import nn

from dentpy import _checks
from dentpy.models.small import _check_input

NORMS = ("batch", "instance", "none")


def _layers(dim: int) -> tuple[type[nn.Module], ...]:
    if dim == 2:
        return nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d, nn.BatchNorm2d, nn.InstanceNorm2d
    return nn.Conv3d, nn.ConvTranspose3d, nn.MaxPool3d, nn.BatchNorm3d, nn.InstanceNorm3d


class _DoubleConv(nn.Sequential):
    def __init__(self, dim: int, in_channels: int, out_channels: int, norm: str):
        conv, _, _, batch_norm, instance_norm = _layers(dim)
        layers: list[nn.Module] = []
        for c_in in (in_channels, out_channels):
            layers.append(conv(c_in, out_channels, 3, padding=1, bias=norm == "none"))
            if norm == "batch":
                layers.append(batch_norm(out_channels))
            elif norm == "instance":
                layers.append(instance_norm(out_channels, affine=True))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class UNet(nn.Module):
    """U-Net mapping ``(N, in_channels, *spatial)`` to ``(N, out_channels, *spatial)`` logits.

    ``dim`` is 2 (images, ``spatial = (H, W)``) or 3 (volumes, ``(D, H, W)``). Level ``i``
    (0 to ``depth - 1``) has ``width * 2**i`` channels, so each spatial size must be divisible
    by ``2**(depth - 1)``. ``norm`` is ``"batch"``, ``"instance"`` (for batches of one or two
    volumes) or ``"none"``.
    """

    def __init__(self, dim: int = 2, in_channels: int = 1, out_channels: int = 1, *,
                 width: int = 16, depth: int = 4, norm: str = "batch"):
        super().__init__()
        dim = _checks.integer("dim", dim, low=2, high=3)
        in_channels = _checks.integer("in_channels", in_channels, low=1)
        out_channels = _checks.integer("out_channels", out_channels, low=1)
        width = _checks.integer("width", width, low=1)
        depth = _checks.integer("depth", depth, low=2)
        _checks.choice("norm", norm, NORMS)
        conv, up_conv, pool, _, _ = _layers(dim)
        self.dim, self.in_channels, self.depth = dim, in_channels, depth
        channels = [width * 2**i for i in range(depth)]
        self.encoders = nn.ModuleList(
            _DoubleConv(dim, c_in, c_out, norm)
            for c_in, c_out in zip([in_channels, *channels[:-1]], channels, strict=True)
        )
        self.pool = pool(2)
        self.ups = nn.ModuleList(
            up_conv(channels[i + 1], channels[i], 2, stride=2) for i in reversed(range(depth - 1))
        )
        self.decoders = nn.ModuleList(
            _DoubleConv(dim, 2 * channels[i], channels[i], norm) for i in reversed(range(depth - 1))
        )
        self.head = conv(channels[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.dim + 2, self.in_channels,
                     f"(N, {self.in_channels}, {'D, ' if self.dim == 3 else ''}H, W)")
        factor = 2 ** (self.depth - 1)
        if any(size % factor for size in x.shape[2:]):
            raise ValueError(
                f"x: spatial size {tuple(x.shape[2:])} must be divisible by 2**(depth-1) = {factor}"
            )
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, decoder in zip(self.ups, self.decoders, strict=True):
            x = decoder(torch.cat([skips.pop(), up(x)], dim=1))
        return self.head(x)
