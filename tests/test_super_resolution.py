"""Tests of dentpy.super_resolution: degradations against scipy / torchvision / Pillow, metrics
against scikit-image, spectral normalisation against torch.linalg, training that learns."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from torchvision.transforms.functional import gaussian_blur

from dentpy import super_resolution as sr


def _disc_world(n: int, side: int = 32, seed: int = 0) -> torch.Tensor:
    """A second, differently built world: bright discs and bars on a dark smooth background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    out = []
    for _ in range(n):
        img = 0.2 + 0.1 * np.sin(xx / rng.uniform(3, 8))
        for _ in range(3):
            cy, cx, r = rng.uniform(4, side - 4, 2).tolist() + [rng.uniform(2, 6)]
            img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0.6, 0.95)
        col = int(rng.integers(2, side - 4))
        img[:, col:col + 2] = 0.8
        out.append(img)
    return torch.tensor(np.stack(out), dtype=torch.float32)[:, None]


def test_kernel_is_normalised_and_separable_when_axis_aligned():
    k = sr.gaussian_kernel(11, 2.0, sigma_y=1.0)
    assert k.shape == (11, 11) and abs(float(k.sum()) - 1) < 1e-6
    g = lambda s: np.exp(-0.5 * (np.arange(-5, 6) / s) ** 2)  # noqa: E731
    expected = np.outer(g(1.0), g(2.0))  # rows (y) use sigma_y, columns (x) use sigma
    np.testing.assert_allclose(k.numpy(), expected / expected.sum(), atol=1e-7)
    # rotating by 90 degrees swaps the axes
    np.testing.assert_allclose(sr.gaussian_kernel(11, 2.0, sigma_y=1.0, angle=np.pi / 2).numpy(),
                               k.numpy().T, atol=1e-6)


def test_blur_matches_scipy_and_torchvision():
    x = _disc_world(2)
    out = sr.blur(x, sr.gaussian_kernel(9, 1.5))
    for i in range(2):
        np.testing.assert_allclose(
            out[i, 0].numpy(), ndimage.gaussian_filter(x[i, 0].numpy(), 1.5, mode="mirror",
                                                       truncate=4 / 1.5), atol=1e-5)
    torch.testing.assert_close(out, gaussian_blur(x, [9, 9], [1.5, 1.5]), atol=1e-5, rtol=0)


def test_blur_is_convolution_not_correlation():
    x = torch.zeros(1, 1, 9, 9)
    x[0, 0, 4, 4] = 1.0
    kernel = torch.zeros(3, 3)
    kernel[0, 2] = 1.0  # an asymmetric kernel: the impulse response is the kernel itself
    np.testing.assert_allclose(sr.blur(x, kernel)[0, 0, 3:6, 3:6].numpy(), kernel.numpy())


def test_downsample_area_and_jpeg_match_references():
    x = _disc_world(1)
    torch.testing.assert_close(sr.downsample(x, 4, mode="area"), F.avg_pool2d(x, 4))
    small = sr.downsample(x, 2)
    ours = sr.jpeg(small, 30)[0, 0].numpy()
    buf = io.BytesIO()
    Image.fromarray((small[0, 0].numpy() * 255).round().astype(np.uint8)).save(
        buf, format="JPEG", quality=30)
    np.testing.assert_allclose(ours, np.asarray(Image.open(buf)) / 255, atol=1e-6)
    with warnings.catch_warnings():  # torchvision's JPEG codec is deprecated, still a reference
        warnings.simplefilter("ignore", DeprecationWarning)
        from torchvision.io import decode_jpeg, encode_jpeg

        u8 = (small[0] * 255).round().to(torch.uint8)
        other = decode_jpeg(encode_jpeg(u8, quality=30))[0].numpy() / 255
    np.testing.assert_allclose(ours, other, atol=1e-6)


def test_noise_statistics():
    flat = torch.full((1, 1, 300, 300), 0.4)
    g = torch.Generator().manual_seed(0)
    assert abs(float(sr.add_noise(flat, gaussian=0.05, generator=g).std()) - 0.05) < 0.003
    poisson = sr.add_noise(flat, poisson_peak=200.0, generator=g)
    assert abs(float(poisson.var()) - 0.4 / 200) < 0.1 * 0.4 / 200
    assert abs(float(poisson.mean()) - 0.4) < 0.005


def test_degrade_shapes_and_reproducible_sampling():
    x = _disc_world(3)
    setting = sr.sample_degradation(np.random.default_rng(5))
    assert setting == sr.sample_degradation(np.random.default_rng(5))
    low = sr.degrade(x, setting, generator=torch.Generator().manual_seed(0))
    assert low.shape == (3, 1, 8, 8) and 0 <= float(low.min()) and float(low.max()) <= 1
    # bicubic only is the antialiased bicubic downsampling
    torch.testing.assert_close(sr.degrade(x, sr.Degradation()), sr.downsample(x, 4))
    kinds = {sr.sample_degradation(np.random.default_rng(s)).resize for s in range(60)}
    assert kinds == set(sr.RESIZE_MODES)


def test_psnr_and_ssim_match_skimage_on_second_world():
    hr = _disc_world(3, seed=1)
    noisy = (hr + 0.05 * torch.randn(hr.shape, generator=torch.Generator().manual_seed(1)))
    noisy = noisy.clamp(0, 1)
    for i in range(3):
        a, b = hr[i, 0].numpy(), noisy[i, 0].numpy()
        assert float(sr.psnr(noisy, hr)[i]) == pytest.approx(
            peak_signal_noise_ratio(a, b, data_range=1.0), rel=1e-5)
        assert float(sr.ssim(noisy, hr)[i]) == pytest.approx(
            structural_similarity(a, b, data_range=1.0), rel=1e-4)
    assert float(sr.ssim(hr, hr).min()) == pytest.approx(1.0, abs=1e-5)
    # data_range matters: 255 gives 20 log10(255) dB more
    assert float(sr.psnr(noisy, hr, data_range=255.0)[0] - sr.psnr(noisy, hr)[0]) == \
        pytest.approx(20 * np.log10(255), rel=1e-4)


def test_losses_are_differentiable():
    sr_img = torch.rand(2, 1, 16, 16, requires_grad=True)
    hr = torch.rand(2, 1, 16, 16)
    terms = sr.generator_loss(sr_img, hr, fake_logits=torch.zeros(2))
    terms["total"].backward()
    assert sr_img.grad is not None and float(sr_img.grad.abs().sum()) > 0
    assert float(terms["adv"]) == pytest.approx(np.log(2), rel=1e-5)
    assert float(sr.gradient_l1(hr, hr)) == 0
    d = sr.discriminator_loss(torch.zeros(3), torch.zeros(3))
    assert float(d) == pytest.approx(2 * np.log(2), rel=1e-5)


def test_networks_shapes_and_spectral_norm():
    g = sr.AttentionSRGenerator(channels=8, blocks=1)
    assert g(torch.rand(2, 1, 8, 8)).shape == (2, 1, 32, 32)
    assert sr.AttentionSRGenerator(channels=8, blocks=1, scale=2)(torch.rand(1, 1, 8, 8)).shape \
        == (1, 1, 16, 16)
    d = sr.SNDiscriminator(channels=4, blocks=2)
    for _ in range(30):
        d(torch.rand(2, 1, 32, 32))
    assert d(torch.rand(3, 1, 24, 24)).shape == (3,)
    w = d.stem.weight.detach().reshape(d.stem.weight.shape[0], -1)
    assert float(torch.linalg.matrix_norm(w, ord=2)) == pytest.approx(1.0, abs=1e-3)
    x = torch.rand(1, 8, 6, 6)
    assert sr.RMHAB(8)(x).shape == x.shape
    assert sr.MultiHeadConvAttention(8)(x).shape == x.shape


def test_training_learns_on_second_world():
    torch.manual_seed(0)
    hr = _disc_world(24, seed=2)
    val_hr = _disc_world(6, seed=3)
    setting = sr.Degradation(blur_sigma=(1.0, 1.0, 0.0))
    lr_train, lr_val = sr.degrade(hr, setting), sr.degrade(val_hr, setting)
    model = sr.AttentionSRGenerator(channels=8, blocks=1)
    start = float(sr.psnr(sr.super_resolve(model, lr_val), val_hr).mean())
    history = sr.train_sr(model, lr_train, hr, val=(lr_val, val_hr), steps=60, batch_size=8,
                          lr=3e-3, eval_every=20, progress=False)
    bicubic = F.interpolate(lr_val, scale_factor=4, mode="bicubic").clamp(0, 1)
    end = float(sr.psnr(sr.super_resolve(model, lr_val), val_hr).mean())
    assert end == pytest.approx(history.best_psnr, abs=1e-4)  # the best checkpoint is kept
    assert end > start and end > float(sr.psnr(bicubic, val_hr).mean())
