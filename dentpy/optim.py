"""Optimizers written from scratch, and the learning-rate range test.

Each optimizer is a small ``torch.optim.Optimizer`` whose ``step`` is the textbook update, written
in the same order of operations as ``torch.optim`` so that both agree to rounding error. Weight
decay is the classic L2 kind: it is added to the gradient, ``g <- g + weight_decay * theta``.

Notation in the docstrings: ``theta`` a parameter, ``g`` its gradient, ``lr`` the learning rate,
``t`` the step count starting at 1; all state tensors start at zero.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

from dentpy import _checks

__all__ = ["SGD", "RMSProp", "Adam", "lr_range_test"]

Params = Iterable[torch.Tensor] | Iterable[dict[str, Any]]


def _check_lr(lr: float, name: str = "lr") -> float:
    return _checks.number(name, lr, low=0, low_open=True)


def _check_unit(name: str, value: float) -> float:
    """``value`` must lie in [0, 1): a decay rate of an exponential moving average."""
    return _checks.number(name, value, low=0, high=1, high_open=True)


def _check_nonnegative(name: str, value: float) -> float:
    return _checks.number(name, value, low=0)


def _check_positive(name: str, value: float) -> float:
    return _checks.number(name, value, low=0, low_open=True)


def _check_params(params: Any) -> list[Any]:
    """The parameters (tensors or group dicts) as a non-empty list."""
    if isinstance(params, torch.Tensor) or isinstance(params, (str, bytes, dict)) or not \
            isinstance(params, Iterable):
        raise _checks.ArgumentTypeError(
            "params must be an iterable of tensors or of parameter-group dicts (e.g. "
            f"model.parameters()), got {_checks.describe(params)}")
    params = list(params)
    if not params:
        raise _checks.ArgumentError(
            "params must hold at least one tensor, got an empty list (a model without "
            "parameters, or all of them frozen?)")
    return params


def _gradients(group: dict[str, Any]) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
    """(parameter, gradient with L2 weight decay added) for each parameter that has a gradient."""
    for p in group["params"]:
        if p.grad is None:
            continue
        if p.grad.is_sparse:
            raise ValueError("sparse gradients are not supported by dentpy.optim")
        g = p.grad
        if group["weight_decay"] != 0:
            g = g.add(p, alpha=group["weight_decay"])
        yield p, g


class SGD(torch.optim.Optimizer):
    """Stochastic gradient descent, with optional heavy-ball momentum (PyTorch's convention).

    Without momentum: ``theta <- theta - lr * g``.

    With momentum ``mu`` (velocity ``v``, zero at start)::

        v     <- mu * v + g
        theta <- theta - lr * v

    This is ``torch.optim.SGD(params, lr, momentum=mu, weight_decay=...)`` with no dampening
    and no Nesterov term. (Some textbooks scale ``g`` by ``lr`` inside ``v``; with a constant
    ``lr`` the two conventions take identical steps.)
    """

    def __init__(
        self, params: Params, lr: float = 1e-2, *, momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        lr = _check_lr(lr)
        momentum = _check_unit("momentum", momentum)
        weight_decay = _check_nonnegative("weight_decay", weight_decay)
        super().__init__(_check_params(params),
                         dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Update every parameter once; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p, g in _gradients(group):
                if group["momentum"] != 0:
                    state = self.state[p]
                    if "velocity" not in state:
                        state["velocity"] = torch.zeros_like(p)
                    g = state["velocity"].mul_(group["momentum"]).add_(g)
                p.add_(g, alpha=-group["lr"])
        return loss


class RMSProp(torch.optim.Optimizer):
    """RMSProp: divide each step by a running root-mean-square of the gradient.

    With decay ``alpha`` and running mean square ``s`` (zero at start)::

        s     <- alpha * s + (1 - alpha) * g**2
        theta <- theta - lr * g / (sqrt(s) + eps)

    This is ``torch.optim.RMSprop(params, lr, alpha, eps, weight_decay)`` without momentum and
    without centring. Parameters with small, rare gradients get relatively larger steps.
    """

    def __init__(
        self, params: Params, lr: float = 1e-2, *, alpha: float = 0.99, eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        lr = _check_lr(lr)
        alpha = _check_unit("alpha", alpha)
        eps = _check_positive("eps", eps)
        weight_decay = _check_nonnegative("weight_decay", weight_decay)
        super().__init__(_check_params(params),
                         dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Update every parameter once; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            alpha = group["alpha"]
            for p, g in _gradients(group):
                state = self.state[p]
                if "square_avg" not in state:
                    state["square_avg"] = torch.zeros_like(p)
                s = state["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)
                p.addcdiv_(g, s.sqrt().add_(group["eps"]), value=-group["lr"])
        return loss


class Adam(torch.optim.Optimizer):
    """Adam: momentum on the gradient, RMSProp on its square, both bias-corrected.

    With ``(beta1, beta2) = betas`` and moments ``m``, ``v`` (zero at start)::

        m     <- beta1 * m + (1 - beta1) * g
        v     <- beta2 * v + (1 - beta2) * g**2
        m_hat  = m / (1 - beta1**t)
        v_hat  = v / (1 - beta2**t)
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    This is ``torch.optim.Adam(params, lr, betas, eps, weight_decay)`` (L2 weight decay, not
    AdamW's decoupled decay). The bias correction undoes the pull of the zero start on early steps.
    """

    def __init__(
        self, params: Params, lr: float = 1e-3, *, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0.0,
    ):
        lr = _check_lr(lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise _checks.ArgumentError(
                f"betas must be a pair (beta1, beta2), got {_checks.describe(betas)}")
        betas = (_check_unit("betas[0]", betas[0]), _check_unit("betas[1]", betas[1]))
        eps = _check_positive("eps", eps)
        weight_decay = _check_nonnegative("weight_decay", weight_decay)
        super().__init__(
            _check_params(params), dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        )

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Update every parameter once; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p, g in _gradients(group):
                state = self.state[p]
                if not state:
                    state["t"] = 0
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                state["t"] += 1
                t = state["t"]
                m = state["m"].lerp_(g, 1 - beta1)
                v = state["v"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                step_size = group["lr"] / (1 - beta1**t)
                denom = (v.sqrt() / math.sqrt(1 - beta2**t)).add_(group["eps"])
                p.addcdiv_(m, denom, value=-step_size)
        return loss


def _unpack(batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2
            and all(isinstance(part, torch.Tensor) for part in batch)):
        raise _checks.ArgumentTypeError(
            f"loader must yield (inputs, targets) pairs of tensors, got a batch "
            f"{_checks.describe(batch)}")
    return batch[0], batch[1]


def lr_range_test(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    lr_min: float,
    lr_max: float,
    steps: int,
    optimizer: Callable[[Iterable[torch.Tensor], float], torch.optim.Optimizer] | None = None,
    smoothing: float = 0.0,
    stop_factor: float | None = 4.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Train for a few steps while the learning rate grows geometrically; record the loss.

    Step ``i`` (0-based) uses ``lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))``, on the
    next ``(inputs, targets)`` batch of ``loader`` (restarted when exhausted). The test stops
    early when the loss is not finite or, with ``stop_factor``, exceeds ``stop_factor`` times the
    lowest loss seen: past that point the run has diverged and says nothing more.

    ``optimizer(params, lr)`` builds the optimizer (default: ``SGD`` with momentum 0.9).
    ``smoothing`` in [0, 1) is the decay of a bias-corrected exponential moving average applied
    to the recorded losses (0 records raw batch losses). The model's weights, buffers and
    train/eval mode are restored afterwards, so the test can precede real training.

    Returns ``(lrs, losses)``: two float64 arrays of equal length (at most ``steps``), ``lrs``
    strictly increasing. A good learning rate sits where the loss falls fastest, well before
    the minimum of the curve.
    """
    if not isinstance(model, nn.Module):
        raise _checks.ArgumentTypeError(
            f"model must be a torch.nn.Module, got {_checks.describe(model)}")
    if isinstance(loader, (str, bytes, dict)) or not isinstance(loader, Iterable):
        raise _checks.ArgumentTypeError(
            f"loader must be an iterable of (inputs, targets) batches, e.g. a DataLoader, got "
            f"{_checks.describe(loader)}")
    if not callable(loss_fn):
        raise _checks.ArgumentTypeError(
            f"loss_fn must be a function loss_fn(outputs, targets), got "
            f"{_checks.describe(loss_fn)}")
    if optimizer is not None and not callable(optimizer):
        raise _checks.ArgumentTypeError(
            f"optimizer must be None or a function optimizer(params, lr), got "
            f"{_checks.describe(optimizer)}")
    lr_min = _check_lr(lr_min, "lr_min")
    lr_max = _check_lr(lr_max, "lr_max")
    if lr_max <= lr_min:
        raise _checks.ArgumentError(
            f"lr_max must be > lr_min, got lr_min={lr_min!r}, lr_max={lr_max!r}")
    steps = _checks.integer("steps", steps, low=2)
    smoothing = _check_unit("smoothing", smoothing)
    if stop_factor is not None:
        stop_factor = _checks.number("stop_factor", stop_factor, low=1, low_open=True)
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("model has no trainable parameters")

    device = parameters[0].device
    saved_state = copy.deepcopy(model.state_dict())
    was_training = model.training
    schedule = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    make = optimizer or (lambda params, lr: SGD(params, lr, momentum=0.9))
    opt = make(parameters, float(schedule[0]))
    lrs: list[float] = []
    losses: list[float] = []
    average, best = 0.0, math.inf
    model.train()
    try:
        batches = iter(loader)
        for i, lr in enumerate(schedule):
            try:
                inputs, targets = _unpack(next(batches))
            except StopIteration:
                batches = iter(loader)
                try:
                    inputs, targets = _unpack(next(batches))
                except StopIteration:
                    raise _checks.ArgumentError("loader yields no batches") from None
            for group in opt.param_groups:
                group["lr"] = float(lr)
            opt.zero_grad()
            loss = loss_fn(model(inputs.to(device)), targets.to(device))
            value = float(loss.detach())
            if not math.isfinite(value):
                break
            loss.backward()
            opt.step()
            average = smoothing * average + (1 - smoothing) * value
            recorded = average / (1 - smoothing ** (i + 1))
            lrs.append(float(lr))
            losses.append(recorded)
            best = min(best, recorded)
            if stop_factor is not None and recorded > stop_factor * best:
                break
    finally:
        model.load_state_dict(saved_state)
        model.train(was_training)
    return np.asarray(lrs, dtype=np.float64), np.asarray(losses, dtype=np.float64)
