"""Tests of dentpy.data.synthetic: determinism, ranges, and consistency of every label."""

import hashlib

import numpy as np
import pytest
from scipy import ndimage

from dentpy.data.synthetic import (
    DAC_CLASS_RANGES,
    MIN_PANORAMIC_SIZE,
    Positioning,
    make_panoramic,
    make_volume,
    restoration_class,
)
from dentpy.data.synthetic.panoramic import _uniform_noise

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


# --------------------------------------------------------------------------------------------
# framing: the centred world never changes; the realistic one spreads like real positioning


def _digest(sample) -> str:
    """sha256 of every field of a sample but ``positioning`` (arrays by dtype, shape, bytes)."""
    h = hashlib.sha256()
    for key, value in sorted(sample.__dict__.items()):
        if key == "positioning":
            continue
        h.update(key.encode())
        if isinstance(value, np.ndarray):
            h.update(str(value.dtype).encode())
            h.update(str(value.shape).encode())
            h.update(np.ascontiguousarray(value).tobytes())
        else:
            h.update(repr(value).encode())
    return h.hexdigest()


# computed with the generator as it was before the positioning model (commit cf94b1e)
CENTRED_DIGESTS = {
    ((96, 160), "float32", 0, 0):
        "f4a42ea8af1f130f463010a0448cb11edb49647c753b9c962e621f059fe5f362",
    ((96, 160), "float32", 5, 2):
        "2b384646be80d826c30790342a792d9d768680d4a6ddbdc86685e52fb3ccae4c",
    ((96, 160), "uint8", 0, 1):
        "fed2748d0df199a7b46d5d5982770a219cdb3251e39cafca18952783c4fb88e9",
    ((96, 160), "uint16", 5, 2):
        "aa8a995c432f164583a99d6ae0ea952170a3ce42bab91aee6dccc35bdf36072e",
    ((256, 512), "float32", 0, 0):
        "5e32f4ed1ee218257f592b6a47d4fd5a0fba760216a701e15f42989cdf9a69cc",
    ((256, 512), "float32", 0, 1):
        "c25baa564e5c849f41c088fb01222e33d820d1602a22f103c94ed07cd77f0aae",
    ((256, 512), "uint8", 5, 2):
        "2af3a3c6f1c7e9a2b5261353e369d0b0affe09cb7174c9f36f68b9d3843c057d",
    ((256, 512), "uint16", 0, 0):
        "dfb00932b8e8ef331f915dbb625476e2b0c55f5ea0a8dbd88f930d950acf1077",
}


@pytest.mark.parametrize(("size", "dtype", "seed", "index"), list(CENTRED_DIGESTS))
def test_centred_framing_is_bit_identical_to_the_generator_before_positioning(
    size, dtype, seed, index
):
    s = make_panoramic(index, seed=seed, size=size, dtype=dtype)
    assert _digest(s) == CENTRED_DIGESTS[(size, dtype, seed, index)]
    assert s.positioning == Positioning() and s.positioning.framing == "centred"
    explicit = make_panoramic(index, seed=seed, size=size, dtype=dtype, framing="centred")
    assert _digest(explicit) == _digest(s)


# computed with the realistic framing's generator before the speed-ups of issue 13 (commit
# d373470): speed work must leave every realistic sample bit-identical too
REALISTIC_DIGESTS = {
    ((96, 160), "float32", 0, 0):
        "0c97792490e776435275019e12eb500e5cff1e970165ca163eaa6c07ac8dd044",
    ((256, 512), "float32", 0, 1):
        "880e01ce7ae51c4d9b27da92b307877fb494e2e972146640eaf1d43118285b08",
    ((256, 512), "uint8", 5, 2):
        "59b28d78d580d560b17e4ec889ec7186945f2e055167e4ca875b10292bdfe6af",
    ((400, 740), "uint16", 0, 3):
        "252390a75f7c34a99292bd569bb86779138026c70b14d999c56136c04e280c6d",
    ((400, 740), "float32", 1, 4):
        "e8d5201b3bab6390dbf45123ae254bd27b969b31ed980e0dde62ca94bfa0eea5",
}


@pytest.mark.parametrize(("size", "dtype", "seed", "index"), list(REALISTIC_DIGESTS))
def test_realistic_framing_is_bit_identical_to_the_generator_before_the_speed_ups(
    size, dtype, seed, index
):
    s = make_panoramic(index, seed=seed, size=size, dtype=dtype, framing="realistic")
    assert _digest(s) == REALISTIC_DIGESTS[(size, dtype, seed, index)]


@pytest.mark.parametrize("first", [0, 1, 2])
@pytest.mark.parametrize("n", [1, 2, 7, 4440])
def test_exposure_noise_is_numpys_uniform_stream(first, n):
    """The raw-stream noise equals (rng.random(float32) - 0.5) * amp and leaves the same state."""
    a, b = np.random.default_rng([7, n]), np.random.default_rng([7, n])
    for rng in (a, b):  # an odd count leaves half of a 64-bit output waiting in the state
        rng.random(first, dtype=np.float32)
    amp = np.float32(0.0731)
    expected = (a.random(n, dtype=np.float32) - np.float32(0.5)) * amp
    got = _uniform_noise(b, np.empty((1, n), np.float32), amp)
    assert got.tobytes() == expected.tobytes()
    assert a.bit_generator.state == b.bit_generator.state
    assert a.random(3, dtype=np.float32).tobytes() == b.random(3, dtype=np.float32).tobytes()


def _roi_stats(framing: str, n: int, size=(96, 160)) -> np.ndarray:
    """(n, 4): RoI centre x / W, centre y / H, width / W, height / H."""
    H, W = size
    out = []
    for i in range(n):
        x0, y0, x1, y1 = make_panoramic(i, seed=2, size=size, framing=framing).roi_box
        out.append(((x0 + x1) / 2 / W, (y0 + y1) / 2 / H, (x1 - x0) / W, (y1 - y0) / H))
    return np.array(out)


def test_realistic_framing_spreads_the_dental_region_as_documented():
    centred, realistic = _roi_stats("centred", 200), _roi_stats("realistic", 200)
    # centred: the dental box's centre moves by a few per cent, its width by about 10 %
    assert centred[:, 0].std() < 0.07 and centred[:, 1].std() < 0.07
    # realistic: the module docstring's ranges (centre 12-18 % of W, 10-15 % of H; size 13-22 %)
    assert 0.12 <= realistic[:, 0].std() <= 0.18
    assert 0.10 <= realistic[:, 1].std() <= 0.15
    for k in (2, 3):
        rel = realistic[:, k].std() / realistic[:, k].mean()
        assert 0.13 <= rel <= 0.22
        assert rel > 1.3 * centred[:, k].std() / centred[:, k].mean()
    # often well off-centre: a quarter of the boxes have their centre > 15 % of W from the middle
    assert np.mean(np.abs(realistic[:, 0] - 0.5) > 0.15) > 0.25


def test_realistic_positioning_is_seeded_and_drawn_from_its_own_stream():
    size = (128, 224)
    a = make_panoramic(4, seed=1, size=size, framing="realistic")
    b = make_panoramic(4, seed=1, size=size, framing="realistic")
    assert _digest(a) == _digest(b) and a.positioning == b.positioning
    assert a.positioning != make_panoramic(5, seed=1, size=size, framing="realistic").positioning
    assert a.positioning != make_panoramic(4, seed=2, size=size, framing="realistic").positioning
    # the same positioning at every size and dtype; the same patient as the centred sample
    assert make_panoramic(4, seed=1, size=(96, 160), framing="realistic").positioning == (
        a.positioning
    )
    c = make_panoramic(4, seed=1, size=size)
    assert (a.device, a.t_score, a.cortical_width_mm) == (c.device, c.t_score, c.cortical_width_mm)
    assert a.image.tobytes() != c.image.tobytes()


def test_positioning_parameters_stay_in_their_documented_ranges():
    pos = [make_panoramic(i, seed=0, size=(96, 160), framing="realistic").positioning
           for i in range(60)]
    for p in pos:
        assert p.framing == "realistic"
        assert abs(p.forward_mm) <= 9 and abs(p.lateral_mm) <= 6
        assert abs(p.head_tilt_deg) <= 8 and abs(p.chin_deg) <= 12
        np.testing.assert_allclose(p.anterior_magnification, 1 - 0.05 * p.forward_mm)
        np.testing.assert_allclose(p.anterior_blur_mm, 0.3 * abs(p.forward_mm))
        np.testing.assert_allclose(p.occlusal_curvature, 0.00025 * p.chin_deg)
        assert (p.side_magnification > 1) == (p.lateral_mm < 0) or p.lateral_mm == 0
        assert (0.72 <= p.arch_scale <= 0.85) if p.child else (0.86 <= p.arch_scale <= 1.2)
        assert 1.05 <= p.field_scale <= 1.3
        for span in p.edentulous:
            assert 2 <= len(span) <= 5 and len({f // 10 in (1, 2) for f in span}) == 1
    assert any(p.child for p in pos) and any(p.edentulous for p in pos)
    assert any(p.forward_mm > 3 for p in pos) and any(p.forward_mm < -3 for p in pos)


@pytest.mark.parametrize("size", [MIN_PANORAMIC_SIZE, (256, 512), (300, 300)])
def test_realistic_labels_stay_consistent(size):
    H, W = size
    for i in range(8):
        s = make_panoramic(i, seed=9, size=size, framing="realistic")
        assert s.image.shape == size and s.instance_mask.max() == len(s.tooth_fdi)
        for k, box in enumerate(s.tooth_boxes, start=1):
            rows, cols = np.nonzero(s.instance_mask == k)
            np.testing.assert_array_equal(
                box, [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
            )
        x0, y0, x1, y1 = s.roi_box
        assert 0 < x0 < x1 < W and 0 < y0 < y1 < H  # the dental region is inside the image
        rows, cols = np.nonzero(s.tooth_mask | s.restoration_mask)
        assert x0 <= cols.min() and cols.max() + 1 <= x1
        assert y0 <= rows.min() and rows.max() + 1 <= y1
        labels = np.unique(s.instance_mask[s.restoration_mask > 0])
        assert (labels > 0).sum() == s.restoration_count
        assert not (s.lesion_mask & (1 - s.tooth_mask)).any()
        assert not (s.cortex_mask & (1 - s.mandible_mask)).any()
        gone = {f for span in s.positioning.edentulous for f in span}
        assert not gone & set(s.tooth_fdi.tolist())


def test_forward_position_narrows_the_incisors_and_back_widens_them():
    def incisor_width(framing, index):
        s = make_panoramic(index, seed=0, size=(256, 512), framing=framing)
        fdi = s.tooth_fdi.tolist()
        w = [s.tooth_boxes[fdi.index(f), 2] - s.tooth_boxes[fdi.index(f), 0]
             for f in (11, 21, 31, 41) if f in fdi]
        return np.mean(w) / s.px_per_mm, s.positioning

    ratios = []
    for i in range(30):
        (wr, p), (wc, _) = incisor_width("realistic", i), incisor_width("centred", i)
        if abs(p.forward_mm) > 4 and abs(p.head_tilt_deg) < 4:
            ratios.append((p.anterior_magnification, wr / wc))
    ratios = np.array(ratios)
    assert len(ratios) >= 3
    assert np.corrcoef(ratios[:, 0], ratios[:, 1])[0, 1] > 0.8


def test_bad_framing():
    with pytest.raises(ValueError, match="framing"):
        make_panoramic(0, size=(96, 160), framing="off-centre")
    with pytest.raises(ValueError, match="framing"):
        make_panoramic(0, size=(96, 160), framing=None)
