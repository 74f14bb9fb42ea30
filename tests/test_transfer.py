"""dentpy.transfer: freezing, per-image Dice, fine-tuning, the protocols on a world of its own."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.metrics import DiceMetric
from torch import nn

import dentpy
from dentpy.models import UNet
from dentpy.transfer import (
    STRATEGIES,
    dice_per_image,
    fit_segmenter,
    freeze,
    run_protocols,
    unet_parts,
)


class Fixed(nn.Module):
    """A 'model' that returns given logits, whatever the input."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = nn.Parameter(logits, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits[: len(x)]


def shapes_world(n: int, seed: int, *, inverted: bool, size: int = 16):
    """A second world, made differently from the dental one: one bright (or, ``inverted``, dark)
    rectangle or ellipse per image on a textured background; the mask is the shape."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images, masks = [], []
    for _ in range(n):
        cy, cx = rng.uniform(size * 0.3, size * 0.7, 2)
        ry, rx = rng.uniform(size * 0.15, size * 0.3, 2)
        if rng.random() < 0.5:
            mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        else:
            mask = (np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= rx)
        background = 0.3 + 0.1 * np.sin(xx / rng.uniform(1.5, 3)) * np.cos(yy / 2.5)
        image = np.where(mask, 0.85, background)
        if inverted:  # another "modality": the shape is dark, the background bright and noisier
            image = 1.0 - image + rng.normal(0, 0.08, image.shape)
        else:
            image = image + rng.normal(0, 0.03, image.shape)
        images.append(image)
        masks.append(mask)
    as_tensor = lambda a: torch.tensor(np.stack(a)[:, None], dtype=torch.float32)  # noqa: E731
    return as_tensor(images), as_tensor(masks)


def small_unet(seed: int = 0) -> UNet:
    torch.manual_seed(seed)
    return UNet(2, 1, 1, width=4, depth=2)


def test_dice_per_image_known_answers_and_monai():
    masks = torch.zeros(3, 1, 4, 4)
    masks[0, 0, :2] = 1  # 8 pixels
    masks[1, 0, :, :1] = 1  # 4 pixels
    pred = torch.zeros(3, 1, 4, 4)
    pred[0, 0, :2] = 1  # exact
    pred[1, 0, :2, :1] = 1  # 2 of the 4: Dice 2*2 / (2 + 4)
    # image 2: both empty, Dice 1
    dice = dice_per_image(Fixed(10 * (2 * pred - 1)), torch.rand(3, 1, 4, 4), masks)
    np.testing.assert_allclose(dice, [1.0, 4 / 6, 1.0])
    metric = DiceMetric(include_background=True, reduction="none", ignore_empty=False)
    np.testing.assert_allclose(dice, metric(pred, masks).squeeze(1).numpy())

    rng = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 1, 8, 8, generator=rng)
    y = (torch.rand(6, 1, 8, 8, generator=rng) > 0.5).float()
    ours = dice_per_image(nn.Identity(), logits, y, threshold=0.3, batch_size=4)  # 2 batches
    reference = metric((torch.sigmoid(logits) > 0.3).float(), y).squeeze(1).numpy()
    np.testing.assert_allclose(ours, reference, rtol=1e-6)


def test_parts_cover_the_unet_once():
    model = small_unet()
    parts = unet_parts(model)
    ids = [id(p) for modules in parts.values() for m in modules for p in m.parameters()]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_freeze_counts_and_undo(strategy):
    model = UNet(2, 1, 1, width=4, depth=3)
    parts = unet_parts(model)
    frozen = freeze(model, strategy)
    count = lambda modules: sum(p.numel() for m in modules for p in m.parameters())  # noqa: E731
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    expected = {"none": count(sum(parts.values(), [])),
                "encoder": count(parts["decoder"] + parts["last"]),
                "all_but_last": count(parts["last"])}[strategy]
    assert trainable == expected
    assert count(frozen) + trainable == sum(p.numel() for p in model.parameters())
    freeze(model, "none")
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("freeze_bn_stats", [True, False])
def test_fit_leaves_frozen_weights_and_batch_norm_statistics(freeze_bn_stats):
    x, y = shapes_world(16, 0, inverted=False)
    model = small_unet()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    history = fit_segmenter(model, (x, y), (x[:4], y[:4]), epochs=2, lr=1e-2, batch_size=8,
                            strategy="encoder", freeze_bn_stats=freeze_bn_stats)
    after = model.state_dict()
    enc_weights = [k for k in before if k.startswith("encoders") and "running" not in k
                   and "num_batches" not in k]
    enc_stats = [k for k in before if k.startswith("encoders") and "running_mean" in k]
    assert enc_weights and enc_stats
    for key in enc_weights:  # frozen: the weights never move
        torch.testing.assert_close(after[key], before[key])
    moved = any(not torch.equal(after[k], before[k]) for k in enc_stats)
    assert moved is (not freeze_bn_stats)  # the statistics move only when not frozen
    assert not torch.equal(after["head.weight"], before["head.weight"])
    assert history.trainable < history.total
    assert all(p.requires_grad for p in model.parameters())  # unfrozen at the end


def test_fit_keeps_the_best_epoch_and_is_reproducible():
    x, y = shapes_world(24, 1, inverted=False)
    train, val = (x[:16], y[:16]), (x[16:], y[16:])
    model = small_unet()
    history = fit_segmenter(model, train, val, epochs=4, lr=1e-2, batch_size=8, keep_start=True)
    assert len(history.val_dice) == len(history.train_loss) == 4
    assert history.best_val_dice == max([history.start_val_dice, *history.val_dice])
    assert dice_per_image(model, *val).mean() == pytest.approx(history.best_val_dice)
    twin = small_unet()
    fit_segmenter(twin, train, val, epochs=4, lr=1e-2, batch_size=8, keep_start=True)
    for a, b in zip(model.state_dict().values(), twin.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_protocols_on_a_second_world():
    """A world the chapter never saw: shapes, and the same shapes in inverted contrast."""
    dentpy.seed_everything(0)
    source = {"train": shapes_world(96, 10, inverted=False), "val": shapes_world(16, 11,
                                                                                 inverted=False)}
    target = {"train": shapes_world(8, 20, inverted=True), "val": shapes_world(16, 21,
                                                                               inverted=True)}
    tests = {"source": shapes_world(32, 30, inverted=False),
             "target": shapes_world(32, 31, inverted=True)}
    result = run_protocols(small_unet, source, target, tests, source_epochs=12,
                           target_epochs=12, source_lr=1e-2, target_lrs=(1e-2,),
                           strategies=("none", "encoder"), batch_size=16)
    dice = {p: {t: float(v.mean()) for t, v in d.items()} for p, d in result.dice.items()}
    assert set(dice) == {"source only", "fine-tuned", "scratch"}
    assert dice["source only"]["source"] > 0.8, dice  # it learned the source
    assert dice["source only"]["target"] < 0.5, dice  # and collapses on the inverted contrast
    assert dice["fine-tuned"]["target"] > dice["source only"]["target"] + 0.3, dice
    assert dice["fine-tuned"]["target"] > dice["scratch"]["target"] + 0.1, dice  # 8 images
    assert dice["fine-tuned"]["source"] < dice["source only"]["source"] - 0.3, dice  # forgotten
    assert {r["protocol"] for r in result.selection} == set(dice)
    assert len(result.selection) == 1 + 2 + 1
    assert result.chosen["fine-tuned"]["strategy"] in ("none", "encoder")
    assert all(v.shape == (32,) for d in result.dice.values() for v in d.values())


def test_protocols_without_tests_touch_no_test_set_and_reuse_a_source_model():
    source = {"train": shapes_world(16, 40, inverted=False), "val": shapes_world(8, 41,
                                                                                inverted=False)}
    target = {"train": shapes_world(4, 42, inverted=True), "val": shapes_world(4, 43,
                                                                               inverted=True)}
    trained = small_unet(1)
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    result = run_protocols(small_unet, source, target, source_model=trained, source_epochs=1,
                           target_epochs=1, target_lrs=(1e-3, 1e-2),
                           strategies=("all_but_last",), batch_size=4)
    assert result.dice == {}
    assert result.models["source only"] is trained
    for key, value in trained.state_dict().items():  # the source model is not fine-tuned itself
        torch.testing.assert_close(value, before[key])
    assert len(result.candidates) == len(result.selection) == 1 + 2 + 2
    assert "source only" not in result.histories
    for row, model in zip(result.selection, result.candidates, strict=True):
        if row["protocol"] != "source only":
            assert dice_per_image(model, *target["val"]).mean() == pytest.approx(row["val_dice"])
