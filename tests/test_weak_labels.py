"""Weak labels, their refinement and the simulated rater (dentpy.weak_labels).

Known answers on hand-made masks, agreement with MONAI's Dice, and the refinement run on a
second world built here (discs and squares, bright in one "modality" and dark in the other),
not on the abdominal phantom the chapter tuned it on.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from monai.metrics import DiceMetric

from dentpy.models import UNet
from dentpy.transfer import fit_segmenter
from dentpy.weak_labels import blinded_ab, mask_dice, refine, simulated_rater, weaken_mask


def disc(size: int = 32, cx: float = 16, cy: float = 16, r: float = 8) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    return np.hypot(xx - cx, yy - cy) <= r


def blob_world(n: int, *, bright: bool, seed: int, size: int = 32):
    """Images (n, 1, size, size) and masks: a disc or a square, bright on a dark background
    (``bright=True``) or dark on a bright one with a smooth bias, plus noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    images, masks = [], []
    for _ in range(n):
        cx, cy, r = rng.uniform(11, 21), rng.uniform(11, 21), rng.uniform(5, 8)
        shape = (np.hypot(xx - cx, yy - cy) <= r if rng.random() < 0.5
                 else (abs(xx - cx) <= r * 0.9) & (abs(yy - cy) <= r * 0.9))
        if bright:
            image = 0.2 + 0.6 * shape
        else:
            image = (0.75 - 0.5 * shape) * (1 + 0.2 * np.sin(xx / size * np.pi + rng.uniform(0, 3)))
        images.append(image + 0.05 * rng.standard_normal(image.shape))
        masks.append(shape)
    as_t = lambda a: torch.tensor(np.stack(a)[:, None], dtype=torch.float32)  # noqa: E731
    return as_t(images), as_t(masks)


def test_weaken_mask_identity_and_determinism() -> None:
    mask = disc()
    same = weaken_mask(mask, 0, rotation=0, scale=(1, 1), shift=0, alpha=0)
    np.testing.assert_array_equal(same, mask)
    a, b = weaken_mask(mask, 3), weaken_mask(mask, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, weaken_mask(mask, 4))
    assert not weaken_mask(np.zeros((8, 8), bool), 0).any()


def test_weaken_mask_pure_shift_and_scale() -> None:
    mask = disc(64, 32, 32, 10)
    # a scale of exactly 1.2 on both axes: a disc of radius 12 about the same centre
    bigger = weaken_mask(mask, 0, rotation=0, scale=(1.2, 1.2), shift=0, alpha=0)
    assert abs(bigger.sum() - disc(64, 32, 32, 12).sum()) < 0.06 * bigger.sum()
    # the Dice of weak to true grows as the deformation shrinks
    dice = [np.mean([mask_dice(weaken_mask(mask, s, rotation=k * 10, shift=k * 0.04,
                                           scale=(1 - k * 0.1, 1 + k * 0.1), alpha=k * 3)[None],
                               mask[None])[0] for s in range(20)]) for k in (0.25, 1.0, 2.0)]
    assert dice[0] > dice[1] > dice[2]
    assert 0.75 < dice[1] < 0.95


def test_mask_dice_matches_monai() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((5, 1, 9, 9)) > 0.5
    b = rng.random((5, 1, 9, 9)) > 0.6
    b[0] = a[0] = False  # both empty: 1
    ours = mask_dice(a, b)
    monai = DiceMetric(include_background=True, reduction="none", ignore_empty=False)(
        torch.tensor(a).float(), torch.tensor(b).float()).squeeze(1).numpy()
    np.testing.assert_allclose(ours, monai, rtol=1e-6)
    assert ours[0] == 1.0


def test_simulated_rater_and_blinded_ab_known_answers() -> None:
    truth = np.stack([disc()] * 4)[:, None]
    good = truth.copy()
    bad = np.stack([disc(r=5)] * 4)[:, None]
    close = np.stack([disc(r=8.2)] * 4)[:, None]
    assert list(simulated_rater(truth, good, bad)) == ["left"] * 4
    assert list(simulated_rater(truth, bad, good)) == ["right"] * 4
    assert list(simulated_rater(truth, good, close, margin=0.2)) == ["tie"] * 4
    ab = blinded_ab(truth, good, bad, seed=1)
    assert (ab.model, ab.weak, ab.tie, ab.total) == (4, 0, 0, 4)
    assert 0 < ab.model_left.sum() < 4 or len(set(ab.choices)) == 1
    ab = blinded_ab(truth, bad, good, seed=1)
    assert (ab.model, ab.weak) == (0, 4) and ab.model_share_without_ties == 0.0
    ab = blinded_ab(truth, good, close, margin=0.2)
    assert ab.tie == 4 and np.isnan(ab.model_share_without_ties)


def small_net() -> UNet:
    torch.manual_seed(0)
    return UNet(2, 1, 1, width=4, depth=3)


def test_refine_restarts_from_the_source_and_matches_fit_segmenter() -> None:
    images, masks = blob_world(8, bright=False, seed=1)
    source = small_net()
    before = copy.deepcopy(source.state_dict())
    result = refine(source, images, masks, iterations=2, epochs=1, batch_size=4, lr=1e-3,
                    held_out=images[:3])
    for name, value in source.state_dict().items():  # the source model is untouched
        torch.testing.assert_close(value, before[name])
    assert len(result.masks) == 3 and len(result.held_out) == 2 and len(result.histories) == 2
    torch.testing.assert_close(result.masks[0], masks)
    # iteration 2 = a fresh copy of the source fine-tuned on iteration 1's masks
    model = copy.deepcopy(source)
    fit_segmenter(model, (images, result.masks[1]), (images, result.masks[1]), epochs=1,
                  lr=1e-3, batch_size=4, seed=1)
    with torch.no_grad():
        expected = (torch.sigmoid(model(images)) > 0.5).float()
    torch.testing.assert_close(result.masks[2], expected)
    torch.testing.assert_close(result.held_out[1], expected[:3])


@pytest.mark.filterwarnings("ignore")
def test_refinement_improves_weak_labels_on_another_world() -> None:
    """Pretrained on bright blobs, refined on dark ones with weak masks: one iteration's masks are
    closer to the truth than the weak ones were (the chapter's lesson, on a world it never saw)."""
    torch.set_num_threads(1)
    src_images, src_masks = blob_world(96, bright=True, seed=2)
    torch.manual_seed(0)
    source = UNet(2, 1, 1, width=8, depth=3)
    fit_segmenter(source, (src_images, src_masks), (src_images[:16], src_masks[:16]), epochs=4,
                  lr=3e-3, batch_size=16)
    images, truth = blob_world(48, bright=False, seed=3)
    rng = np.random.default_rng(4)
    weak = torch.tensor(np.stack([weaken_mask(m[0].numpy(), rng, shift=0.06, alpha=3)
                                  for m in truth])[:, None], dtype=torch.float32)
    result = refine(source, images, weak, iterations=1, epochs=6, lr=3e-3, batch_size=8)
    before = mask_dice(weak, truth).mean()
    after = mask_dice(result.masks[1], truth).mean()
    assert after > before + 0.03, (before, after)
