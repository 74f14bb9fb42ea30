"""Tests of dentpy.federated: attention gate, tiny attention U-Net, FedAvg / FedProx."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dentpy.federated import (
    AttentionGate,
    TinyAttentionUNet,
    client_seed,
    fedavg,
    local_update,
    partition_clients,
    proximal_term,
    run_federated,
    segmentation_scores,
)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_attention_gate_matches_monai():
    attentionunet = pytest.importorskip("monai.networks.nets.attentionunet")
    torch.manual_seed(0)
    theirs = attentionunet.AttentionBlock(spatial_dims=2, f_int=3, f_g=5, f_l=4)
    ours = AttentionGate(4, 5, 3, norm="batch")
    ours.load_state_dict(dict(zip(ours.state_dict(), theirs.state_dict().values(), strict=True)))
    x, g = torch.randn(3, 4, 6, 7), torch.randn(3, 5, 6, 7)
    torch.testing.assert_close(ours(x, g), theirs(g, x))
    ours.eval()
    theirs.eval()
    torch.testing.assert_close(ours(x, g), theirs(g, x))


def test_attention_gate_known_answer():
    gate = AttentionGate(2, 2, 2)
    with torch.no_grad():
        for p in gate.parameters():
            p.zero_()
        gate.psi[0].bias.fill_(np.log(3.0))  # sigmoid(log 3) = 3/4 everywhere
    x = torch.randn(1, 2, 4, 4)
    torch.testing.assert_close(gate(x, torch.randn(1, 2, 4, 4)), 0.75 * x)
    torch.testing.assert_close(gate.alpha, torch.full((1, 1, 4, 4), 0.75))


def test_unet_shapes_and_gradients():
    net = TinyAttentionUNet(in_channels=2, out_channels=3, base=4, depth=2)
    out = net(torch.randn(2, 2, 16, 24))
    assert out.shape == (2, 3, 16, 24)
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())


def test_proximal_term_value_and_gradient():
    net = nn.Linear(3, 2)
    anchor = {k: v.detach().clone() for k, v in net.state_dict().items()}
    assert proximal_term(net, anchor).item() == 0.0
    with torch.no_grad():
        net.weight.add_(0.5)
    term = proximal_term(net, anchor)
    torch.testing.assert_close(term.item(), 6 * 0.25)
    term.backward()  # d/dw ||w - w0||^2 = 2 (w - w0)
    torch.testing.assert_close(net.weight.grad, torch.full((2, 3), 1.0))
    torch.testing.assert_close(net.bias.grad, torch.zeros(2))


def test_fedavg_known_answer():
    a = {"w": torch.zeros(2), "n": torch.tensor(7)}
    b = {"w": torch.ones(2) * 4, "n": torch.tensor(7)}
    out = fedavg([a, b], [1, 3])
    torch.testing.assert_close(out["w"], torch.full((2,), 3.0))
    assert int(out["n"]) == 7


def test_partition_clients_knob():
    home = np.repeat([0, 1, 2], 200)
    strict = partition_clients(home, 3, 1.0, seed=0)
    for k, part in enumerate(strict):
        assert (home[part] == k).all()
    iid = partition_clients(home, 3, 0.0, seed=0)
    assert sorted(np.concatenate(iid).tolist()) == list(range(600))
    for part in iid:  # each client gets about a third of each kind
        shares = np.bincount(home[part], minlength=3) / len(part)
        assert np.all(np.abs(shares - 1 / 3) < 0.1)
    half = partition_clients(home, 3, 0.5, seed=0)
    stay = np.mean([np.mean(home[p] == k) for k, p in enumerate(half)])
    assert 0.55 < stay < 0.8  # 0.5 stay + 0.5 * 1/3 by chance = 2/3


def _discs(n, seed, device):
    """A second world, not the dental one: bright or dark discs on noise (two 'devices')."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:16, :16]
    images, masks = [], []
    for _ in range(n):
        cy, cx, r = rng.uniform(5, 11), rng.uniform(5, 11), rng.uniform(2.5, 4.5)
        mask = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r ** 2).astype(np.float32)
        contrast, offset = (1.0, 0.5) if device == 0 else (0.7, 0.3)
        images.append(offset + contrast * 0.3 * mask + rng.normal(0, 0.1, mask.shape))
        masks.append(mask)
    return (torch.tensor(np.array(images), dtype=torch.float32)[:, None],
            torch.tensor(np.array(masks))[:, None])


def test_local_update_is_deterministic_and_prox_stays_closer():
    x, m = _discs(8, 0, 0)
    torch.manual_seed(0)
    net = TinyAttentionUNet(base=4, depth=1)
    start = {k: v.clone() for k, v in net.state_dict().items()}
    a, n, _ = local_update(net, x, m, global_state=start, epochs=2, batch_size=4, lr=1e-2, seed=3)
    b, _, _ = local_update(net, x, m, global_state=start, epochs=2, batch_size=4, lr=1e-2, seed=3)
    assert n == 8
    torch.testing.assert_close(a, b)
    c, _, _ = local_update(net, x, m, global_state=start, mu=50.0, epochs=2, batch_size=4,
                           lr=1e-2, seed=3)

    def distance(s):
        return sum(float((s[k] - start[k]).pow(2).sum()) for k in start)

    assert distance(c) < distance(a)


def test_run_federated_one_client_equals_local_update():
    x, m = _discs(6, 1, 0)
    torch.manual_seed(0)
    init = {k: v.clone() for k, v in TinyAttentionUNet(base=4, depth=1).state_dict().items()}
    fed, history = run_federated(lambda: TinyAttentionUNet(base=4, depth=1), [(x, m)], rounds=1,
                                 batch_size=3, init_state=init, seed=5)
    local, _, _ = local_update(TinyAttentionUNet(base=4, depth=1), x, m, global_state=init,
                               batch_size=3, seed=client_seed(5, 1, 0))
    torch.testing.assert_close(fed, local)
    assert [h["round"] for h in history] == [0, 1]


def test_federation_learns_on_a_second_world():
    clients = [_discs(12, 10, 0), _discs(12, 11, 1)]
    x_val, m_val = (torch.cat(t) for t in zip(_discs(6, 12, 0), _discs(6, 13, 1), strict=True))

    def score(model, round_):
        return {"iou": float(segmentation_scores(model(x_val), m_val)["iou"].mean())}

    torch.manual_seed(0)
    _, history = run_federated(lambda: TinyAttentionUNet(base=4, depth=1), clients, rounds=4,
                               mu=0.01, local_epochs=3, batch_size=4, lr=3e-3, eval_fn=score)
    constant = float(m_val.mean())  # IoU of calling everything foreground
    assert history[-1]["iou"] > constant + 0.3, history


def test_segmentation_scores_known_answers():
    target = torch.zeros(2, 1, 2, 2)
    target[0, 0, 0, :] = 1
    logits = torch.full((2, 1, 2, 2), -1.0)
    logits[0, 0, 0, 0] = 1.0
    s = segmentation_scores(logits, target)
    np.testing.assert_allclose(s["iou"], [0.5, 1.0])
    np.testing.assert_allclose(s["dice"], [2 / 3, 1.0])
    np.testing.assert_allclose(s["accuracy"], [0.75, 1.0])
