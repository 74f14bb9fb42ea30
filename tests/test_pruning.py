"""dentpy.pruning: Taylor scores by hand and against torch-pruning, real removal, cost counters."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torch_pruning as tp
from scipy import stats
from torch import nn

from dentpy import pruning
from dentpy.models import UNet


def _randomise_norms(model: nn.Module, seed: int = 0) -> nn.Module:
    """Batch-norm layers with non-trivial statistics and affine terms (as after training)."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) * 0.4 - 0.2)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=g) * 0.3 + 0.1)
    return model


def _unet_world(seed: int = 0):
    torch.manual_seed(seed)
    model = _randomise_norms(UNet(2, 1, 1, width=4, depth=3), seed).eval()
    x = torch.randn(3, 1, 16, 16)
    y = (torch.rand(3, 1, 16, 16) > 0.5).float()
    return model, x, y


def test_known_answer_on_a_two_layer_network():
    """conv1 (1x1) -> ReLU -> conv2 (1x1, no bias), E = sum of outputs: dE/da_c = w2_c, so
    s[n, c] = w2_c * sum(a[n, c]) at the activation and w2_c * sum(z[n, c] * [z > 0]) at the
    convolution (the ReLU passes the gradient only where z > 0)."""
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(1, 3, 1), nn.ReLU(), nn.Conv2d(3, 1, 1, bias=False))
    x = torch.randn(5, 1, 4, 4)
    z = net[0](x).detach()
    a = z.clamp_min(0)
    w2 = net[2].weight.detach().view(3)
    s_act = w2 * a.sum((2, 3))  # (5, 3)
    s_conv = w2 * (z * (z > 0)).sum((2, 3))
    layers = {"0": net[0]}

    def loss(out, _):
        return out.sum()

    def close(actual, expected):  # a float32 network: float32 rounding, whatever the CPU
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)

    def score(**kw):
        return pruning.taylor_importance(net, [(x, None)], loss, layers=layers, **kw)["0"]

    close(score(reduction="abs", site="activation"),
          s_act.abs().mean(0).double())
    close(score(reduction="squared", site="activation"),
          s_act.square().mean(0).double())
    close(score(reduction="sum", site="activation"),
          s_act.sum(0).abs().double())
    close(score(reduction="sum", site="conv"), s_conv.sum(0).abs().double())
    # two batches give the same scores as one batch of all examples
    split = pruning.taylor_importance(net, [(x[:2], None), (x[2:], None)], loss, layers=layers,
                                      reduction="squared", site="activation")["0"]
    close(split, s_act.square().mean(0).double())
    # normalised: each example's output gradient has unit norm, here 1/sqrt(16) per pixel
    close(score(reduction="abs", site="activation", normalise=True),
          (s_act / 4).abs().mean(0).double())


def test_sum_at_the_conv_output_equals_torch_pruning_taylor():
    model, x, y = _unet_world()
    layers = pruning.prunable_convs(model, exclude=[model.head])
    ours = pruning.taylor_importance(model, [(x, y)], F.binary_cross_entropy_with_logits,
                                     layers=layers, reduction="sum", site="conv")
    model.zero_grad()
    F.binary_cross_entropy_with_logits(model(x), y).backward()
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=x)
    theirs = tp.importance.TaylorImportance(multivariable=True, group_reduction="first",
                                            normalizer=None)
    for name, conv in layers.items():
        group = graph.get_pruning_group(conv, tp.prune_conv_out_channels,
                                        list(range(conv.out_channels)))
        torch.testing.assert_close(theirs(group).double(), ours[name], rtol=1e-3,
                                   atol=1e-5 * float(ours[name].max()))


def test_importance_leaves_mode_and_gradients_alone():
    model, x, y = _unet_world()
    model.train()
    layers = pruning.prunable_convs(model, exclude=[model.head])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pruning.taylor_importance(model, [(x, y)], F.binary_cross_entropy_with_logits,
                              layers=layers, normalise=True, site="activation")
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k])  # running statistics untouched


def test_removal_equals_zeroing_the_channels_and_shrinks_the_network():
    model, x, y = _unet_world(2)
    layers = pruning.prunable_convs(model, exclude=[model.head])
    scores = pruning.taylor_importance(model, [(x, y)], F.binary_cross_entropy_with_logits,
                                       layers=layers, site="activation", normalise=True)
    reference = copy.deepcopy(model)
    n_total = sum(m.out_channels for m in layers.values())
    removed = pruning.prune_lowest(model, scores, n_total // 2, layers=layers, example=x,
                                   min_channels=1)
    assert sum(map(len, removed.values())) == n_total // 2
    for name, conv in layers.items():  # the same module objects, now smaller
        assert conv.out_channels == reference.get_submodule(name).out_channels - len(
            removed[name]) >= 1
        order = scores[name].argsort()
        kept_scores = np.delete(scores[name].numpy(), removed[name])
        if removed[name] and kept_scores.size:  # within a layer, the lowest went first
            assert scores[name][removed[name]].max() <= kept_scores.min() or \
                conv.out_channels == 1, (name, order)
    for name, channels in removed.items():
        def zero(_m, _i, out, channels=channels):
            out = out.clone()
            out[:, channels] = 0
            return out
        pruning._activation_after(reference, name).register_forward_hook(zero)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=1e-5, atol=1e-5)
    assert pruning.count_parameters(model) < pruning.count_parameters(reference)
    assert pruning.count_flops(model, x) < pruning.count_flops(reference, x)


def test_global_removal_matches_torch_pruning_global_pruner():
    model, x, y = _unet_world(3)
    layers = pruning.prunable_convs(model, exclude=[model.head])
    scores = pruning.taylor_importance(model, [(x, y)], F.binary_cross_entropy_with_logits,
                                       layers=layers, reduction="sum", site="conv")
    lowest = torch.cat(list(scores.values())).sort().values[:11]
    assert torch.all(lowest.diff() > 0)  # no ties at the threshold: the ranking is unique
    theirs = copy.deepcopy(model)
    theirs.zero_grad()
    F.binary_cross_entropy_with_logits(theirs(x), y).backward()
    n_total = sum(m.out_channels for m in layers.values())
    pruner = tp.pruner.BasePruner(
        theirs, x, global_pruning=True, pruning_ratio=10 / n_total,
        importance=tp.importance.TaylorImportance(multivariable=True, group_reduction="first",
                                                  normalizer=None),
        ignored_layers=[theirs.head, *theirs.ups])
    pruner.step()
    pruning.prune_lowest(model, scores, 10, layers=layers, example=x)
    for ours, reference in zip(model.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(ours, reference)


def _ripples(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A second world: 1-D signals (sums of two sines plus noise), target = the slow sine."""
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, 64)
    f1 = 1 + 2 * torch.rand(n, 1, 1, generator=g)
    f2 = 12 + 6 * torch.rand(n, 1, 1, generator=g)
    slow = torch.sin(2 * torch.pi * f1 * t)
    x = slow + 0.7 * torch.sin(2 * torch.pi * f2 * t) + 0.1 * torch.randn(n, 1, 64, generator=g)
    return x, slow


def test_second_world_dead_channels_and_first_order_ranking():
    """A Conv1d denoiser trained on another generator: channels without outgoing weights score
    exactly 0 and their removal changes nothing; the Taylor score ranks the real loss increase
    of zeroing each channel."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv1d(1, 12, 5, padding=2), nn.ReLU(),
                        nn.Conv1d(12, 12, 5, padding=2), nn.ReLU(), nn.Conv1d(12, 1, 1))
    x, target = _ripples(64, 0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        F.mse_loss(net(x), target).backward()
        opt.step()
    x_val, t_val = _ripples(32, 1)
    layers = pruning.prunable_convs(net, exclude=[net[4]])
    assert list(layers) == ["0", "2"]
    scores = pruning.taylor_importance(net, [(x_val, t_val)], F.mse_loss, layers=layers,
                                       reduction="abs", site="activation")
    base = F.mse_loss(net(x_val), t_val).item()
    true_change = []
    for c in range(12):
        hook = net[3].register_forward_hook(
            lambda _m, _i, out, c=c: out.index_fill(1, torch.tensor([c]), 0.0))
        with torch.no_grad():
            true_change.append(abs(F.mse_loss(net(x_val), t_val).item() - base))
        hook.remove()
    rho = stats.spearmanr(scores["2"].numpy(), true_change).statistic
    assert rho > 0.6, rho

    live = [c for c in range(12) if scores["2"][c] > 0]
    dead = live[:3]
    with torch.no_grad():
        net[4].weight[:, dead] = 0
    scores = pruning.taylor_importance(net, [(x_val, t_val)], F.mse_loss, layers=layers,
                                       reduction="squared", site="activation")
    assert torch.all(scores["2"][dead] == 0) and torch.all(scores["2"][live[3:]] > 0)
    zeros = int(sum((s == 0).sum() for s in scores.values()))
    before = net(x_val).detach()
    removed = pruning.prune_lowest(net, scores, zeros, layers=layers, example=x_val)
    assert set(dead) <= set(removed["2"])
    assert net[2].out_channels == 12 - len(removed["2"]) == net[4].in_channels
    torch.testing.assert_close(net(x_val).detach(), before)  # channels that did nothing


def test_coupled_layers_raise():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(1, 4, 3, padding=1)
            self.b = nn.Conv2d(4, 4, 3, padding=1)
            self.c = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            h = self.a(x)
            return self.c(torch.relu(h + self.b(torch.relu(h))))

    net = Residual()
    x = torch.randn(1, 1, 8, 8)
    layers = {"a": net.a, "b": net.b}
    scores = {"a": torch.tensor([0.0, 1, 2, 3]), "b": torch.tensor([5.0, 6, 7, 8])}
    with pytest.raises(ValueError, match="share their output channels"):
        pruning.prune_lowest(net, scores, 1, layers=layers, example=x)


def test_min_channels_moves_on_to_the_next_layer():
    model, x, _ = _unet_world()
    layers = pruning.prunable_convs(model, exclude=[model.head])
    first = next(iter(layers))
    scores = {n: torch.full((m.out_channels,), 10.0) for n, m in layers.items()}
    scores[first] = torch.zeros(layers[first].out_channels)
    width = layers[first].out_channels
    removed = pruning.prune_lowest(model, scores, width, layers=layers, example=x,
                                   min_channels=2)
    assert len(removed[first]) == width - 2
    assert sum(map(len, removed.values())) == width
    assert layers[first].out_channels == 2


def test_schedule_flops_params_and_latency():
    assert pruning.pruning_schedule(0.6, 3) == pytest.approx([0.2, 0.4, 0.6])
    geometric = pruning.pruning_schedule(0.75, 2, kind="geometric")
    assert geometric == pytest.approx([0.5, 0.75])
    conv = nn.Conv2d(2, 4, 3, padding=1)
    x = torch.randn(1, 2, 8, 8)
    assert pruning.count_flops(conv, x) == 2 * 4 * 2 * 9 * 64  # 2 x multiply-adds
    assert pruning.count_parameters(conv) == 4 * 2 * 9 + 4
    seconds = pruning.time_latency([conv, nn.Identity()], x, repeats=4, warmup=1, threads=1)
    assert seconds.shape == (2, 4) and np.all(seconds > 0)
    assert pruning.time_latency(conv, x, repeats=3).shape == (3,)
    assert torch.get_num_threads() >= 1
