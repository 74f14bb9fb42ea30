"""dentpy.active_learning: VAE terms, the WGAN-GP critic, the sampler step, acquisition.

Known answers (KL of a standard normal, entropy of p = 0.5, the gradient penalty of a linear
critic), agreement with scipy.stats.entropy and torch.distributions, a step written out by hand,
and a second, differently built world: discs vs squares, where the critic must learn to tell a
labelled set made of one shape from an unlabelled set of the other.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from scipy.stats import entropy
from torch import nn

from dentpy import active_learning as al


def test_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(1).mean()
    torch.testing.assert_close(al.kl_divergence(mu, logvar), expected)
    assert float(al.kl_divergence(torch.zeros(4, 2), torch.zeros(4, 2))) == 0.0


def test_vae_shapes_and_loss_terms():
    torch.manual_seed(0)
    vae = al.VAE(1, aux_channels=2, size=(16, 24), latent=4, widths=(4, 8))
    x, aux = torch.rand(3, 1, 16, 24), torch.rand(3, 2, 16, 24)
    out = vae(x)
    assert out.recon.shape == x.shape and out.aux_recon.shape == aux.shape
    assert out.mu.shape == out.logvar.shape == out.z.shape == (3, 4)
    expected = (torch.mean((out.recon - x) ** 2) + 0.5 * torch.mean((out.aux_recon - aux) ** 2)
                + 0.1 * al.kl_divergence(out.mu, out.logvar))
    torch.testing.assert_close(al.vae_loss(x, out, aux=aux, beta=0.1, aux_weight=0.5), expected)
    plain = al.VAE(1, size=(16, 24), latent=4, widths=(4, 8))
    assert plain(x).aux_recon is None


def test_gradient_penalty_of_a_linear_critic():
    critic = nn.Linear(3, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 0.0, 4.0]]))  # gradient norm 5 everywhere
    a, b = torch.randn(6, 3), torch.randn(6, 3)
    assert al.gradient_penalty(lambda_critic(critic), a, b).item() == pytest.approx(16.0)


def lambda_critic(linear: nn.Linear) -> nn.Module:
    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = linear

        def forward(self, z):
            return self.linear(z).squeeze(1)

    return Wrap()


def test_sampler_step_equals_the_step_written_out():
    torch.manual_seed(1)
    vae = al.VAE(1, aux_channels=1, size=(8, 8), latent=3, widths=(4,))
    critic = al.LatentCritic(3, (8,))
    x_l, x_u = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    a_l, a_u = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    vae2, critic2 = copy.deepcopy(vae), copy.deepcopy(critic)
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (vae, critic)]
    opts2 = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (vae2, critic2)]
    torch.manual_seed(7)
    losses = al.sampler_step(vae, critic, *opts, x_l, x_u, aux_labelled=a_l,
                             aux_unlabelled=a_u, adv_weight=0.5, beta=0.01, gp_weight=2.0)
    torch.manual_seed(7)
    vae2.train()
    o = vae2(torch.cat([x_l, x_u]))  # one pass: both sets share the batch-norm statistics

    def terms(x, a, part):
        mu, logvar = o.mu[part], o.logvar[part]
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1).mean()
        return (((o.recon[part] - x) ** 2).mean() + ((o.aux_recon[part] - a) ** 2).mean()
                + 0.01 * kl)

    rec = terms(x_l, a_l, slice(0, 4)) + terms(x_u, a_u, slice(4, 8))
    adv = critic2(o.mu[:4]).mean() - critic2(o.mu[4:]).mean()
    opts2[0].zero_grad()
    (rec + 0.5 * adv).backward()
    opts2[0].step()
    mu_l, mu_u = o.mu[:4].detach(), o.mu[4:].detach()
    e = torch.rand(4)
    x_hat = (e[:, None] * mu_l + (1 - e[:, None]) * mu_u).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic2(x_hat).sum(), x_hat, create_graph=True)
    gp = ((grad.norm(dim=1) - 1) ** 2).mean()
    loss_d = -critic2(mu_l).mean() + critic2(mu_u).mean() + 2.0 * gp
    opts2[1].zero_grad()
    loss_d.backward()
    opts2[1].step()
    assert losses["vae"] == pytest.approx(rec.item(), rel=1e-5)
    assert losses["critic"] == pytest.approx(loss_d.item(), rel=1e-5)
    for p, q in zip([*vae.parameters(), *critic.parameters()],
                    [*vae2.parameters(), *critic2.parameters()], strict=True):
        torch.testing.assert_close(p, q)


def test_pixel_entropy_matches_scipy():
    rng = np.random.default_rng(0)
    p = rng.random((3, 1, 4, 5))
    ours = al.pixel_entropy(torch.tensor(p))
    ref = entropy(np.stack([1 - p, p]), axis=0).reshape(3, -1).mean(1)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-10)
    logits = rng.normal(size=(2, 4, 3, 3))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    ref = entropy(probs, axis=1).reshape(2, -1).mean(1)
    np.testing.assert_allclose(al.pixel_entropy(torch.tensor(probs)).numpy(), ref, rtol=1e-10)
    half = al.pixel_entropy(torch.full((1, 1, 2, 2), 0.5))
    assert float(half) == pytest.approx(np.log(2))
    assert float(al.pixel_entropy(torch.tensor([[[[0.0, 1.0]]]]))) == 0.0


def test_acquire_picks_extremes_and_random_is_a_subset():
    scores = np.array([0.3, 0.9, 0.1, 0.5])
    cand = np.array([10, 11, 12, 13])
    assert al.acquire(scores, cand, 2).tolist() == [11, 13]
    assert al.acquire(scores, cand, 2, highest=False).tolist() == [12, 10]
    picked = al.random_acquire(cand, 3, seed=1)
    assert len(set(picked.tolist())) == 3 and set(picked.tolist()) <= set(cand.tolist())
    assert al.random_acquire(cand, 3, seed=1).tolist() == picked.tolist()


def shapes_world(n: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """A second world, not panoramics: bright discs (kind 0) or dim squares (kind 1) at random
    places and sizes on a noisy background, 16 x 16."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:16, :16]
    images, kinds = [], rng.integers(0, 2, n)
    for kind in kinds:
        cy, cx, r = rng.uniform(5, 11), rng.uniform(5, 11), rng.uniform(2.5, 4.5)
        shape = (((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r) if kind == 0
                 else (np.abs(yy - cy) <= r) & (np.abs(xx - cx) <= r))
        images.append(0.2 + (0.6 if kind == 0 else 0.25) * shape
                      + rng.normal(0, 0.05, (16, 16)))
    return torch.tensor(np.stack(images)[:, None], dtype=torch.float32), kinds


def test_critic_separates_a_biased_labelled_set():
    """Labelled = bright discs only: the trained critic must score them above the dim squares,
    so VAAL's lowest scores pick squares, the part of the pool the labelled set lacks."""
    images, kinds = shapes_world(120, seed=3)
    labelled = np.flatnonzero(kinds == 0)[:30]
    vae, critic, history = al.fit_sampler(images, labelled, latent=4, widths=(8, 16),
                                          hidden=(32,), steps=100, batch_size=16, lr=2e-3,
                                          beta=1e-3, adv_weight=0.1, critic_steps=10)
    scores = al.critic_scores(vae, critic, images).numpy()
    unl = np.setdiff1d(np.arange(120), labelled)
    picked = al.acquire(scores[unl], unl, 20, highest=False)
    assert np.mean(kinds[picked] == 1) > 0.8
    assert len(history.vae) == 100 and np.isfinite(history.critic).all()
