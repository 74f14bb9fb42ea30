"""dentpy.losses against MONAI and torch, gradient flow, and bad input."""

import pytest
import torch
import torch.nn.functional as F
from monai import losses as monai_losses

from dentpy import losses as L

SHAPES = [(2, 3, 9, 8), (2, 3, 5, 6, 4)]  # (B, C, H, W) and (B, C, D, H, W)


def logits_and_target(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(*shape, generator=g, dtype=torch.float64)
    high = max(shape[1], 2)
    target = torch.randint(0, high, (shape[0], *shape[2:]), generator=g)
    return logits, target


def one_hot(target, channels):
    if channels == 1:
        return target[:, None].double()
    return F.one_hot(target, channels).movedim(-1, 1).double()


# ---------------------------------------------------------------- focal


@pytest.mark.parametrize("shape", [(2, 1, 9, 8), (3, 1, 4, 5, 6)])
@pytest.mark.parametrize("gamma,alpha", [(2.0, None), (2.0, 0.25), (0.5, 0.8), (0.0, None)])
def test_binary_focal_matches_monai(shape, gamma, alpha):
    logits, target = logits_and_target(shape)
    logits = logits.float()  # MONAI's FocalLoss computes in float32
    theirs = monai_losses.FocalLoss(gamma=gamma, alpha=alpha, reduction="none")
    expected = theirs(logits, one_hot(target, 1)).squeeze(1)
    per_voxel = L.focal_loss(logits, target, gamma=gamma, alpha=alpha, reduction="none")
    torch.testing.assert_close(per_voxel, expected)
    ours = L.FocalLoss(gamma, alpha)
    torch.testing.assert_close(ours(logits, target), expected.mean())
    torch.testing.assert_close(ours(logits, one_hot(target, 1).float()), expected.mean())


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("alpha", [None, 0.25, [0.2, 0.5, 0.3]])
def test_multiclass_focal_matches_monai(shape, alpha):
    logits, target = logits_and_target(shape)
    logits = logits.float()
    theirs = monai_losses.FocalLoss(use_softmax=True, alpha=alpha, reduction="none")
    per_channel = theirs(logits, one_hot(target, shape[1]))
    ours = L.focal_loss(logits, target, alpha=alpha, reduction="none")
    torch.testing.assert_close(ours, per_channel.sum(1))
    # MONAI's mean also averages over the channel axis: ours = C × theirs
    mean = L.FocalLoss(alpha=alpha)(logits, target)
    torch.testing.assert_close(mean, shape[1] * per_channel.mean())
    total = L.FocalLoss(alpha=alpha, reduction="sum")(logits, target)
    torch.testing.assert_close(total, ours.sum())


def test_focal_without_focusing_is_cross_entropy():
    logits, target = logits_and_target((4, 5, 6, 6))
    torch.testing.assert_close(
        L.focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target)
    )
    logits, target = logits_and_target((4, 1, 6, 6))
    torch.testing.assert_close(
        L.focal_loss(logits, target, gamma=0.0),
        F.binary_cross_entropy_with_logits(logits, one_hot(target, 1)),
    )
    # plain classification: (B, C) logits, (B,) labels
    logits, target = logits_and_target((7, 4))
    torch.testing.assert_close(
        L.focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target)
    )


# ---------------------------------------------------------------- Dice and Jaccard


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("include_background", [True, False])
@pytest.mark.parametrize("smooth", [1e-5, 1.0])
def test_softmax_dice_matches_monai(shape, include_background, smooth):
    logits, target = logits_and_target(shape, seed=1)
    for reduction in ("mean", "sum", "none"):
        theirs = monai_losses.DiceLoss(
            softmax=True,
            to_onehot_y=True,
            include_background=include_background,
            smooth_nr=smooth,
            smooth_dr=smooth,
            reduction=reduction,
        )(logits, target[:, None])
        ours = L.DiceLoss(smooth=smooth, include_background=include_background, reduction=reduction)
        expected = theirs.reshape(theirs.shape[:2]) if reduction == "none" else theirs
        torch.testing.assert_close(ours(logits, target), expected)
        torch.testing.assert_close(ours(logits, one_hot(target, shape[1])), expected)


@pytest.mark.parametrize("shape", [(3, 1, 8, 7), (2, 1, 4, 5, 6)])
def test_sigmoid_dice_matches_monai(shape):
    logits, target = logits_and_target(shape, seed=2)
    theirs = monai_losses.DiceLoss(sigmoid=True)(logits, one_hot(target, 1))
    torch.testing.assert_close(L.dice_loss(logits, target), theirs)
    # one channel is the foreground: include_background has nothing to drop
    torch.testing.assert_close(L.dice_loss(logits, target, include_background=False), theirs)


@pytest.mark.parametrize("shape", [(2, 3, 9, 8), (2, 1, 9, 8)])
def test_jaccard_matches_monai(shape):
    logits, target = logits_and_target(shape, seed=3)
    s = 1e-3
    theirs = monai_losses.DiceLoss(
        sigmoid=shape[1] == 1,
        softmax=shape[1] > 1,
        jaccard=True,
        smooth_nr=2 * s,
        smooth_dr=2 * s,
    )(logits, one_hot(target, shape[1]))
    torch.testing.assert_close(L.jaccard_loss(logits, target, smooth=s), theirs)


# ---------------------------------------------------------------- composites


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("lambdas", [(1.0, 1.0), (0.3, 1.7)])
def test_dice_ce_matches_monai(shape, lambdas):
    logits, target = logits_and_target(shape, seed=4)
    theirs = monai_losses.DiceCELoss(
        softmax=True,
        to_onehot_y=True,
        include_background=False,
        lambda_dice=lambdas[0],
        lambda_ce=lambdas[1],
    )(logits, target[:, None])
    ours = L.DiceCELoss(*lambdas, include_background=False)
    torch.testing.assert_close(ours(logits, target), theirs)


def test_binary_dice_ce_matches_monai():
    logits, target = logits_and_target((3, 1, 8, 8), seed=5)
    theirs = monai_losses.DiceCELoss(sigmoid=True)(logits, one_hot(target, 1))
    torch.testing.assert_close(L.DiceCELoss()(logits, target), theirs)


@pytest.mark.parametrize("shape", [(2, 3, 9, 8), (2, 1, 9, 8)])
def test_jaccard_focal_is_the_weighted_sum(shape):
    logits, target = logits_and_target(shape, seed=6)
    loss = L.JaccardFocalLoss(0.4, 2.5, gamma=1.5, include_background=False)(logits, target)
    jaccard = monai_losses.DiceLoss(
        sigmoid=shape[1] == 1,
        softmax=shape[1] > 1,
        jaccard=True,
        include_background=shape[1] == 1,
        smooth_nr=2e-5,
        smooth_dr=2e-5,
    )(logits, one_hot(target, shape[1]))
    focal = L.focal_loss(logits, target, gamma=1.5)
    torch.testing.assert_close(loss, 0.4 * jaccard + 2.5 * focal)


# ---------------------------------------------------------------- behaviour


def all_losses():
    return [
        L.FocalLoss(),
        L.FocalLoss(alpha=0.25),
        L.DiceLoss(),
        L.DiceCELoss(),
        L.JaccardFocalLoss(),
    ]


@pytest.mark.parametrize("channels", [1, 3])
def test_gradients_flow(channels):
    logits, target = logits_and_target((2, channels, 6, 7), seed=7)
    for loss_fn in all_losses():
        x = logits.clone().requires_grad_(True)
        loss = loss_fn(x, target)
        loss.backward()
        assert loss.ndim == 0 and torch.isfinite(loss)
        assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0, type(loss_fn).__name__


@pytest.mark.parametrize("channels", [1, 3])
def test_near_zero_when_perfect_and_larger_when_wrong(channels):
    _, target = logits_and_target((2, channels, 6, 7), seed=8)
    hot = one_hot(target, channels)
    perfect = 30.0 * (2 * hot - 1)
    wrong = -perfect
    for loss_fn in all_losses():
        good, bad = loss_fn(perfect, target), loss_fn(wrong, target)
        assert good < 1e-4, type(loss_fn).__name__
        assert bad > 0.5 and bad > good, type(loss_fn).__name__


def test_float32_and_modules_hold_no_parameters():
    logits, target = logits_and_target((2, 3, 5, 5), seed=9)
    for loss_fn in all_losses():
        assert list(loss_fn.parameters()) == []
        assert loss_fn(logits.float(), target).dtype == torch.float32


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("loss_fn", all_losses(), ids=lambda m: type(m).__name__)
def test_bad_input(loss_fn):
    logits, target = logits_and_target((2, 3, 5, 5), seed=10)
    with pytest.raises(ValueError, match="target must be class indices"):
        loss_fn(logits, target[:, :4])
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\)"):
        loss_fn(logits, target + 3)
    with pytest.raises(ValueError, match="class indices must lie"):
        loss_fn(logits, target - 1)
    with pytest.raises(ValueError, match="integer tensor"):
        loss_fn(logits, target.double())
    with pytest.raises(ValueError, match="logits contain NaN"):
        loss_fn(torch.full_like(logits, float("nan")), target)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        loss_fn(logits, 2 * one_hot(target, 3))
    with pytest.raises(ValueError, match="floating-point"):
        loss_fn(target[:, None].expand(-1, 3, -1, -1), target)
    with pytest.raises(ValueError, match="logits must have shape"):
        loss_fn(logits[:0], target[:0])
    binary, _ = logits_and_target((2, 1, 5, 5))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        loss_fn(binary, target)


def test_bad_options():
    logits, target = logits_and_target((2, 3, 5, 5), seed=11)
    with pytest.raises(ValueError, match="reduction"):
        L.DiceLoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        L.focal_loss(logits, target, reduction="avg")
    with pytest.raises(ValueError, match="smooth"):
        L.DiceCELoss(smooth=-1.0)
    with pytest.raises(ValueError, match="lambda_ce"):
        L.DiceCELoss(lambda_ce=-0.5)
    with pytest.raises(ValueError, match="lambda_focal"):
        L.JaccardFocalLoss(lambda_focal=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        L.focal_loss(logits, target, gamma=-1.0)
    with pytest.raises(ValueError, match="alpha must be 3"):
        L.focal_loss(logits, target, alpha=[0.5, 0.5])
    with pytest.raises(ValueError, match="alpha"):
        L.focal_loss(logits[:, :1], target.clamp(max=1), alpha=[0.5])
    with pytest.raises(ValueError, match="spatial axes"):
        L.dice_loss(logits[:, :, 0, 0], target[:, 0, 0])
