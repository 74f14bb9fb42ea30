"""dentpy.mbconv: agreement with torchvision's EfficientNet parts, known answers, and a DAE that
learns on a second, differently built world."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.efficientnet import MBConv as TorchvisionMBConv
from torchvision.models.efficientnet import MBConvConfig
from torchvision.ops import SqueezeExcitation

from dentpy.mbconv import (
    EfficientEncoder,
    MBConv,
    ResNetEncoder,
    SegUNet,
    SqueezeExcite,
    corrupt,
    stochastic_depth,
)


def _randomise_bn(module: nn.Module, g: torch.Generator) -> None:
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.3 * torch.randn(m.num_features, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
                m.weight.copy_(1 + 0.2 * torch.randn(m.num_features, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.num_features, generator=g))


def test_squeeze_excite_equals_torchvision() -> None:
    torch.manual_seed(0)
    ref = SqueezeExcitation(12, 3)
    ours = SqueezeExcite(12, 3)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 12, 7, 5)
    torch.testing.assert_close(ours(x), ref(x))


@pytest.mark.parametrize("expand,kernel,stride,c_in,c_out", [
    (4, 3, 1, 16, 16), (6, 5, 2, 16, 24), (1, 3, 1, 32, 32), (4, 3, 2, 8, 16)])
def test_mbconv_equals_torchvision(expand, kernel, stride, c_in, c_out) -> None:
    g = torch.Generator().manual_seed(1)
    torch.manual_seed(1)
    ref = TorchvisionMBConv(MBConvConfig(expand, kernel, stride, c_in, c_out, 1), 0.0,
                            nn.BatchNorm2d).eval()
    _randomise_bn(ref, g)
    ours = MBConv(c_in, c_out, expand=expand, kernel=kernel, stride=stride).eval()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, c_in, 12, 12, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x))
    # training mode too (batch statistics, no stochastic depth)
    ours.train()
    ref.train()
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x))


def test_stochastic_depth_known_answers() -> None:
    x = torch.ones(40000, 2)
    out = stochastic_depth(x, 0.3, True, generator=torch.Generator().manual_seed(0))
    kept = out[:, 0] != 0
    assert torch.all((out == 0).all(1) | torch.isclose(out, torch.tensor(1 / 0.7)).all(1))
    assert abs(kept.float().mean().item() - 0.7) < 0.01
    assert abs(out.mean().item() - 1.0) < 0.02
    assert torch.equal(stochastic_depth(x, 0.3, False), x)
    assert torch.equal(stochastic_depth(x, 1.0, True), torch.zeros_like(x))


def test_mbconv_drop_path_only_while_training() -> None:
    torch.manual_seed(0)
    block = MBConv(8, 8, drop_path=0.5)
    x = torch.randn(64, 8, 6, 6)
    block.eval()
    a, b = block(x), block(x)
    torch.testing.assert_close(a, b)
    block.train()
    with torch.no_grad():
        out = block(x)
    same_as_input = [(out[i] == x[i]).all().item() for i in range(64)]
    assert 10 < sum(same_as_input) < 54  # about half the samples skip the branch


@pytest.mark.parametrize("encoder", [EfficientEncoder(), ResNetEncoder()])
def test_encoders_and_unet_shapes(encoder) -> None:
    feats = encoder(torch.rand(2, 3, 64, 64))
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4]
    assert [f.shape[1] for f in feats] == list(encoder.widths)
    assert SegUNet(encoder, 5)(torch.rand(2, 3, 64, 48)).shape == (2, 5, 64, 48)


def test_corrupt_known_answers() -> None:
    images = torch.rand(4, 3, 16, 16)
    assert torch.equal(corrupt(images, noise=0.0, mask_fraction=0.0), images)
    masked = corrupt(images, noise=0.0, mask_fraction=1.0, patch=4)
    torch.testing.assert_close(masked, images.mean((2, 3), keepdim=True).expand_as(images))
    noisy = corrupt(torch.zeros(8, 3, 32, 32), noise=0.2, mask_fraction=0.0,
                    generator=torch.Generator().manual_seed(0))
    assert abs(noisy.std().item() - 0.2) < 0.01
    # masking is by whole squares: each 4x4 square is either untouched or the mean colour
    part = corrupt(images, noise=0.0, mask_fraction=0.5, patch=4,
                   generator=torch.Generator().manual_seed(1))
    changed = (part != images).any(1).reshape(4, 4, 4, 4, 4).transpose(2, 3)
    per_square = changed.flatten(3).float().mean(-1)
    assert torch.all((per_square == 0) | (per_square > 0.9))


def _stripes(n: int, seed: int) -> torch.Tensor:
    """A second world: oriented colour stripes, nothing like stained tissue."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    angle = torch.rand(n, 1, 1, generator=g) * np.pi
    freq = 0.2 + 0.3 * torch.rand(n, 1, 1, generator=g)
    wave = torch.sin(freq * (xx * torch.cos(angle) + yy * torch.sin(angle)))
    colour = torch.rand(n, 3, 1, 1, generator=g)
    return (0.5 + 0.4 * wave[:, None] * colour).float()


def test_dae_learns_to_undo_corruption_on_stripes() -> None:
    torch.manual_seed(0)
    dae = SegUNet(EfficientEncoder(widths=(8, 16), depths=(1, 1)), 3)
    opt = torch.optim.Adam(dae.parameters(), lr=5e-3)
    train, held_out = _stripes(64, 0), _stripes(16, 1)
    g = torch.Generator().manual_seed(0)
    for _ in range(120):
        batch = train[torch.randint(0, 64, (16,), generator=g)]
        loss = F.mse_loss(torch.sigmoid(dae(corrupt(batch, noise=0.1, generator=g))), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    dae.eval()
    bad = corrupt(held_out, noise=0.1, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        restored = torch.sigmoid(dae(bad))
    assert F.mse_loss(restored, held_out) < 0.5 * F.mse_loss(bad, held_out)
