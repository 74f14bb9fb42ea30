"""Task graphs of procedures: which step may follow which, and using that to re-rank a
per-step classifier.

A procedure is a sequence of steps, each one of ``K`` labels (verbs, actions). The task graph
is estimated from training sequences as a first-step distribution ``start`` (K,) and a
row-stochastic transition matrix ``transitions`` (K, K): ``transitions[i, j]`` is the share of
steps ``i`` followed by step ``j``. A classifier gives, for every step of a sequence, class
probabilities ``probs`` (B, T, K). Two ways to combine the two:

- :func:`rerank`, step by step and causal (what a live system can do): the probabilities of
  step ``t`` are multiplied by ``transitions[prev]`` raised to ``weight``, where ``prev`` is
  the re-ranked top-1 of step ``t - 1`` (or the true previous step, given as ``previous``);
- :func:`viterbi`, over the whole sequence: the most probable path of the hidden Markov model
  whose transitions are the graph and whose emission scores are the classifier's
  probabilities (divided by the class ``prior`` the classifier was trained with, when given).

Both work on a batch of sequences of equal length at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from dentpy import _checks

__all__ = ["rerank", "transition_matrix", "viterbi"]

_FLOOR = 1e-12  # probabilities below this count as this, so that logarithms stay finite


def transition_matrix(
    sequences: Sequence[Any], num_states: int, *, smoothing: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate a task graph from labelled sequences.

    Parameters
    ----------
    sequences : iterable of 1-d integer arrays (lengths may differ), each label in
        ``[0, num_states)``; at least one sequence, each of at least one step.
    num_states : number of labels ``K``, at least 1.
    smoothing : pseudo-count added to every cell of the counts (Laplace smoothing), >= 0.

    Returns
    -------
    start : (K,) float64, the share of sequences that begin with each label.
    transitions : (K, K) float64, row ``i`` the share of steps ``i`` followed by each label.
        A row of a label never followed by anything (and ``smoothing == 0``) is uniform.
    """
    num_states = _checks.integer("num_states", num_states, low=1)
    smoothing = _checks.number("smoothing", smoothing, low=0.0)
    if isinstance(sequences, str | bytes | dict) or not isinstance(sequences, Sequence):
        _checks.fail("sequences", "a sequence of 1-d integer arrays", sequences, wrong_type=True)
    if len(sequences) == 0:
        _checks.fail("sequences", "at least one sequence", sequences)
    first = np.full(num_states, smoothing)
    counts = np.full((num_states, num_states), smoothing)
    for k, seq in enumerate(sequences):
        seq = _checks.array(f"sequences[{k}]", seq, ndim=1, kind="integer")
        if seq.min() < 0 or seq.max() >= num_states:
            _checks.fail(f"sequences[{k}]", f"labels in [0, {num_states - 1}]", seq)
        first[seq[0]] += 1
        np.add.at(counts, (seq[:-1], seq[1:]), 1)
    totals = counts.sum(1, keepdims=True)
    transitions = np.where(totals > 0, counts / np.where(totals > 0, totals, 1), 1 / num_states)
    return first / first.sum(), transitions


def _inputs(
    probs: Any, transitions: Any, start: Any, prior: Any, weight: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None, float, bool]:
    """Check and normalise the shared arguments; ``probs`` becomes (B, T, K) float."""
    probs = _checks.tensor("probs", probs, ndim=(2, 3), kind="float")
    single = probs.ndim == 2
    if single:
        probs = probs[None]
    if (probs < 0).any():
        _checks.fail("probs", "probabilities (no negative values)", probs)
    k = probs.shape[-1]
    transitions = _checks.tensor("transitions", transitions, ndim=2, kind="float")
    if tuple(transitions.shape) != (k, k):
        _checks.fail("transitions", f"a ({k}, {k}) matrix, one row and column per class of "
                     "probs", transitions)
    if (transitions < 0).any():
        _checks.fail("transitions", "non-negative", transitions)
    transitions = transitions.to(probs)
    vectors = []
    for name, value in (("start", start), ("prior", prior)):
        if value is not None:
            value = _checks.tensor(name, value, ndim=1, kind="float")
            if value.shape[0] != k or (value < 0).any():
                _checks.fail(name, f"{k} non-negative values, one per class of probs", value)
            value = value.to(probs)
        vectors.append(value)
    weight = _checks.number("weight", weight, low=0.0)
    return probs, transitions, vectors[0], vectors[1], weight, single


def _log(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x.clamp_min(_FLOOR))


def rerank(
    probs: Any,
    transitions: Any,
    *,
    start: Any = None,
    prior: Any = None,
    weight: float = 1.0,
    previous: Any = None,
) -> torch.Tensor:
    """Re-rank per-step class probabilities with a task graph, step by step (causal).

    For each sequence and step ``t``, the new probabilities are proportional to
    ``probs[t] / prior * transitions[prev] ** weight``, where ``prev`` is the re-ranked top-1
    of step ``t - 1`` (or ``previous[:, t - 1]`` when ``previous`` is given). The first step
    uses ``start ** weight`` when given, else the graph leaves it alone. ``weight = 0`` with no
    ``prior`` returns ``probs`` normalised (the classifier alone).

    Parameters
    ----------
    probs : (B, T, K) or (T, K) non-negative floats, the classifier's probabilities.
    transitions : (K, K) non-negative floats, e.g. from :func:`transition_matrix`.
    start : (K,) first-step distribution, or ``None``.
    prior : (K,) class frequencies the classifier was trained with (divided out, Bayes'
        rule), or ``None`` to use ``probs`` as they are (the plain "weight-adjusted" rule).
    weight : exponent of the graph's factor, >= 0.
    previous : (B, T) or (T,) integer true labels to condition on instead of the re-ranked
        predictions (an oracle for the previous step), or ``None``.

    Returns
    -------
    (B, T, K) (or (T, K)) re-ranked probabilities, each row summing to 1, dtype of ``probs``.
    """
    probs, transitions, start, prior, weight, single = _inputs(
        probs, transitions, start, prior, weight)
    b, t_len, _ = probs.shape
    if previous is not None:
        previous = _checks.tensor("previous", previous, ndim=(1, 2), kind="integer")
        previous = previous[None] if previous.ndim == 1 else previous
        if tuple(previous.shape) != (b, t_len):
            _checks.fail("previous", f"labels of shape ({b}, {t_len}), one per step of probs",
                         previous)
        if previous.min() < 0 or previous.max() >= probs.shape[-1]:
            _checks.fail("previous", f"labels in [0, {probs.shape[-1] - 1}]", previous)
        previous = previous.to(probs.device)
    scores = _log(probs)
    if prior is not None:
        scores = scores - _log(prior)
    log_graph = weight * _log(transitions)
    out = torch.empty_like(scores)
    step = scores[:, 0] + (weight * _log(start) if start is not None else 0.0)
    out[:, 0] = torch.softmax(step, dim=-1)
    for t in range(1, t_len):
        prev = out[:, t - 1].argmax(-1) if previous is None else previous[:, t - 1]
        out[:, t] = torch.softmax(scores[:, t] + log_graph[prev], dim=-1)
    return out[0] if single else out


def viterbi(
    probs: Any,
    transitions: Any,
    *,
    start: Any = None,
    prior: Any = None,
    weight: float = 1.0,
) -> torch.Tensor:
    """Most probable label sequence under the task graph and the classifier, per sequence.

    Maximises ``sum_t log(probs[t, y_t] / prior[y_t]) + weight * (log start[y_0] +
    sum_t log transitions[y_{t-1}, y_t])`` over label sequences ``y`` by dynamic programming
    (ties go to the smaller label). Arguments as in :func:`rerank`; probabilities below 1e-12
    count as 1e-12.

    Returns
    -------
    (B, T) (or (T,)) int64 labels.
    """
    probs, transitions, start, prior, weight, single = _inputs(
        probs, transitions, start, prior, weight)
    scores = _log(probs)
    if prior is not None:
        scores = scores - _log(prior)
    log_graph = weight * _log(transitions)  # (K, K): from row to column
    best = scores[:, 0] + (weight * _log(start) if start is not None else 0.0)  # (B, K)
    back = []
    for t in range(1, probs.shape[1]):
        candidates = best[:, :, None] + log_graph[None]  # (B, from, to)
        best, came_from = candidates.max(dim=1)
        best = best + scores[:, t]
        back.append(came_from)
    path = [best.argmax(-1)]
    for came_from in reversed(back):
        path.append(came_from.gather(1, path[-1][:, None])[:, 0])
    labels = torch.stack(path[::-1], dim=1)
    return labels[0] if single else labels
