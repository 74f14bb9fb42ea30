"""Bad-input rows of the MR/SPR jaw phantom and its metrics (``dentpy.data.phantoms.mr_spr``)."""

from __future__ import annotations

import numpy as np

from bad_input import bad, documented
from dentpy.data.phantoms import mr_spr as ms

P = "dentpy.data.phantoms.mr_spr."
NAN = float("nan")
A = np.ones((4, 4))

ROWS = [
    # ------------------------------------------------------------------------ make_mr_spr
    bad(P + "make_mr_spr", "out of range", lambda: ms.make_mr_spr(-1),
        r"index must be an integer >= 0"),
    bad(P + "make_mr_spr", "not an integer", lambda: ms.make_mr_spr(2.5),
        r"index must be an integer"),
    bad(P + "make_mr_spr", "wrong type", lambda: ms.make_mr_spr(0, seed="a"),
        r"seed must be an integer"),
    bad(P + "make_mr_spr", "out of range", lambda: ms.make_mr_spr(0, size=16),
        r"size must be an integer >= 32"),
    bad(P + "make_mr_spr", "not an integer", lambda: ms.make_mr_spr(0, size=64.0),
        r"size must be an integer"),
    bad(P + "make_mr_spr", "nan or inf", lambda: ms.make_mr_spr(0, noise=NAN),
        r"noise must be a finite number"),
    bad(P + "make_mr_spr", "out of range", lambda: ms.make_mr_spr(0, bias=1.5),
        r"bias must be a finite number"),
    # ----------------------------------------------------------------------- mr_spr_batch
    bad(P + "mr_spr_batch", "empty", lambda: ms.mr_spr_batch([]),
        r"indices must be a non-empty"),
    bad(P + "mr_spr_batch", "wrong type", lambda: ms.mr_spr_batch(None),
        r"indices must be a sequence"),
    bad(P + "mr_spr_batch", "wrong type", lambda: ms.mr_spr_batch("12"),
        r"indices must be a sequence"),
    bad(P + "mr_spr_batch", "out of range", lambda: ms.mr_spr_batch([0, -2]),
        r"indices must be an integer >= 0"),
    bad(P + "mr_spr_batch", "not an integer", lambda: ms.mr_spr_batch([0.5]),
        r"indices must be an integer"),
    # -------------------------------------------------------------------------- image_mae
    bad(P + "image_mae", "wrong type", lambda: ms.image_mae(None, A), r"pred must be an array"),
    bad(P + "image_mae", "mismatched lengths", lambda: ms.image_mae(A, np.ones((4, 5))),
        r"pred and target must have the same shape"),
    bad(P + "image_mae", "nan or inf", lambda: ms.image_mae(A, np.full((4, 4), NAN)),
        r"target must be finite"),
    bad(P + "image_mae", "empty", lambda: ms.image_mae(np.ones(0), np.ones(0)),
        r"pred must be non-empty"),
    # ------------------------------------------------------------------------- image_psnr
    bad(P + "image_psnr", "unknown option", lambda: ms.image_psnr(A, A * 2, peak="range"),
        r"peak must be one of \('max',\)"),
    bad(P + "image_psnr", "out of range", lambda: ms.image_psnr(A, A * 2, peak=0),
        r"peak must be a finite number > 0"),
    bad(P + "image_psnr", "nan or inf", lambda: ms.image_psnr(A, A * 2, peak=float("inf")),
        r"peak must be a finite number"),
    bad(P + "image_psnr", "wrong type", lambda: ms.image_psnr(A, A * 2, peak=None),
        r"peak must be a finite number"),
    bad(P + "image_psnr", "mismatched lengths", lambda: ms.image_psnr(A, np.ones(3), peak=1.0),
        r"pred and target must have the same shape"),
    bad(P + "image_psnr", "out of range", lambda: ms.image_psnr(-A, -A * 2, peak="max"),
        r"peak='max' needs a positive maximum"),
    documented(P + "image_psnr", "degenerate", lambda: ms.image_psnr(A, A, peak=1.0),
               check=lambda r: r == float("inf")),
]

EXEMPT = {P + "MRSPRSample": "a result dataclass, only returned by make_mr_spr"}
