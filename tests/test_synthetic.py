"""Tests of dentpy.data.synthetic: determinism, ranges, and consistency of every label."""

import numpy as np
import pytest
from scipy import ndimage

from dentpy.data.synthetic import (
    DAC_CLASS_RANGES,
    MIN_PANORAMIC_SIZE,
    make_panoramic,
    make_volume,
    restoration_class,
)

SIZE = (128, 224)


@pytest.fixture(scope="module")
def samples():
    return [make_panoramic(i, seed=3, size=SIZE) for i in range(24)]


def test_same_seed_same_bytes_and_different_seed_differs():
    a = make_panoramic(5, seed=1, size=SIZE)
    b = make_panoramic(5, seed=1, size=SIZE)
    c = make_panoramic(5, seed=2, size=SIZE)
    d = make_panoramic(6, seed=1, size=SIZE)
    assert a.image.tobytes() == b.image.tobytes()
    assert a.instance_mask.tobytes() == b.instance_mask.tobytes()
    np.testing.assert_array_equal(a.tooth_boxes, b.tooth_boxes)
    assert a.image.tobytes() != c.image.tobytes()
    assert a.image.tobytes() != d.image.tobytes()
    va, vb = make_volume(2, seed=1, size=(16, 24, 24)), make_volume(2, seed=1, size=(16, 24, 24))
    assert va.image.tobytes() == vb.image.tobytes()
    assert va.image.tobytes() != make_volume(2, seed=4, size=(16, 24, 24)).image.tobytes()


def test_dtypes_shapes_and_ranges(samples):
    for s in samples:
        assert s.image.shape == SIZE and s.image.dtype == np.float32
        assert 0.0 <= s.image.min() and s.image.max() <= 1.0
        for m in (s.tooth_mask, s.restoration_mask, s.lesion_mask, s.mandible_mask, s.cortex_mask):
            assert m.shape == SIZE and m.dtype == np.uint8 and m.max() <= 1
        assert s.instance_mask.dtype == np.int32
        n = len(s.tooth_fdi)
        assert s.tooth_boxes.shape == (n, 4) and s.tooth_boxes.dtype == np.float32
        assert s.instance_mask.max() == n
        assert s.tooth_fdi.dtype == np.int64 and np.all(np.diff(s.tooth_fdi) > 0)
        assert set(s.tooth_fdi % 10) <= set(range(1, 9)) and set(s.tooth_fdi // 10) <= {1, 2, 3, 4}
        assert 24 <= n <= 32 and s.device in (0, 1) and s.patient_id.startswith("syn-3-")
        assert s.mandible_mask.any() and s.cortex_mask.any()
        assert not (s.cortex_mask & (1 - s.mandible_mask)).any()


def test_integer_outputs_use_the_device_range():
    f = make_panoramic(0, size=SIZE)
    u8 = make_panoramic(0, size=SIZE, dtype="uint8")
    u16 = make_panoramic(0, size=SIZE, dtype="uint16")
    assert u8.image.dtype == np.uint8 and u8.max_value == 255
    assert u16.image.dtype == np.uint16 and u16.max_value == (4095 if f.device == 0 else 65535)
    assert u16.image.max() <= u16.max_value
    np.testing.assert_allclose(u8.image / 255.0, f.image, atol=0.5 / 255 + 1e-6)


def test_restoration_count_matches_the_restored_teeth(samples):
    for s in samples:
        labels = np.unique(s.instance_mask[s.restoration_mask > 0])
        restored = labels[labels > 0]
        assert restored.size == s.restoration_count
        assert s.restoration_class == restoration_class(s.restoration_count)
        lo, hi = DAC_CLASS_RANGES[s.restoration_class]
        assert lo <= s.restoration_count <= hi
        # restorations of a tooth lie inside that tooth, except bridge pontics outside all teeth
        _, n_parts = ndimage.label(s.restoration_mask)
        assert (s.restoration_count == 0) == (n_parts == 0)


def test_tooth_boxes_are_the_instance_extents_and_inside_the_roi(samples):
    for s in samples:
        for k, box in enumerate(s.tooth_boxes, start=1):
            rows, cols = np.nonzero(s.instance_mask == k)
            np.testing.assert_array_equal(
                box, [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
            )
        x0, y0, x1, y1 = s.roi_box
        b = s.tooth_boxes
        assert x0 <= b[:, 0].min() and y0 <= b[:, 1].min()
        assert b[:, 2].max() <= x1 and b[:, 3].max() <= y1
        assert 0 <= x0 < x1 <= SIZE[1] and 0 <= y0 < y1 <= SIZE[0]
        assert np.array_equal(s.tooth_mask > 0, s.instance_mask > 0)
        assert not (s.lesion_mask & (1 - s.tooth_mask)).any()


def test_osteoporosis_label_follows_t_score_and_thins_the_cortex():
    s = [make_panoramic(i, seed=7, size=(96, 160)) for i in range(60)]
    t = np.array([x.t_score for x in s])
    op = np.array([x.osteoporotic for x in s])
    cw = np.array([x.cortical_width_mm for x in s])
    np.testing.assert_array_equal(op == 1, t <= -2.5)
    assert 0.15 < op.mean() < 0.75
    assert cw[op == 1].mean() < cw[op == 0].mean() - 0.5
    assert np.all((cw > 0.5) & (cw < 8))


def test_all_five_restoration_classes_appear():
    classes = [make_panoramic(i, seed=11, size=(96, 160)).restoration_class for i in range(200)]
    counts = np.bincount(classes, minlength=5)
    assert counts.size == 5 and counts.min() >= 20


@pytest.mark.parametrize("size", [MIN_PANORAMIC_SIZE, (200, 480), (300, 300)])
def test_other_sizes_and_aspects_keep_labels_consistent(size):
    for i in range(3):
        s = make_panoramic(i, seed=0, size=size)
        assert s.image.shape == size and s.instance_mask.max() == len(s.tooth_fdi)
        labels = np.unique(s.instance_mask[s.restoration_mask > 0])
        assert (labels > 0).sum() == s.restoration_count


def test_restoration_class_edges():
    assert [restoration_class(c) for c in (0, 1, 3, 4, 6, 7, 11, 12, 32)] == [
        0,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
    ]
    for bad in (-1, 33, 2.0, True):
        with pytest.raises(ValueError, match="count"):
            restoration_class(bad)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"index": -1}, "index"),
        ({"index": 1.5}, "index"),
        ({"seed": -3}, "seed"),
        ({"seed": 1.0}, "seed"),
        ({"seed": "0"}, "seed"),
        ({"size": (64, 64)}, "size"),
        ({"size": (256,)}, "size"),
        ({"size": (256.0, 512)}, "size"),
        ({"dtype": "float64"}, "dtype"),
    ],
)
def test_bad_panoramic_input(kwargs, match):
    args = {"index": 0, **kwargs}
    index = args.pop("index")
    with pytest.raises(ValueError, match=match):
        make_panoramic(index, **args)


def test_volume_labels_and_geometry():
    v = make_volume(0, seed=0, size=(24, 32, 40))
    assert v.image.shape == (24, 32, 40) and v.image.dtype == np.float32
    assert 0 <= v.image.min() and v.image.max() <= 2100
    assert v.canal_mask.any() and v.teeth_mask.any()
    assert not (v.canal_mask & (1 - v.bone_mask)).any()
    # the canal is darker than the bone around it
    assert (
        v.image[v.canal_mask > 0].mean() < v.image[(v.bone_mask > 0) & (v.canal_mask == 0)].mean()
    )
    np.testing.assert_allclose(v.direction.T @ v.direction, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(v.affine[:3, :3], v.direction * v.spacing, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(v.affine[:3, :3], axis=0), v.spacing)
    assert len(set(np.round(v.spacing, 6))) == 3  # anisotropic
    # axis 0 runs (mostly) inferior to superior
    assert np.argmax(np.abs(v.direction[:, 0])) == 2 and v.direction[2, 0] > 0


def test_bad_volume_input():
    with pytest.raises(ValueError, match="size"):
        make_volume(0, size=(8, 24, 24))
    with pytest.raises(ValueError, match="seed"):
        make_volume(0, seed=-1)
    with pytest.raises(ValueError, match="index"):
        make_volume(-2)
