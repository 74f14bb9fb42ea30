"""Tests of dentpy.compare_seg: parameter budgets, the shared training recipe, paired intervals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.losses import DiceCELoss

from dentpy.compare_seg import (
    fit_timed,
    match_unet_width,
    paired_bootstrap,
    seg_loss,
    time_steps,
    unet_parameters,
)
from dentpy.models import UNet
from dentpy.transfer import dice_per_image


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
@pytest.mark.parametrize(("width", "depth", "c_in", "c_out"), [(1, 2, 1, 1), (5, 3, 2, 4),
                                                               (8, 5, 3, 2)])
def test_unet_parameters_equal_the_built_model(dim, norm, width, depth, c_in, c_out):
    model = UNet(dim, c_in, c_out, width=width, depth=depth, norm=norm)
    built = sum(p.numel() for p in model.parameters())
    assert unet_parameters(width, depth=depth, in_channels=c_in, out_channels=c_out, dim=dim,
                           norm=norm) == built


def test_paper_unet_sizes():
    # Ronneberger's U-Net widths [64 ... 1024] have about 31M parameters, [22 ... 352] about 3.7M
    full = unet_parameters(64, depth=5, in_channels=3, out_channels=2, norm="none")
    lite = unet_parameters(22, depth=5, in_channels=3, out_channels=2, norm="none")
    assert 30.5e6 < full < 31.5e6
    assert 3.5e6 < lite < 3.8e6


def test_match_unet_width_known_answers():
    for width in (3, 8, 22):
        exact = unet_parameters(width, depth=5)
        assert match_unet_width(exact, depth=5) == width
        assert match_unet_width(exact + 1, depth=5) == width
    low, high = unet_parameters(8, depth=5), unet_parameters(9, depth=5)
    assert match_unet_width(low + (high - low) // 3, depth=5) == 8
    assert match_unet_width(high - (high - low) // 3, depth=5) == 9
    assert match_unet_width(1) == 1  # below the smallest U-Net


def test_seg_loss_matches_monai_for_one_label_and_averages_labels():
    torch.manual_seed(0)
    logits = torch.randn(3, 1, 8, 8)
    masks = (torch.rand(3, 1, 8, 8) > 0.6).float()
    monai = DiceCELoss(sigmoid=True, lambda_dice=0.5, lambda_ce=0.5)(logits, masks)
    torch.testing.assert_close(seg_loss(logits, masks), monai)
    two = torch.cat([logits, -logits], 1), torch.cat([masks, 1 - masks], 1)
    by_label = (seg_loss(two[0][:, :1], two[1][:, :1]) + seg_loss(two[0][:, 1:], two[1][:, 1:])) / 2
    torch.testing.assert_close(seg_loss(*two), by_label)


class _Fixed(torch.nn.Module):
    """A 'model' returning stored logits, for known-answer Dice."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = torch.nn.Parameter(logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits[: len(x)]


def test_dice_per_image_averages_the_labels():
    """Two labels: the first as in the one-label known answer, the second empty in mask and
    prediction (scores 1) for image 0 and wholly missed for image 1 (scores 0)."""
    masks = torch.zeros(2, 2, 4, 4)
    masks[0, 0, :2] = 1  # 8 pixels
    masks[1, 1, :, :1] = 1  # 4 pixels, none predicted
    logits = torch.full((2, 2, 4, 4), -5.0)
    logits[0, 0, :1] = 5  # 4 of the 8 predicted: Dice 2*4 / (4 + 8)
    model = _Fixed(logits)
    scores = dice_per_image(model, torch.zeros(2, 1, 4, 4), masks)
    np.testing.assert_allclose(scores, [(8 / 12 + 1) / 2, (1 + 0) / 2])
    one_label = [dice_per_image(_Fixed(logits[:, k:k + 1]), torch.zeros(2, 1, 4, 4),
                                masks[:, k:k + 1]) for k in range(2)]
    np.testing.assert_allclose(scores, np.mean(one_label, 0))


def _discs(n: int, seed: int, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """A world unlike the dental one: bright discs and dark squares on smooth noise."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    images, masks = torch.zeros(n, 1, size, size), torch.zeros(n, 1, size, size)
    for i in range(n):
        cx, cy, r = (torch.randint(8, size - 8, (2,), generator=g).tolist()
                     + [int(torch.randint(3, 7, (1,), generator=g))])
        disc = ((xx - cx) ** 2 + (yy - cy) ** 2) <= r * r
        sx, sy = torch.randint(0, size - 6, (2,), generator=g).tolist()
        images[i, 0] = 0.3 * torch.randn(size, size, generator=g)
        images[i, 0, sy:sy + 6, sx:sx + 6] -= 1.0
        images[i, 0][disc] += 1.0
        masks[i, 0][disc] = 1
    return images, masks


def test_fit_timed_learns_on_a_second_world_and_keeps_its_best_epoch():
    torch.manual_seed(0)
    train, val = _discs(32, 1), _discs(16, 2)
    model = UNet(2, 1, 1, width=4, depth=3)
    history = fit_timed(model, train, val, epochs=6, lr=1e-2, batch_size=8, seed=0,
                        snapshot_images=val[0][:2], snapshot_epochs=(1, 6))
    assert len(history.seconds) == len(history.val_dice) == len(history.train_loss) == 6
    assert all(s > 0 for s in history.seconds)
    assert sorted(history.snapshots) == [1, 6]
    assert history.snapshots[6].shape == (2, 1, 32, 32)
    assert history.parameters == sum(p.numel() for p in model.parameters())
    # the model ends with the weights of its best validation epoch
    assert dice_per_image(model, *val).mean() == pytest.approx(history.best_val_dice)
    # and it learned: far above the all-foreground predictor's Dice
    constant = (2 * val[1].sum((1, 2, 3)) / (val[1].sum((1, 2, 3)) + 32 * 32)).mean()
    assert history.best_val_dice > float(constant) + 0.3
    assert history.train_loss[-1] < history.train_loss[0]


def test_fit_timed_is_repeatable_with_a_seed():
    train, val = _discs(8, 3), _discs(4, 4)
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        runs.append(fit_timed(UNet(2, 1, 1, width=2, depth=2), train, val, epochs=2, seed=5))
    assert runs[0].train_loss == runs[1].train_loss


def test_paired_bootstrap_known_answers():
    rng = np.random.default_rng(0)
    b = rng.random((3, 20))
    est, lo, hi = paired_bootstrap(b + 0.1, b)
    assert est == pytest.approx(0.1) and lo == pytest.approx(0.1) and hi == pytest.approx(0.1)
    est, lo, hi = paired_bootstrap(2 * (b + 1), b + 1, kind="relative")
    assert est == pytest.approx(1.0) and lo == pytest.approx(1.0)
    a = b + rng.normal(0.05, 0.1, size=b.shape)
    est, lo, hi = paired_bootstrap(a, b, n_boot=500, seed=3)
    assert lo < est < hi and est == pytest.approx((a - b).mean())
    assert paired_bootstrap(a, b, n_boot=500, seed=3) == (est, lo, hi)
    one = paired_bootstrap(a[0], b[0], n_boot=500)  # one seed: items only
    assert one[0] == pytest.approx((a[0] - b[0]).mean())


def test_paired_bootstrap_wider_with_seed_spread():
    rng = np.random.default_rng(1)
    b = rng.random((4, 30))
    shift = np.array([[0.0], [0.2], [-0.1], [0.3]])  # seeds disagree
    wide = paired_bootstrap(b + shift, b, n_boot=800)
    narrow = paired_bootstrap(b + shift.mean(), b, n_boot=800)
    assert wide[2] - wide[1] > narrow[2] - narrow[1] + 0.1


def test_time_steps_times_every_model_and_leaves_them_unchanged():
    models = {"a": UNet(2, 1, 1, width=2, depth=2), "b": UNet(2, 1, 1, width=4, depth=2)}
    before = {k: [p.clone() for p in m.parameters()] for k, m in models.items()}
    x, y = _discs(4, 5, size=24)
    seconds = time_steps(models, x, y, batch_size=2, repeats=3)
    assert set(seconds) == {"a", "b"}
    assert all(v.shape == (3,) and (v > 0).all() for v in seconds.values())
    for k, m in models.items():
        for p, q in zip(m.parameters(), before[k], strict=True):
            assert torch.equal(p, q)
