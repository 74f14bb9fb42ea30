"""MIUA 2023 paper 9: the implant phantom, the four CNN families, the repeated-split interval."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from dentpy.compare import repeated_split_interval
from dentpy.data.phantoms import dental_implants as di
from dentpy.models.families import FAMILIES, InceptionResNetBlock, build_family


def test_phantom_is_a_pure_function_of_seed_and_index():
    a = di.make_implant(5, seed=3, label=2)
    b = di.make_implant(5, seed=3, label=2)
    c = di.make_implant(6, seed=3, label=2)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)
    assert a.image.dtype == np.float32 and a.image.shape == (64, 64)
    assert 0 <= a.image.min() and a.image.max() <= 1
    assert a.maker == "Alveo" and di.IMPLANT_MAKERS.count("Alveo") == 4


def test_set_has_the_requested_counts_and_order():
    images, labels = di.make_implant_set(di.PAPER_COUNTS, size=32)
    assert images.shape == (164, 1, 32, 32) and sum(di.PAPER_COUNTS) == 164
    np.testing.assert_array_equal(np.bincount(labels), di.PAPER_COUNTS)
    np.testing.assert_array_equal(images[0, 0], di.make_implant(0, label=0, size=32).image)


def test_one_detail_systems_differ_only_in_that_detail():
    designs = {name: np.array(v) for name, v in di.IMPLANT_DESIGNS.items()}
    base = designs["Alveo Tapered"]
    for name, changed in (("Alveo Tapered Vent", {7}), ("Alveo Tapered Fine", {3, 4}),
                          ("Alveo Tapered Neck", {5})):
        assert set(np.flatnonzero(designs[name] != base)) == changed, name


def test_vent_is_visible_without_variation():
    plain = di.make_implant(0, label=2, spread=0, pose=0, noise=0).image
    vent = di.make_implant(0, label=3, spread=0, pose=0, noise=0).image
    assert np.abs(plain - vent).max() > 0.2  # the window is darker metal
    assert (np.abs(plain - vent) > 0.05).mean() < 0.02  # and nothing else changes


def test_source_systems_are_not_target_systems():
    targets = np.array(list(di.IMPLANT_DESIGNS.values()))
    for design in di.SOURCE_DESIGNS:
        assert np.abs(targets - design).max(axis=1).min() > 1e-3
    sample = di.make_source_implant(4, size=32)
    assert 0 <= sample.label < di.SOURCE_CLASSES and sample.maker == "source"


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_maps_images_to_logits_and_learns(name):
    torch.manual_seed(0)
    model = build_family(name, 3, width=8)
    assert model(torch.rand(2, 1, 40, 40)).shape == (2, 3)
    # a second, differently built world: bright discs vs bright squares vs empty frames
    x = torch.zeros(48, 1, 24, 24)
    yy, xx = torch.meshgrid(torch.arange(24.0), torch.arange(24.0), indexing="ij")
    labels = torch.arange(48) % 3
    for i, k in enumerate(labels):
        cy, cx = 8 + (i * 5) % 8, 8 + (i * 3) % 8
        if k == 0:
            x[i, 0] = ((yy - cy) ** 2 + (xx - cx) ** 2 <= 16).float()
        elif k == 1:
            x[i, 0] = (((yy - cy).abs() <= 4) & ((xx - cx).abs() <= 4)).float()
    x += 0.05 * torch.randn_like(x)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(80):
        loss = nn.functional.cross_entropy(model(x), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == labels).float().mean()
    assert accuracy > 0.9, accuracy


def test_inception_resnet_block_is_identity_plus_scaled_branch():
    block = InceptionResNetBlock(8, 4, residual_scale=0.0).eval()
    x = torch.rand(1, 8, 6, 6)
    torch.testing.assert_close(block(x), x)  # scale 0 and x >= 0: the block passes x through


def test_repeated_split_interval_matches_the_formula_and_widens():
    scores = np.array([0.02, -0.01, 0.05, 0.03, 0.00, 0.04])
    mean, low, high = repeated_split_interval(scores, n_train=100, n_test=50)
    half = stats.t.ppf(0.975, 5) * scores.std(ddof=1) * np.sqrt(1 / 6 + 0.5)
    np.testing.assert_allclose([mean, low, high], [scores.mean(), mean - half, mean + half])
    _, naive_low, naive_high = repeated_split_interval(scores, n_train=100, n_test=50,
                                                        corrected=False)
    assert naive_high - naive_low < high - low
    assert repeated_split_interval([0.1, 0.1], n_train=5, n_test=5) == (0.1, 0.1, 0.1)
