"""Bad-input rows of the demons-style registration (``dentpy.registration``)."""

from __future__ import annotations

import numpy as np

from bad_input import bad, documented
from dentpy import registration as rg

P = "dentpy.registration."
NAN = float("nan")
IMG = np.random.default_rng(0).random((12, 14))
MASK = np.zeros((12, 14), bool)
MASK[3:9, 4:10] = True
U = np.zeros((2, 12, 14))


def _reg(**kwargs):
    args = dict(metric="udt", fixed_mask=MASK, moving_mask=MASK, iterations=2)
    args.update(kwargs)
    return rg.register(IMG, IMG, **args)


ROWS = [
    # ---------------------------------------------------------------------------- warp
    bad(P + "warp", "wrong type", lambda: rg.warp(None, U), r"image must be an array"),
    bad(P + "warp", "wrong rank", lambda: rg.warp(IMG[None], U), r"image must be 2-dim"),
    bad(P + "warp", "nan or inf", lambda: rg.warp(np.full((4, 4), NAN), np.zeros((2, 4, 4))),
        r"image must be finite"),
    bad(P + "warp", "mismatched lengths", lambda: rg.warp(IMG, np.zeros((2, 5, 5))),
        r"displacement must have shape \(2, 12, 14\)"),
    bad(P + "warp", "wrong rank", lambda: rg.warp(IMG, np.zeros((3, 12, 14))),
        r"displacement must be a displacement field of shape \(2, H, W\)"),
    bad(P + "warp", "not an integer", lambda: rg.warp(IMG, U, order=1.0),
        r"order must be an integer"),
    bad(P + "warp", "out of range", lambda: rg.warp(IMG, U, order=7),
        r"order must be an integer in \[0, 5\]"),
    bad(P + "warp", "empty", lambda: rg.warp(np.zeros((0, 4)), np.zeros((2, 0, 4))),
        r"image must be non-empty"),
    # --------------------------------------------------------------------- distance_map
    bad(P + "distance_map", "wrong dtype", lambda: rg.distance_map(IMG),
        r"mask must be a mask of bool or integer"),
    bad(P + "distance_map", "out of range", lambda: rg.distance_map(MASK * 2),
        r"mask must be a mask of 0/1 values"),
    bad(P + "distance_map", "wrong type", lambda: rg.distance_map("mask"),
        r"mask must be an array"),
    bad(P + "distance_map", "wrong rank", lambda: rg.distance_map(MASK[0]),
        r"mask must be 2-dim"),
    documented(P + "distance_map", "degenerate", lambda: rg.distance_map(np.zeros((4, 4), bool)),
               check=lambda d: d.shape == (4, 4) and not d.any()),
    # ------------------------------------------------------------------ similarity_maps
    bad(P + "similarity_maps", "unknown option",
        lambda: rg.similarity_maps(IMG, IMG, U, metric="ncc"), r"metric must be one of"),
    bad(P + "similarity_maps", "mismatched lengths",
        lambda: rg.similarity_maps(IMG, IMG[:5], U, metric="int"),
        r"fixed and moving must have the same shape"),
    bad(P + "similarity_maps", "wrong type",
        lambda: rg.similarity_maps(IMG, IMG, U, metric="dt"),
        r"fixed_mask and moving_mask are required"),
    bad(P + "similarity_maps", "mismatched lengths",
        lambda: rg.similarity_maps(IMG, IMG, U, metric="udt", fixed_mask=MASK,
                                   moving_mask=MASK[:6]),
        r"must have the same shape"),
    # --------------------------------------------------------------------- demons_force
    bad(P + "demons_force", "out of range", lambda: rg.demons_force(IMG, IMG, alpha=0),
        r"alpha must be a finite number > 0"),
    bad(P + "demons_force", "nan or inf", lambda: rg.demons_force(IMG, IMG, alpha=NAN),
        r"alpha must be a finite number"),
    bad(P + "demons_force", "mismatched lengths", lambda: rg.demons_force(IMG, IMG.T),
        r"fixed_map and warped_map must have the same shape"),
    documented(P + "demons_force", "degenerate", lambda: rg.demons_force(IMG, IMG),
               check=lambda f: f.shape == (2, 12, 14) and not f.any()),
    # ------------------------------------------------------------------------- register
    bad(P + "register", "unknown option", lambda: _reg(metric="mi"), r"metric must be one of"),
    bad(P + "register", "not an integer", lambda: _reg(iterations=2.5),
        r"iterations must be an integer"),
    bad(P + "register", "out of range", lambda: _reg(iterations=0),
        r"iterations must be an integer >= 1"),
    bad(P + "register", "out of range", lambda: _reg(sigma=-1.0), r"sigma must be a finite"),
    bad(P + "register", "nan or inf", lambda: _reg(sigma_fluid=NAN), r"sigma_fluid must be a"),
    bad(P + "register", "out of range", lambda: _reg(checkpoints=(3,)),
        r"checkpoints\[0\] must be an integer in \[1, 2\]"),
    bad(P + "register", "wrong type", lambda: _reg(checkpoints="5"),
        r"checkpoints must be a sequence"),
    bad(P + "register", "wrong type", lambda: _reg(fixed_mask=None),
        r"fixed_mask and moving_mask are required"),
    bad(P + "register", "wrong dtype", lambda: _reg(moving_mask=IMG),
        r"moving_mask must be a mask"),
    bad(P + "register", "degenerate", lambda: _reg(moving_mask=np.zeros_like(MASK)),
        r"must each hold an object"),
    documented(P + "register", "degenerate",
               lambda: rg.register(IMG, IMG, metric="int", iterations=3),
               check=lambda r: not r.displacement.any() and np.allclose(r.warped, IMG)),
    # --------------------------------------------------------------------- mask_overlap
    bad(P + "mask_overlap", "mismatched lengths", lambda: rg.mask_overlap(MASK, MASK.T),
        r"reference and registered must have the same shape"),
    bad(P + "mask_overlap", "wrong dtype", lambda: rg.mask_overlap(MASK, IMG),
        r"registered must be a mask"),
    documented(P + "mask_overlap", "degenerate",
               lambda: rg.mask_overlap(np.zeros((3, 3), int), np.zeros((3, 3), int)),
               check=lambda prf: prf == (1.0, 1.0, 1.0)),
    documented(P + "mask_overlap", "degenerate",
               lambda: rg.mask_overlap(MASK, np.zeros_like(MASK)),
               check=lambda prf: prf == (0.0, 0.0, 0.0)),
    # ---------------------------------------------------------- mutual_information_bits
    bad(P + "mutual_information_bits", "not an integer",
        lambda: rg.mutual_information_bits(IMG, IMG, bins=8.5), r"bins must be an integer"),
    bad(P + "mutual_information_bits", "out of range",
        lambda: rg.mutual_information_bits(IMG, IMG, bins=1), r"bins must be an integer >= 2"),
    bad(P + "mutual_information_bits", "mismatched lengths",
        lambda: rg.mutual_information_bits(IMG, IMG[:4]), r"a and b must have the same shape"),
    bad(P + "mutual_information_bits", "nan or inf",
        lambda: rg.mutual_information_bits(IMG, np.full(IMG.shape, NAN)), r"b must be finite"),
    documented(P + "mutual_information_bits", "degenerate",
               lambda: rg.mutual_information_bits(np.ones((4, 4)), IMG[:4, :4]),
               check=lambda mi: mi == 0.0),
    # ----------------------------------------------------- jacobian / folding_fraction
    bad(P + "jacobian_determinant", "wrong rank", lambda: rg.jacobian_determinant(IMG),
        r"displacement must be 3-dim"),
    bad(P + "jacobian_determinant", "nan or inf",
        lambda: rg.jacobian_determinant(np.full((2, 4, 4), NAN)), r"displacement must be finite"),
    bad(P + "folding_fraction", "wrong type", lambda: rg.folding_fraction(None),
        r"displacement must be an array"),
    bad(P + "folding_fraction", "wrong rank", lambda: rg.folding_fraction(np.zeros((2, 1, 4))),
        r"displacement must be a displacement field"),
    documented(P + "folding_fraction", "degenerate", lambda: rg.folding_fraction(U),
               check=lambda f: f == 0.0),
    # -------------------------------------------------------------- smooth_displacement
    bad(P + "smooth_displacement", "wrong type",
        lambda: rg.smooth_displacement(8, amplitude=1, sigma=2), r"shape must be two integers"),
    bad(P + "smooth_displacement", "not an integer",
        lambda: rg.smooth_displacement((8, 8.5), amplitude=1, sigma=2),
        r"shape\[1\] must be an integer"),
    bad(P + "smooth_displacement", "out of range",
        lambda: rg.smooth_displacement((8, 8), amplitude=-1, sigma=2),
        r"amplitude must be a finite number >= 0"),
    bad(P + "smooth_displacement", "out of range",
        lambda: rg.smooth_displacement((8, 8), amplitude=1, sigma=0), r"sigma must be a finite"),
    bad(P + "smooth_displacement", "out of range",
        lambda: rg.smooth_displacement((8, 8), amplitude=1, sigma=2, seed=-1),
        r"seed must be an integer >= 0"),
    documented(P + "smooth_displacement", "degenerate",
               lambda: rg.smooth_displacement((8, 8), amplitude=0, sigma=2),
               check=lambda u: u.shape == (2, 8, 8) and not u.any()),
]

EXEMPT = {P + "RegistrationResult": "a result dataclass that register() returns"}
