"""Bad-input rows of active learning (``dentpy.active_learning``)."""

from __future__ import annotations

import numpy as np
import torch

from bad_input import bad, documented
from dentpy import active_learning as al

P = "dentpy.active_learning."
VAE, CRITIC, KL, LOSS, GP = P + "VAE", P + "LatentCritic", P + "kl_divergence", P + "vae_loss", \
    P + "gradient_penalty"
STEP, FIT, SCORES, ENTROPY = P + "sampler_step", P + "fit_sampler", P + "critic_scores", \
    P + "pixel_entropy"
ACQUIRE, RANDOM = P + "acquire", P + "random_acquire"
NAN = float("nan")
X = torch.rand(4, 1, 8, 8)


def _vae(aux_channels: int = 0) -> al.VAE:
    torch.manual_seed(0)
    return al.VAE(1, aux_channels=aux_channels, size=(8, 8), latent=2, widths=(4,))


def _critic() -> al.LatentCritic:
    return al.LatentCritic(2, (4,))


def _step(x_l=X, x_u=X, vae_opt="adam", **kw):
    vae, critic = _vae(), _critic()
    opt_v = torch.optim.Adam(vae.parameters()) if vae_opt == "adam" else vae_opt
    return al.sampler_step(vae, critic, opt_v, torch.optim.Adam(critic.parameters()), x_l, x_u,
                           **kw)


def _loss(x=X, aux=None, vae_aux: int = 0, **kw):
    return al.vae_loss(x, _vae(vae_aux)(X), aux=aux, **kw)


def _fit(images=X, labelled=(0, 1), **kw):
    return al.fit_sampler(images, labelled, **{"latent": 2, "widths": (4,), "hidden": (4,),
                                               "steps": 1, "batch_size": 2, **kw})


C = np.arange(5)

ROWS = [
    bad(VAE, "wrong type", lambda: al.VAE("1"), "in_channels"),
    bad(VAE, "not an integer", lambda: al.VAE(1, latent=2.5), "latent"),
    bad(VAE, "out of range", lambda: al.VAE(1, size=(9, 8), widths=(4,)), "size"),
    bad(VAE, "out of range", lambda: al.VAE(1, aux_channels=-1), "aux_channels"),
    bad(VAE, "empty", lambda: al.VAE(1, widths=()), "widths"),
    bad(VAE, "wrong rank", lambda: _vae()(torch.rand(1, 8, 8)), "x"),
    bad(VAE, "mismatched lengths", lambda: _vae()(torch.rand(1, 1, 16, 8)), "x must be images"),
    bad(VAE, "nan or inf", lambda: _vae()(torch.full((2, 1, 8, 8), NAN)), "x"),
    bad(CRITIC, "not an integer", lambda: al.LatentCritic(2.0), "latent"),
    bad(CRITIC, "wrong type", lambda: al.LatentCritic(2, hidden=4), "hidden"),
    bad(CRITIC, "out of range", lambda: al.LatentCritic(2, hidden=(0,)), r"hidden\[0\]"),
    bad(CRITIC, "mismatched lengths", lambda: _critic()(torch.rand(3, 5)), "z"),
    bad(KL, "wrong rank", lambda: al.kl_divergence(torch.rand(3), torch.rand(3)), "mu"),
    bad(KL, "mismatched lengths", lambda: al.kl_divergence(torch.rand(3, 2), torch.rand(3, 4)),
        "logvar"),
    bad(KL, "nan or inf", lambda: al.kl_divergence(torch.full((2, 2), NAN), torch.zeros(2, 2)),
        "mu"),
    bad(KL, "wrong dtype", lambda: al.kl_divergence(torch.zeros(2, 2, dtype=torch.int64),
                                                    torch.zeros(2, 2)), "mu"),
    bad(LOSS, "wrong type", lambda: al.vae_loss(X, (1, 2)), "out"),
    bad(LOSS, "mismatched lengths", lambda: _loss(x=torch.rand(4, 1, 8, 4)), "x"),
    bad(LOSS, "out of range", lambda: _loss(beta=-1.0), "beta"),
    bad(LOSS, "nan or inf", lambda: _loss(aux_weight=NAN), "aux_weight"),
    bad(LOSS, "wrong type", lambda: _loss(vae_aux=1), "aux"),
    bad(LOSS, "unknown option", lambda: _loss(aux=X), "aux must be None"),
    bad(LOSS, "mismatched lengths", lambda: _loss(aux=torch.rand(4, 2, 8, 8), vae_aux=1), "aux"),
    bad(GP, "wrong type", lambda: al.gradient_penalty("critic", torch.rand(2, 2),
                                                      torch.rand(2, 2)), "critic"),
    bad(GP, "mismatched lengths", lambda: al.gradient_penalty(_critic(), torch.rand(2, 2),
                                                              torch.rand(3, 2)), "b"),
    bad(GP, "out of range", lambda: al.gradient_penalty(_critic(), torch.rand(2, 2),
                                                        torch.rand(2, 2),
                                                        weights=torch.tensor([0.5, 2.0])),
        "weights"),
    bad(GP, "wrong rank", lambda: al.gradient_penalty(_critic(), torch.rand(2), torch.rand(2)),
        "a"),
    bad(STEP, "wrong type", lambda: _step(vae_opt=None), "vae_optimizer"),
    bad(STEP, "mismatched lengths", lambda: _step(x_u=torch.rand(3, 1, 8, 8)), "x_unlabelled"),
    bad(STEP, "not an integer", lambda: _step(critic_steps=1.5), "critic_steps"),
    bad(STEP, "out of range", lambda: _step(adv_weight=-0.1), "adv_weight"),
    bad(STEP, "wrong rank", lambda: _step(x_l=torch.rand(4, 8, 8)), "x_labelled"),
    bad(STEP, "wrong type", lambda: al.sampler_step(None, _critic(), None, None, X, X), "vae"),
    bad(FIT, "empty", lambda: _fit(labelled=[]), "labelled"),
    bad(FIT, "out of range", lambda: _fit(labelled=[0, 9]), "labelled"),
    bad(FIT, "out of range", lambda: _fit(labelled=[0, 1, 2, 3]), "labelled"),
    bad(FIT, "wrong dtype", lambda: _fit(labelled=[0.0, 1.0]), "labelled"),
    bad(FIT, "mismatched lengths", lambda: _fit(aux=torch.rand(3, 1, 8, 8)), "aux"),
    bad(FIT, "not an integer", lambda: _fit(steps=2.5), "steps"),
    bad(FIT, "out of range", lambda: _fit(lr=0.0), "lr"),
    bad(FIT, "unknown option", lambda: _fit(labelled=[0, 0]), "repeats"),
    bad(SCORES, "wrong type", lambda: al.critic_scores(_vae(), "critic", X), "critic"),
    bad(SCORES, "wrong rank", lambda: al.critic_scores(_vae(), _critic(), torch.rand(8, 8)),
        "images"),
    bad(SCORES, "out of range", lambda: al.critic_scores(_vae(), _critic(), X, batch_size=0),
        "batch_size"),
    bad(ENTROPY, "out of range", lambda: al.pixel_entropy(torch.full((1, 1, 2, 2), 1.5)),
        "probs"),
    bad(ENTROPY, "wrong rank", lambda: al.pixel_entropy(torch.rand(2, 2)), "probs"),
    bad(ENTROPY, "nan or inf", lambda: al.pixel_entropy(torch.full((1, 1, 2, 2), NAN)), "probs"),
    bad(ENTROPY, "out of range", lambda: al.pixel_entropy(torch.full((1, 3, 2, 2), 0.5)),
        "summing to 1"),
    documented(ENTROPY, "degenerate", lambda: al.pixel_entropy(torch.zeros(2, 1, 3, 3)),
               check=lambda r: r.tolist() == [0.0, 0.0]),
    bad(ACQUIRE, "mismatched lengths", lambda: al.acquire(np.ones(4), C, 2), "scores"),
    bad(ACQUIRE, "out of range", lambda: al.acquire(np.ones(5), C, 6), "budget"),
    bad(ACQUIRE, "not an integer", lambda: al.acquire(np.ones(5), C, 2.0), "budget"),
    bad(ACQUIRE, "nan or inf", lambda: al.acquire(np.full(5, NAN), C, 2), "scores"),
    bad(ACQUIRE, "wrong dtype", lambda: al.acquire(np.ones(5), C + 0.5, 2), "candidates"),
    bad(ACQUIRE, "wrong type", lambda: al.acquire(np.ones(5), C, 2, highest="yes"), "highest"),
    bad(ACQUIRE, "empty", lambda: al.acquire([], [], 1), "scores"),
    bad(RANDOM, "out of range", lambda: al.random_acquire(C, 0), "budget"),
    bad(RANDOM, "wrong type", lambda: al.random_acquire(None, 1), "candidates"),
    bad(RANDOM, "out of range", lambda: al.random_acquire(C, 2, seed=-1), "seed"),
]

EXEMPT = {
    P + "VAEOutput": "a result dataclass, only returned by VAE.forward",
    P + "SamplerHistory": "a result dataclass, only returned by fit_sampler",
}
