"""Bad-input rows of the equal-budget segmentation comparison (``dentpy.compare_seg``)."""

from __future__ import annotations

import numpy as np
import torch

from bad_input import bad, documented
from dentpy import compare_seg as cs
from dentpy.models import UNet

M = "dentpy.compare_seg."
PARAMS, MATCH, LOSS, FIT, TIME, BOOT = (M + n for n in (
    "unet_parameters", "match_unet_width", "seg_loss", "fit_timed", "time_steps",
    "paired_bootstrap"))
X = torch.rand(2, 1, 8, 8)
Y = (torch.rand(2, 1, 8, 8) > 0.5).float()
PAIR = (X, Y)
NAN = float("nan")
A = np.array([[0.5, 0.6, 0.7], [0.4, 0.5, 0.9]])


def net() -> UNet:
    torch.manual_seed(0)
    return UNet(2, 1, 1, width=2, depth=2)


def fit(**kw):
    args = dict(model=net(), train=PAIR, val=PAIR, epochs=1)
    args.update(kw)
    return cs.fit_timed(args.pop("model"), args.pop("train"), args.pop("val"), **args)


ROWS = [
    bad(PARAMS, "wrong type", lambda: cs.unet_parameters("8"), match=r"width"),
    bad(PARAMS, "not an integer", lambda: cs.unet_parameters(8.5), match=r"width"),
    bad(PARAMS, "out of range", lambda: cs.unet_parameters(0), match=r"width"),
    bad(PARAMS, "out of range", lambda: cs.unet_parameters(4, depth=1), match=r"depth"),
    bad(PARAMS, "unknown option", lambda: cs.unet_parameters(4, norm="layer"), match=r"norm"),
    bad(MATCH, "wrong type", lambda: cs.match_unet_width(None), match=r"target"),
    bad(MATCH, "not an integer", lambda: cs.match_unet_width(1e5), match=r"target"),
    bad(MATCH, "out of range", lambda: cs.match_unet_width(-5), match=r"target"),
    bad(MATCH, "out of range", lambda: cs.match_unet_width(1000, dim=4), match=r"dim"),
    documented(MATCH, "degenerate", lambda: cs.match_unet_width(1), check=lambda r: r == 1),
    bad(LOSS, "wrong type", lambda: cs.seg_loss("logits", Y), match=r"logits"),
    bad(LOSS, "wrong rank", lambda: cs.seg_loss(X[0], Y[0]), match=r"logits"),
    bad(LOSS, "mismatched lengths", lambda: cs.seg_loss(X, Y[:1]), match=r"masks"),
    bad(LOSS, "nan or inf", lambda: cs.seg_loss(X * NAN, Y), match=r"logits"),
    bad(LOSS, "wrong dtype", lambda: cs.seg_loss(X.long(), Y), match=r"logits"),
    bad(FIT, "wrong type", lambda: fit(model="unet"), match=r"model"),
    bad(FIT, "wrong type", lambda: fit(train=X), match=r"train"),
    bad(FIT, "not an integer", lambda: fit(epochs=2.5), match=r"epochs"),
    bad(FIT, "out of range", lambda: fit(epochs=0), match=r"epochs"),
    bad(FIT, "out of range", lambda: fit(lr=-1e-3), match=r"lr"),
    bad(FIT, "nan or inf", lambda: fit(lr=NAN), match=r"lr"),
    bad(FIT, "nan or inf", lambda: fit(train=(X * NAN, Y)), match=r"train images"),
    bad(FIT, "mismatched lengths", lambda: fit(val=(X[:, :, :4, :4], Y[:, :, :4, :4])),
        match=r"val"),
    bad(FIT, "out of range", lambda: fit(snapshot_images=X, snapshot_epochs=(2,)),
        match=r"snapshot_epochs\[0\]"),
    bad(FIT, "wrong type", lambda: fit(snapshot_epochs=1), match=r"snapshot_epochs"),
    bad(FIT, "empty", lambda: fit(snapshot_epochs=(1,)), match=r"snapshot_images"),
    bad(TIME, "wrong type", lambda: cs.time_steps(net(), X, Y), match=r"models"),
    bad(TIME, "empty", lambda: cs.time_steps({}, X, Y), match=r"models"),
    bad(TIME, "wrong type", lambda: cs.time_steps({"a": "net"}, X, Y), match=r"models\['a'\]"),
    bad(TIME, "out of range", lambda: cs.time_steps({"a": net()}, X, Y, repeats=0),
        match=r"repeats"),
    bad(TIME, "mismatched lengths", lambda: cs.time_steps({"a": net()}, X, Y[:1]),
        match=r"masks"),
    bad(BOOT, "wrong type", lambda: cs.paired_bootstrap(None, A), match=r"\ba\b"),
    bad(BOOT, "wrong rank", lambda: cs.paired_bootstrap(A[None], A[None]), match=r"\ba\b"),
    bad(BOOT, "mismatched lengths", lambda: cs.paired_bootstrap(A, A[:, :2]), match=r"\bb\b"),
    bad(BOOT, "nan or inf", lambda: cs.paired_bootstrap(A * NAN, A), match=r"\ba\b"),
    bad(BOOT, "empty", lambda: cs.paired_bootstrap(A[:, :0], A[:, :0]), match=r"\ba\b"),
    bad(BOOT, "unknown option", lambda: cs.paired_bootstrap(A, A, kind="ratio"), match=r"kind"),
    bad(BOOT, "out of range", lambda: cs.paired_bootstrap(A, A, alpha=1.5), match=r"alpha"),
    bad(BOOT, "not an integer", lambda: cs.paired_bootstrap(A, A, n_boot=10.5), match=r"n_boot"),
    bad(BOOT, "degenerate", lambda: cs.paired_bootstrap(A, 0 * A, kind="relative"),
        match=r"\bb\b.*positive"),
    documented(BOOT, "degenerate", lambda: cs.paired_bootstrap(A, A),
               check=lambda r: r == (0.0, 0.0, 0.0)),
]

EXEMPT = {M + "TimedHistory": "a result dataclass, only returned by fit_timed"}
