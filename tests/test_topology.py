"""dentpy.topology: Betti curves checked against gudhi, scipy counting and known shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from dentpy import topology
from dentpy.topology import betti_curves, euler_curves

gudhi = pytest.importorskip("gudhi")

EIGHT = np.ones((3, 3), dtype=bool)  # 8-connectivity
FOUR = ndimage.generate_binary_structure(2, 1)  # 4-connectivity


def gudhi_curves(image: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Betti curves from gudhi's cubical persistence: intervals with birth <= t < death."""
    complex_ = gudhi.CubicalComplex(top_dimensional_cells=np.asarray(image, dtype=float))
    pairs = complex_.persistence()
    curves = np.zeros((2, len(thresholds)), dtype=np.int64)
    for dim, (birth, death) in pairs:
        if dim < 2:
            curves[dim] += (birth <= thresholds) & (thresholds < death)
    return curves[0], curves[1]


def scipy_curves(image: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per threshold: 8-connected components of the mask, and the 4-connected components of
    its complement that do not reach the border (the holes)."""
    b0, b1 = [], []
    for t in thresholds:
        mask = image <= t
        b0.append(ndimage.label(mask, structure=EIGHT)[1])
        outside = np.pad(~mask, 1, constant_values=True)  # a frame joins all border regions
        b1.append(ndimage.label(outside, structure=FOUR)[1] - 1)
    return np.array(b0), np.array(b1)


def cell_count_euler(image: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """V - E + F of the union of closed pixel squares, counted cell by cell on boolean grids."""
    out = []
    for t in thresholds:
        m = np.pad(image <= t, 1)
        vertices = m[:-1, :-1] | m[:-1, 1:] | m[1:, :-1] | m[1:, 1:]
        horizontal = m[:-1, 1:-1] | m[1:, 1:-1]
        vertical = m[1:-1, :-1] | m[1:-1, 1:]
        out.append(int(vertices.sum()) - int(horizontal.sum() + vertical.sum())
                   + int(m.sum()))
    return np.array(out)


def random_images(seed: int, count: int):
    """Small images of random sizes: integers with many ties, and continuous values."""
    rng = np.random.default_rng(seed)
    for k in range(count):
        h, w = (int(v) for v in rng.integers(1, 14, size=2))
        if k % 2:
            yield rng.integers(0, 6, size=(h, w)).astype(float), np.arange(-1.0, 7.0, 0.5)
        else:
            yield rng.random((h, w)), np.linspace(0, 1, 17)


# ----------------------------------------------------------------------------------------------
# known answers


def test_ring_has_one_hole_until_its_centre_fills():
    ring = np.array([[0, 0, 0], [0, 9, 0], [0, 0, 0]])
    b0, b1 = betti_curves(ring, [-1, 0, 8.9, 9, 10])
    assert b0.tolist() == [0, 1, 1, 1, 1]
    assert b1.tolist() == [0, 1, 1, 0, 0]


def test_corner_contacts_join_components_and_can_close_a_hole():
    checker = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    b0, b1 = betti_curves(checker, [0, 1])
    # the five zeros touch at corners (one component); every 1 reaches the border (no hole)
    assert b0.tolist() == [1, 1] and b1.tolist() == [0, 0]
    # four zeros meeting corner to corner around a 1 enclose it: one component, one hole
    diamond = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    b0, b1 = betti_curves(diamond, [0])
    assert b0.tolist() == [1] and b1.tolist() == [1]


def test_constant_image_is_one_disc_from_its_value_on():
    b0, b1 = betti_curves(np.full((4, 5), 3.0), [2.0, 3.0, 4.0])
    assert b0.tolist() == [0, 1, 1] and b1.tolist() == [0, 0, 0]


def test_paper_style_worked_example_matches_gudhi():
    # a 5x5 image with values 1..5, built for this test (not the paper's figure)
    image = np.array([[1, 3, 1, 3, 1],
                      [3, 4, 3, 2, 3],
                      [1, 3, 5, 3, 1],
                      [2, 3, 3, 4, 3],
                      [1, 2, 1, 3, 1]], dtype=float)
    thresholds = np.arange(1.0, 6.0)
    for ours, reference in zip(betti_curves(image, thresholds), gudhi_curves(image, thresholds),
                               strict=True):
        np.testing.assert_array_equal(ours, reference)


def test_drawn_discs_and_rings_have_their_known_topology():
    """A second, differently made generator: dark discs and dark annuli drawn on a bright field."""
    skdraw = pytest.importorskip("skimage.draw")
    rng = np.random.default_rng(3)
    for n_discs in range(1, 5):
        for n_rings in range(0, 3):
            image = np.ones((64, 96))
            for k in range(n_discs):  # discs on a row, well apart
                rr, cc = skdraw.disk((12, 10 + 22 * k), rng.uniform(3, 6), shape=image.shape)
                image[rr, cc] = rng.uniform(0, 0.2)
            for k in range(n_rings):  # annuli on a lower row
                centre = (44, 16 + 30 * k)
                rr, cc = skdraw.disk(centre, 11, shape=image.shape)
                image[rr, cc] = 0.3
                rr, cc = skdraw.disk(centre, rng.uniform(4, 7), shape=image.shape)
                image[rr, cc] = 1.0
            b0, b1 = betti_curves(image, [0.25, 0.5, 1.0])
            assert b0.tolist() == [n_discs, n_discs + n_rings, 1]
            assert b1.tolist() == [0, n_rings, 0]


# ----------------------------------------------------------------------------------------------
# against gudhi and scipy


def test_equals_gudhi_cubical_persistence():
    for image, thresholds in random_images(0, 120):
        b0, b1 = betti_curves(image, thresholds)
        g0, g1 = gudhi_curves(image, thresholds)
        np.testing.assert_array_equal(b0, g0)
        np.testing.assert_array_equal(b1, g1)


def test_equals_scipy_components_and_holes():
    for image, thresholds in random_images(1, 120):
        b0, b1 = betti_curves(image, thresholds)
        s0, s1 = scipy_curves(image, thresholds)
        np.testing.assert_array_equal(b0, s0)
        np.testing.assert_array_equal(b1, s1)


def test_euler_curve_equals_cell_count_and_betti_difference():
    for image, thresholds in random_images(2, 80):
        chi = euler_curves(image, thresholds)
        np.testing.assert_array_equal(chi, cell_count_euler(image, thresholds))
        s0, s1 = scipy_curves(image, thresholds)
        np.testing.assert_array_equal(chi, s0 - s1)


def test_textured_image_against_gudhi():
    rng = np.random.default_rng(5)
    image = ndimage.gaussian_filter(rng.standard_normal((48, 64)), 1.5)
    thresholds = np.linspace(image.min() - 0.1, image.max() + 0.1, 40)
    for ours, reference in zip(betti_curves(image, thresholds), gudhi_curves(image, thresholds),
                               strict=True):
        np.testing.assert_array_equal(ours, reference)


# ----------------------------------------------------------------------------------------------
# batches, dtypes, symmetries


def test_batch_axes_equal_one_image_at_a_time():
    rng = np.random.default_rng(7)
    images = rng.random((2, 3, 9, 11))
    thresholds = np.linspace(0, 1, 12)
    b0, b1 = betti_curves(images, thresholds)
    assert b0.shape == b1.shape == (2, 3, 12) and b0.dtype == b1.dtype == np.int64
    for i in range(2):
        for j in range(3):
            one0, one1 = betti_curves(images[i, j], thresholds)
            np.testing.assert_array_equal(b0[i, j], one0)
            np.testing.assert_array_equal(b1[i, j], one1)


def test_chunked_labelling_equals_one_call(monkeypatch):
    rng = np.random.default_rng(8)
    images = rng.random((7, 10, 10))
    thresholds = np.linspace(0, 1, 9)
    whole = betti_curves(images, thresholds)
    monkeypatch.setattr(topology, "_CHUNK_VOXELS", 2 * 9 * 100)  # two images per call
    for a, b in zip(whole, betti_curves(images, thresholds), strict=True):
        np.testing.assert_array_equal(a, b)


def test_slice_count_without_raster_order_numbering():
    rng = np.random.default_rng(9)
    masks = rng.random((6, 8, 8)) < 0.4
    labels, count = ndimage.label(masks, structure=topology._STACK_8)
    expected = [len(np.unique(s[s > 0])) for s in labels]
    permutation = np.concatenate([[0], rng.permutation(count) + 1])  # label 0 stays 0
    assert topology._count_per_slice(labels, count).tolist() == expected
    assert topology._count_per_slice(permutation[labels], count).tolist() == expected


def test_integer_bool_and_torch_inputs():
    rng = np.random.default_rng(10)
    image = rng.integers(0, 256, size=(12, 12)).astype(np.uint8)
    thresholds = np.arange(0, 256, 16)
    reference = betti_curves(image.astype(float), thresholds)
    for variant in (image, torch.from_numpy(image), image.astype(np.int64)):
        for a, b in zip(betti_curves(variant, thresholds), reference, strict=True):
            np.testing.assert_array_equal(a, b)
    mask = image > 128  # False = 0 enters at threshold 0, True = 1 does not
    b0, b1 = betti_curves(mask, [0])
    assert b0.tolist() == [ndimage.label(~mask, structure=EIGHT)[1]]
    assert b1.tolist() == [scipy_curves(mask.astype(float), [0.0])[1][0]]


def test_curves_are_invariant_under_rotations_by_90_degrees_and_flips():
    rng = np.random.default_rng(11)
    image = ndimage.gaussian_filter(rng.random((20, 31)), 1.0)
    thresholds = np.linspace(image.min(), image.max(), 25)
    reference = betti_curves(image, thresholds)
    for variant in (np.rot90(image), np.rot90(image, 2), np.fliplr(image), np.flipud(image),
                    image.T):
        for a, b in zip(betti_curves(variant, thresholds), reference, strict=True):
            np.testing.assert_array_equal(a, b)


def test_one_threshold_as_a_number():
    b0, b1 = betti_curves(np.zeros((3, 3)), 0)
    assert b0.tolist() == [1] and b1.tolist() == [0]


# ----------------------------------------------------------------------------------------------
# bad input: one row per public function and argument


BAD = [
    (betti_curves, dict(images=None, thresholds=[0]), "images"),
    (betti_curves, dict(images="image", thresholds=[0]), "images"),
    (betti_curves, dict(images=np.zeros(5), thresholds=[0]), r"images must have shape \(H, W\)"),
    (betti_curves, dict(images=np.zeros((0, 5)), thresholds=[0]), "images must not be empty"),
    (betti_curves, dict(images=np.full((3, 3), np.nan), thresholds=[0]), "images must be finite"),
    (betti_curves, dict(images=np.full((3, 3), np.inf), thresholds=[0]), "images must be finite"),
    (betti_curves, dict(images=np.zeros((3, 3), complex), thresholds=[0]), "images must hold real"),
    (betti_curves, dict(images=[["a", "b"], ["c", "d"]], thresholds=[0]), "images must hold real"),
    (betti_curves, dict(images=np.zeros((3, 3)), thresholds=[]), "thresholds must be a non-empty"),
    (betti_curves, dict(images=np.zeros((3, 3)), thresholds=[[0, 1]]), "thresholds must be a non"),
    (betti_curves, dict(images=np.zeros((3, 3)), thresholds=[1, 0]), "strictly increasing"),
    (betti_curves, dict(images=np.zeros((3, 3)), thresholds=[0, 0]), "strictly increasing"),
    (betti_curves, dict(images=np.zeros((3, 3)), thresholds=[0, np.nan]), "thresholds must be fin"),
    (betti_curves, dict(images=np.zeros((3, 3)), thresholds="0,1"), "thresholds"),
    (betti_curves, dict(images=np.zeros((3, 3)), thresholds=None), "thresholds"),
    (betti_curves, dict(images=np.zeros((3, 3)), thresholds=[True, False]), "thresholds must be"),
    (euler_curves, dict(images=np.zeros(4), thresholds=[0]), r"images must have shape \(H, W\)"),
    (euler_curves, dict(images=np.zeros((3, 3)), thresholds=[2, 1]), "strictly increasing"),
]


@pytest.mark.parametrize(("function", "kwargs", "message"), BAD,
                         ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(BAD)])
def test_bad_input_raises_a_value_error_naming_the_argument(function, kwargs, message):
    with pytest.raises(ValueError, match=message):
        function(**kwargs)
