"""Bad-input rows of the task graph (``dentpy.task_graph``)."""

from __future__ import annotations

import numpy as np
import torch

from bad_input import bad, documented
from dentpy import task_graph as tg

TM, RR, VT = ("dentpy.task_graph.transition_matrix", "dentpy.task_graph.rerank",
              "dentpy.task_graph.viterbi")
P = torch.full((2, 3, 4), 0.25)  # two sequences of three steps, four classes
T = torch.full((4, 4), 0.25)

ROWS = [
    bad(TM, "wrong type", lambda: tg.transition_matrix(None, 3), "sequences"),
    bad(TM, "empty", lambda: tg.transition_matrix([], 3), "sequences"),
    bad(TM, "empty", lambda: tg.transition_matrix([np.array([], dtype=int)], 3),
        r"sequences\[0\]"),
    bad(TM, "wrong dtype", lambda: tg.transition_matrix([np.array([0.0, 1.0])], 3),
        r"sequences\[0\]"),
    bad(TM, "wrong rank", lambda: tg.transition_matrix([np.zeros((2, 2), dtype=int)], 3),
        r"sequences\[0\]"),
    bad(TM, "out of range", lambda: tg.transition_matrix([np.array([0, 3])], 3),
        r"sequences\[0\] must be labels in \[0, 2\]"),
    bad(TM, "not an integer", lambda: tg.transition_matrix([np.array([0, 1])], 2.5),
        "num_states"),
    bad(TM, "out of range", lambda: tg.transition_matrix([np.array([0, 1])], 2, smoothing=-1),
        "smoothing"),
    bad(TM, "nan or inf",
        lambda: tg.transition_matrix([np.array([0, 1])], 2, smoothing=float("nan")),
        "smoothing"),
    documented(TM, "degenerate", lambda: tg.transition_matrix([np.array([1])], 2),
               lambda out: np.allclose(out[1], 0.5) and np.allclose(out[0], [0, 1])),
    bad(RR, "wrong type", lambda: tg.rerank(None, T), "probs"),
    bad(RR, "wrong rank", lambda: tg.rerank(torch.zeros(4), T), "probs"),
    bad(RR, "wrong dtype", lambda: tg.rerank(torch.zeros(2, 3, 4, dtype=torch.long), T),
        "probs"),
    bad(RR, "nan or inf", lambda: tg.rerank(torch.full((2, 3, 4), float("nan")), T), "probs"),
    bad(RR, "out of range", lambda: tg.rerank(-P, T), "probs"),
    bad(RR, "empty", lambda: tg.rerank(torch.zeros(0, 3, 4), T), "probs"),
    bad(RR, "mismatched lengths", lambda: tg.rerank(P, torch.full((3, 3), 1 / 3)),
        "transitions"),
    bad(RR, "out of range", lambda: tg.rerank(P, -T), "transitions"),
    bad(RR, "mismatched lengths", lambda: tg.rerank(P, T, start=torch.ones(3)), "start"),
    bad(RR, "mismatched lengths", lambda: tg.rerank(P, T, prior=torch.ones(5)), "prior"),
    bad(RR, "out of range", lambda: tg.rerank(P, T, weight=-1.0), "weight"),
    bad(RR, "mismatched lengths",
        lambda: tg.rerank(P, T, previous=torch.zeros(2, 2, dtype=torch.long)), "previous"),
    bad(RR, "out of range",
        lambda: tg.rerank(P, T, previous=torch.full((2, 3), 4)), "previous"),
    bad(RR, "wrong dtype", lambda: tg.rerank(P, T, previous=torch.zeros(2, 3)), "previous"),
    bad(VT, "wrong type", lambda: tg.viterbi("probs", T), "probs"),
    bad(VT, "wrong rank", lambda: tg.viterbi(P, torch.ones(4)), "transitions"),
    bad(VT, "nan or inf", lambda: tg.viterbi(P, T, weight=float("inf")), "weight"),
    bad(VT, "wrong type", lambda: tg.viterbi(P, T, start="uniform"), "start"),
    documented(VT, "degenerate", lambda: tg.viterbi(torch.full((1, 4), 1.0), T),
               lambda out: out.tolist() == [0]),
]
