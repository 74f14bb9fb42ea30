"""Tests of dentpy.chromophores and the pigmented-gingiva phantom: known answers and bad input."""

import numpy as np
import pytest

from dentpy import chromophores as ch
from dentpy.data.phantoms.gingiva import (
    GINGIVA_CLASSES,
    MIN_GINGIVA_SIZE,
    make_gingiva,
)

M_TRUE = ch.M_EMP / 100


def blocks_world(size: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A world made differently from the phantom: three vertical stripes, each holding one
    textured chromophore only, then a mixed stripe; returns (X, C) in column order."""
    rng = np.random.default_rng(seed)
    C = np.zeros((3, size, 4 * size))
    for j in range(3):
        C[j, :, j * size:(j + 1) * size] = rng.uniform(0.5, 1.5, (size, size))
    C[:, :, 3 * size:] = rng.uniform(0.1, 1.0, (3, size, size))
    Cv = np.stack([c.reshape(-1, order="F") for c in C])
    return M_TRUE @ Cv, Cv


# ------------------------------------------------------------------------- optical density
def test_rgb_to_od_known_values_uint8_and_clipping():
    rgb = np.array([[[1.0, np.exp(-1.0), 0.0]]])
    od = ch.rgb_to_od(rgb)
    np.testing.assert_allclose(od[0, 0], [0.0, 1.0, np.log(255)])
    u8 = np.array([[[255, 0, 51]]], dtype=np.uint8)
    np.testing.assert_allclose(ch.rgb_to_od(u8)[0, 0], [0.0, np.log(255), np.log(5)])


def test_to_mixtures_orders_bands_blue_first_and_columns_first():
    od = np.zeros((2, 3, 3))
    od[..., 0] = 1.0  # red
    od[..., 2] = np.arange(6).reshape(2, 3)  # blue
    X = ch.to_mixtures(od)
    np.testing.assert_array_equal(X[2], np.ones(6))
    np.testing.assert_array_equal(X[0], [0, 3, 1, 4, 2, 5])  # down each column, then across
    np.testing.assert_array_equal(ch.to_image(X[0], (2, 3)), od[..., 2])
    np.testing.assert_array_equal(ch.to_image(X, (2, 3))[2], od[..., 0])


def test_patch_order_lists_square_patches():
    order = ch.patch_order((6, 8), 2)
    assert order.shape == (12 * 4,) and len(set(order.tolist())) == order.size
    rows, cols = order % 6, order // 6  # column-major pixel index -> (row, col)
    for p in range(order.size // 4):
        r, c = rows[4 * p:4 * p + 4], cols[4 * p:4 * p + 4]
        assert np.ptp(r) == 1 and np.ptp(c) == 1 and r.min() % 2 == 0 and c.min() % 2 == 0


# --------------------------------------------------------------------------------- SCA
@pytest.mark.parametrize("zone", [8, 24])
def test_sca_recovers_the_normalised_mixing_matrix_on_single_source_zones(zone):
    X, _ = blocks_world()
    estimate, zones = ch.sca_mixing_matrix(X, zone=zone, min_signal=0.01, return_zones=True)
    perm, angles = ch.match_columns(estimate, M_TRUE)
    np.testing.assert_allclose(estimate[:, perm], M_TRUE / M_TRUE[0], rtol=1e-9)
    assert angles.max() < 1e-5 and len(zones) == 3
    np.testing.assert_array_equal(estimate[0], np.ones(3))


def test_sca_patches_and_missing_sources():
    X, _ = blocks_world()
    order = ch.patch_order((24, 96), 4)
    estimate = ch.sca_mixing_matrix(X, zone=16, order=order, min_signal=0.01)
    assert ch.match_columns(estimate, M_TRUE)[1].max() < 1e-5
    two = M_TRUE[:, :2] @ np.random.default_rng(1).uniform(0.5, 1.5, (2, 400))
    with pytest.raises(RuntimeError, match="distinct single-source"):
        ch.sca_mixing_matrix(two, zone=8)


# --------------------------------------------------------------------------------- ALS
def test_als_known_answers_of_the_three_by_three_case():
    X, _ = blocks_world()
    # X >= 0, so A = I with S = X fits exactly: a fixed point, whatever the chromophores are
    fixed = ch.als_nmf(X, np.eye(3), max_iter=5, tol=0)
    np.testing.assert_allclose(fixed.A, np.eye(3), atol=1e-12)
    assert fixed.loss[-1] < 1e-20 * (X**2).sum()
    # any A0 whose cone holds every pixel is returned after one step (and the loss is ~0)
    mixing = np.full((3, 3), 0.01) + 0.99 * np.eye(3)  # K > 0
    wide = M_TRUE @ np.linalg.inv(mixing)  # M = wide K: the cone of wide holds the true cone
    assert wide.min() >= 0 and np.linalg.solve(wide, X).min() >= 0
    result = ch.als_nmf(X, wide, max_iter=1)
    np.testing.assert_allclose(result.A, wide, rtol=1e-9)


def test_als_batch_equals_single_and_stops_on_its_own():
    X, _ = blocks_world()
    rng = np.random.default_rng(3)
    starts = rng.uniform(0, 1, (4, 3, 3))
    batch = ch.als_nmf(np.stack([X] * 4), starts, max_iter=300, tol=1e-7)
    for b in range(4):
        alone = ch.als_nmf(X, starts[b], max_iter=300, tol=1e-7)
        assert alone.n_iter == batch.n_iter[b]
        np.testing.assert_allclose(alone.A, batch.A[b], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(alone.S, batch.S[b], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(alone.loss, batch.loss[:alone.n_iter, b], rtol=1e-8)
        direct = 0.5 * ((X - alone.A @ alone.S) ** 2).sum()
        np.testing.assert_allclose(alone.loss[-1], direct, rtol=1e-6, atol=1e-12)
    assert batch.loss.shape == (batch.n_iter.max(), 4)


# ------------------------------------------------------------------------ comparisons
def test_match_columns_normalise_and_sir():
    perm_true = np.array([2, 0, 1])
    shuffled = M_TRUE[:, perm_true] * np.array([2.0, 0.5, 3.0])
    perm, angles = ch.match_columns(shuffled, M_TRUE)
    np.testing.assert_allclose(shuffled[:, perm] / M_TRUE, np.ones((3, 3)) * (shuffled[:, perm]
                               / M_TRUE)[0], rtol=1e-12)
    assert angles.max() < 1e-5
    S = np.random.default_rng(0).uniform(size=(3, 50))
    A_n, S_n = ch.normalise_first_row(shuffled, S)
    np.testing.assert_allclose(A_n @ S_n, shuffled @ S)
    np.testing.assert_allclose(A_n[0], np.ones(3))
    C = np.random.default_rng(1).standard_normal((2, 1000))
    noise = np.random.default_rng(2).standard_normal((2, 1000))
    noise -= (noise * C).sum(1, keepdims=True) / (C**2).sum(1, keepdims=True) * C  # orthogonal
    noise *= 0.1 * np.linalg.norm(C, axis=1, keepdims=True) / np.linalg.norm(noise, axis=1,
                                                                               keepdims=True)
    np.testing.assert_allclose(ch.sir_db(C, 3.0 * (C + noise)), [10 * np.log10(101)] * 2, rtol=1e-9)
    assert ch.column_angles(np.zeros((3, 1)), M_TRUE[:, :1])[0, 0] == 90.0


def test_criteria_known_answers():
    X, C = blocks_world()
    mask = np.zeros(X.shape[1], bool)
    mask[::7] = True
    explicit = np.array([sum(M_TRUE[i, j] * C[j, v] for v in np.flatnonzero(mask)
                             for i in range(3)) / mask.sum() for j in range(3)])
    np.testing.assert_allclose(ch.chromophore_criterion(M_TRUE, C, mask), explicit)
    D = np.array([4.0, 0.25, 2.0])
    np.testing.assert_allclose(ch.chromophore_criterion(M_TRUE * D, C / D[:, None], mask),
                               explicit)  # the column scale does not matter
    # with an exact fit, the three chromophore criteria split the sum of the band criteria
    np.testing.assert_allclose(explicit.sum(), ch.band_criterion(X, mask).sum())
    np.testing.assert_allclose(ch.classical_inversion(X, M_TRUE), C, atol=1e-10)
    image_mask = ch.to_image(mask.astype(float), (24, 96)) > 0
    np.testing.assert_allclose(ch.band_criterion(X, image_mask), X[:, mask].mean(1))


# ------------------------------------------------------------------------------- phantom
def test_phantom_is_seeded_and_follows_beer_lambert():
    a, b = make_gingiva(3, seed=1, size=32), make_gingiva(3, seed=1, size=32)
    assert a.rgb.tobytes() == b.rgb.tobytes()
    assert a.rgb.tobytes() != make_gingiva(3, seed=2, size=32).rgb.tobytes()
    assert a.rgb.shape == (32, 32, 3) and a.rgb.dtype == np.float32
    assert a.concentrations.shape == (3, 32, 32) and a.concentrations.min() >= 0
    assert a.lesion_mask.dtype == bool and a.lesion_mask.any() and a.label in (0, 1)
    clean = make_gingiva(0, size=48, noise=0.0, shading=0.0, label=1)
    assert clean.label == 1 and GINGIVA_CLASSES[clean.label] == "mucosal melanoma"
    od = np.einsum("ij,jhw->hwi", clean.mixing, clean.concentrations)[..., ::-1]  # to R, G, B
    measured = ch.rgb_to_od(clean.rgb)
    bright = np.exp(-od) > 0.05
    # 8-bit rounding moves reflectance r by at most 1/510, so the density by about 1/(510 r)
    bound = 1 / (510 * np.exp(-od)) * 1.01 + 1e-6
    assert np.all(np.abs(measured - od)[bright] <= bound[bright])


def test_phantom_labels_differ_in_melanin_on_average():
    dens = {0: [], 1: []}
    for i in range(40):
        s = make_gingiva(i, size=MIN_GINGIVA_SIZE)
        dens[s.label].append(s.melanin_density)
    assert np.mean(dens[1]) > 1.5 * np.mean(dens[0])


# ------------------------------------------------------------------------------ bad input
X_OK, _ = blocks_world(8)
BAD = [
    (ch.rgb_to_od, ([[[-0.1, 0.5, 0.5]]],), {}, "rgb"),
    (ch.rgb_to_od, ([[[np.nan, 0.5, 0.5]]],), {}, "rgb"),
    (ch.rgb_to_od, ("image",), {}, "rgb"),
    (ch.rgb_to_od, ([[[0.5, 0.5, 0.5]]],), {"eps": 0}, "eps"),
    (ch.to_mixtures, (np.ones((4, 4)),), {}, "od"),
    (ch.to_mixtures, (np.ones((4, 4, 2)),), {}, "od"),
    (ch.to_image, (np.ones(10), (3, 3)), {}, "row"),
    (ch.to_image, (np.ones(9), (3, 0)), {}, "shape"),
    (ch.patch_order, ((4, 4), 5), {}, "patch"),
    (ch.patch_order, ((4, 4), 0), {}, "patch"),
    (ch.classical_inversion, (X_OK, np.ones((3, 3))), {}, "M"),
    (ch.classical_inversion, (X_OK[:2],), {}, "X"),
    (ch.sca_mixing_matrix, (-X_OK,), {}, "X"),
    (ch.sca_mixing_matrix, (X_OK,), {"zone": 1}, "zone"),
    (ch.sca_mixing_matrix, (X_OK,), {"min_angle_deg": 90}, "min_angle_deg"),
    (ch.sca_mixing_matrix, (X_OK,), {"min_signal": 1.0}, "min_signal"),
    (ch.sca_mixing_matrix, (X_OK,), {"n_sources": 4}, "n_sources"),
    (ch.sca_mixing_matrix, (X_OK,), {"order": [0, 10**6]}, "order"),
    (ch.sca_mixing_matrix, (X_OK,), {"zone": 10**6}, "zone"),
    (ch.als_nmf, (X_OK, -np.eye(3)), {}, "A0"),
    (ch.als_nmf, (X_OK, np.zeros((3, 3))), {}, "A0"),
    (ch.als_nmf, (X_OK, np.eye(2)), {}, "A0"),
    (ch.als_nmf, (X_OK, np.eye(3)), {"max_iter": 0}, "max_iter"),
    (ch.als_nmf, (X_OK, np.eye(3)), {"tol": -1.0}, "tol"),
    (ch.als_nmf, (np.stack([X_OK] * 2), np.ones((3, 3, 3))), {}, "A0"),
    (ch.column_angles, (np.ones((3, 2)), np.ones((2, 2))), {}, "rows"),
    (ch.match_columns, (np.ones((3, 2)), np.ones((3, 3))), {}, "columns"),
    (ch.normalise_first_row, (-np.ones((3, 3)), np.ones((3, 4))), {}, "A"),
    (ch.sir_db, (np.zeros((2, 5)), np.ones((2, 5))), {}, "C"),
    (ch.sir_db, (np.ones((2, 5)), np.ones((2, 4))), {}, "C_hat"),
    (ch.chromophore_criterion, (np.eye(3), np.ones((3, 4)), np.zeros(4, bool)), {}, "mask"),
    (ch.chromophore_criterion, (np.eye(3), np.ones((3, 4)), np.ones(4)), {}, "mask"),
    (ch.band_criterion, (X_OK, np.ones(3, bool)), {}, "mask"),
    (make_gingiva, (-1,), {}, "index"),
    (make_gingiva, (0,), {"size": 8}, "size"),
    (make_gingiva, (0,), {"label": 2}, "label"),
    (make_gingiva, (0,), {"noise": -0.1}, "noise"),
    (make_gingiva, (0,), {"shading": 1.5}, "shading"),
    (make_gingiva, (0,), {"crosstalk": 0.9}, "crosstalk"),
    (make_gingiva, (0,), {"seed": 1.5}, "seed"),
]


@pytest.mark.parametrize(("function", "args", "kwargs", "name"), BAD,
                         ids=[f"{row[0].__name__}-{row[3]}-{i}" for i, row in enumerate(BAD)])
def test_bad_input_raises_value_error_naming_the_argument(function, args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        function(*args, **kwargs)
