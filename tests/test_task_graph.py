"""Tests of dentpy.task_graph: known answers, brute force, and loops over single sequences."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from dentpy.task_graph import rerank, transition_matrix, viterbi


def test_transition_matrix_counts_by_hand():
    start, trans = transition_matrix([np.array([0, 1, 1, 2]), np.array([1, 2])], 3)
    np.testing.assert_allclose(start, [0.5, 0.5, 0.0])
    # 0->1 once; 1->1 once, 1->2 twice; 2 never followed: uniform row
    np.testing.assert_allclose(trans, [[0, 1, 0], [0, 1 / 3, 2 / 3], [1 / 3, 1 / 3, 1 / 3]])


def test_transition_matrix_smoothing_and_recovery():
    rng = np.random.default_rng(0)
    true = np.array([[0.1, 0.9], [0.6, 0.4]])
    seq = [0]
    for _ in range(20000):
        seq.append(int(rng.random() < true[seq[-1], 1]))
    _, trans = transition_matrix([np.array(seq)], 2)
    np.testing.assert_allclose(trans, true, atol=0.02)
    _, smooth = transition_matrix([np.array([0, 0])], 2, smoothing=1.0)
    np.testing.assert_allclose(smooth, [[2 / 3, 1 / 3], [0.5, 0.5]])


def _random_problem(seed: int, b: int = 5, t: int = 6, k: int = 4):
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(2 * torch.randn(b, t, k, generator=g, dtype=torch.float64), -1)
    trans = torch.rand(k, k, generator=g, dtype=torch.float64)
    trans[0, 1] = 0.0  # a structural zero
    trans = trans / trans.sum(1, keepdim=True)
    start = torch.rand(k, generator=g, dtype=torch.float64)
    prior = torch.rand(k, generator=g, dtype=torch.float64) + 0.1
    return probs, trans, start / start.sum(), prior / prior.sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_viterbi_equals_brute_force(seed):
    probs, trans, start, prior = _random_problem(seed, b=3, t=5, k=3)
    weight = 0.7
    paths = viterbi(probs, trans, start=start, prior=prior, weight=weight)
    for s in range(probs.shape[0]):
        def score(y, s=s):
            total = weight * np.log(max(start[y[0]].item(), 1e-12))
            total += sum(np.log(probs[s, i, c].item() / prior[c].item()) for i, c in enumerate(y))
            total += weight * sum(np.log(max(trans[a, c].item(), 1e-12))
                                  for a, c in zip(y[:-1], y[1:], strict=True))
            return total
        best = max(itertools.product(range(3), repeat=5), key=score)
        assert tuple(paths[s].tolist()) == best


def test_viterbi_weight_zero_is_argmax_and_single_sequence():
    probs, trans, start, _ = _random_problem(3)
    assert torch.equal(viterbi(probs, trans, start=start, weight=0.0), probs.argmax(-1))
    assert torch.equal(viterbi(probs[1], trans, start=start), viterbi(probs, trans, start=start)[1])


def test_viterbi_follows_a_deterministic_graph():
    # a cycle 0 -> 1 -> 2 -> 0 and a classifier unsure between all: the graph decides
    trans = torch.tensor([[0.0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=torch.float64)
    probs = torch.full((1, 6, 3), 1 / 3, dtype=torch.float64)
    probs[0, 0] = torch.tensor([0.2, 0.7, 0.1])
    assert viterbi(probs, trans).tolist() == [[1, 2, 0, 1, 2, 0]]


def _rerank_loop(probs, trans, start, prior, weight, previous=None):
    out = []
    prev = None
    for t in range(len(probs)):
        p = probs[t].clone()
        if prior is not None:
            p = p / prior
        if t == 0 and start is not None:
            p = p * start.clamp_min(1e-12) ** weight
        if t > 0:
            row = previous[t - 1] if previous is not None else prev
            p = p * trans[row].clamp_min(1e-12) ** weight
        p = p / p.sum()
        prev = int(p.argmax())
        out.append(p)
    return torch.stack(out)


@pytest.mark.parametrize("use_prior", [False, True])
def test_rerank_equals_loop(use_prior):
    probs, trans, start, prior = _random_problem(4)
    prior = prior if use_prior else None
    got = rerank(probs, trans, start=start, prior=prior, weight=1.5)
    for s in range(probs.shape[0]):
        torch.testing.assert_close(got[s], _rerank_loop(probs[s], trans, start, prior, 1.5))
    truth = torch.randint(0, 4, probs.shape[:2], generator=torch.Generator().manual_seed(1))
    oracle = rerank(probs, trans, prior=prior, previous=truth)
    for s in range(probs.shape[0]):
        torch.testing.assert_close(oracle[s], _rerank_loop(probs[s], trans, None, prior, 1.0,
                                                           truth[s]))


def test_rerank_weight_zero_returns_probs_and_float32_stays():
    probs, trans, start, _ = _random_problem(5)
    torch.testing.assert_close(rerank(probs, trans, start=start, weight=0.0), probs)
    out = rerank(probs.float(), trans, start=start)
    assert out.dtype == torch.float32 and out.shape == probs.shape
    torch.testing.assert_close(out.sum(-1), torch.ones(probs.shape[:2]))


def test_rerank_resolves_a_tie_from_the_previous_step():
    trans = torch.tensor([[0.0, 1], [1, 0]], dtype=torch.float64)  # strictly alternating
    probs = torch.tensor([[0.9, 0.1], [0.5, 0.5], [0.5, 0.5]], dtype=torch.float64)
    assert rerank(probs, trans).argmax(-1).tolist() == [0, 1, 0]
