"""dentpy.data.phantoms.histology: seeding, classes and the look of the stains."""

from __future__ import annotations

import numpy as np

from dentpy.data.phantoms.histology import HISTOLOGY_CLASSES, make_histology, make_histology_batch


def test_pure_function_of_seed_and_index() -> None:
    a, b = make_histology(3, seed=1), make_histology(3, seed=1)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, make_histology(4, seed=1).image)
    assert not np.array_equal(a.image, make_histology(3, seed=2).image)
    images, masks = make_histology_batch(3, seed=1, start=2)
    np.testing.assert_array_equal(images[1], a.image)
    np.testing.assert_array_equal(masks[1], a.mask)


def test_classes_and_colours() -> None:
    images, masks = make_histology_batch(24, seed=0, size=48)
    assert images.shape == (24, 3, 48, 48) and images.dtype == np.float32
    assert masks.shape == (24, 48, 48)
    assert set(np.unique(masks)) == set(range(len(HISTOLOGY_CLASSES)))
    assert 0 <= images.min() and images.max() <= 1
    stroma, inflam = masks == 0, masks == 2
    rgb = images.transpose(0, 2, 3, 1)
    # stroma is pink (green absorbed most), inflammatory nuclei are the darkest class
    assert rgb[stroma][:, 1].mean() < rgb[stroma][:, 0].mean()
    brightness = rgb.mean(-1)
    assert brightness[inflam].mean() < brightness[masks == 3].mean() < brightness[stroma].mean()
    # the stain varies from tile to tile
    assert np.std([make_histology(i).stain_strength for i in range(20)]) > 0.1
