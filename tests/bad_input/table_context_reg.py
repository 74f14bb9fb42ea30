"""Bad-input rows of contextual regularisation (``dentpy.context_reg``), the centre-heatmap
detector (``dentpy.detect.centre_heatmap``) and the stained-cell phantom
(``dentpy.data.phantoms.cells``)."""

from __future__ import annotations

import math

import numpy as np
import torch

from bad_input import bad, documented
from dentpy import context_reg as cr
from dentpy.data.phantoms import cells
from dentpy.detect import centre_heatmap as ch

CELLS, BATCH = "dentpy.data.phantoms.cells.make_cells", "dentpy.data.phantoms.cells.make_cell_batch"
TGT, FOCAL, PEAKS, DECODE = ("dentpy.detect.centre_heatmap.centre_targets",
                             "dentpy.detect.centre_heatmap.gaussian_focal_loss",
                             "dentpy.detect.centre_heatmap.heatmap_peaks",
                             "dentpy.detect.centre_heatmap.decode_centres")
MATCH, AP, BOOT, NET = ("dentpy.detect.centre_heatmap.match_points",
                        "dentpy.detect.centre_heatmap.point_average_precision",
                        "dentpy.detect.centre_heatmap.bootstrap_point_ap",
                        "dentpy.detect.centre_heatmap.CentreNet")
SMASK, AMASK, HEAD, REG = ("dentpy.context_reg.stochastic_mask", "dentpy.context_reg.AdaptiveMask",
                           "dentpy.context_reg.ReconstructionHead",
                           "dentpy.context_reg.ContextualRegularizer")

PTS = np.array([[1.0, 2.0]])
PRED = [{"points": PTS, "scores": np.array([0.5])}]
HEAT = torch.rand(1, 1, 4, 4)
X = torch.randn(2, 8, 4, 4)

EXEMPT = {"dentpy.data.phantoms.cells.CellSample": "a result dataclass, only returned"}

ROWS = [
    # ------------------------------------------------------------------ phantom
    bad(CELLS, "out of range", lambda: cells.make_cells(-1), r"index must be an integer >= 0"),
    bad(CELLS, "not an integer", lambda: cells.make_cells(0, seed=1.5),
        r"seed must be an integer"),
    bad(CELLS, "unknown option", lambda: cells.make_cells(0, site="E"), r"site must be one of"),
    bad(CELLS, "out of range", lambda: cells.make_cells(0, size=16),
        r"size must be an integer >= 32"),
    bad(CELLS, "nan or inf", lambda: cells.make_cells(0, mitoses=np.nan),
        r"mitoses must be a finite number"),
    bad(CELLS, "out of range", lambda: cells.make_cells(0, jitter=-0.1),
        r"jitter must be a finite number in \[0.0, 0.5\]"),
    bad(CELLS, "wrong type", lambda: cells.make_cells(0, nuclei="many"),
        r"nuclei must be a finite number"),
    bad(BATCH, "out of range", lambda: cells.make_cell_batch(0), r"n must be an integer >= 1"),
    bad(BATCH, "not an integer", lambda: cells.make_cell_batch(2.0), r"n must be an integer"),
    bad(BATCH, "out of range", lambda: cells.make_cell_batch(1, start=-2),
        r"start must be an integer >= 0"),
    bad(BATCH, "unknown option", lambda: cells.make_cell_batch(1, site="Z"),
        r"site must be one of"),
    # ------------------------------------------------------------------ detector pieces
    bad(TGT, "wrong type", lambda: ch.centre_targets(PTS.tolist()[0][0], grid_size=(4, 4),
                                                      stride=4), r"centres must be a list"),
    bad(TGT, "wrong rank", lambda: ch.centre_targets([np.zeros(3)], grid_size=(4, 4), stride=4),
        r"centres\[0\] must be an \(N, 2\) array"),
    bad(TGT, "nan or inf", lambda: ch.centre_targets([np.array([[np.nan, 1.0]])],
                                                     grid_size=(4, 4), stride=4),
        r"centres\[0\] must be finite"),
    bad(TGT, "out of range", lambda: ch.centre_targets([PTS], grid_size=(0, 4), stride=4),
        r"grid_size\[0\] must be an integer >= 1"),
    bad(TGT, "out of range", lambda: ch.centre_targets([PTS], grid_size=(4, 4), stride=0),
        r"stride must be a finite number > 0"),
    bad(TGT, "out of range", lambda: ch.centre_targets([PTS], grid_size=(4, 4), stride=4,
                                                       sigma=-1), r"sigma must be"),
    bad(FOCAL, "mismatched lengths", lambda: ch.gaussian_focal_loss(HEAT, torch.rand(1, 1, 3, 3)),
        r"target must be the shape of logits"),
    bad(FOCAL, "out of range", lambda: ch.gaussian_focal_loss(HEAT, HEAT + 1),
        r"target must be values in \[0, 1\]"),
    bad(FOCAL, "wrong dtype", lambda: ch.gaussian_focal_loss(HEAT, torch.ones(1, 1, 4, 4,
                                                                              dtype=torch.long)),
        r"target must be a tensor of float"),
    bad(FOCAL, "nan or inf", lambda: ch.gaussian_focal_loss(HEAT * np.nan, HEAT),
        r"logits must be finite"),
    bad(FOCAL, "out of range", lambda: ch.gaussian_focal_loss(HEAT, HEAT, alpha=-1),
        r"alpha must be"),
    bad(PEAKS, "wrong rank", lambda: ch.heatmap_peaks(HEAT[0]), r"heat must be 4-dimensional"),
    bad(PEAKS, "mismatched lengths", lambda: ch.heatmap_peaks(torch.rand(1, 2, 4, 4)),
        r"heat must be one channel"),
    bad(PEAKS, "out of range", lambda: ch.heatmap_peaks(HEAT, k=0), r"k must be an integer >= 1"),
    bad(PEAKS, "out of range", lambda: ch.heatmap_peaks(HEAT, threshold=1.5),
        r"threshold must be"),
    bad(PEAKS, "out of range", lambda: ch.heatmap_peaks(HEAT, kernel=2),
        r"kernel must be an odd integer"),
    bad(DECODE, "mismatched lengths", lambda: ch.decode_centres(HEAT, torch.rand(1, 2, 3, 3),
                                                                stride=4), r"offset must be"),
    bad(DECODE, "out of range", lambda: ch.decode_centres(HEAT, stride=-4), r"stride must be"),
    bad(DECODE, "wrong type", lambda: ch.decode_centres(None, stride=4),
        r"heat must be an array or a tensor"),
    bad(MATCH, "mismatched lengths", lambda: ch.match_points(PTS, [0.1, 0.2], PTS, radius=1),
        r"points and scores must have the same length"),
    bad(MATCH, "out of range", lambda: ch.match_points(PTS, [0.1], PTS, radius=0),
        r"radius must be a finite number > 0"),
    bad(MATCH, "wrong rank", lambda: ch.match_points(PTS, [0.1], np.zeros((2, 3)), radius=1),
        r"truth must be an \(N, 2\) array"),
    bad(MATCH, "nan or inf", lambda: ch.match_points(PTS, [np.nan], PTS, radius=1),
        r"scores must be finite"),
    bad(AP, "mismatched lengths", lambda: ch.point_average_precision(PRED, [PTS, PTS], radius=1),
        r"predictions and targets must have the same length"),
    bad(AP, "wrong type", lambda: ch.point_average_precision(PRED[0], [PTS], radius=1),
        r"predictions must be a list of dicts"),
    bad(AP, "wrong type", lambda: ch.point_average_precision([{"points": PTS}], [PTS], radius=1),
        r"predictions\[0\] must be a dict with 'points' and 'scores'"),
    documented(AP, "degenerate", lambda: ch.point_average_precision(
        [{"points": np.zeros((0, 2)), "scores": np.zeros(0)}], [np.zeros((0, 2))], radius=1),
        check=lambda r: math.isnan(r)),
    bad(BOOT, "wrong type", lambda: ch.bootstrap_point_ap(PRED, [PTS], radius=1),
        r"predictions must be a non-empty dict"),
    bad(BOOT, "out of range", lambda: ch.bootstrap_point_ap({"a": PRED}, [PTS], radius=1, n=0),
        r"n must be an integer >= 1"),
    bad(BOOT, "mismatched lengths", lambda: ch.bootstrap_point_ap({"a": PRED}, [PTS, PTS],
                                                                  radius=1),
        r"predictions and targets must have the same length"),
    bad(NET, "out of range", lambda: ch.CentreNet(width=2), r"width must be an integer >= 4"),
    bad(NET, "not an integer", lambda: ch.CentreNet(3.0), r"in_channels must be an integer"),
    bad(NET, "mismatched lengths", lambda: ch.CentreNet()(torch.rand(1, 1, 16, 16)),
        r"images must be 3 channels"),
    bad(NET, "out of range", lambda: ch.CentreNet()(torch.rand(1, 3, 12, 12)),
        r"images must be a height and width divisible by 8"),
    bad(NET, "wrong rank", lambda: ch.CentreNet()(torch.rand(3, 16, 16)),
        r"images must be 4-dimensional"),
    # ------------------------------------------------------------------ contextual regularisation
    bad(SMASK, "out of range", lambda: cr.stochastic_mask(X, q=1.5), r"q must be"),
    bad(SMASK, "wrong rank", lambda: cr.stochastic_mask(X[0]), r"x must be 4-dimensional"),
    bad(SMASK, "wrong type", lambda: cr.stochastic_mask(X, generator=0),
        r"generator must be a torch.Generator"),
    bad(SMASK, "nan or inf", lambda: cr.stochastic_mask(X * np.inf), r"x must be finite"),
    bad(AMASK, "out of range", lambda: cr.AdaptiveMask(0, (4, 4)),
        r"channels must be an integer >= 1"),
    bad(AMASK, "wrong type", lambda: cr.AdaptiveMask(8, 4), r"grid_size must be two integers"),
    bad(AMASK, "mismatched lengths", lambda: cr.AdaptiveMask(8, (3, 3))(X),
        r"x must be shape \(B, 8, 3, 3\)"),
    bad(AMASK, "not an integer", lambda: cr.AdaptiveMask(8, (4, 4), reduction=2.5),
        r"reduction must be an integer"),
    bad(HEAD, "out of range", lambda: cr.ReconstructionHead(8, (4, 4), heads=3),
        r"heads must be a divisor of channels=8"),
    bad(HEAD, "out of range", lambda: cr.ReconstructionHead(8, (4, 4), depth=0),
        r"depth must be an integer >= 1"),
    bad(HEAD, "mismatched lengths", lambda: cr.ReconstructionHead(4, (4, 4), heads=2)(X),
        r"x must be shape \(B, 4, 4, 4\)"),
    bad(REG, "unknown option", lambda: cr.ContextualRegularizer(8, (4, 4), mode="random"),
        r"mode must be one of"),
    bad(REG, "out of range", lambda: cr.ContextualRegularizer(8, (4, 4), q=-0.1),
        r"q must be"),
    bad(REG, "out of range", lambda: cr.ContextualRegularizer(8, (4, 4), budget=-1),
        r"budget must be"),
    bad(REG, "wrong type", lambda: cr.ContextualRegularizer(8, (4, 4), detach_target=1),
        r"detach_target must be True or False"),
    bad(REG, "wrong dtype", lambda: cr.ContextualRegularizer(8, (4, 4), heads=2)(
        torch.ones(2, 8, 4, 4, dtype=torch.long)), r"x must be a tensor of float"),
]
