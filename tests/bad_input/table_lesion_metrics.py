"""Bad-input rows of the lesion metrics (``dentpy.lesion_metrics``) and the brain FLAIR phantom
(``dentpy.data.phantoms.brain_flair``)."""

from __future__ import annotations

import math

import numpy as np

from bad_input import bad, documented
from dentpy import lesion_metrics as lm
from dentpy.data.phantoms import brain_flair as bf

L = "dentpy.lesion_metrics."
B = "dentpy.data.phantoms.brain_flair."
T = np.zeros((2, 4, 4), dtype=np.int64)
T[0, 1:3, 1:3] = 1
T[1, 0, 0] = 2

ROWS = [
    # ----------------------------------------------------------------------- lesion_scores
    bad(L + "lesion_scores", "wrong type", lambda: lm.lesion_scores(None, T, num_classes=3),
        r"pred must be an array"),
    bad(L + "lesion_scores", "wrong rank", lambda: lm.lesion_scores(T[0], T[0], num_classes=3),
        r"pred must be 3 or 4-dimensional"),
    bad(L + "lesion_scores", "wrong dtype",
        lambda: lm.lesion_scores(T.astype(float), T, num_classes=3),
        r"pred must be an array of integer values"),
    bad(L + "lesion_scores", "mismatched lengths",
        lambda: lm.lesion_scores(T, T[:1], num_classes=3),
        r"pred and target must have the same shape"),
    bad(L + "lesion_scores", "out of range", lambda: lm.lesion_scores(T, T, num_classes=2),
        r"pred must hold class labels >= 0 and < num_classes = 2"),
    bad(L + "lesion_scores", "out of range", lambda: lm.lesion_scores(T - 1, T, num_classes=3),
        r"pred must hold class labels >= 0"),
    bad(L + "lesion_scores", "not an integer", lambda: lm.lesion_scores(T, T, num_classes=2.5),
        r"num_classes must be an integer"),
    bad(L + "lesion_scores", "empty",
        lambda: lm.lesion_scores(np.zeros((0, 4, 4), int), np.zeros((0, 4, 4), int),
                                 num_classes=3),
        r"pred must be non-empty"),
    bad(L + "lesion_scores", "nan or inf",
        lambda: lm.lesion_scores(T, T, num_classes=3, spacing=math.nan),
        r"spacing must be finite"),
    documented(L + "lesion_scores", "degenerate",
               lambda: lm.lesion_scores(T * 0, T * 0, num_classes=3),
               check=lambda r: all(np.isnan(v).all() for v in r.values())),
    # --------------------------------------------------------------------------- fp_cases
    bad(L + "fp_cases", "wrong type", lambda: lm.fp_cases(T, "T", 1),
        r"target must be an array"),
    bad(L + "fp_cases", "out of range", lambda: lm.fp_cases(T, T, 0),
        r"cls must be an integer >= 1"),
    bad(L + "fp_cases", "not an integer", lambda: lm.fp_cases(T, T, 1.5),
        r"cls must be an integer"),
    bad(L + "fp_cases", "out of range", lambda: lm.fp_cases(T, T, 1, min_pixels=0),
        r"min_pixels must be an integer >= 1"),
    bad(L + "fp_cases", "mismatched lengths", lambda: lm.fp_cases(T, T[:, :2], 1),
        r"pred and target must have the same shape"),
    documented(L + "fp_cases", "degenerate", lambda: lm.fp_cases(T, T, 1),
               check=lambda r: r == (0, 1)),
    # ---------------------------------------------------------------- cross_class_confusion
    bad(L + "cross_class_confusion", "wrong rank",
        lambda: lm.cross_class_confusion(T.ravel(), T.ravel(), 1, 2),
        r"pred must be 3 or 4-dimensional"),
    bad(L + "cross_class_confusion", "out of range",
        lambda: lm.cross_class_confusion(T, T, 1, 1), r"a and b must be two different classes"),
    bad(L + "cross_class_confusion", "out of range",
        lambda: lm.cross_class_confusion(T, T, -1, 2), r"a must be an integer >= 1"),
    bad(L + "cross_class_confusion", "wrong type",
        lambda: lm.cross_class_confusion(T, T, 1, None), r"b must be an integer"),
    documented(L + "cross_class_confusion", "degenerate",
               lambda: lm.cross_class_confusion(T, T, 1, 2), check=lambda r: math.isnan(r)),
    # ------------------------------------------------------------------------ bland_altman
    bad(L + "bland_altman", "wrong type", lambda: lm.bland_altman(None, [1, 2]),
        r"measured must be an array"),
    bad(L + "bland_altman", "mismatched lengths", lambda: lm.bland_altman([1, 2, 3], [1, 2]),
        r"measured and true must have the same length"),
    bad(L + "bland_altman", "nan or inf", lambda: lm.bland_altman([1, math.nan], [1, 2]),
        r"measured must be finite"),
    bad(L + "bland_altman", "empty", lambda: lm.bland_altman([], []),
        r"measured must be non-empty"),
    bad(L + "bland_altman", "degenerate", lambda: lm.bland_altman([1.0], [2.0]),
        r"measured must hold at least 2 cases"),
    bad(L + "bland_altman", "wrong rank", lambda: lm.bland_altman(np.ones((2, 2)), np.ones((2, 2))),
        r"measured must be 1-dimensional"),
    # ------------------------------------------------------------------ make_brain_flair
    bad(B + "make_brain_flair", "out of range", lambda: bf.make_brain_flair(-1),
        r"index must be an integer >= 0"),
    bad(B + "make_brain_flair", "not an integer", lambda: bf.make_brain_flair(2.5),
        r"index must be an integer"),
    bad(B + "make_brain_flair", "wrong type", lambda: bf.make_brain_flair(0, seed="a"),
        r"seed must be an integer"),
    bad(B + "make_brain_flair", "out of range", lambda: bf.make_brain_flair(0, size=32),
        r"size must be an integer >= 48"),
    bad(B + "make_brain_flair", "not an integer", lambda: bf.make_brain_flair(0, size=64.0),
        r"size must be an integer"),
    bad(B + "make_brain_flair", "unknown option", lambda: bf.make_brain_flair(0, quality="HQ"),
        r"quality must be one of"),
    bad(B + "make_brain_flair", "unknown option",
        lambda: bf.make_brain_flair(0, stroke="lacunar"), r"stroke must be one of"),
    # ------------------------------------------------------------ make_brain_flair_batch
    bad(B + "make_brain_flair_batch", "empty", lambda: bf.make_brain_flair_batch(0),
        r"n must be an integer >= 1"),
    bad(B + "make_brain_flair_batch", "not an integer", lambda: bf.make_brain_flair_batch(2.5),
        r"n must be an integer"),
    bad(B + "make_brain_flair_batch", "out of range",
        lambda: bf.make_brain_flair_batch(1, start=-1), r"start must be an integer >= 0"),
    bad(B + "make_brain_flair_batch", "unknown option",
        lambda: bf.make_brain_flair_batch(1, quality="mq"), r"quality must be one of"),
]

EXEMPT = {
    L + "BlandAltman": "a result dataclass, only returned by bland_altman",
    B + "BrainFlairSample": "a result dataclass, only returned by make_brain_flair",
}
