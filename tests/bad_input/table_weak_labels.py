"""Bad-input rows of weak labels and their refinement (``dentpy.weak_labels``) and of the
abdominal CT/MR phantom (``dentpy.data.phantoms.abdomen``)."""

from __future__ import annotations

import numpy as np
import torch

from bad_input import bad, documented
from dentpy import weak_labels as wl
from dentpy.data.phantoms import abdomen as ab
from dentpy.models import UNet

W = "dentpy.weak_labels."
A = "dentpy.data.phantoms.abdomen."
NAN = float("nan")
M = np.zeros((16, 16), bool)
M[4:12, 4:12] = True
MASKS = np.stack([M, M])[:, None]
X = torch.rand(2, 1, 8, 8)
Y = (torch.rand(2, 1, 8, 8) > 0.5).float()


def net() -> UNet:
    torch.manual_seed(0)
    return UNet(2, 1, 1, width=2, depth=2)


def refine(**kw):
    args = dict(source_model=net(), images=X, masks=Y, iterations=1, epochs=1)
    args.update(kw)
    return wl.refine(args.pop("source_model"), args.pop("images"), args.pop("masks"), **args)


ROWS = [
    # ------------------------------------------------------------------------- weaken_mask
    bad(W + "weaken_mask", "wrong type", lambda: wl.weaken_mask(None, 0), "mask"),
    bad(W + "weaken_mask", "wrong rank", lambda: wl.weaken_mask(MASKS, 0), "mask"),
    bad(W + "weaken_mask", "out of range", lambda: wl.weaken_mask(M * 2.0, 0), "mask"),
    bad(W + "weaken_mask", "empty", lambda: wl.weaken_mask(np.zeros((0, 4)), 0), "mask"),
    bad(W + "weaken_mask", "wrong type", lambda: wl.weaken_mask(M, "x"), "rng"),
    bad(W + "weaken_mask", "out of range", lambda: wl.weaken_mask(M, 0, rotation=-1), "rotation"),
    bad(W + "weaken_mask", "out of range", lambda: wl.weaken_mask(M, 0, scale=(1.1, 0.9)),
        r"scale\[1\]"),
    bad(W + "weaken_mask", "wrong type", lambda: wl.weaken_mask(M, 0, scale=1.1), "scale"),
    bad(W + "weaken_mask", "out of range", lambda: wl.weaken_mask(M, 0, scale=(0, 1)),
        r"scale\[0\]"),
    bad(W + "weaken_mask", "out of range", lambda: wl.weaken_mask(M, 0, shift=0.8), "shift"),
    bad(W + "weaken_mask", "nan or inf", lambda: wl.weaken_mask(M, 0, alpha=NAN), "alpha"),
    bad(W + "weaken_mask", "out of range", lambda: wl.weaken_mask(M, 0, sigma=0), "sigma"),
    documented(W + "weaken_mask", "degenerate", lambda: wl.weaken_mask(np.zeros((8, 8)), 0),
               check=lambda r: r.shape == (8, 8) and not r.any()),
    # --------------------------------------------------------------------------- mask_dice
    bad(W + "mask_dice", "wrong type", lambda: wl.mask_dice("a", MASKS), "a"),
    bad(W + "mask_dice", "wrong rank", lambda: wl.mask_dice(M.ravel(), M.ravel()), "a"),
    bad(W + "mask_dice", "mismatched lengths", lambda: wl.mask_dice(MASKS, MASKS[:1]), "b"),
    bad(W + "mask_dice", "out of range", lambda: wl.mask_dice(MASKS, MASKS * 3), "b"),
    bad(W + "mask_dice", "nan or inf", lambda: wl.mask_dice(MASKS * NAN, MASKS), "a"),
    documented(W + "mask_dice", "degenerate",
               lambda: wl.mask_dice(np.zeros((2, 4, 4)), np.zeros((2, 4, 4))),
               check=lambda r: list(r) == [1.0, 1.0]),
    # ------------------------------------------------------------------------------ refine
    bad(W + "refine", "wrong type", lambda: refine(source_model=torch.nn.Identity()),
        "source_model"),
    bad(W + "refine", "wrong rank", lambda: refine(images=X[0], masks=Y[0]), "images"),
    bad(W + "refine", "mismatched lengths", lambda: refine(masks=Y[:1]), "masks"),
    bad(W + "refine", "out of range", lambda: refine(masks=Y * 2), "masks"),
    bad(W + "refine", "nan or inf", lambda: refine(images=X * NAN), "images"),
    bad(W + "refine", "not an integer", lambda: refine(iterations=2.5), "iterations"),
    bad(W + "refine", "out of range", lambda: refine(epochs=0), "epochs"),
    bad(W + "refine", "out of range", lambda: refine(lr=-1.0), "lr"),
    bad(W + "refine", "unknown option", lambda: refine(restart="scratch"), "restart"),
    bad(W + "refine", "out of range", lambda: refine(threshold=1.0), "threshold"),
    bad(W + "refine", "mismatched lengths", lambda: refine(held_out=torch.rand(2, 1, 4, 4)),
        "held_out"),
    bad(W + "refine", "wrong dtype", lambda: refine(held_out=torch.ones(2, 1, 8, 8).long()),
        "held_out"),
    # --------------------------------------------------------------------- simulated_rater
    bad(W + "simulated_rater", "out of range",
        lambda: wl.simulated_rater(MASKS, MASKS, MASKS, margin=-0.1), "margin"),
    bad(W + "simulated_rater", "nan or inf",
        lambda: wl.simulated_rater(MASKS, MASKS, MASKS, noise=NAN), "noise"),
    bad(W + "simulated_rater", "mismatched lengths",
        lambda: wl.simulated_rater(MASKS, MASKS[:1], MASKS), "left"),
    bad(W + "simulated_rater", "wrong type", lambda: wl.simulated_rater(None, MASKS, MASKS),
        "truth"),
    documented(W + "simulated_rater", "degenerate",
               lambda: wl.simulated_rater(MASKS, MASKS, MASKS),
               check=lambda r: list(r) == ["tie", "tie"]),
    # -------------------------------------------------------------------------- blinded_ab
    bad(W + "blinded_ab", "wrong type", lambda: wl.blinded_ab(MASKS, None, MASKS), "model"),
    bad(W + "blinded_ab", "mismatched lengths", lambda: wl.blinded_ab(MASKS, MASKS, MASKS[:1]),
        "weak"),
    bad(W + "blinded_ab", "not an integer", lambda: wl.blinded_ab(MASKS, MASKS, MASKS, seed=0.5),
        "seed"),
    bad(W + "blinded_ab", "out of range", lambda: wl.blinded_ab(MASKS, MASKS, MASKS, margin=2),
        "margin"),
    documented(W + "blinded_ab", "degenerate", lambda: wl.blinded_ab(MASKS, MASKS, MASKS),
               check=lambda r: r.tie == 2 and np.isnan(r.model_share_without_ties)),
    # ------------------------------------------------------------------------ make_abdomen
    bad(A + "make_abdomen", "out of range", lambda: ab.make_abdomen(-1), "index"),
    bad(A + "make_abdomen", "wrong type", lambda: ab.make_abdomen(0, seed="a"), "seed"),
    bad(A + "make_abdomen", "unknown option", lambda: ab.make_abdomen(0, domain="pet"),
        "domain"),
    bad(A + "make_abdomen", "out of range", lambda: ab.make_abdomen(0, size=16), "size"),
    bad(A + "make_abdomen", "not an integer", lambda: ab.make_abdomen(0, size=64.0), "size"),
    # ------------------------------------------------------------------ make_abdomen_batch
    bad(A + "make_abdomen_batch", "out of range", lambda: ab.make_abdomen_batch(0), "n"),
    bad(A + "make_abdomen_batch", "not an integer", lambda: ab.make_abdomen_batch(2.5), "n"),
    bad(A + "make_abdomen_batch", "out of range", lambda: ab.make_abdomen_batch(1, start=-2),
        "start"),
    bad(A + "make_abdomen_batch", "unknown option",
        lambda: ab.make_abdomen_batch(1, domain="MR"), "domain"),
]

EXEMPT = {
    W + "RefineResult": "a result dataclass, only returned by refine",
    W + "ABResult": "a result dataclass, only returned by blinded_ab",
    A + "AbdomenSample": "a result dataclass, only returned by make_abdomen",
}
