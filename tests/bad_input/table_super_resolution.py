"""Bad-input rows of blind super-resolution (``dentpy.super_resolution``)."""

from __future__ import annotations

import numpy as np
import torch

from bad_input import bad, documented
from dentpy import super_resolution as sr

M = "dentpy.super_resolution."
X = torch.rand(2, 1, 16, 16)
K = sr.gaussian_kernel(3, 1.0)
G = sr.AttentionSRGenerator(channels=4, blocks=1)
LR, HR = torch.rand(4, 1, 4, 4), torch.rand(4, 1, 16, 16)
NAN = X.clone()
NAN[0, 0, 0, 0] = float("nan")


def _train(**kw):
    args = dict(val=(LR, HR), steps=1, progress=False)
    args.update(kw)
    lr_train = args.pop("lr_train", LR)
    hr_train = args.pop("hr_train", HR)
    return sr.train_sr(G, lr_train, hr_train, **args)


ROWS = [
    bad(M + "gaussian_kernel", "not an integer", lambda: sr.gaussian_kernel(5.0, 1.0), "size"),
    bad(M + "gaussian_kernel", "out of range", lambda: sr.gaussian_kernel(4, 1.0), "size"),
    bad(M + "gaussian_kernel", "out of range", lambda: sr.gaussian_kernel(5, 0.0), "sigma"),
    bad(M + "gaussian_kernel", "nan or inf", lambda: sr.gaussian_kernel(5, 1.0, angle=np.nan),
        "angle"),
    bad(M + "gaussian_kernel", "wrong type", lambda: sr.gaussian_kernel(5, "1"), "sigma"),
    bad(M + "blur", "wrong rank", lambda: sr.blur(X[0], K), "images"),
    bad(M + "blur", "wrong type", lambda: sr.blur(None, K), "images"),
    bad(M + "blur", "nan or inf", lambda: sr.blur(NAN, K), "images"),
    bad(M + "blur", "out of range", lambda: sr.blur(X, torch.ones(2, 2) / 4), "kernel"),
    bad(M + "blur", "out of range", lambda: sr.blur(X, sr.gaussian_kernel(33, 5.0)), "kernel"),
    bad(M + "blur", "wrong dtype", lambda: sr.blur(X.long(), K), "images"),
    bad(M + "downsample", "mismatched lengths", lambda: sr.downsample(X, 3), "images"),
    bad(M + "downsample", "unknown option", lambda: sr.downsample(X, 4, mode="cubic"), "mode"),
    bad(M + "downsample", "out of range", lambda: sr.downsample(X, 0), "scale"),
    bad(M + "downsample", "empty", lambda: sr.downsample(torch.zeros(0, 1, 8, 8), 2), "images"),
    bad(M + "add_noise", "out of range", lambda: sr.add_noise(X, gaussian=-0.1), "gaussian"),
    bad(M + "add_noise", "out of range", lambda: sr.add_noise(X, poisson_peak=0), "poisson_peak"),
    bad(M + "add_noise", "wrong type", lambda: sr.add_noise("x"), "images"),
    documented(M + "add_noise", "degenerate", lambda: sr.add_noise(X),
               lambda out: torch.equal(out, X)),
    bad(M + "jpeg", "out of range", lambda: sr.jpeg(X, 0), "quality"),
    bad(M + "jpeg", "out of range", lambda: sr.jpeg(X, 101), "quality"),
    bad(M + "jpeg", "not an integer", lambda: sr.jpeg(X, 50.5), "quality"),
    bad(M + "jpeg", "wrong rank", lambda: sr.jpeg(X[0, 0], 50), "images"),
    bad(M + "Degradation", "unknown option", lambda: sr.Degradation(resize="nearest"), "resize"),
    bad(M + "Degradation", "out of range", lambda: sr.Degradation(blur_sigma=(-1, 1, 0)),
        r"blur_sigma\[0\]"),
    bad(M + "Degradation", "wrong type", lambda: sr.Degradation(blur_sigma=2.0), "blur_sigma"),
    bad(M + "Degradation", "out of range", lambda: sr.Degradation(kernel_size=4), "kernel_size"),
    bad(M + "Degradation", "out of range", lambda: sr.Degradation(jpeg_quality=0),
        "jpeg_quality"),
    bad(M + "Degradation", "nan or inf", lambda: sr.Degradation(noise_sigma=float("nan")),
        "noise_sigma"),
    bad(M + "Degradation", "out of range", lambda: sr.Degradation(poisson_peak=-5),
        "poisson_peak"),
    bad(M + "degrade", "wrong type", lambda: sr.degrade(X, "bicubic"), "setting"),
    bad(M + "degrade", "wrong rank", lambda: sr.degrade(X[0], sr.Degradation()), "hr"),
    bad(M + "degrade", "mismatched lengths", lambda: sr.degrade(X, sr.Degradation(), scale=5),
        "images"),
    bad(M + "sample_degradation", "wrong type", lambda: sr.sample_degradation(0), "rng"),
    bad(M + "sample_degradation", "out of range",
        lambda: sr.sample_degradation(np.random.default_rng(0), jpeg_quality=(50, 120)),
        "jpeg_quality"),
    bad(M + "sample_degradation", "out of range",
        lambda: sr.sample_degradation(np.random.default_rng(0), blur_sigma=(2.0, 1.0)),
        "blur_sigma"),
    bad(M + "sample_degradation", "out of range",
        lambda: sr.sample_degradation(np.random.default_rng(0), p_jpeg=1.5), "p_jpeg"),
    bad(M + "sample_degradation", "wrong type",
        lambda: sr.sample_degradation(np.random.default_rng(0), noise_sigma=0.1), "noise_sigma"),
    bad(M + "psnr", "mismatched lengths", lambda: sr.psnr(X, X[:1]), "same shape"),
    bad(M + "psnr", "out of range", lambda: sr.psnr(X, X, data_range=0), "data_range"),
    bad(M + "psnr", "wrong type", lambda: sr.psnr(None, X), "sr"),
    documented(M + "psnr", "degenerate", lambda: sr.psnr(X, X),
               lambda out: bool(torch.isinf(out).all())),
    bad(M + "ssim", "out of range", lambda: sr.ssim(X, X, win_size=6), "win_size"),
    bad(M + "ssim", "out of range", lambda: sr.ssim(X, X, win_size=17), "win_size"),
    bad(M + "ssim", "mismatched lengths", lambda: sr.ssim(X, X[:, :, :8]), "same shape"),
    bad(M + "ssim", "nan or inf", lambda: sr.ssim(NAN, X), "sr"),
    bad(M + "gradient_l1", "mismatched lengths", lambda: sr.gradient_l1(X, X[:1]), "same shape"),
    bad(M + "gradient_l1", "wrong rank", lambda: sr.gradient_l1(X[0], X[0]), "sr"),
    bad(M + "generator_loss", "unknown option",
        lambda: sr.generator_loss(X, X, weights={"perc": 1.0}), "weights key"),
    bad(M + "generator_loss", "out of range",
        lambda: sr.generator_loss(X, X, weights={"cont": -1.0}), "weights"),
    bad(M + "generator_loss", "wrong type", lambda: sr.generator_loss(X, X, weights=[1.0]),
        "weights"),
    bad(M + "generator_loss", "nan or inf",
        lambda: sr.generator_loss(X, X, fake_logits=torch.tensor([float("nan")])),
        "fake_logits"),
    bad(M + "discriminator_loss", "wrong type", lambda: sr.discriminator_loss(None, X),
        "real_logits"),
    bad(M + "discriminator_loss", "wrong dtype",
        lambda: sr.discriminator_loss(torch.ones(2, dtype=torch.long), torch.ones(2)),
        "real_logits"),
    bad(M + "MultiHeadConvAttention", "out of range", lambda: sr.MultiHeadConvAttention(0),
        "channels"),
    bad(M + "MultiHeadConvAttention", "not an integer",
        lambda: sr.MultiHeadConvAttention(8, reduction=2.5), "reduction"),
    bad(M + "RMHAB", "not an integer", lambda: sr.RMHAB(8.0), "channels"),
    bad(M + "RMHAB", "wrong type", lambda: sr.RMHAB(None), "channels"),
    bad(M + "AttentionSRGenerator", "unknown option", lambda: sr.AttentionSRGenerator(scale=3),
        "scale"),
    bad(M + "AttentionSRGenerator", "out of range",
        lambda: sr.AttentionSRGenerator(channels=0), "channels"),
    bad(M + "AttentionSRGenerator", "out of range", lambda: sr.AttentionSRGenerator(blocks=-1),
        "blocks"),
    bad(M + "SNDiscriminator", "out of range", lambda: sr.SNDiscriminator(blocks=0), "blocks"),
    bad(M + "SNDiscriminator", "not an integer", lambda: sr.SNDiscriminator(channels=2.5),
        "channels"),
    bad(M + "super_resolve", "wrong type", lambda: sr.super_resolve("model", LR), "generator"),
    bad(M + "super_resolve", "wrong rank", lambda: sr.super_resolve(G, LR[0]), "lr"),
    bad(M + "super_resolve", "out of range", lambda: sr.super_resolve(G, LR, batch_size=0),
        "batch_size"),
    bad(M + "train_sr", "mismatched lengths", lambda: _train(hr_train=HR[:2]), "lr_train"),
    bad(M + "train_sr", "wrong type", lambda: _train(val=LR), "val"),
    bad(M + "train_sr", "mismatched lengths", lambda: _train(val=(LR, HR[:2])), "val"),
    bad(M + "train_sr", "out of range", lambda: _train(steps=0), "steps"),
    bad(M + "train_sr", "out of range", lambda: _train(lr=0.0), "lr"),
    bad(M + "train_sr", "wrong type", lambda: _train(discriminator="D"), "discriminator"),
    bad(M + "train_sr", "nan or inf", lambda: _train(hr_train=NAN[:, :, :, :].repeat(2, 1, 1, 1)),
        "hr_train"),
]

EXEMPT = {M + "SRHistory": "a result dataclass that train_sr returns; users do not build it"}
