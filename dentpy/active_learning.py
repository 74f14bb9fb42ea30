"""Active learning: which unlabelled images to send for labelling next.

- ``VAE``: a convolutional variational auto-encoder; with ``aux_channels > 0`` it has a second
  decoder that reconstructs an auxiliary image (another modality) from the same latent code,
  which is M-VAAL's change to VAAL.
- ``kl_divergence``, ``vae_loss``: the VAE's terms (reconstruction MSE + beta x KL).
- ``LatentCritic``: an MLP on the latent mean that scores "labelled-looking" images high.
- ``gradient_penalty``, ``sampler_step``, ``fit_sampler``: the adversarial training of VAAL /
  M-VAAL with a Wasserstein critic and a gradient penalty.
- ``critic_scores``, ``pixel_entropy``, ``acquire``, ``random_acquire``: scoring the pool and
  picking a batch (VAAL: the lowest critic scores; entropy: the highest; random).

Shapes: images ``(N, C, H, W)`` float; latents ``(N, Z)``; scores ``(N,)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from dentpy import _checks

__all__ = [
    "LatentCritic",
    "SamplerHistory",
    "VAE",
    "VAEOutput",
    "acquire",
    "critic_scores",
    "fit_sampler",
    "gradient_penalty",
    "kl_divergence",
    "pixel_entropy",
    "random_acquire",
    "sampler_step",
    "vae_loss",
]


def _images(name: str, x: Any, channels: int | None = None) -> Tensor:
    x = _checks.tensor(name, x, ndim=4, kind="float")
    if channels is not None and x.shape[1] != channels:
        _checks.fail(name, f"a (N, {channels}, H, W) tensor", x)
    return x


def _widths(widths: Any) -> tuple[int, ...]:
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence) or not widths:
        _checks.fail("widths", "a non-empty sequence of integers >= 1", widths, wrong_type=True)
    return tuple(_checks.integer(f"widths[{i}]", w, low=1) for i, w in enumerate(widths))


@dataclass
class VAEOutput:
    """What :meth:`VAE.forward` returns: reconstructions ``(N, C, H, W)`` (the auxiliary one is
    ``None`` without a second decoder), the latent mean and log-variance ``(N, Z)`` and the
    sampled latent ``z = mu + exp(logvar / 2) * eps``."""

    recon: Tensor
    aux_recon: Tensor | None
    mu: Tensor
    logvar: Tensor
    z: Tensor


def _decoder(widths: tuple[int, ...], out_channels: int, latent: int,
             grid: tuple[int, int]) -> nn.Module:
    layers: list[nn.Module] = [nn.Linear(latent, widths[-1] * grid[0] * grid[1]),
                               nn.Unflatten(1, (widths[-1], *grid))]
    rev = widths[::-1]
    for c_in, c_out in zip(rev, [*rev[1:], rev[-1]], strict=True):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
    layers.append(nn.Conv2d(rev[-1], out_channels, 3, padding=1))
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """Convolutional VAE: ``len(widths)`` blocks of (4x4 conv stride 2, ReLU), then
    linear maps to ``mu`` and ``logvar`` of size ``latent``; the decoder mirrors it. With
    ``aux_channels > 0`` a second, identical decoder outputs the auxiliary image (M-VAAL).

    ``size`` ``(H, W)`` must be divisible by ``2 ** len(widths)``. Outputs are linear (no
    sigmoid): inputs are expected roughly in [0, 1] and the loss is a mean squared error.
    There is no batch normalisation (VAAL's VAE has it): in the sampler a batch is all
    labelled or all unlabelled, and per-batch statistics would normalise away the very
    difference the critic looks for, and differ from the running statistics used for scoring.
    """

    def __init__(self, in_channels: int = 1, *, aux_channels: int = 0,
                 size: Sequence[int] = (48, 80), latent: int = 16,
                 widths: Sequence[int] = (16, 32, 64)) -> None:
        super().__init__()
        in_channels = _checks.integer("in_channels", in_channels, low=1)
        aux_channels = _checks.integer("aux_channels", aux_channels, low=0)
        h, w = _checks.integer_pair("size", size)
        latent = _checks.integer("latent", latent, low=1)
        widths = _widths(widths)
        factor = 2 ** len(widths)
        if h % factor or w % factor:
            _checks.fail("size", f"(H, W) divisible by 2**len(widths) = {factor}", size)
        grid = (h // factor, w // factor)
        self.in_channels, self.aux_channels, self.size, self.latent = (
            in_channels, aux_channels, (h, w), latent)
        layers: list[nn.Module] = []
        for c_in, c_out in zip([in_channels, *widths[:-1]], widths, strict=True):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        flat = widths[-1] * grid[0] * grid[1]
        self.to_mu, self.to_logvar = nn.Linear(flat, latent), nn.Linear(flat, latent)
        self.decoder = _decoder(widths, in_channels, latent, grid)
        self.aux_decoder = (_decoder(widths, aux_channels, latent, grid) if aux_channels
                            else None)

    def _check(self, x: Any) -> Tensor:
        x = _images("x", x, self.in_channels)
        if tuple(x.shape[2:]) != self.size:
            _checks.fail("x", f"images of size {self.size}", x)
        return x

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)``, each ``(N, latent)``, of images ``x`` ``(N, C, H, W)``."""
        h = self.encoder(self._check(x))
        return self.to_mu(h), self.to_logvar(h)

    def forward(self, x: Tensor) -> VAEOutput:
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        aux = self.aux_decoder(z) if self.aux_decoder is not None else None
        return VAEOutput(self.decoder(z), aux, mu, logvar, z)


def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)), summed over latent dimensions, averaged over the
    batch: ``-0.5 * mean_n sum_k (1 + logvar - mu**2 - exp(logvar))``. Inputs ``(N, Z)``."""
    mu = _checks.tensor("mu", mu, ndim=2, kind="float")
    logvar = _checks.tensor("logvar", logvar, ndim=2, kind="float")
    if mu.shape != logvar.shape:
        _checks.fail("logvar", f"the shape of mu {tuple(mu.shape)}", logvar)
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1).mean()


def vae_loss(x: Tensor, out: VAEOutput, *, aux: Tensor | None = None, beta: float = 1e-3,
             rec_weight: float = 1.0, aux_weight: float = 1.0) -> Tensor:
    """``rec_weight * MSE(recon, x) + aux_weight * MSE(aux_recon, aux) + beta * KL``.

    MSEs are means over pixels and images. ``aux`` is required exactly when the VAE has an
    auxiliary decoder (``out.aux_recon`` is not ``None``)."""
    if not isinstance(out, VAEOutput):
        _checks.fail("out", "a VAEOutput (what VAE.forward returns)", out, wrong_type=True)
    x = _images("x", x)
    if x.shape != out.recon.shape:
        _checks.fail("x", f"the shape of the reconstruction {tuple(out.recon.shape)}", x)
    beta = _checks.number("beta", beta, low=0)
    rec_weight = _checks.number("rec_weight", rec_weight, low=0)
    aux_weight = _checks.number("aux_weight", aux_weight, low=0)
    loss = rec_weight * torch.mean((out.recon - x) ** 2) + beta * kl_divergence(out.mu,
                                                                                out.logvar)
    if out.aux_recon is None:
        if aux is not None:
            _checks.fail("aux", "None for a VAE without an auxiliary decoder", aux)
        return loss
    if aux is None:
        _checks.fail("aux", "the auxiliary images (the VAE has an auxiliary decoder)", aux,
                     wrong_type=True)
    aux = _images("aux", aux)
    if aux.shape != out.aux_recon.shape:
        _checks.fail("aux", f"the shape of the auxiliary output {tuple(out.aux_recon.shape)}",
                     aux)
    return loss + aux_weight * torch.mean((out.aux_recon - aux) ** 2)


class LatentCritic(nn.Module):
    """MLP ``latent -> hidden... -> 1`` with ReLUs and no final sigmoid (a Wasserstein critic).
    ``forward(z)`` maps ``(N, latent)`` to scores ``(N,)``: high = looks labelled."""

    def __init__(self, latent: int = 16, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        self.latent = _checks.integer("latent", latent, low=1)
        if isinstance(hidden, str | bytes) or not isinstance(hidden, Sequence):
            _checks.fail("hidden", "a sequence of integers >= 1", hidden, wrong_type=True)
        hidden = tuple(_checks.integer(f"hidden[{i}]", h, low=1) for i, h in enumerate(hidden))
        layers: list[nn.Module] = []
        for c_in, c_out in zip([self.latent, *hidden[:-1]], hidden, strict=True):
            layers += [nn.Linear(c_in, c_out), nn.ReLU()]
        layers.append(nn.Linear(hidden[-1] if hidden else self.latent, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        z = _checks.tensor("z", z, ndim=2, kind="float")
        if z.shape[1] != self.latent:
            _checks.fail("z", f"an (N, {self.latent}) tensor", z)
        return self.net(z).squeeze(1)


def gradient_penalty(critic: nn.Module, a: Tensor, b: Tensor, *,
                     weights: Tensor | None = None) -> Tensor:
    """WGAN-GP term ``mean((||grad critic(x_hat)|| - 1) ** 2)`` at ``x_hat = e a + (1 - e) b``.

    ``a`` and ``b`` are ``(N, Z)`` latents (labelled and unlabelled); ``weights`` ``e`` is
    ``(N,)`` in [0, 1], drawn uniformly when ``None``. Differentiable (for the critic's step)."""
    if not isinstance(critic, nn.Module):
        _checks.fail("critic", "a torch.nn.Module", critic, wrong_type=True)
    a = _checks.tensor("a", a, ndim=2, kind="float")
    b = _checks.tensor("b", b, ndim=2, kind="float")
    if a.shape != b.shape:
        _checks.fail("b", f"the shape of a {tuple(a.shape)}", b)
    if weights is None:
        weights = torch.rand(a.shape[0], device=a.device, dtype=a.dtype)
    weights = _checks.tensor("weights", weights, ndim=1, kind="float")
    if weights.shape[0] != a.shape[0] or bool((weights < 0).any() | (weights > 1).any()):
        _checks.fail("weights", f"{a.shape[0]} numbers in [0, 1]", weights)
    x_hat = (weights[:, None] * a.detach() + (1 - weights[:, None]) * b.detach())
    x_hat.requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.norm(dim=1) - 1) ** 2).mean()


def sampler_step(vae: VAE, critic: LatentCritic, vae_optimizer: torch.optim.Optimizer,
                 critic_optimizer: torch.optim.Optimizer, x_labelled: Tensor,
                 x_unlabelled: Tensor, *, aux_labelled: Tensor | None = None,
                 aux_unlabelled: Tensor | None = None, adv_weight: float = 1.0,
                 aux_weight: float = 1.0, beta: float = 1e-3, gp_weight: float = 1.0,
                 critic_steps: int = 1) -> dict[str, float]:
    """One VAE step, then one critic step, on a labelled and an unlabelled batch of equal size.

    Both batches go through the VAE in one forward pass (see the comment on batch norm).

    VAE: ``vae_loss(labelled) + vae_loss(unlabelled) + adv_weight * (mean D(mu_L) -
    mean D(mu_U))`` (it pushes the two sets together in the critic's eyes). Critic:
    ``-mean D(mu_L) + mean D(mu_U) + gp_weight * gradient_penalty(mu_L, mu_U)`` (labelled
    high, unlabelled low), repeated ``critic_steps`` times on the same latents (a Wasserstein
    critic must stay near its optimum to give the VAE a useful signal). The critic sees the
    latent means. Returns the three losses (the critic's of its last step)."""
    if not isinstance(vae, VAE):
        _checks.fail("vae", "a dentpy.active_learning.VAE", vae, wrong_type=True)
    if not isinstance(critic, nn.Module):
        _checks.fail("critic", "a torch.nn.Module", critic, wrong_type=True)
    for name, opt in (("vae_optimizer", vae_optimizer), ("critic_optimizer", critic_optimizer)):
        if not isinstance(opt, torch.optim.Optimizer):
            _checks.fail(name, "a torch.optim.Optimizer", opt, wrong_type=True)
    x_l, x_u = _images("x_labelled", x_labelled), _images("x_unlabelled", x_unlabelled)
    if x_l.shape != x_u.shape:
        _checks.fail("x_unlabelled", f"the shape of x_labelled {tuple(x_l.shape)}", x_u)
    adv_weight = _checks.number("adv_weight", adv_weight, low=0)
    gp_weight = _checks.number("gp_weight", gp_weight, low=0)
    critic_steps = _checks.integer("critic_steps", critic_steps, low=1)
    vae.train()
    critic.train()
    # one forward pass over both batches: with separate passes, batch norm would normalise
    # each set by its own statistics and hide from the critic what sets them apart
    out = vae(torch.cat([x_l, x_u]))
    n = x_l.shape[0]
    out_l, out_u = (VAEOutput(*(None if t is None else t[part] for t in (
        out.recon, out.aux_recon, out.mu, out.logvar, out.z))) for part in (slice(None, n),
                                                                             slice(n, None)))
    rec = (vae_loss(x_l, out_l, aux=aux_labelled, beta=beta, aux_weight=aux_weight)
           + vae_loss(x_u, out_u, aux=aux_unlabelled, beta=beta, aux_weight=aux_weight))
    adv = critic(out_l.mu).mean() - critic(out_u.mu).mean()
    vae_optimizer.zero_grad()
    (rec + adv_weight * adv).backward()
    vae_optimizer.step()

    mu_l, mu_u = out_l.mu.detach(), out_u.mu.detach()
    for _ in range(critic_steps):
        gp = gradient_penalty(critic, mu_l, mu_u)
        critic_loss = -critic(mu_l).mean() + critic(mu_u).mean() + gp_weight * gp
        critic_optimizer.zero_grad()
        critic_loss.backward()
        critic_optimizer.step()
    return {"vae": rec.item(), "adversarial": adv.item(), "critic": critic_loss.item()}


@dataclass
class SamplerHistory:
    """Per-step losses of :func:`fit_sampler` (lists of floats)."""

    vae: list[float]
    adversarial: list[float]
    critic: list[float]


def _index_array(name: str, value: Any, n: int) -> np.ndarray:
    idx = _checks.array(name, value, ndim=1, kind="integer", nonempty=False)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        _checks.fail(name, f"indices in [0, {n - 1}]", value)
    if len(np.unique(idx)) != idx.size:
        _checks.fail(name, "indices without repeats", value)
    return idx.astype(np.int64)


def fit_sampler(images: Tensor, labelled: Any, *, aux: Tensor | None = None,
                latent: int = 16, widths: Sequence[int] = (16, 32, 64),
                hidden: Sequence[int] = (64, 64), steps: int = 200, batch_size: int = 16,
                lr: float = 1e-3, adv_weight: float = 1.0, aux_weight: float = 1.0,
                beta: float = 1e-3, gp_weight: float = 1.0, critic_steps: int = 1,
                seed: int = 0) -> tuple[VAE, LatentCritic, SamplerHistory]:
    """Train a VAE (+ auxiliary decoder when ``aux`` is given: M-VAAL) and a critic on a pool.

    ``images`` ``(N, C, H, W)`` is the whole pool, ``labelled`` the indices labelled so far
    (the rest is unlabelled), ``aux`` ``(N, C2, H, W)`` the auxiliary images or ``None``
    (VAAL). Each step draws ``batch_size`` labelled and unlabelled images (with replacement)
    and calls :func:`sampler_step`; both networks use Adam with ``lr``."""
    images = _images("images", images)
    n = images.shape[0]
    labelled = _index_array("labelled", labelled, n)
    if labelled.size == 0 or labelled.size == n:
        _checks.fail("labelled", f"between 1 and {n - 1} indices (both sets non-empty)",
                     labelled)
    if aux is not None:
        aux = _images("aux", aux)
        if aux.shape[0] != n or aux.shape[2:] != images.shape[2:]:
            _checks.fail("aux", f"({n}, C2, {images.shape[2]}, {images.shape[3]}) images", aux)
    steps = _checks.integer("steps", steps, low=1)
    batch_size = _checks.integer("batch_size", batch_size, low=2)
    lr = _checks.number("lr", lr, low=0, low_open=True)
    seed = _checks.integer("seed", seed, low=0)
    unlabelled = np.setdiff1d(np.arange(n), labelled)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    vae = VAE(images.shape[1], aux_channels=0 if aux is None else aux.shape[1],
              size=tuple(images.shape[2:]), latent=latent, widths=widths)
    critic = LatentCritic(latent, hidden)
    vae_opt = torch.optim.Adam(vae.parameters(), lr=lr)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=lr)
    history = SamplerHistory([], [], [])
    for _ in range(steps):
        il = torch.from_numpy(rng.choice(labelled, batch_size))
        iu = torch.from_numpy(rng.choice(unlabelled, batch_size))
        losses = sampler_step(
            vae, critic, vae_opt, critic_opt, images[il], images[iu],
            aux_labelled=None if aux is None else aux[il],
            aux_unlabelled=None if aux is None else aux[iu],
            adv_weight=adv_weight, aux_weight=aux_weight, beta=beta, gp_weight=gp_weight,
            critic_steps=critic_steps)
        for key, value in losses.items():
            getattr(history, key).append(value)
    return vae, critic, history


@torch.no_grad()
def critic_scores(vae: VAE, critic: LatentCritic, images: Tensor, *,
                  batch_size: int = 128) -> Tensor:
    """Critic scores ``(N,)`` of the latent means of ``images`` (both networks in eval mode):
    high = looks labelled. VAAL labels the lowest."""
    if not isinstance(vae, VAE):
        _checks.fail("vae", "a dentpy.active_learning.VAE", vae, wrong_type=True)
    if not isinstance(critic, nn.Module):
        _checks.fail("critic", "a torch.nn.Module", critic, wrong_type=True)
    images = _images("images", images)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    vae.eval()
    critic.eval()
    return torch.cat([critic(vae.encode(images[i:i + batch_size])[0])
                      for i in range(0, images.shape[0], batch_size)])


def pixel_entropy(probs: Tensor) -> Tensor:
    """Mean per-pixel predictive entropy (nats) of segmentation probabilities, one per image.

    ``probs`` ``(N, 1, H, W)``: foreground probabilities of a binary task (binary entropy);
    ``(N, C, H, W)`` with ``C > 1``: class probabilities summing to 1 over ``C``. Returns
    ``(N,)``; 0 for confident pixels, ``log 2`` (binary) at p = 0.5."""
    probs = _images("probs", probs)
    if bool((probs < 0).any() | (probs > 1).any()):
        _checks.fail("probs", "probabilities in [0, 1]", probs)
    if probs.shape[1] == 1:
        probs = torch.cat([1 - probs, probs], 1)
    elif not torch.allclose(probs.sum(1), torch.ones_like(probs[:, 0]), atol=1e-4):
        _checks.fail("probs", "class probabilities summing to 1 over dimension 1", probs)
    terms = torch.where(probs > 0, -probs * torch.log(probs.clamp_min(1e-30)),
                        torch.zeros_like(probs))
    return terms.sum(1).flatten(1).mean(1)


def acquire(scores: Any, candidates: Any, budget: int, *, highest: bool = True) -> np.ndarray:
    """The ``budget`` candidates with the highest (``highest=True``, e.g. entropy) or lowest
    (VAAL's critic) ``scores``. ``scores`` ``(M,)`` belong to ``candidates`` ``(M,)`` (pool
    indices); returns the chosen pool indices, best first. Ties keep the candidates' order."""
    scores = _checks.array("scores", scores, ndim=1, kind="number")
    candidates = _checks.array("candidates", candidates, ndim=1, kind="integer")
    _checks.same_length(scores=scores, candidates=candidates)
    budget = _checks.integer("budget", budget, low=1, high=len(candidates))
    highest = _checks.flag("highest", highest)
    order = np.argsort(-scores if highest else scores, kind="stable")
    return candidates[order[:budget]].astype(np.int64)


def random_acquire(candidates: Any, budget: int, *, seed: int = 0) -> np.ndarray:
    """``budget`` candidates drawn uniformly without replacement (the random baseline)."""
    candidates = _checks.array("candidates", candidates, ndim=1, kind="integer")
    budget = _checks.integer("budget", budget, low=1, high=len(candidates))
    seed = _checks.integer("seed", seed, low=0)
    return np.random.default_rng(seed).choice(candidates, budget, replace=False).astype(
        np.int64)
