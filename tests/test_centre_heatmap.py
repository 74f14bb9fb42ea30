"""Centre-heatmap detection: targets, Gaussian focal loss, peaks, point matching and AP."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score

from dentpy.detect.centre_heatmap import (
    CentreNet,
    bootstrap_point_ap,
    centre_targets,
    decode_centres,
    gaussian_focal_loss,
    heatmap_peaks,
    match_points,
    point_average_precision,
)


def test_targets_peak_at_the_centre_cell_with_offsets():
    heat, offset, mask = centre_targets([np.array([[10.0, 6.0]]), np.zeros((0, 2))],
                                        grid_size=(4, 4), stride=4, sigma=1.0)
    assert heat.shape == (2, 1, 4, 4) and mask.sum() == 1
    assert heat[0, 0, 1, 2] == 1 and heat[1].sum() == 0
    torch.testing.assert_close(offset[0, :, 1, 2], torch.tensor([0.5, 0.5]))
    # a neighbouring cell: distance 1 cell from (2.5, 1.5) -> exp(-1/2)
    assert math.isclose(float(heat[0, 0, 1, 3]), math.exp(-0.5), rel_tol=1e-6)


def test_focal_loss_matches_the_direct_formula():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 1, 5, 5, generator=g)
    target = torch.rand(2, 1, 5, 5, generator=g) * 0.9
    target[0, 0, 2, 2] = target[1, 0, 0, 4] = 1.0
    p = torch.sigmoid(logits).double()
    y = target.double()
    by_hand = 0.0
    for v, t in zip(p.flatten().tolist(), y.flatten().tolist(), strict=True):
        if t == 1:
            by_hand += -((1 - v) ** 2) * math.log(v)
        else:
            by_hand += -((1 - t) ** 4) * v**2 * math.log(1 - v)
    assert math.isclose(float(gaussian_focal_loss(logits, target)), by_hand / 2, rel_tol=1e-5)


def test_focal_loss_with_alpha_zero_beta_zero_is_binary_cross_entropy_over_peaks():
    logits = torch.randn(1, 1, 3, 3)
    target = torch.zeros(1, 1, 3, 3)
    target[0, 0, 1, 1] = 1.0
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum")
    torch.testing.assert_close(gaussian_focal_loss(logits, target, alpha=0, beta=0), bce)


def test_peaks_are_local_maxima_only():
    heat = torch.zeros(1, 1, 5, 5)
    heat[0, 0, 1, 1], heat[0, 0, 1, 2], heat[0, 0, 4, 4] = 0.9, 0.5, 0.7
    scores, rows, cols = heatmap_peaks(heat, k=10, threshold=0.1)[0]
    assert scores.tolist() == pytest.approx([0.9, 0.7])
    assert rows.tolist() == [1, 4] and cols.tolist() == [1, 4]


def test_decode_round_trips_the_targets():
    truth = np.array([[9.3, 5.1], [30.0, 22.7]])
    heat, offset, _ = centre_targets([truth], grid_size=(8, 8), stride=4)
    pred = decode_centres(heat, offset, stride=4, threshold=0.99)[0]
    np.testing.assert_allclose(np.sort(pred["points"], axis=0), np.sort(truth, axis=0),
                               atol=1e-5)


def test_matching_is_greedy_by_score_and_one_to_one():
    truth = np.array([[10.0, 10.0]])
    points = np.array([[11.0, 10.0], [10.0, 10.0]])
    flags = match_points(points, [0.9, 0.5], truth, radius=3)
    assert flags.tolist() == [True, False]  # the higher score takes it, not the nearer point


def _random_world(rng, n_images):
    """A second, differently made world: uniform points, detections near some of them plus
    clutter, with distinct scores."""
    preds, truths = [], []
    for _ in range(n_images):
        truth = rng.uniform(0, 100, (rng.integers(0, 5), 2))
        found = truth[rng.random(len(truth)) < 0.7]
        found = found + rng.normal(0, 1.0, found.shape)
        clutter = rng.uniform(0, 100, (rng.integers(0, 4), 2))
        pts = np.concatenate([found, clutter])
        preds.append({"points": pts, "scores": rng.random(len(pts))})
        truths.append(truth)
    return preds, truths


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ap_equals_sklearn_times_recall_reached(seed):
    rng = np.random.default_rng(seed)
    preds, truths = _random_world(rng, 12)
    ap = point_average_precision(preds, truths, radius=2.0)
    flags = np.concatenate([match_points(p["points"], p["scores"], t, radius=2.0)
                            for p, t in zip(preds, truths, strict=True)])
    scores = np.concatenate([p["scores"] for p in preds])
    n_true = sum(len(t) for t in truths)
    expected = average_precision_score(flags, scores) * flags.sum() / n_true
    assert math.isclose(ap, expected, rel_tol=1e-9)


def test_ap_known_answer_and_no_truth():
    # scores 0.9 (hit), 0.8 (miss), 0.7 (hit); 3 true centres -> (1 + 2/3) / 3
    truth = [np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])]
    pred = [{"points": np.array([[0.0, 0.0], [50.0, 50.0], [10.0, 0.0]]),
             "scores": np.array([0.9, 0.8, 0.7])}]
    assert math.isclose(point_average_precision(pred, truth, radius=1), (1 + 2 / 3) / 3)
    empty = [{"points": np.zeros((0, 2)), "scores": np.zeros(0)}]
    assert math.isnan(point_average_precision(empty, [np.zeros((0, 2))], radius=1))


def test_bootstrap_is_paired_and_centred():
    rng = np.random.default_rng(3)
    preds, truths = _random_world(rng, 30)
    other, _ = _random_world(np.random.default_rng(4), 30)
    boot = bootstrap_point_ap({"a": preds, "b": other}, truths, radius=2.0, n=300, seed=1)
    again = bootstrap_point_ap({"a": preds}, truths, radius=2.0, n=300, seed=1)
    np.testing.assert_array_equal(boot["a"], again["a"])  # the same draws for every model
    full = point_average_precision(preds, truths, radius=2.0)
    assert boot["a"].shape == (300,)
    assert np.nanquantile(boot["a"], 0.025) < full < np.nanquantile(boot["a"], 0.975)


def test_centrenet_shapes_and_it_learns_one_spot():
    torch.manual_seed(0)
    net = CentreNet(width=8)
    images = torch.rand(4, 3, 32, 32) * 0.1
    images[:, :, 12:16, 20:24] = 1.0
    heat, offset, _ = centre_targets([np.array([[22.0, 14.0]])] * 4, grid_size=(8, 8), stride=4)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(60):
        logits, _ = net(images)
        loss = gaussian_focal_loss(logits, heat)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    logits, off = net(images)
    assert logits.shape == (4, 1, 8, 8) and off.shape == (4, 2, 8, 8)
    assert net.features(images).shape == (4, 8, 4, 4)
    pred = decode_centres(torch.sigmoid(logits), off, stride=4, k=1)[0]
    assert np.hypot(*(pred["points"][0] - [22.0, 14.0])) < 4
