"""Channel pruning by first-order Taylor importance: score channels, remove them for real, measure.

**Scores.** For an example ``n`` and an output channel ``c`` of a convolution, with activation
``a`` of shape ``(N, C, *spatial)`` and its gradient ``g = dE/da``,

    s[n, c] = sum over the spatial positions of a * g

is, up to its sign, the first-order change of the loss ``E`` when the channel is set to zero
(a Taylor expansion around the trained network). ``taylor_importance`` reduces it over the
examples in one of three ways (``reduction``):

- ``"abs"``: ``mean_n |s[n, c]|`` (Molchanov et al., 2017);
- ``"squared"``: ``mean_n s[n, c]**2`` (Sapkota et al., MIUA 2023);
- ``"sum"``: ``|sum_n s[n, c]|``, the magnitude after summing over the data. At ``site="conv"``
  of a convolution without bias this equals torch-pruning's
  ``TaylorImportance(multivariable=True)`` of the convolution's weights, ``|sum(w * dE/dw)|``,
  because a convolution is linear in its weights (Euler's identity).

``normalise=True`` scales each example's gradient at the network output to unit norm before it
is backpropagated, so that every example weighs the same (Sapkota et al.). ``site`` says which
tensor is scored: ``"conv"`` the convolution's own output (before any normalisation layer), or
``"activation"`` the output of the first activation module (ReLU, ...) that follows the
convolution in the same ``nn.Sequential``, which is exactly what removing the channel sets to
zero. Scores are computed with the model in eval mode (batch-norm statistics frozen, so the
examples of a batch do not interact).

**Removal.** ``prune_lowest`` deletes the lowest-scoring channels of the whole network (global
ranking) for real: row ``c`` of the convolution's weight, entry ``c`` of the normalisation after
it and column ``c`` of every layer that reads the channel, across skip concatenations, found by
torch-pruning's ``DependencyGraph``. The network gets smaller; nothing is masked.

**Cost.** ``count_parameters``, ``count_flops`` (PyTorch's ``FlopCounterMode``: a multiply-add
counts 2) and ``time_latency`` (wall time per forward pass over repeats, after warm-up, with the
models interleaved so that a change in machine load hits all of them alike).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch_pruning as tp
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from dentpy import _checks

__all__ = [
    "REDUCTIONS", "SITES", "count_flops", "count_parameters", "prunable_convs", "prune_lowest",
    "pruning_schedule", "taylor_importance", "time_latency",
]

REDUCTIONS = ("abs", "squared", "sum")
SITES = ("conv", "activation")
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Mish, nn.Tanh,
                nn.Sigmoid, nn.Hardswish)


def _model(name: str, value: Any) -> nn.Module:
    if not isinstance(value, nn.Module):
        _checks.fail(name, "a torch nn.Module", value, wrong_type=True)
    return value


def _example(value: Any) -> Tensor:
    return _checks.tensor("example", value, ndim=(3, 4, 5), kind="float")


def prunable_convs(model: nn.Module, *, exclude: Iterable[nn.Module] = ()) -> dict[str, nn.Module]:
    """The convolutions whose output channels can be pruned: ``{name: module}`` in model order.

    Every ``Conv1d/2d/3d`` with ``groups == 1`` (transposed convolutions are not included), except
    the modules in ``exclude`` (typically the output layer, whose channels are the classes).
    """
    model = _model("model", model)
    if isinstance(exclude, nn.Module) or not isinstance(exclude, Iterable):
        _checks.fail("exclude", "an iterable of modules", exclude, wrong_type=True)
    skip = list(exclude)
    for i, module in enumerate(skip):
        _model(f"exclude[{i}]", module)
    layers = {name: m for name, m in model.named_modules()
              if isinstance(m, _CONVS) and m.groups == 1 and not any(m is s for s in skip)}
    if not layers:
        raise _checks.ArgumentError("model has no prunable convolution (groups == 1) left after "
                                    "exclude")
    return layers


def _check_layers(model: nn.Module, layers: Any) -> dict[str, nn.Module]:
    if not isinstance(layers, Mapping) or not layers:
        _checks.fail("layers", "a non-empty mapping {name: convolution}, e.g. from "
                     "prunable_convs(model)", layers, wrong_type=not isinstance(layers, Mapping))
    owned = {id(m) for m in model.modules()}
    for name, module in layers.items():
        if not isinstance(module, _CONVS) or module.groups != 1:
            _checks.fail(f"layers[{name!r}]", "a Conv1d/2d/3d with groups == 1", module,
                         wrong_type=True)
        if id(module) not in owned:
            raise _checks.ArgumentError(f"layers[{name!r}] is not a module of model")
    return dict(layers)


def _activation_after(model: nn.Module, name: str) -> nn.Module:
    """The first activation module after the convolution ``name`` in its nn.Sequential."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    if isinstance(parent, nn.Sequential):
        children = list(parent.named_children())
        keys = [k for k, _ in children]
        for _, module in children[keys.index(child) + 1:]:
            if isinstance(module, _CONVS):
                break
            if isinstance(module, _ACTIVATIONS):
                return module
    raise _checks.ArgumentError(
        f"site='activation': no activation module follows layers[{name!r}] in the same "
        "nn.Sequential; use site='conv'")


def _batches(value: Any) -> list[tuple[Tensor, Any]]:
    if isinstance(value, Tensor | str | bytes | Mapping) or not isinstance(value, Iterable):
        _checks.fail("batches", "an iterable of (inputs, targets) pairs", value, wrong_type=True)
    out = []
    for i, batch in enumerate(value):
        if isinstance(batch, Mapping):
            if "image" not in batch:
                _checks.fail(f"batches[{i}]", "a pair (inputs, targets) or a dict with 'image'",
                             batch, wrong_type=True)
            batch = (batch["image"], batch.get("mask", batch.get("label")))
        if not isinstance(batch, Sequence) or isinstance(batch, str | bytes) or len(batch) != 2:
            _checks.fail(f"batches[{i}]", "a pair (inputs, targets)", batch, wrong_type=True)
        inputs = _checks.tensor(f"batches[{i}][0]", batch[0], kind="float")
        if inputs.ndim < 2:
            _checks.fail(f"batches[{i}][0]", "a batch (N, C, ...)", inputs)
        out.append((inputs, batch[1]))
    if not out:
        raise _checks.ArgumentError("batches must hold at least one (inputs, targets) pair, got "
                                    "none")
    return out


def taylor_importance(
    model: nn.Module,
    batches: Iterable[Any],
    loss_fn: Callable[[Tensor, Any], Tensor],
    *,
    layers: Mapping[str, nn.Module],
    reduction: str = "squared",
    normalise: bool = False,
    site: str = "conv",
) -> dict[str, Tensor]:
    """First-order Taylor importance of every output channel of ``layers``.

    ``batches``: pairs ``(inputs (N, C, *spatial), targets)`` (or dicts with ``"image"`` and
    ``"mask"``/``"label"``); ``loss_fn(outputs, targets)`` returns a scalar (its reduction over
    the batch scales all scores alike). ``layers``: ``{name: convolution}`` of ``model``, e.g.
    :func:`prunable_convs`. ``reduction`` in ``REDUCTIONS``, ``site`` in ``SITES`` (see the
    module's docstring). Returns ``{name: scores (C_out,) float64}``; the model's mode and
    parameters' gradients are left as they were.
    """
    model = _model("model", model)
    layers = _check_layers(model, layers)
    if not callable(loss_fn):
        _checks.fail("loss_fn", "a function loss_fn(outputs, targets) -> scalar", loss_fn,
                     wrong_type=True)
    _checks.choice("reduction", reduction, REDUCTIONS)
    _checks.choice("site", site, SITES)
    normalise = _checks.flag("normalise", normalise)
    data = _batches(batches)
    sites = {name: (_activation_after(model, name) if site == "activation" else module)
             for name, module in layers.items()}

    captured: dict[str, Tensor] = {}
    hooks = [module.register_forward_hook(
        lambda _m, _i, out, name=name: captured.__setitem__(name, out))
        for name, module in sites.items()]
    totals = {name: torch.zeros(m.out_channels, dtype=torch.float64) for name, m in layers.items()}
    count = 0
    was_training = model.training
    model.eval()
    try:
        for inputs, targets in data:
            captured.clear()
            with torch.enable_grad():
                outputs = model(inputs.detach().requires_grad_(True))
                loss = loss_fn(outputs, targets)
                if not isinstance(loss, Tensor) or loss.numel() != 1:
                    raise _checks.ArgumentError(
                        f"loss_fn must return a scalar tensor, got {_checks.describe(loss)}")
                if not torch.isfinite(loss):
                    raise _checks.ArgumentError(f"loss_fn returned a non-finite loss ({loss})")
                names = list(captured)
                if set(names) != set(layers):
                    missing = sorted(set(layers) - set(names))
                    raise _checks.ArgumentError(f"layers {missing} were not used by model's "
                                                "forward pass")
                acts = [captured[n] for n in names]
                if normalise:
                    (g_out,) = torch.autograd.grad(loss, outputs, retain_graph=True)
                    norms = g_out.flatten(1).norm(dim=1).clamp_min(1e-12)
                    g_out = g_out / norms.view(-1, *([1] * (g_out.ndim - 1)))
                    grads = torch.autograd.grad(outputs, acts, g_out, allow_unused=True)
                else:
                    grads = torch.autograd.grad(loss, acts, allow_unused=True)
            for name, act, grad in zip(names, acts, grads, strict=True):
                if grad is None:
                    grad = torch.zeros_like(act)
                s = (act.detach() * grad).flatten(2).sum(-1).double()  # (N, C)
                if reduction == "abs":
                    totals[name] += s.abs().sum(0)
                elif reduction == "squared":
                    totals[name] += s.square().sum(0)
                else:
                    totals[name] += s.sum(0)
            count += inputs.shape[0]
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    if reduction == "sum":
        return {name: total.abs() for name, total in totals.items()}
    return {name: total / count for name, total in totals.items()}


def prune_lowest(
    model: nn.Module,
    scores: Mapping[str, Any],
    n: int,
    *,
    layers: Mapping[str, nn.Module],
    example: Tensor,
    min_channels: int = 1,
) -> dict[str, list[int]]:
    """Remove, for real and in place, the ``n`` channels of ``layers`` with the lowest ``scores``.

    ``scores``: ``{name: (C_out,) scores}`` for the same names as ``layers`` (e.g. from
    :func:`taylor_importance`); the ranking is global (one threshold for all layers). Each
    layer keeps at least ``min_channels`` channels; the next lowest channels elsewhere are taken
    instead. ``example``: an input batch, used to trace the network's dependencies. Layers whose
    channels are coupled (e.g. added by a residual connection) cannot be pruned one by one and
    raise ``ValueError``. Returns ``{name: removed channel indices}`` (indices before removal).
    """
    model = _model("model", model)
    layers = _check_layers(model, layers)
    example = _example(example)
    min_channels = _checks.integer("min_channels", min_channels, low=1)
    if not isinstance(scores, Mapping):
        _checks.fail("scores", "a mapping {name: scores}", scores, wrong_type=True)
    if set(scores) != set(layers):
        raise _checks.ArgumentError(
            f"scores and layers must have the same names: {sorted(scores)} vs {sorted(layers)}")
    flat = []
    for name, module in layers.items():
        values = _checks.tensor(f"scores[{name!r}]", scores[name], ndim=1, kind="number")
        if values.numel() != module.out_channels:
            raise _checks.ArgumentError(
                f"scores[{name!r}] has {values.numel()} values for {module.out_channels} channels")
        flat += [(float(v), name, c) for c, v in enumerate(values.tolist())]
    capacity = sum(max(m.out_channels - min_channels, 0) for m in layers.values())
    n = _checks.integer("n", n, low=0, high=capacity)

    removed: dict[str, list[int]] = {name: [] for name in layers}
    left = {name: m.out_channels for name, m in layers.items()}
    for _, name, channel in sorted(flat, key=lambda item: item[0]):
        if sum(map(len, removed.values())) == n:
            break
        if left[name] > min_channels:
            removed[name].append(channel)
            left[name] -= 1
    if n == 0:
        return {name: [] for name in layers}

    was_training = model.training
    model.eval()  # tracing runs a forward pass: keep batch-norm statistics as they are
    try:
        graph = tp.DependencyGraph().build_dependency(model, example_inputs=example)
        owners = {id(m): name for name, m in layers.items()}
        for name, channels in removed.items():
            if not channels:
                continue
            group = graph.get_pruning_group(layers[name], tp.prune_conv_out_channels,
                                            sorted(channels))
            for dep, _ in group:
                other = owners.get(id(dep.target.module))
                if (other is not None and other != name
                        and graph.is_out_channel_pruning_fn(dep.handler)):
                    raise _checks.ArgumentError(
                        f"layers[{name!r}] and layers[{other!r}] share their output channels "
                        "(coupled, e.g. by a residual sum); pass only one of them")
            group.prune()
    finally:
        model.train(was_training)
    return {name: sorted(channels) for name, channels in removed.items()}


def pruning_schedule(final_ratio: float, steps: int, *, kind: str = "linear") -> list[float]:
    """Cumulative pruning ratios of a gradual schedule, one per step, ending at ``final_ratio``.

    ``kind="linear"``: ``final_ratio * k / steps``; ``kind="geometric"``: the same share of the
    channels still present is removed at every step, ``1 - (1 - final_ratio) ** (k / steps)``,
    so that later steps, when fewer channels are left, remove fewer. ``final_ratio`` in
    ``[0, 1)``, ``steps >= 1``.
    """
    final_ratio = _checks.number("final_ratio", final_ratio, low=0.0, high=1.0, high_open=True)
    steps = _checks.integer("steps", steps, low=1)
    _checks.choice("kind", kind, ("linear", "geometric"))
    if kind == "linear":
        return [final_ratio * k / steps for k in range(1, steps + 1)]
    return [1 - (1 - final_ratio) ** (k / steps) for k in range(1, steps + 1)]


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (weights and biases) of ``model``."""
    return sum(p.numel() for p in _model("model", model).parameters())


def count_flops(model: nn.Module, example: Tensor) -> int:
    """Floating-point operations of one forward pass on ``example`` (eval mode, no gradients).

    Counted by ``torch.utils.flop_counter.FlopCounterMode``: convolutions and matrix products,
    a multiply-add counting 2; element-wise layers (normalisation, ReLU, pooling) are not counted.
    """
    model = _model("model", model)
    example = _example(example)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(example)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())


def time_latency(
    models: nn.Module | Sequence[nn.Module],
    example: Tensor,
    *,
    repeats: int = 20,
    warmup: int = 3,
    threads: int | None = None,
) -> np.ndarray:
    """Wall time in seconds of a forward pass on ``example``, per model and repeat.

    Each model runs ``warmup`` untimed passes first. The repeats are interleaved (repeat ``r``
    times every model once, in an order that rotates), so a change in machine load affects all
    models alike and the per-repeat ratios are paired. ``threads`` sets
    ``torch.set_num_threads`` during the timing (restored after). Returns ``(repeats,)`` for one
    model, ``(len(models), repeats)`` for a sequence. Eval mode, no gradients.
    """
    single = isinstance(models, nn.Module)
    if not single and (isinstance(models, str | bytes) or not isinstance(models, Sequence)
                       or not models):
        _checks.fail("models", "a module or a non-empty sequence of modules", models,
                     wrong_type=not isinstance(models, Sequence))
    group = [models] if single else [_model(f"models[{i}]", m) for i, m in enumerate(models)]
    example = _example(example)
    repeats = _checks.integer("repeats", repeats, low=1)
    warmup = _checks.integer("warmup", warmup, low=0)
    if threads is not None:
        threads = _checks.integer("threads", threads, low=1)
    modes = [m.training for m in group]
    old_threads = torch.get_num_threads()
    seconds = np.zeros((len(group), repeats))
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        for m in group:
            m.eval()
        with torch.no_grad():
            for m in group:
                for _ in range(warmup):
                    m(example)
            for r in range(repeats):
                for k in range(len(group)):
                    i = (k + r) % len(group)
                    start = time.perf_counter()
                    group[i](example)
                    seconds[i, r] = time.perf_counter() - start
    finally:
        torch.set_num_threads(old_threads)
        for m, mode in zip(group, modes, strict=True):
            m.train(mode)
    return seconds[0] if single else seconds
