"""The stained-cell phantom: seeded, sites differ, mitoses where the ground truth says."""

from __future__ import annotations

import numpy as np

from dentpy.data.phantoms.cells import STAIN_SITES, make_cell_batch, make_cells


def test_pure_function_of_seed_site_index():
    a, b = make_cells(3, site="B", seed=5), make_cells(3, site="B", seed=5)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.centres, b.centres)
    assert not np.array_equal(a.image, make_cells(4, site="B", seed=5).image)
    assert not np.array_equal(a.image, make_cells(3, site="C", seed=5).image)


def test_shapes_and_ranges():
    s = make_cells(0, size=48, mitoses=3.0)
    assert s.image.shape == (3, 48, 48) and s.image.dtype == np.float32
    assert 0 <= s.image.min() and s.image.max() <= 1
    assert s.centres.shape[1] == 2 and ((s.centres > 0) & (s.centres < 48)).all()
    images, centres = make_cell_batch(4, site="D", start=2)
    assert images.shape == (4, 3, 64, 64) and len(centres) == 4
    np.testing.assert_array_equal(images[1], make_cells(3, site="D").image)


def test_mitoses_are_dark_in_haematoxylin_at_their_centres():
    for i in range(10):
        s = make_cells(i, mitoses=3.0, nuclei=0.0, imposters=0.0)
        for x, y in s.centres:
            patch = s.haematoxylin[int(y) - 3:int(y) + 4, int(x) - 3:int(x) + 4]
            assert patch.max() > 1.0


def test_sites_differ_in_brightness_and_sharpness():
    def stats(site):
        imgs, _ = make_cell_batch(20, site=site, mitoses=0.0)
        grad = np.abs(np.diff(imgs, axis=-1)).mean()
        return imgs.mean(), grad

    mean_a, grad_a = stats("A")
    mean_b, _ = stats("B")
    mean_c, grad_c = stats("C")
    assert mean_b < mean_a < mean_c  # B over-stained, C pale
    assert grad_c < grad_a  # C blurred
    assert set(STAIN_SITES) == {"A", "B", "C", "D"}
