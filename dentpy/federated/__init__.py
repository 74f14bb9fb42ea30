"""Federated segmentation: attention gates, a tiny attention U-Net, FedAvg and FedProx.

The hand-built loop (:func:`run_federated`) and the Flower run in separate processes
(:func:`dentpy.federated.flower.run_flower`) share :func:`local_update`, so the same initial
weights, client data and seeds give the same global model after every round.

Shapes: images ``(N, 1, H, W)`` float32, masks ``(N, 1, H, W)`` in {0, 1}; H and W divisible by
``2 ** depth``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dentpy import _checks

__all__ = [
    "AttentionGate",
    "TinyAttentionUNet",
    "client_seed",
    "fedavg",
    "local_update",
    "partition_clients",
    "proximal_term",
    "run_federated",
    "segmentation_scores",
]

NORMS = ("batch", "none")


class AttentionGate(nn.Module):
    """Additive attention gate (Oktay et al. 2018), laid out like MONAI's ``AttentionBlock``.

    ``alpha = sigmoid(psi(relu(W_x x + W_g g)))`` with 1x1 convolutions; returns ``x * alpha``.
    ``x``: skip features ``(N, x_channels, H, W)``; ``g``: gating features already at the same
    size ``(N, g_channels, H, W)``. ``norm="batch"`` adds MONAI's batch norms after each 1x1
    convolution; ``"none"`` (default) keeps the plain gate. The last coefficients are kept in
    ``self.alpha`` ``(N, 1, H, W)`` for display.
    """

    def __init__(self, x_channels: int, g_channels: int, inter_channels: int,
                 norm: str = "none") -> None:
        super().__init__()
        x_channels = _checks.integer("x_channels", x_channels, low=1)
        g_channels = _checks.integer("g_channels", g_channels, low=1)
        inter_channels = _checks.integer("inter_channels", inter_channels, low=1)
        norm = _checks.choice("norm", norm, NORMS)

        def branch(cin: int, cout: int) -> nn.Sequential:
            layers: list[nn.Module] = [nn.Conv2d(cin, cout, 1)]
            if norm == "batch":
                layers.append(nn.BatchNorm2d(cout))
            return nn.Sequential(*layers)

        self.W_g = branch(g_channels, inter_channels)
        self.W_x = branch(x_channels, inter_channels)
        self.psi = nn.Sequential(*branch(inter_channels, 1), nn.Sigmoid())
        self.relu = nn.ReLU()
        self.alpha: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        x = _checks.tensor("x", x, ndim=4, kind="float")
        g = _checks.tensor("g", g, ndim=4, kind="float")
        if x.shape[0] != g.shape[0] or x.shape[2:] != g.shape[2:]:
            raise ValueError(f"g must have x's batch size and spatial size {tuple(x.shape[2:])} "
                             f"(upsample it first), got x {tuple(x.shape)} and g {tuple(g.shape)}")
        alpha = self.psi(self.relu(self.W_g(g) + self.W_x(x)))
        self.alpha = alpha.detach()
        return x * alpha


def _block(cin: int, cout: int) -> nn.Sequential:
    groups = 4 if cout % 4 == 0 else 1
    # no bias before a group norm: the norm removes it, and its gradient would be rounding noise
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.GroupNorm(groups, cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.GroupNorm(groups, cout),
        nn.ReLU(inplace=True))


class TinyAttentionUNet(nn.Module):
    """A small attention U-Net: ``depth`` poolings, widths ``base * 2**level``, GroupNorm.

    GroupNorm (not batch norm) keeps every state entry a trainable weight, so FedAvg averages
    nothing but weights. Input ``(N, in_channels, H, W)`` with H, W divisible by ``2**depth``;
    output logits ``(N, out_channels, H, W)``.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, base: int = 8,
                 depth: int = 2) -> None:
        super().__init__()
        in_channels = _checks.integer("in_channels", in_channels, low=1)
        out_channels = _checks.integer("out_channels", out_channels, low=1)
        base = _checks.integer("base", base, low=1)
        self.depth = _checks.integer("depth", depth, low=1, high=5)
        widths = [base * 2 ** level for level in range(self.depth + 1)]
        self.down = nn.ModuleList([_block(in_channels, widths[0])] + [
            _block(widths[i], widths[i + 1]) for i in range(self.depth)])
        self.gates = nn.ModuleList([
            AttentionGate(widths[i], widths[i + 1], max(widths[i] // 2, 1))
            for i in range(self.depth)])
        self.up = nn.ModuleList([_block(widths[i] + widths[i + 1], widths[i])
                                 for i in range(self.depth)])
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _checks.tensor("x", x, ndim=4, kind="float")
        step = 2 ** self.depth
        if x.shape[2] % step or x.shape[3] % step:
            raise ValueError(f"x's height and width must be divisible by {step}, "
                             f"got {tuple(x.shape[2:])}")
        skips = []
        for level, block in enumerate(self.down):
            x = block(x if level == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        g = skips.pop()
        for level in reversed(range(self.depth)):
            g = F.interpolate(g, scale_factor=2, mode="nearest")
            skip = self.gates[level](skips[level], g)
            g = self.up[level](torch.cat([skip, g], dim=1))
        return self.head(g)


def _state(name: str, value: Any) -> dict[str, torch.Tensor]:
    if not isinstance(value, Mapping) or not value:
        raise _checks.ArgumentTypeError(
            f"{name} must be a non-empty state dict (name -> tensor), got "
            f"{_checks.describe(value)}")
    out = {}
    for key, tensor in value.items():
        out[key] = _checks.tensor(f"{name}[{key!r}]", tensor, nonempty=False)
    return out


def proximal_term(model: nn.Module, global_state: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """``||w - w_global||^2`` summed over the model's trainable parameters (a 0-d tensor with a
    gradient); FedProx adds ``mu / 2`` times it to each client's loss."""
    if not isinstance(model, nn.Module):
        raise _checks.ArgumentTypeError(f"model must be a torch.nn.Module, got "
                                        f"{_checks.describe(model)}")
    global_state = _state("global_state", global_state)
    total = torch.zeros(())
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if name not in global_state:
            raise ValueError(f"global_state lacks the model's parameter {name!r}")
        ref = global_state[name]
        if ref.shape != param.shape:
            raise ValueError(f"global_state[{name!r}] has shape {tuple(ref.shape)}, the model's "
                             f"parameter {tuple(param.shape)}")
        total = total + (param - ref.to(param.dtype).detach()).pow(2).sum()
    return total


def dice_bce_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Soft Dice loss over the batch's pooled pixels plus binary cross-entropy."""
    prob = torch.sigmoid(logits)
    dice = 1 - (2 * (prob * target).sum() + 1) / (prob.sum() + target.sum() + 1)
    return dice + F.binary_cross_entropy_with_logits(logits, target)


def client_seed(seed: int, round_: int, client: int) -> int:
    """The seed of one client's local update in one round (the same in both implementations)."""
    seed = _checks.integer("seed", seed, low=0)
    round_ = _checks.integer("round_", round_, low=0)
    client = _checks.integer("client", client, low=0)
    return (seed * 1_000_003 + round_ * 1_009 + client * 17) % (2 ** 31)


def _data(images: Any, masks: Any) -> tuple[torch.Tensor, torch.Tensor]:
    images = _checks.tensor("images", images, ndim=4, kind="float").float()
    masks = _checks.tensor("masks", masks, ndim=4, kind="number").float()
    if images.shape[0] != masks.shape[0] or images.shape[2:] != masks.shape[2:]:
        raise ValueError(f"masks must match images in batch and spatial size, got images "
                         f"{tuple(images.shape)} and masks {tuple(masks.shape)}")
    if not bool(((masks == 0) | (masks == 1)).all()):
        raise ValueError("masks must hold only 0 and 1")
    return images, masks


def _client_data(clients: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Check a non-empty sequence of per-client ``(images, masks)`` pairs (see :func:`_data`)."""
    if isinstance(clients, Mapping) or not isinstance(clients, Sequence) or not clients:
        raise _checks.ArgumentTypeError(f"clients must be a non-empty list of (images, masks), "
                                        f"got {_checks.describe(clients)}")
    data = []
    for i, pair in enumerate(clients):
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise _checks.ArgumentTypeError(f"clients[{i}] must be an (images, masks) pair, got "
                                            f"{_checks.describe(pair)}")
        data.append(_data(*pair))
    return data


def local_update(model: nn.Module, images: Any, masks: Any, *,
                 global_state: Mapping[str, torch.Tensor] | None = None, mu: float = 0.0,
                 epochs: int = 1, batch_size: int = 8, lr: float = 1e-3,
                 seed: int = 0) -> tuple[dict[str, torch.Tensor], int, list[float]]:
    """One client's round: load ``global_state`` (default: the model's own weights), train
    ``epochs`` passes of Adam on Dice + BCE plus ``mu / 2 * ||w - w_global||^2``.

    The batch order and every random draw come from ``seed``, so the update is a pure
    function of (global weights, data, settings, seed). Returns ``(state, n_examples,
    per-step losses)``; the model is left holding the new weights.
    """
    if not isinstance(model, nn.Module):
        raise _checks.ArgumentTypeError(f"model must be a torch.nn.Module, got "
                                        f"{_checks.describe(model)}")
    images, masks = _data(images, masks)
    mu = _checks.number("mu", mu, low=0)
    epochs = _checks.integer("epochs", epochs, low=1)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    lr = _checks.number("lr", lr, low=0, low_open=True)
    seed = _checks.integer("seed", seed, low=0)
    if global_state is None:
        global_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    global_state = {k: v.detach().clone() for k, v in _state("global_state",
                                                            global_state).items()}
    model.load_state_dict(global_state)
    model.train()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    n = images.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss = dice_bce_loss(model(images[batch]), masks[batch])
            if mu > 0:
                loss = loss + mu / 2 * proximal_term(model, global_state)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return state, n, losses


def fedavg(states: Sequence[Mapping[str, torch.Tensor]],
           sizes: Sequence[float]) -> dict[str, torch.Tensor]:
    """Weighted average ``sum_k (n_k / n) w_k`` of client states, key by key (float32)."""
    if isinstance(states, Mapping) or not isinstance(states, Sequence) or not states:
        raise _checks.ArgumentTypeError(f"states must be a non-empty list of state dicts, got "
                                        f"{_checks.describe(states)}")
    weights = _checks.array("sizes", sizes, ndim=1, kind="number").astype(np.float64)
    _checks.same_length(states=states, sizes=weights)
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(f"sizes must be non-negative with a positive sum, got {weights.tolist()}")
    states = [_state(f"states[{i}]", s) for i, s in enumerate(states)]
    keys = list(states[0])
    for i, s in enumerate(states[1:], 1):
        if list(s) != keys or any(s[k].shape != states[0][k].shape for k in keys):
            raise ValueError(f"states[{i}] does not have states[0]'s keys and shapes")
    share = weights / weights.sum()
    out = {}
    for key in keys:
        ref = states[0][key]
        if not ref.is_floating_point():
            out[key] = ref.clone()
            continue
        total = sum(float(w) * s[key].double() for w, s in zip(share, states, strict=True))
        out[key] = total.to(ref.dtype)
    return out


def partition_clients(home: Any, n_clients: int, heterogeneity: float,
                      seed: int = 0) -> list[np.ndarray]:
    """Split samples among clients: each goes to its ``home`` client with probability
    ``heterogeneity`` and to a uniformly drawn client otherwise.

    ``home``: ``(N,)`` ints in ``[0, n_clients)``, e.g. each image's device and case mix mapped
    to the clinic that sees such cases. ``heterogeneity`` 0 gives IID clients, 1 gives clients
    that see only their own kind. Returns one sorted index array per client.
    """
    n_clients = _checks.integer("n_clients", n_clients, low=1)
    home = _checks.array("home", home, ndim=1, kind="integer")
    if (home < 0).any() or (home >= n_clients).any():
        raise ValueError(f"home must hold client numbers 0..{n_clients - 1}, got values "
                         f"{home.min()}..{home.max()}")
    heterogeneity = _checks.probability("heterogeneity", heterogeneity)
    seed = _checks.integer("seed", seed, low=0)
    rng = np.random.default_rng(seed)
    stay = rng.random(len(home)) < heterogeneity
    random_client = rng.integers(0, n_clients, size=len(home))
    owner = np.where(stay, home, random_client)
    return [np.flatnonzero(owner == k) for k in range(n_clients)]


def segmentation_scores(logits: Any, masks: Any) -> dict[str, np.ndarray]:
    """Per-image pixel accuracy, IoU and Dice of ``logits > 0`` against ``masks``
    ``(N, 1, H, W)``; an image with an empty mask and an empty prediction scores 1."""
    logits = _checks.tensor("logits", logits, ndim=4, kind="float")
    masks = _checks.tensor("masks", masks, ndim=4, kind="number")
    if logits.shape != masks.shape:
        raise ValueError(f"logits and masks must have the same shape, got {tuple(logits.shape)} "
                         f"and {tuple(masks.shape)}")
    pred = (logits > 0).flatten(1)
    truth = masks.flatten(1) > 0.5
    inter = (pred & truth).sum(1).double()
    union = (pred | truth).sum(1).double()
    total = pred.sum(1).double() + truth.sum(1).double()
    empty = union == 0
    return dict(
        accuracy=(pred == truth).double().mean(1).numpy(),
        iou=torch.where(empty, 1.0, inter / union.clamp(min=1)).numpy(),
        dice=torch.where(empty, 1.0, 2 * inter / total.clamp(min=1)).numpy())


def run_federated(model_fn: Callable[[], nn.Module],
                  clients: Sequence[tuple[Any, Any]], *, rounds: int, mu: float = 0.0,
                  local_epochs: int = 1, batch_size: int = 8, lr: float = 1e-3, seed: int = 0,
                  eval_fn: Callable[[nn.Module, int], Mapping[str, float]] | None = None,
                  init_state: Mapping[str, torch.Tensor] | None = None,
                  ) -> tuple[dict[str, torch.Tensor], list[dict]]:
    """FedAvg (``mu = 0``) or FedProx (``mu > 0``) by hand, one process, clients in order.

    Each round every client runs :func:`local_update` from the global weights with seed
    ``client_seed(seed, round, k)``; the server averages by client sizes. ``eval_fn(model,
    round)`` (optional) is called on the global model after round 0 (the start) and each round.
    Returns ``(final global state, history)``: one dict per round with the mean local loss
    and ``eval_fn``'s values.
    """
    if not callable(model_fn):
        raise _checks.ArgumentTypeError(f"model_fn must be a callable returning a model, got "
                                        f"{_checks.describe(model_fn)}")
    data = _client_data(clients)
    rounds = _checks.integer("rounds", rounds, low=1)
    mu = _checks.number("mu", mu, low=0)
    seed = _checks.integer("seed", seed, low=0)
    if eval_fn is not None and not callable(eval_fn):
        raise _checks.ArgumentTypeError(f"eval_fn must be callable or None, got "
                                        f"{_checks.describe(eval_fn)}")
    model = model_fn()
    state = ({k: v.detach().clone() for k, v in model.state_dict().items()}
             if init_state is None else dict(_state("init_state", init_state)))
    history = []

    def record(round_: int, loss: float) -> None:
        entry = dict(round=round_, local_loss=loss)
        if eval_fn is not None:
            model.load_state_dict(state)
            model.eval()
            with torch.no_grad():
                entry.update(eval_fn(model, round_))
        history.append(entry)

    record(0, float("nan"))
    for round_ in range(1, rounds + 1):
        states, sizes, losses = [], [], []
        for k, (images, masks) in enumerate(data):
            new, n, steps = local_update(model, images, masks, global_state=state, mu=mu,
                                         epochs=local_epochs, batch_size=batch_size, lr=lr,
                                         seed=client_seed(seed, round_, k))
            states.append(new)
            sizes.append(n)
            losses.append(float(np.mean(steps)))
        state = fedavg(states, sizes)
        record(round_, float(np.average(losses, weights=sizes)))
    return state, history
