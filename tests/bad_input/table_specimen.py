"""Bad-input rows of ``dentpy.specimen``, ``dentpy.models.deeplab`` and the gross-specimen
phantom (``dentpy.data.phantoms.gross_specimen``)."""

from __future__ import annotations

import numpy as np
import torch

from bad_input import bad, documented
from dentpy import specimen as sp
from dentpy.data.phantoms import gross_specimen as gs
from dentpy.models.deeplab import MiniDeepLabV3Plus

S = "dentpy.specimen."
G = "dentpy.data.phantoms.gross_specimen."
D = "dentpy.models.deeplab.MiniDeepLabV3Plus"
NAN = float("nan")
IMG = np.full((3, 16, 16), 0.5)
Z = torch.zeros(1, 1, 4, 4)
M = np.zeros((4, 4))

ROWS = [
    # --------------------------------------------------------- spectral_residual_saliency
    bad(S + "spectral_residual_saliency", "wrong type",
        lambda: sp.spectral_residual_saliency(None), r"rgb must be an array"),
    bad(S + "spectral_residual_saliency", "wrong rank",
        lambda: sp.spectral_residual_saliency(np.ones((16, 16))), r"rgb must be 3-dimensional"),
    bad(S + "spectral_residual_saliency", "mismatched lengths",
        lambda: sp.spectral_residual_saliency(np.ones((4, 16, 16))), r"rgb must be an RGB image"),
    bad(S + "spectral_residual_saliency", "nan or inf",
        lambda: sp.spectral_residual_saliency(np.full((3, 16, 16), NAN)), r"rgb must be finite"),
    bad(S + "spectral_residual_saliency", "out of range",
        lambda: sp.spectral_residual_saliency(IMG * 3), r"rgb must hold values in \[0, 1\]"),
    bad(S + "spectral_residual_saliency", "empty",
        lambda: sp.spectral_residual_saliency(np.ones((3, 0, 16))), r"rgb must be non-empty"),
    bad(S + "spectral_residual_saliency", "not an integer",
        lambda: sp.spectral_residual_saliency(IMG, width=64.5), r"width must be an integer"),
    bad(S + "spectral_residual_saliency", "out of range",
        lambda: sp.spectral_residual_saliency(IMG, sigma=-1), r"sigma must be a finite number"),
    documented(S + "spectral_residual_saliency", "degenerate",
               lambda: sp.spectral_residual_saliency(IMG), check=lambda r: not r.any()),
    # --------------------------------------------------------------- saliency_tissue_mask
    bad(S + "saliency_tissue_mask", "wrong type", lambda: sp.saliency_tissue_mask("img"),
        r"rgb must be an array"),
    bad(S + "saliency_tissue_mask", "out of range", lambda: sp.saliency_tissue_mask(
        IMG, factor=0), r"factor must be a finite number > 0"),
    bad(S + "saliency_tissue_mask", "out of range", lambda: sp.saliency_tissue_mask(
        IMG, radius=-1), r"radius must be an integer >= 0"),
    documented(S + "saliency_tissue_mask", "degenerate", lambda: sp.saliency_tissue_mask(IMG),
               check=lambda r: r.dtype == bool and not r.any()),
    # ----------------------------------------------------------------- kmeans_tissue_mask
    bad(S + "kmeans_tissue_mask", "wrong type", lambda: sp.kmeans_tissue_mask(None),
        r"rgb must be an array"),
    bad(S + "kmeans_tissue_mask", "out of range", lambda: sp.kmeans_tissue_mask(IMG, k=1),
        r"k must be an integer >= 2"),
    bad(S + "kmeans_tissue_mask", "not an integer", lambda: sp.kmeans_tissue_mask(
        IMG, n_init=2.5), r"n_init must be an integer"),
    bad(S + "kmeans_tissue_mask", "nan or inf", lambda: sp.kmeans_tissue_mask(IMG, tol=NAN),
        r"tol must be a finite number"),
    bad(S + "kmeans_tissue_mask", "out of range", lambda: sp.kmeans_tissue_mask(IMG, seed=-1),
        r"seed must be an integer >= 0"),
    documented(S + "kmeans_tissue_mask", "degenerate", lambda: sp.kmeans_tissue_mask(IMG),
               check=lambda r: r.all()),
    # ------------------------------------------------------------------ balanced_bce_loss
    bad(S + "balanced_bce_loss", "wrong type", lambda: sp.balanced_bce_loss(None, Z),
        r"logits must be an array or a tensor"),
    bad(S + "balanced_bce_loss", "mismatched lengths", lambda: sp.balanced_bce_loss(
        Z, torch.zeros(1, 1, 4, 5)), r"logits and target must have the same shape"),
    bad(S + "balanced_bce_loss", "out of range", lambda: sp.balanced_bce_loss(
        Z, torch.full((1, 1, 4, 4), 0.5)), r"target must hold only 0 and 1"),
    bad(S + "balanced_bce_loss", "out of range", lambda: sp.balanced_bce_loss(Z, Z, beta=1.5),
        r"beta must be a finite number in \[0.0, 1.0\]"),
    bad(S + "balanced_bce_loss", "nan or inf", lambda: sp.balanced_bce_loss(
        torch.full((1, 1, 4, 4), NAN), Z), r"logits must be finite"),
    bad(S + "balanced_bce_loss", "wrong dtype", lambda: sp.balanced_bce_loss(
        Z.long(), Z), r"logits must be a tensor of float values"),
    bad(S + "balanced_bce_loss", "empty", lambda: sp.balanced_bce_loss(
        torch.zeros(0, 1, 4, 4), torch.zeros(0, 1, 4, 4)), r"logits must be non-empty"),
    documented(S + "balanced_bce_loss", "degenerate", lambda: sp.balanced_bce_loss(
        Z, torch.ones(1, 1, 4, 4)), check=lambda r: float(r) == 0.0),
    # ----------------------------------------------------------------- postprocess_tumour
    bad(S + "postprocess_tumour", "wrong type", lambda: sp.postprocess_tumour(
        None, min_size=1, radius=1), r"mask must be an array"),
    bad(S + "postprocess_tumour", "wrong dtype", lambda: sp.postprocess_tumour(
        np.full((4, 4), 0.5), min_size=1, radius=1), r"mask must be a binary"),
    bad(S + "postprocess_tumour", "wrong rank", lambda: sp.postprocess_tumour(
        np.zeros((2, 4, 4)), min_size=1, radius=1), r"mask must be 2-dimensional"),
    bad(S + "postprocess_tumour", "out of range", lambda: sp.postprocess_tumour(
        M, min_size=-1, radius=1), r"min_size must be an integer >= 0"),
    bad(S + "postprocess_tumour", "not an integer", lambda: sp.postprocess_tumour(
        M, min_size=1, radius=1.5), r"radius must be an integer"),
    bad(S + "postprocess_tumour", "empty", lambda: sp.postprocess_tumour(
        np.zeros((0, 4)), min_size=1, radius=1), r"mask must be non-empty"),
    documented(S + "postprocess_tumour", "degenerate", lambda: sp.postprocess_tumour(
        M, min_size=1, radius=1), check=lambda r: r.dtype == bool and not r.any()),
    # ------------------------------------------------------------------- confusion_counts
    bad(S + "confusion_counts", "wrong type", lambda: sp.confusion_counts(None, M),
        r"pred must be an array"),
    bad(S + "confusion_counts", "mismatched lengths", lambda: sp.confusion_counts(
        M, np.zeros((4, 5))), r"pred and target must have the same shape"),
    bad(S + "confusion_counts", "wrong dtype", lambda: sp.confusion_counts(np.full((4, 4), 2), M),
        r"pred must be a binary mask"),
    bad(S + "confusion_counts", "empty", lambda: sp.confusion_counts(np.zeros(0), np.zeros(0)),
        r"pred must be non-empty"),
    bad(S + "confusion_counts", "nan or inf", lambda: sp.confusion_counts(
        M, np.full((4, 4), NAN)), r"target must be finite"),
    # ---------------------------------------------------------------- segmentation_scores
    bad(S + "segmentation_scores", "wrong type", lambda: sp.segmentation_scores(None),
        r"counts must be an array"),
    bad(S + "segmentation_scores", "wrong rank", lambda: sp.segmentation_scores(np.zeros((3, 3))),
        r"counts must be a 2 x 2 matrix"),
    bad(S + "segmentation_scores", "out of range", lambda: sp.segmentation_scores(
        np.array([[1, -1], [0, 1]])), r"counts must be non-negative"),
    bad(S + "segmentation_scores", "nan or inf", lambda: sp.segmentation_scores(
        np.array([[1, NAN], [0, 1]])), r"counts must be finite"),
    documented(S + "segmentation_scores", "degenerate", lambda: sp.segmentation_scores(
        np.array([[10, 0], [0, 0]])), check=lambda r: np.isnan(r["tumour_iou"])
        and r["global_accuracy"] == 1.0),
    # ------------------------------------------------------------------ MiniDeepLabV3Plus
    bad(D, "out of range", lambda: MiniDeepLabV3Plus(width=0), r"width must be an integer >= 1"),
    bad(D, "empty", lambda: MiniDeepLabV3Plus(rates=()), r"rates must hold at least one"),
    bad(D, "wrong type", lambda: MiniDeepLabV3Plus(rates="246"), r"rates must be a sequence"),
    bad(D, "not an integer", lambda: MiniDeepLabV3Plus(rates=(2.5,)), r"rates must be an integer"),
    bad(D, "mismatched lengths", lambda: MiniDeepLabV3Plus()(torch.zeros(1, 1, 16, 16)),
        r"x must have shape \(N, 3, H, W\)"),
    bad(D, "out of range", lambda: MiniDeepLabV3Plus()(torch.zeros(2, 3, 12, 12)),
        r"x: spatial size \(12, 12\) must be divisible by 8"),
    bad(D, "wrong type", lambda: MiniDeepLabV3Plus()(None), r"x must be a tensor"),
    # ----------------------------------------------------------------- make_gross_specimen
    bad(G + "make_gross_specimen", "out of range", lambda: gs.make_gross_specimen(-1),
        r"patient must be an integer >= 0"),
    bad(G + "make_gross_specimen", "not an integer", lambda: gs.make_gross_specimen(0, 2.5),
        r"slice_index must be an integer"),
    bad(G + "make_gross_specimen", "unknown option", lambda: gs.make_gross_specimen(
        0, dataset="C"), r"dataset must be one of"),
    bad(G + "make_gross_specimen", "out of range", lambda: gs.make_gross_specimen(0, size=16),
        r"size must be an integer >= 48"),
    bad(G + "make_gross_specimen", "not an integer", lambda: gs.make_gross_specimen(
        0, size=64.0), r"size must be an integer"),
    bad(G + "make_gross_specimen", "out of range", lambda: gs.make_gross_specimen(
        0, p_necrotic=1.5), r"p_necrotic must be a finite number in \[0.0, 1.0\]"),
    bad(G + "make_gross_specimen", "nan or inf", lambda: gs.make_gross_specimen(
        0, p_adenocarcinoma=NAN), r"p_adenocarcinoma must be a finite number"),
    bad(G + "make_gross_specimen", "wrong type", lambda: gs.make_gross_specimen(0, seed="a"),
        r"seed must be an integer"),
    # ------------------------------------------------------------- make_gross_specimen_set
    bad(G + "make_gross_specimen_set", "out of range", lambda: gs.make_gross_specimen_set(0, 1),
        r"n_patients must be an integer >= 1"),
    bad(G + "make_gross_specimen_set", "not an integer", lambda: gs.make_gross_specimen_set(
        1, 1.5), r"n_slices must be an integer"),
    bad(G + "make_gross_specimen_set", "out of range", lambda: gs.make_gross_specimen_set(
        1, 1, first_patient=-2), r"first_patient must be an integer >= 0"),
    bad(G + "make_gross_specimen_set", "unknown option", lambda: gs.make_gross_specimen_set(
        1, 1, dataset=None), r"dataset must be one of"),
]

EXEMPT = {G + "GrossSpecimen": "a result dataclass, only returned by make_gross_specimen"}
