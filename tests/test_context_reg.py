"""Contextual regularisation: stochastic and adaptive masks, the reconstruction head."""

from __future__ import annotations

import torch

from dentpy.context_reg import (
    AdaptiveMask,
    ContextualRegularizer,
    ReconstructionHead,
    stochastic_mask,
)


def test_stochastic_mask_hides_exactly_q_of_the_positions_in_every_channel():
    x = torch.randn(3, 5, 4, 4)
    masked, keep = stochastic_mask(x, q=0.25, generator=torch.Generator().manual_seed(0))
    assert keep.shape == (3, 1, 4, 4)
    assert keep.sum(dim=(1, 2, 3)).tolist() == [12.0, 12.0, 12.0]
    torch.testing.assert_close(masked, x * keep)
    assert torch.equal(stochastic_mask(x, q=0.0)[0], x)
    assert stochastic_mask(x, q=1.0)[1].sum() == 0


def test_adaptive_mask_is_the_squeeze_excitation_formula():
    torch.manual_seed(0)
    gate = AdaptiveMask(8, (3, 3), reduction=4)
    x = torch.randn(2, 8, 3, 3)
    masked, s = gate(x)
    v = x.mean(dim=(2, 3))
    hidden = torch.relu(v @ gate.squeeze.weight.T + gate.squeeze.bias)
    expected = torch.sigmoid(hidden @ gate.excite.weight.T + gate.excite.bias).reshape(2, 1, 3, 3)
    torch.testing.assert_close(s, expected)
    torch.testing.assert_close(masked, x * expected)
    assert gate.squeeze.weight.shape == (2, 8) and gate.excite.weight.shape == (9, 2)


def test_reconstruction_head_learns_to_fill_a_smooth_field():
    """A second world: fields constant over each image, so the masked half is predictable
    from the visible half (and from nothing else)."""
    torch.manual_seed(0)
    head = ReconstructionHead(4, (4, 4), depth=1, heads=2)
    opt = torch.optim.Adam(head.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(1)

    def batch():
        scale = torch.tensor([1.0, -1.0, 0.5, 2.0])[:, None, None]
        a = torch.randn(16, 1, 1, 1, generator=g) * scale
        return a.expand(16, 4, 4, 4).clone()

    for _ in range(300):
        x = batch()
        masked, _ = stochastic_mask(x, q=0.5, generator=g)
        loss = torch.nn.functional.mse_loss(head(masked), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = batch()
    baseline = float(x.pow(2).mean())  # predicting zeros
    with torch.no_grad():
        trained = float(torch.nn.functional.mse_loss(head(stochastic_mask(x, generator=g)[0]), x))
    assert trained < 0.2 * baseline


def test_regularizer_gives_gradients_to_the_features_and_reports_the_mask():
    x = torch.randn(2, 8, 4, 4, requires_grad=True)
    for mode in ("stochastic", "adaptive"):
        cr = ContextualRegularizer(8, (4, 4), mode=mode, q=0.5, reduction=4, heads=2,
                                   budget=1.0)
        loss, info = cr(x)
        loss.backward()
        assert x.grad is not None and x.grad.abs().sum() > 0
        assert set(info) == {"mse", "kept"} and 0 <= info["kept"] <= 1
        x.grad = None
    cr = ContextualRegularizer(8, (4, 4), heads=2, detach_target=True)
    loss, info = cr(x)
    assert info["kept"] == 0.5


def test_budget_penalty_is_added_for_the_adaptive_gate_only():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 4, 4)
    cr = ContextualRegularizer(8, (4, 4), mode="adaptive", q=0.5, reduction=4, heads=2,
                               budget=10.0)
    loss, info = cr(x)
    expected = info["mse"] + 10.0 * (info["kept"] - 0.5) ** 2
    assert abs(loss.item() - expected) < 1e-5
