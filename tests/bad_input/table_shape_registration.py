"""Bad-input rows of the label-map registration (``dentpy.shape_registration``)."""

from __future__ import annotations

import numpy as np
import torch

from bad_input import bad, documented
from dentpy import shape_registration as sr

P = "dentpy.shape_registration."
NAN = float("nan")
LAB = np.zeros((2, 8, 8), np.int64)
LAB[:, 2:6, 2:6] = 1
LAB[:, 3:5, 3:5] = 2
IMG = torch.rand(2, 1, 8, 8)
U = torch.zeros(2, 2, 8, 8)
HOT = sr.one_hot(LAB, 2)

ROWS = [
    # ----------------------------------------------------------- make_shape_labelmaps
    bad(P + "make_shape_labelmaps", "unknown option",
        lambda: sr.make_shape_labelmaps("liver", 2), r"kind must be one of"),
    bad(P + "make_shape_labelmaps", "not an integer",
        lambda: sr.make_shape_labelmaps("teeth", 2.5), r"n must be an integer"),
    bad(P + "make_shape_labelmaps", "out of range",
        lambda: sr.make_shape_labelmaps("teeth", 0), r"n must be an integer >="),
    bad(P + "make_shape_labelmaps", "out of range",
        lambda: sr.make_shape_labelmaps("teeth", 1, size=8), r"size must be an integer >="),
    bad(P + "make_shape_labelmaps", "wrong type",
        lambda: sr.make_shape_labelmaps(None, 1), r"kind must be one of"),
    bad(P + "make_shape_labelmaps", "out of range",
        lambda: sr.make_shape_labelmaps("axial", 1, seed=-1), r"seed must be an integer >="),
    # ------------------------------------------------------------- random_deformation
    bad(P + "random_deformation", "not an integer",
        lambda: sr.random_deformation(2.0, 16), r"n must be an integer"),
    bad(P + "random_deformation", "out of range",
        lambda: sr.random_deformation(1, 16, amplitude=-1), r"amplitude must be"),
    bad(P + "random_deformation", "nan or inf",
        lambda: sr.random_deformation(1, 16, affine=NAN), r"affine must be"),
    bad(P + "random_deformation", "out of range",
        lambda: sr.random_deformation(1, 2), r"size must be an integer >="),
    # ------------------------------------------------------------------------ one_hot
    bad(P + "one_hot", "wrong dtype", lambda: sr.one_hot(LAB.astype(float), 2),
        r"labels must be an array of integer"),
    bad(P + "one_hot", "wrong rank", lambda: sr.one_hot(LAB[0], 2), r"labels must be 3-dim"),
    bad(P + "one_hot", "out of range", lambda: sr.one_hot(LAB, 1),
        r"labels must be <= n_labels=1"),
    bad(P + "one_hot", "out of range", lambda: sr.one_hot(-LAB, 2), r"labels must be labels >= 0"),
    bad(P + "one_hot", "wrong type", lambda: sr.one_hot(None, 2), r"labels must be an array"),
    bad(P + "one_hot", "wrong dtype", lambda: sr.one_hot(LAB > 0, 2),
        r"labels must be an array of integer"),
    bad(P + "one_hot", "empty", lambda: sr.one_hot(np.zeros((0, 4, 4), np.int64), 2),
        r"labels must be non-empty"),
    # --------------------------------------------------------------------------- medm
    bad(P + "medm", "out of range", lambda: sr.medm(LAB, 2, lam=0), r"lam must be"),
    bad(P + "medm", "nan or inf", lambda: sr.medm(LAB, 2, lam=NAN), r"lam must be"),
    bad(P + "medm", "not an integer", lambda: sr.medm(LAB, 2.5), r"n_labels must be an integer"),
    bad(P + "medm", "wrong dtype", lambda: sr.medm(LAB * 0.5, 2), r"labels must be an array"),
    documented(P + "medm", "degenerate", lambda: sr.medm(np.zeros((1, 6, 6), np.int64), 1),
               check=lambda e: e.shape == (1, 1, 6, 6) and bool((e > 0).all())),
    # ---------------------------------------------------------------- LabelAdaptation
    bad(P + "LabelAdaptation", "out of range", lambda: sr.LabelAdaptation(width=0),
        r"width must be an integer >="),
    bad(P + "LabelAdaptation", "wrong rank", lambda: sr.LabelAdaptation(width=2)(HOT[0]),
        r"onehot must be 4-dim"),
    bad(P + "LabelAdaptation", "mismatched lengths",
        lambda: sr.LabelAdaptation(width=2)(torch.rand(1, 3, 7, 8)), r"onehot must have even"),
    bad(P + "LabelAdaptation", "nan or inf",
        lambda: sr.LabelAdaptation(width=2)(torch.full((1, 2, 8, 8), NAN)),
        r"onehot must be finite"),
    # ---------------------------------------------------------------------------- warp
    bad(P + "warp", "wrong rank", lambda: sr.warp(IMG[0], U), r"image must be 4-dim"),
    bad(P + "warp", "mismatched lengths", lambda: sr.warp(IMG, torch.zeros(2, 2, 5, 5)),
        r"displacement must have shape \(2, 2, 8, 8\)"),
    bad(P + "warp", "wrong rank", lambda: sr.warp(IMG, torch.zeros(2, 3, 8, 8)),
        r"displacement must be a displacement field"),
    bad(P + "warp", "unknown option", lambda: sr.warp(IMG, U, mode="cubic"),
        r"mode must be one of"),
    bad(P + "warp", "nan or inf", lambda: sr.warp(IMG, torch.full((2, 2, 8, 8), NAN)),
        r"displacement must be finite"),
    bad(P + "warp", "wrong type", lambda: sr.warp("image", U), r"image must be an array"),
    # -------------------------------------------------------------------------- RegNet
    bad(P + "RegNet", "out of range", lambda: sr.RegNet(levels=3), r"levels must be an integer"),
    bad(P + "RegNet", "not an integer", lambda: sr.RegNet(in_channels=1.5),
        r"in_channels must be an integer"),
    bad(P + "RegNet", "out of range", lambda: sr.RegNet(max_disp=2.0), r"max_disp must be"),
    bad(P + "RegNet", "mismatched lengths",
        lambda: sr.RegNet(width=2)(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 12, 8)),
        r"fixed and moving must have the same shape"),
    bad(P + "RegNet", "mismatched lengths",
        lambda: sr.RegNet(width=2)(torch.rand(1, 2, 8, 8), torch.rand(1, 2, 8, 8)),
        r"fixed must have 1 channels"),
    bad(P + "RegNet", "out of range",
        lambda: sr.RegNet(width=2)(torch.rand(1, 1, 10, 10), torch.rand(1, 1, 10, 10)),
        r"fixed must have H, W multiples of 4"),
    # ------------------------------------------------------------------ soft_dice_loss
    bad(P + "soft_dice_loss", "mismatched lengths", lambda: sr.soft_dice_loss(HOT, HOT[:1]),
        r"warped and target must have the same shape"),
    bad(P + "soft_dice_loss", "wrong rank", lambda: sr.soft_dice_loss(HOT[0], HOT[0]),
        r"warped must be 4-dim"),
    bad(P + "soft_dice_loss", "out of range", lambda: sr.soft_dice_loss(HOT[:, :1], HOT[:, :1]),
        r"warped must have a background and >= 1 label"),
    documented(P + "soft_dice_loss", "degenerate",
               lambda: sr.soft_dice_loss(torch.zeros(1, 2, 4, 4), sr.one_hot(
                   np.zeros((1, 4, 4), np.int64), 1)),
               check=lambda v: float(v) == 1.0),
    # ------------------------------------------------------------------ dice_per_label
    bad(P + "dice_per_label", "mismatched lengths",
        lambda: sr.dice_per_label(LAB, LAB[:1], 2), r"reference and registered must have"),
    bad(P + "dice_per_label", "wrong dtype", lambda: sr.dice_per_label(LAB * 1.0, LAB, 2),
        r"reference must be an array of integer"),
    bad(P + "dice_per_label", "out of range", lambda: sr.dice_per_label(LAB, LAB, 0),
        r"n_labels must be an integer >="),
    documented(P + "dice_per_label", "degenerate", lambda: sr.dice_per_label(LAB, LAB, 4),
               check=lambda d: np.isnan(d[:, 2:]).all() and np.allclose(d[:, :2], 1)),
    # ------------------------------------------------------------------ hd95_per_label
    bad(P + "hd95_per_label", "mismatched lengths",
        lambda: sr.hd95_per_label(LAB, LAB[:, :4], 2), r"reference and registered must have"),
    bad(P + "hd95_per_label", "out of range", lambda: sr.hd95_per_label(LAB, LAB, 1),
        r"labels must be <= n_labels=1"),
    bad(P + "hd95_per_label", "wrong rank", lambda: sr.hd95_per_label(LAB[0], LAB[0], 2),
        r"reference must be 3-dim"),
    documented(P + "hd95_per_label", "degenerate", lambda: sr.hd95_per_label(LAB, LAB, 3),
               check=lambda d: np.isnan(d[:, 2]).all() and np.allclose(d[:, :2], 0)),
    # -------------------------------------------------------------------- jacobian_std
    bad(P + "jacobian_std", "wrong rank", lambda: sr.jacobian_std(U[0]),
        r"displacement must be 4-dim"),
    bad(P + "jacobian_std", "nan or inf", lambda: sr.jacobian_std(torch.full((1, 2, 4, 4), NAN)),
        r"displacement must be finite"),
    bad(P + "jacobian_std", "wrong type", lambda: sr.jacobian_std(None),
        r"displacement must be an array"),
    # --------------------------------------------------------------- instance_optimise
    bad(P + "instance_optimise", "mismatched lengths",
        lambda: sr.instance_optimise(IMG, IMG[:1], U), r"fixed and moving must have the same"),
    bad(P + "instance_optimise", "mismatched lengths",
        lambda: sr.instance_optimise(IMG, IMG, U[:1]), r"displacement must have shape"),
    bad(P + "instance_optimise", "out of range",
        lambda: sr.instance_optimise(IMG, IMG, U, lr=0), r"lr must be"),
    bad(P + "instance_optimise", "not an integer",
        lambda: sr.instance_optimise(IMG, IMG, U, iters=2.5), r"iters must be an integer"),
    bad(P + "instance_optimise", "out of range",
        lambda: sr.instance_optimise(IMG, IMG, U, smooth=-1), r"smooth must be"),
    documented(P + "instance_optimise", "degenerate",
               lambda: sr.instance_optimise(IMG, IMG, U, iters=0),
               check=lambda u: torch.equal(u, U)),
]
