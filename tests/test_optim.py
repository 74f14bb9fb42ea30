"""dentpy.optim: the from-scratch optimizers against torch.optim, and the LR range test."""

import numpy as np
import pytest
import torch
from torch import nn

from dentpy import optim


def _model(dtype: torch.dtype) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).to(dtype)


def _data(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(100, 16, 5, generator=generator, dtype=dtype)
    y = torch.randn(100, 16, 3, generator=generator, dtype=dtype)
    return x, y


# (ours, reference, keyword arguments shared by both)
CASES = [
    (optim.SGD, torch.optim.SGD, dict(lr=0.05)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, weight_decay=0.01)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.02, momentum=0.9)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.02, momentum=0.9, weight_decay=0.01)),
    (optim.RMSProp, torch.optim.RMSprop, dict(lr=1e-3)),
    (optim.RMSProp, torch.optim.RMSprop, dict(lr=1e-3, alpha=0.9, eps=1e-6, weight_decay=0.01)),
    (optim.Adam, torch.optim.Adam, dict(lr=1e-2)),
    (optim.Adam, torch.optim.Adam, dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("ours, reference, kwargs", CASES)
def test_matches_torch_optim_over_100_steps(ours, reference, kwargs, dtype):
    x, y = _data(dtype)
    mine, theirs = _model(dtype), _model(dtype)
    opt_mine = ours(mine.parameters(), **kwargs)
    opt_theirs = reference(theirs.parameters(), **kwargs)
    for step in range(100):
        for model, opt in ((mine, opt_mine), (theirs, opt_theirs)):
            opt.zero_grad()
            nn.functional.mse_loss(model(x[step]), y[step]).backward()
            opt.step()
    for p, q in zip(mine.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)
    assert not torch.equal(mine[0].weight, _model(dtype)[0].weight)  # it did train


def test_closure_returns_loss_and_params_without_grad_are_skipped():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    frozen = torch.tensor([3.0], requires_grad=True)
    opt = optim.Adam([w, frozen], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    assert torch.equal(frozen, torch.tensor([3.0]))
    # Adam's first step moves each coordinate by lr against the gradient's sign
    torch.testing.assert_close(w.detach(), torch.tensor([0.9, -1.9]))


def test_sgd_hand_computed_momentum():
    w = torch.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (2 * w).sum().backward()  # gradient 2
        opt.step()
    # v1 = 2, w1 = 0.8; v2 = 0.5 * 2 + 2 = 3, w2 = 0.8 - 0.3 = 0.5
    torch.testing.assert_close(w.detach(), torch.tensor([0.5]))


@pytest.mark.parametrize("cls", [optim.SGD, optim.RMSProp, optim.Adam])
@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "0.1"])
def test_bad_lr(cls, lr):
    with pytest.raises(ValueError, match="lr"):
        cls([torch.zeros(1, requires_grad=True)], lr=lr)


@pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.9), (0.9,), 0.9])
def test_bad_betas(betas):
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([torch.zeros(1, requires_grad=True)], betas=betas)


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (optim.SGD, dict(momentum=1.0), "momentum"),
        (optim.SGD, dict(momentum=-0.5), "momentum"),
        (optim.SGD, dict(weight_decay=-1.0), "weight_decay"),
        (optim.RMSProp, dict(alpha=1.0), "alpha"),
        (optim.RMSProp, dict(eps=0.0), "eps"),
        (optim.Adam, dict(eps=-1e-8), "eps"),
        (optim.Adam, dict(weight_decay=float("nan")), "weight_decay"),
    ],
)
def test_bad_hyperparameters(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls([torch.zeros(1, requires_grad=True)], **kwargs)


def _loader(n_batches: int = 4):
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(n_batches, 8, 5, generator=generator)
    y = torch.randn(n_batches, 8, 3, generator=generator)
    return list(zip(x, y, strict=True))


def test_lr_range_test_restores_weights_and_returns_increasing_lrs():
    model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lrs, losses = optim.lr_range_test(
        model, _loader(), nn.functional.mse_loss, lr_min=1e-4, lr_max=1.0, steps=10,
        stop_factor=None,
    )
    assert lrs.shape == losses.shape == (10,)
    assert np.all(np.diff(lrs) > 0)
    np.testing.assert_allclose([lrs[0], lrs[-1]], [1e-4, 1.0])
    assert np.all(np.isfinite(losses))
    after = model.state_dict()
    for key, value in before.items():
        assert torch.equal(after[key], value), key
    assert not model.training


def test_lr_range_test_stops_when_the_loss_explodes():
    torch.manual_seed(0)
    model = nn.Linear(5, 3)
    lrs, losses = optim.lr_range_test(
        model, _loader(), nn.functional.mse_loss, lr_min=1e-3, lr_max=1e4, steps=40,
        optimizer=lambda params, lr: optim.SGD(params, lr), smoothing=0.5,
    )
    assert 2 <= len(lrs) < 40
    assert np.all(np.diff(lrs) > 0) and np.all(np.isfinite(losses))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(lr_min=0.0, lr_max=1.0, steps=5), "lr"),
        (dict(lr_min=1.0, lr_max=0.1, steps=5), "lr_max"),
        (dict(lr_min=1e-3, lr_max=1.0, steps=1), "steps"),
        (dict(lr_min=1e-3, lr_max=1.0, steps=5, smoothing=1.0), "smoothing"),
        (dict(lr_min=1e-3, lr_max=1.0, steps=5, stop_factor=0.5), "stop_factor"),
    ],
)
def test_lr_range_test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        optim.lr_range_test(nn.Linear(5, 3), _loader(), nn.functional.mse_loss, **kwargs)


def test_lr_range_test_empty_loader():
    with pytest.raises(ValueError, match="loader"):
        optim.lr_range_test(
            nn.Linear(5, 3), [], nn.functional.mse_loss, lr_min=1e-3, lr_max=1.0, steps=5
        )
