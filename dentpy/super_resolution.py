"""Blind x4 super-resolution (BliMSR, MIUA 2023): random degradations, an attention generator,
a spectral-normalised critic and the ensemble loss.

Images are float tensors ``(N, 1, H, W)`` with values in ``[0, 1]`` (``data_range = 1``).

- Degradation (high-resolution ``hr`` -> low-resolution ``lr``): :func:`gaussian_kernel` (iso-
  or anisotropic), :func:`blur`, :func:`downsample`, :func:`add_noise` (Gaussian or Poisson),
  :func:`jpeg` (Pillow); :class:`Degradation` holds one setting of all of them and :func:`degrade`
  applies it in that order (blur -> resize -> noise -> JPEG, clamped to ``[0, 1]`` after each
  step); :func:`sample_degradation` draws a random setting, as blind super-resolution trains on.
- Metrics and loss terms: :func:`psnr`, :func:`ssim` (differentiable, equal to scikit-image's
  ``structural_similarity`` with its defaults), :func:`gradient_l1`; :func:`generator_loss`
  (pixel L1 + image-gradient L1 + DSSIM + adversarial) and :func:`discriminator_loss`.
- Networks: :class:`MultiHeadConvAttention`, :class:`RMHAB`, :class:`AttentionSRGenerator`,
  :class:`SNDiscriminator` (spectral normalisation from ``torch.nn.utils.parametrizations``).
- Training: :func:`train_sr` (the checkpoint kept is the one with the best validation PSNR) and
  :func:`super_resolve`.
"""

from __future__ import annotations

import copy
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm
from tqdm.auto import tqdm

from dentpy import _checks

__all__ = [
    "DEFAULT_WEIGHTS",
    "RESIZE_MODES",
    "AttentionSRGenerator",
    "Degradation",
    "MultiHeadConvAttention",
    "RMHAB",
    "SNDiscriminator",
    "SRHistory",
    "add_noise",
    "blur",
    "degrade",
    "discriminator_loss",
    "downsample",
    "gaussian_kernel",
    "generator_loss",
    "gradient_l1",
    "jpeg",
    "psnr",
    "sample_degradation",
    "ssim",
    "super_resolve",
    "train_sr",
]

RESIZE_MODES = ("bicubic", "bilinear", "area")
#: the weights of the ensemble loss (the paper's perceptual VGG term is left out: no weights
#: can be downloaded here; the pixel L1 takes its place as the anchor term)
DEFAULT_WEIGHTS = {"cont": 1.0, "grad": 1.0, "dssim": 1.0, "adv": 0.01}


def _images(name: str, value: Any) -> torch.Tensor:
    """A float tensor (N, C, H, W), finite and non-empty."""
    value = _checks.tensor(name, value, ndim=4, kind="float")
    return value


def _pair(sr: Any, hr: Any) -> tuple[torch.Tensor, torch.Tensor]:
    sr, hr = _images("sr", sr), _images("hr", hr)
    if sr.shape != hr.shape:
        raise _checks.ArgumentError(
            f"sr and hr must have the same shape, got {tuple(sr.shape)} and {tuple(hr.shape)}")
    return sr, hr


# ---------------------------------------------------------------------------------- degradation


def gaussian_kernel(size: int, sigma: float, *, sigma_y: float | None = None,
                    angle: float = 0.0) -> torch.Tensor:
    """A normalised Gaussian blur kernel ``(size, size)``, float32.

    ``sigma`` is the standard deviation (pixels) along the kernel's first axis, which is the
    image's x axis (columns) rotated by ``angle`` radians; ``sigma_y`` the one across it
    (default ``sigma``: isotropic). ``size`` is odd.
    """
    size = _checks.integer("size", size, low=1)
    if size % 2 == 0:
        _checks.fail("size", "an odd integer", size)
    sigma = _checks.number("sigma", sigma, low=0, low_open=True)
    sigma_y = sigma if sigma_y is None else _checks.number("sigma_y", sigma_y, low=0,
                                                           low_open=True)
    angle = _checks.number("angle", angle)
    half = size // 2
    y, x = torch.meshgrid(torch.arange(-half, half + 1, dtype=torch.float64),
                          torch.arange(-half, half + 1, dtype=torch.float64), indexing="ij")
    c, s = math.cos(angle), math.sin(angle)
    u, v = c * x + s * y, -s * x + c * y  # coordinates along and across the kernel's axis
    kernel = torch.exp(-0.5 * ((u / sigma) ** 2 + (v / sigma_y) ** 2))
    return (kernel / kernel.sum()).float()


def blur(images: Any, kernel: Any) -> torch.Tensor:
    """Convolve every channel of ``images`` (N, C, H, W) with ``kernel`` (k, k), k odd, with
    reflect padding (the border pixel is not repeated), so the output keeps the size."""
    images = _images("images", images)
    kernel = _checks.tensor("kernel", kernel, ndim=2, kind="float")
    k = kernel.shape[0]
    if kernel.shape[1] != k or k % 2 == 0:
        _checks.fail("kernel", "a square kernel of odd size", kernel)
    if k // 2 >= min(images.shape[-2:]):
        _checks.fail("kernel", f"smaller than twice the image ({tuple(images.shape[-2:])})",
                     kernel)
    n, ch, h, w = images.shape
    padded = F.pad(images.reshape(n * ch, 1, h, w), (k // 2,) * 4, mode="reflect")
    weight = kernel.to(images.dtype).flip(0, 1)[None, None]  # convolution, not correlation
    return F.conv2d(padded, weight).reshape(n, ch, h, w)


def downsample(images: Any, scale: int, *, mode: str = "bicubic") -> torch.Tensor:
    """Shrink ``images`` (N, C, H, W) by the integer ``scale`` (H and W divisible by it) with
    ``mode`` in :data:`RESIZE_MODES` (bicubic and bilinear antialiased), clamped to [0, 1]."""
    images = _images("images", images)
    scale = _checks.integer("scale", scale, low=1)
    _checks.choice("mode", mode, RESIZE_MODES)
    h, w = images.shape[-2:]
    if h % scale or w % scale:
        _checks.fail("images", f"of a size divisible by scale={scale}", images)
    size = (h // scale, w // scale)
    if mode == "area":
        out = F.interpolate(images, size=size, mode="area")
    else:
        out = F.interpolate(images, size=size, mode=mode, align_corners=False, antialias=True)
    return out.clamp(0, 1)


def add_noise(images: Any, *, gaussian: float = 0.0, poisson_peak: float | None = None,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Add Gaussian noise of standard deviation ``gaussian`` and/or Poisson (photon) noise:
    ``Poisson(x * poisson_peak) / poisson_peak``, so a value 1 counts ``poisson_peak`` photons
    (fewer photons, more noise). Clamped to [0, 1]."""
    images = _images("images", images)
    gaussian = _checks.number("gaussian", gaussian, low=0)
    out = images
    if poisson_peak is not None:
        peak = _checks.number("poisson_peak", poisson_peak, low=0, low_open=True)
        out = torch.poisson(out.clamp(0, 1) * peak, generator=generator) / peak
    if gaussian > 0:
        out = out + gaussian * torch.randn(out.shape, generator=generator, dtype=out.dtype)
    return out.clamp(0, 1)


def jpeg(images: Any, quality: int) -> torch.Tensor:
    """JPEG-compress and decode every channel of ``images`` (N, C, H, W) in [0, 1] at
    ``quality`` (1..100) with Pillow (an 8-bit grey round trip)."""
    images = _images("images", images)
    quality = _checks.integer("quality", quality, low=1, high=100)
    n, ch, h, w = images.shape
    flat = (images.detach().clamp(0, 1) * 255).round().to(torch.uint8).reshape(n * ch, h, w)
    decoded = []
    for plane in flat.numpy():
        buffer = io.BytesIO()
        Image.fromarray(plane).save(buffer, format="JPEG", quality=quality)
        buffer.seek(0)
        decoded.append(np.asarray(Image.open(buffer), dtype=np.float32))
    out = torch.from_numpy(np.stack(decoded)).reshape(n, ch, h, w) / 255.0
    return out.to(images.dtype)


@dataclass(frozen=True)
class Degradation:
    """One setting of the degradation pipeline (``None`` skips a step).

    ``blur_sigma``: ``(sigma_x, sigma_y, angle)`` of the blur kernel in high-resolution pixels
    and radians; ``kernel_size``: its odd size; ``resize``: one of :data:`RESIZE_MODES`;
    ``noise_sigma``: Gaussian standard deviation; ``poisson_peak``: photons at value 1;
    ``jpeg_quality``: 1..100.
    """

    blur_sigma: tuple[float, float, float] | None = None
    kernel_size: int | None = None
    resize: str = "bicubic"
    noise_sigma: float = 0.0
    poisson_peak: float | None = None
    jpeg_quality: int | None = None

    def __post_init__(self) -> None:
        if self.blur_sigma is not None:
            b = self.blur_sigma
            if isinstance(b, str | bytes) or not isinstance(b, Sequence) or len(b) != 3:
                _checks.fail("blur_sigma", "None or (sigma_x, sigma_y, angle)", b,
                             wrong_type=True)
            sigmas = (_checks.number("blur_sigma[0]", b[0], low=0, low_open=True),
                      _checks.number("blur_sigma[1]", b[1], low=0, low_open=True),
                      _checks.number("blur_sigma[2]", b[2]))
            object.__setattr__(self, "blur_sigma", sigmas)
        if self.kernel_size is not None:
            size = _checks.integer("kernel_size", self.kernel_size, low=1)
            if size % 2 == 0:
                _checks.fail("kernel_size", "an odd integer or None", size)
        _checks.choice("resize", self.resize, RESIZE_MODES)
        object.__setattr__(self, "noise_sigma",
                           _checks.number("noise_sigma", self.noise_sigma, low=0))
        if self.poisson_peak is not None:
            object.__setattr__(self, "poisson_peak", _checks.number(
                "poisson_peak", self.poisson_peak, low=0, low_open=True))
        if self.jpeg_quality is not None:
            _checks.integer("jpeg_quality", self.jpeg_quality, low=1, high=100)

    def describe(self) -> str:
        """A short text such as ``"blur 1.2/0.6@30°, bicubic, Gaussian 0.02, JPEG 60"``."""
        parts = []
        if self.blur_sigma is not None:
            sx, sy, angle = self.blur_sigma
            parts.append(f"blur {sx:.1f}" if sx == sy else
                         f"blur {sx:.1f}/{sy:.1f}@{math.degrees(angle):.0f}°")
        parts.append(self.resize)
        if self.poisson_peak is not None:
            parts.append(f"Poisson {self.poisson_peak:.0f}")
        if self.noise_sigma > 0:
            parts.append(f"Gaussian {self.noise_sigma:.3f}")
        if self.jpeg_quality is not None:
            parts.append(f"JPEG {self.jpeg_quality}")
        return ", ".join(parts)


def degrade(hr: Any, setting: Degradation, *, scale: int = 4,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Low-resolution images ``(N, C, H/scale, W/scale)`` from ``hr`` (N, C, H, W) in [0, 1]:
    blur -> resize -> noise -> JPEG as ``setting`` says, clamped to [0, 1] after each step."""
    hr = _images("hr", hr)
    if not isinstance(setting, Degradation):
        _checks.fail("setting", "a Degradation", setting, wrong_type=True)
    scale = _checks.integer("scale", scale, low=1)
    out = hr.clamp(0, 1)
    if setting.blur_sigma is not None:
        sx, sy, angle = setting.blur_sigma
        size = setting.kernel_size or 2 * math.ceil(3 * max(sx, sy)) + 1
        kernel = gaussian_kernel(size, sx, sigma_y=sy, angle=angle)
        out = blur(out, kernel).clamp(0, 1)
    out = downsample(out, scale, mode=setting.resize)
    if setting.noise_sigma > 0 or setting.poisson_peak is not None:
        out = add_noise(out, gaussian=setting.noise_sigma, poisson_peak=setting.poisson_peak,
                        generator=generator)
    if setting.jpeg_quality is not None:
        out = jpeg(out, setting.jpeg_quality)
    return out


def _range(name: str, value: Any, low: float) -> tuple[float, float]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        _checks.fail(name, "a range (low, high)", value, wrong_type=True)
    a = _checks.number(f"{name}[0]", value[0], low=low)
    b = _checks.number(f"{name}[1]", value[1], low=low)
    if b < a:
        _checks.fail(name, "a range (low, high) with low <= high", value)
    return a, b


def sample_degradation(rng: np.random.Generator, *, blur_sigma: Sequence[float] = (0.5, 2.5),
                       noise_sigma: Sequence[float] = (0.005, 0.03),
                       poisson_peak: Sequence[float] = (200.0, 2000.0),
                       jpeg_quality: Sequence[int] = (50, 95), p_blur: float = 0.8,
                       p_jpeg: float = 0.5) -> Degradation:
    """Draw one random :class:`Degradation` (the "blind" training family).

    Blur with probability ``p_blur``, isotropic (0.7) or anisotropic (0.3, random angle), with
    sigmas uniform in ``blur_sigma``; resize bicubic / bilinear / area with probabilities
    0.6 / 0.2 / 0.2; Gaussian noise (sigma uniform in ``noise_sigma``) or Poisson noise (peak
    log-uniform in ``poisson_peak``), half and half; JPEG with probability ``p_jpeg`` at a
    quality uniform in ``jpeg_quality``.
    """
    if not isinstance(rng, np.random.Generator):
        _checks.fail("rng", "a numpy.random.Generator", rng, wrong_type=True)
    s_lo, s_hi = _range("blur_sigma", blur_sigma, 0.0)
    n_lo, n_hi = _range("noise_sigma", noise_sigma, 0.0)
    p_lo, p_hi = _range("poisson_peak", poisson_peak, 1e-6)
    q_lo, q_hi = _range("jpeg_quality", jpeg_quality, 1)
    if q_hi > 100:
        _checks.fail("jpeg_quality", "a range within [1, 100]", jpeg_quality)
    p_blur = _checks.probability("p_blur", p_blur)
    p_jpeg = _checks.probability("p_jpeg", p_jpeg)
    sigma = None
    if s_hi > 0 and rng.random() < p_blur:
        sx = float(rng.uniform(max(s_lo, 1e-3), s_hi))
        if rng.random() < 0.7:
            sigma = (sx, sx, 0.0)
        else:
            sigma = (sx, float(rng.uniform(max(s_lo, 1e-3), s_hi)), float(rng.uniform(0, np.pi)))
    resize = str(rng.choice(RESIZE_MODES, p=[0.6, 0.2, 0.2]))
    gaussian, peak = 0.0, None
    if rng.random() < 0.5:
        gaussian = float(rng.uniform(n_lo, n_hi))
    else:
        peak = float(np.exp(rng.uniform(np.log(p_lo), np.log(p_hi))))
    quality = int(rng.integers(int(q_lo), int(q_hi) + 1)) if rng.random() < p_jpeg else None
    return Degradation(blur_sigma=sigma, resize=resize, noise_sigma=gaussian,
                       poisson_peak=peak, jpeg_quality=quality)


# ---------------------------------------------------------------------------- metrics and losses


def psnr(sr: Any, hr: Any, *, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio per image, ``(N,)`` in dB: ``10 log10(data_range^2 / MSE)``
    (``inf`` for identical images)."""
    sr, hr = _pair(sr, hr)
    data_range = _checks.number("data_range", data_range, low=0, low_open=True)
    mse = (sr.double() - hr.double()).pow(2).flatten(1).mean(1)
    return (10 * torch.log10(data_range**2 / mse)).to(sr.dtype)


def ssim(sr: Any, hr: Any, *, data_range: float = 1.0, win_size: int = 7) -> torch.Tensor:
    """Structural similarity per image, ``(N,)``, differentiable.

    Uniform ``win_size`` x ``win_size`` windows, sample covariances, ``K1 = 0.01``,
    ``K2 = 0.03``, averaged over the windows that fit inside the image: the defaults of
    ``skimage.metrics.structural_similarity``. Channels are averaged.
    """
    sr, hr = _pair(sr, hr)
    data_range = _checks.number("data_range", data_range, low=0, low_open=True)
    win_size = _checks.integer("win_size", win_size, low=3)
    if win_size % 2 == 0 or win_size > min(sr.shape[-2:]):
        _checks.fail("win_size", f"odd and at most the image side {min(sr.shape[-2:])}",
                     win_size)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    n, ch = sr.shape[:2]
    x, y = sr.reshape(n * ch, 1, *sr.shape[2:]), hr.reshape(n * ch, 1, *hr.shape[2:])

    def mean(z: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(z, win_size, stride=1)

    cov_norm = win_size**2 / (win_size**2 - 1)  # sample covariance
    mx, my = mean(x), mean(y)
    vx = cov_norm * (mean(x * x) - mx * mx)
    vy = cov_norm * (mean(y * y) - my * my)
    vxy = cov_norm * (mean(x * y) - mx * my)
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1).reshape(n, ch).mean(1)


def gradient_l1(sr: Any, hr: Any) -> torch.Tensor:
    """Mean absolute difference of the image gradients (forward differences along H and along
    W, averaged over both axes): the paper's image-gradient loss, differentiable."""
    sr, hr = _pair(sr, hr)
    terms = [(torch.diff(sr, dim=d) - torch.diff(hr, dim=d)).abs().mean() for d in (-2, -1)]
    return (terms[0] + terms[1]) / 2


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    if weights is None:
        return dict(DEFAULT_WEIGHTS)
    if not isinstance(weights, Mapping):
        _checks.fail("weights", f"a dict with keys from {tuple(DEFAULT_WEIGHTS)}", weights,
                     wrong_type=True)
    out = dict.fromkeys(DEFAULT_WEIGHTS, 0.0)
    for key, value in weights.items():
        _checks.choice("weights key", key, tuple(DEFAULT_WEIGHTS))
        out[key] = _checks.number(f"weights[{key!r}]", value, low=0)
    return out


def generator_loss(sr: Any, hr: Any, *, fake_logits: torch.Tensor | None = None,
                   weights: Mapping[str, float] | None = None) -> dict[str, torch.Tensor]:
    """The ensemble loss of the generator and its terms, as a dict of scalars.

    ``cont``: pixel L1; ``grad``: :func:`gradient_l1`; ``dssim``: ``(1 - SSIM) / 2``; ``adv``:
    the non-saturating adversarial term ``BCE(D(G(lr)), real)`` from the critic's logits on the
    generated images (0 without ``fake_logits``). ``total`` is the weighted sum (``weights``:
    a dict over ``cont, grad, dssim, adv``; keys left out weigh 0; default
    :data:`DEFAULT_WEIGHTS`).
    """
    sr, hr = _pair(sr, hr)
    w = _weights(weights)
    terms = {"cont": (sr - hr).abs().mean(), "grad": gradient_l1(sr, hr),
             "dssim": (1 - ssim(sr, hr).mean()) / 2}
    if fake_logits is not None:
        fake_logits = _checks.tensor("fake_logits", fake_logits, kind="float")
        terms["adv"] = F.binary_cross_entropy_with_logits(fake_logits,
                                                          torch.ones_like(fake_logits))
    else:
        terms["adv"] = sr.new_zeros(())
    terms["total"] = sum(w[k] * terms[k] for k in DEFAULT_WEIGHTS)
    return terms


def discriminator_loss(real_logits: Any, fake_logits: Any) -> torch.Tensor:
    """The critic's loss: binary cross-entropy, real images labelled 1 and generated ones 0."""
    real = _checks.tensor("real_logits", real_logits, kind="float")
    fake = _checks.tensor("fake_logits", fake_logits, kind="float")
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


# ------------------------------------------------------------------------------------- networks


class MultiHeadConvAttention(nn.Module):
    """Three attention heads (1x1 -> 1x1, 3x3 -> transposed 3x3, 5x5 -> transposed 5x5, each
    reducing the channels by ``reduction`` and restoring them); the sigmoid of their sum gates
    the input ``(N, C, H, W)`` channel- and pixel-wise."""

    def __init__(self, channels: int, *, reduction: int = 4) -> None:
        super().__init__()
        channels = _checks.integer("channels", channels, low=1)
        reduction = _checks.integer("reduction", reduction, low=1)
        mid = max(1, channels // reduction)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels, mid, k, padding=k // 2), nn.ReLU(inplace=True),
                          (nn.Conv2d(mid, channels, 1) if k == 1 else
                           nn.ConvTranspose2d(mid, channels, k, padding=k // 2)))
            for k in (1, 3, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(sum(head(x) for head in self.heads))


class RMHAB(nn.Module):
    """Residual multi-head attention block: ``x + attention(conv3(relu(conv3(x))))``."""

    def __init__(self, channels: int, *, reduction: int = 4) -> None:
        super().__init__()
        channels = _checks.integer("channels", channels, low=1)
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1),
                                  nn.ReLU(inplace=True),
                                  nn.Conv2d(channels, channels, 3, padding=1))
        self.attention = MultiHeadConvAttention(channels, reduction=reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.attention(self.body(x))


class AttentionSRGenerator(nn.Module):
    """A small BliMSR-style generator: ``(N, 1, h, w)`` -> ``(N, 1, scale*h, scale*w)``.

    A 3x3 head conv, ``blocks`` :class:`RMHAB` and a conv with a long skip from the head, then
    ``log2(scale)`` pixel-shuffle x2 stages (the last one straight to one channel). The output
    is added to the bicubic upsampling of the input (a global residual: the network learns
    the correction), which the paper's generator does not do.
    """

    def __init__(self, *, channels: int = 24, blocks: int = 4, scale: int = 4) -> None:
        super().__init__()
        channels = _checks.integer("channels", channels, low=1)
        blocks = _checks.integer("blocks", blocks, low=0)
        self.scale = _checks.choice("scale", scale, (2, 4, 8))
        self.head = nn.Conv2d(1, channels, 3, padding=1)
        self.body = nn.Sequential(*(RMHAB(channels) for _ in range(blocks)),
                                  nn.Conv2d(channels, channels, 3, padding=1))
        stages: list[nn.Module] = []
        for i in range(int(math.log2(self.scale))):
            last = i == int(math.log2(self.scale)) - 1
            out = 4 if last else 4 * channels
            stages += [nn.Conv2d(channels, out, 3, padding=1), nn.PixelShuffle(2)]
            if not last:
                stages.append(nn.ReLU(inplace=True))
        self.up = nn.Sequential(*stages)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        features = self.head(lr)
        features = features + self.body(features)
        base = F.interpolate(lr, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return base + self.up(features)


class _SNResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = spectral_norm(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(c_out, c_out, 3, padding=1))
        self.skip = spectral_norm(nn.Conv2d(c_in, c_out, 1, stride=stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.leaky_relu(self.conv1(x), 0.2))
        return F.leaky_relu(h + self.skip(x), 0.2)


class SNDiscriminator(nn.Module):
    """A residual critic with spectral normalisation on every layer: ``(N, 1, H, W)`` -> logits
    ``(N,)``. A stem conv, ``blocks`` residual blocks (stride 2, channels doubling), global
    average pooling (any input size) and a linear layer."""

    def __init__(self, *, channels: int = 16, blocks: int = 3) -> None:
        super().__init__()
        channels = _checks.integer("channels", channels, low=1)
        blocks = _checks.integer("blocks", blocks, low=1)
        self.stem = spectral_norm(nn.Conv2d(1, channels, 3, padding=1))
        layers, c = [], channels
        for _ in range(blocks):
            layers.append(_SNResBlock(c, 2 * c, 2))
            c *= 2
        self.blocks = nn.Sequential(*layers)
        self.head = spectral_norm(nn.Linear(c, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(F.leaky_relu(self.stem(x), 0.2))
        return self.head(h.mean((-2, -1))).squeeze(1)


# ------------------------------------------------------------------------------------- training


@dataclass
class SRHistory:
    """What :func:`train_sr` measured: per step the generator's total loss (and the critic's,
    with a critic); at each evaluation the validation PSNR; the step kept."""

    loss: list[float] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    val_psnr: list[float] = field(default_factory=list)
    best_step: int = 0
    best_psnr: float = -math.inf


@torch.no_grad()
def super_resolve(generator: nn.Module, lr: Any, *, batch_size: int = 64) -> torch.Tensor:
    """The generator's output for ``lr`` (N, 1, h, w) in eval mode, batched, clamped to [0, 1]."""
    if not isinstance(generator, nn.Module):
        _checks.fail("generator", "a torch.nn.Module", generator, wrong_type=True)
    lr = _images("lr", lr)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    was_training = generator.training
    generator.eval()
    out = torch.cat([generator(lr[i:i + batch_size]) for i in range(0, len(lr), batch_size)])
    generator.train(was_training)
    return out.clamp(0, 1)


def train_sr(generator: nn.Module, lr_train: Any, hr_train: Any, *, val: tuple[Any, Any],
             steps: int, batch_size: int = 8, lr: float = 1e-3,
             weights: Mapping[str, float] | None = None, discriminator: nn.Module | None = None,
             eval_every: int = 25, seed: int = 0, progress: bool = True) -> SRHistory:
    """Train ``generator`` on pairs ``lr_train`` (N, 1, h, w) -> ``hr_train`` (N, 1, H, W)
    with Adam (learning rate ``lr``).

    Each step draws ``batch_size`` pairs at random, minimises :func:`generator_loss` and, with
    a ``discriminator``, first takes one critic step (:func:`discriminator_loss`). Every
    ``eval_every`` steps the mean PSNR on ``val = (lr_val, hr_val)`` is measured; at the end
    the generator holds the weights of the best validation PSNR (chosen on validation only).
    """
    if not isinstance(generator, nn.Module):
        _checks.fail("generator", "a torch.nn.Module", generator, wrong_type=True)
    lr_train, hr_train = _images("lr_train", lr_train), _images("hr_train", hr_train)
    if len(lr_train) != len(hr_train):
        raise _checks.ArgumentError(f"lr_train and hr_train must have the same length, got "
                                    f"{len(lr_train)} and {len(hr_train)}")
    if isinstance(val, str | bytes) or not isinstance(val, Sequence) or len(val) != 2:
        _checks.fail("val", "a pair (lr_val, hr_val)", val, wrong_type=True)
    lr_val, hr_val = _images("val[0]", val[0]), _images("val[1]", val[1])
    if len(lr_val) != len(hr_val):
        _checks.fail("val", "a pair (lr_val, hr_val) of the same length", val)
    steps = _checks.integer("steps", steps, low=1)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    lr = _checks.number("lr", lr, low=0, low_open=True)
    w = _weights(weights)
    if discriminator is not None and not isinstance(discriminator, nn.Module):
        _checks.fail("discriminator", "a torch.nn.Module or None", discriminator,
                     wrong_type=True)
    eval_every = _checks.integer("eval_every", eval_every, low=1)
    seed = _checks.integer("seed", seed, low=0)
    progress = _checks.flag("progress", progress)

    rng = np.random.default_rng(seed)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.9, 0.999))
    opt_d = (torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
             if discriminator is not None else None)
    history = SRHistory()
    best_state = copy.deepcopy(generator.state_dict())
    generator.train()
    for step in tqdm(range(1, steps + 1), disable=not progress, leave=False):
        rows = torch.from_numpy(rng.integers(0, len(hr_train), batch_size))
        low, high = lr_train[rows], hr_train[rows]
        sr = generator(low)
        if discriminator is not None:
            d_loss = discriminator_loss(discriminator(high), discriminator(sr.detach()))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            history.d_loss.append(float(d_loss.detach()))
        fake = discriminator(sr) if discriminator is not None and w["adv"] > 0 else None
        loss = generator_loss(sr, high, fake_logits=fake, weights=w)["total"]
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        history.loss.append(float(loss.detach()))
        if step % eval_every == 0 or step == steps:
            score = float(psnr(super_resolve(generator, lr_val), hr_val).mean())
            history.eval_steps.append(step)
            history.val_psnr.append(score)
            if score > history.best_psnr:
                history.best_step, history.best_psnr = step, score
                best_state = copy.deepcopy(generator.state_dict())
    generator.load_state_dict(best_state)
    return history
