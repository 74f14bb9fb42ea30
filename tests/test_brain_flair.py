"""dentpy.data.phantoms.brain_flair: seeding, classes, stroke types and the two domains."""

from __future__ import annotations

import numpy as np

from dentpy.data.phantoms.brain_flair import (
    BRAIN_FLAIR_CLASSES,
    make_brain_flair,
    make_brain_flair_batch,
)


def test_pure_function_of_seed_quality_and_index() -> None:
    a, b = make_brain_flair(3, seed=1), make_brain_flair(3, seed=1)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, make_brain_flair(4, seed=1).image)
    assert not np.array_equal(a.image, make_brain_flair(3, seed=2).image)
    assert not np.array_equal(a.image, make_brain_flair(3, seed=1, quality="lq").image)
    images, masks, strokes = make_brain_flair_batch(3, seed=1, start=2)
    assert images.shape == (3, 1, 96, 96) and images.dtype == np.float32
    np.testing.assert_array_equal(images[1, 0], a.image)
    np.testing.assert_array_equal(masks[1], a.mask)
    assert strokes[1] == a.stroke


def test_stroke_types() -> None:
    areas = {"cortical": [], "subcortical": []}
    for i in range(12):
        none = make_brain_flair(i, stroke="none", size=64)
        assert (none.mask == 1).any() and not (none.mask == 2).any()
        for kind in areas:
            s = make_brain_flair(i, stroke=kind, size=64)
            assert set(np.unique(s.mask)) == set(range(len(BRAIN_FLAIR_CLASSES)))
            assert not (s.mask[~s.brain]).any()
            areas[kind].append((s.mask == 2).sum())
    # cortical strokes are the large ones
    assert np.median(areas["cortical"]) > 3 * np.median(areas["subcortical"])
    drawn = [make_brain_flair(i).stroke for i in range(60)]
    assert set(drawn) == {"none", "cortical", "subcortical"}


def test_low_quality_domain_has_less_lesion_contrast_and_more_noise() -> None:
    def contrast(quality: str) -> float:
        values = []
        for i in range(8):
            s = make_brain_flair(i, quality=quality, stroke="subcortical")
            brain = s.image[s.brain]
            values.append((s.image[s.mask > 0].mean() - np.median(brain)) / brain.std())
        return float(np.mean(values))

    assert contrast("lq") < 0.8 * contrast("hq")
    hq = make_brain_flair(0, quality="hq")
    lq = make_brain_flair(0, quality="lq")
    air = (slice(0, 6), slice(0, 6))  # outside the head: only the Rician noise floor
    assert lq.image[air].mean() > 1.5 * hq.image[air].mean()
