"""Bad-input rows of the cross-modality transfer protocol (``dentpy.transfer``)."""

from __future__ import annotations

import torch
from torch import nn

from bad_input import bad, documented
from dentpy import transfer as tr
from dentpy.models import UNet

PARTS, FREEZE, DICE, FIT, RUN = ("dentpy.transfer.unet_parts", "dentpy.transfer.freeze",
                                 "dentpy.transfer.dice_per_image", "dentpy.transfer.fit_segmenter",
                                 "dentpy.transfer.run_protocols")
X = torch.rand(2, 1, 8, 8)
Y = (torch.rand(2, 1, 8, 8) > 0.5).float()
PAIR = (X, Y)
NAN = float("nan")


def net() -> UNet:
    torch.manual_seed(0)
    return UNet(2, 1, 1, width=2, depth=2)


def fit(**kw):
    args = dict(model=net(), train=PAIR, val=PAIR, epochs=1, lr=1e-3)
    args.update(kw)
    return tr.fit_segmenter(args.pop("model"), args.pop("train"), args.pop("val"), **args)


def run(**kw):
    args = dict(make_model=net, source={"train": PAIR, "val": PAIR},
                target={"train": PAIR, "val": PAIR}, tests={"t": PAIR}, source_epochs=1,
                target_epochs=1)
    args.update(kw)
    return tr.run_protocols(args.pop("make_model"), args.pop("source"), args.pop("target"),
                            args.pop("tests"), **args)


ROWS = [
    bad(PARTS, "wrong type", lambda: tr.unet_parts(nn.Linear(2, 2)), "model"),
    bad(PARTS, "out of range", lambda: tr.unet_parts(UNet(3, 1, 1, width=2, depth=2)), "model"),
    bad(FREEZE, "wrong type", lambda: tr.freeze(None, "none"), "model"),
    bad(FREEZE, "unknown option", lambda: tr.freeze(net(), "decoder"), "strategy"),
    bad(DICE, "wrong type", lambda: tr.dice_per_image("model", X, Y), "model"),
    bad(DICE, "wrong rank", lambda: tr.dice_per_image(nn.Identity(), X[0], Y[0]), "images"),
    bad(DICE, "wrong dtype",
        lambda: tr.dice_per_image(nn.Identity(), X.to(torch.uint8), Y), "images"),
    bad(DICE, "mismatched lengths", lambda: tr.dice_per_image(nn.Identity(), X, Y[:1]), "masks"),
    bad(DICE, "out of range", lambda: tr.dice_per_image(nn.Identity(), X, 2 * Y + 1), "masks"),
    bad(DICE, "nan or inf", lambda: tr.dice_per_image(nn.Identity(), X * NAN, Y), "images"),
    bad(DICE, "empty", lambda: tr.dice_per_image(nn.Identity(), X[:0], Y[:0]), "images"),
    bad(DICE, "out of range", lambda: tr.dice_per_image(nn.Identity(), X, Y, threshold=1.0),
        "threshold"),
    bad(DICE, "not an integer", lambda: tr.dice_per_image(nn.Identity(), X, Y, batch_size=2.5),
        "batch_size"),
    bad(DICE, "mismatched lengths",
        lambda: tr.dice_per_image(nn.Identity(), torch.rand(2, 3, 8, 8), torch.ones(2, 1, 8, 8)),
        r"model must map the images to logits of the masks' shape \(2, 1, 8, 8\)"),
    bad(DICE, "mismatched lengths", lambda: tr.dice_per_image(net(), X, torch.cat([Y, Y], 1)),
        r"model must map"),
    bad(DICE, "wrong dtype", lambda: tr.dice_per_image(net(), X, Y * 2), r"masks.*binary"),
    documented(DICE, "degenerate",
               lambda: tr.dice_per_image(nn.Identity(), torch.full((1, 2, 4, 4), -5.0),
                                         torch.zeros(1, 2, 4, 4)),
               lambda out: out.tolist() == [1.0]),
    documented(DICE, "degenerate",
               lambda: tr.dice_per_image(nn.Identity(), torch.full((1, 1, 4, 4), -5.0),
                                         torch.zeros(1, 1, 4, 4)),
               lambda out: out.tolist() == [1.0]),
    bad(FIT, "wrong type", lambda: fit(model=nn.Linear(2, 2)), "model"),
    bad(FIT, "wrong type", lambda: fit(train=X), "train"),
    bad(FIT, "mismatched lengths", lambda: fit(val=(X, Y[:1])), "val masks"),
    bad(FIT, "not an integer", lambda: fit(epochs=2.0), "epochs"),
    bad(FIT, "out of range", lambda: fit(epochs=0), "epochs"),
    bad(FIT, "out of range", lambda: fit(lr=0.0), "lr"),
    bad(FIT, "nan or inf", lambda: fit(lr=NAN), "lr"),
    bad(FIT, "unknown option", lambda: fit(strategy="decoder"), "strategy"),
    bad(FIT, "wrong type", lambda: fit(freeze_bn_stats=1), "freeze_bn_stats"),
    bad(FIT, "out of range", lambda: fit(seed=-1), "seed"),
    bad(FIT, "nan or inf", lambda: fit(train=(X * NAN, Y)), "train images"),
    bad(RUN, "wrong type", lambda: run(make_model=net()), "make_model"),
    bad(RUN, "wrong type", lambda: run(source={"train": PAIR}), "source"),
    bad(RUN, "wrong type", lambda: run(tests={}), "tests"),
    bad(RUN, "wrong dtype", lambda: run(tests={"t": (X, Y.long() * 3)}), "tests"),
    bad(RUN, "out of range", lambda: run(target_epochs=0), "target_epochs"),
    bad(RUN, "wrong type", lambda: run(target_lrs=1e-3), "target_lrs"),
    bad(RUN, "out of range", lambda: run(target_lrs=(1e-3, -1.0)), r"target_lrs\[1\]"),
    bad(RUN, "unknown option", lambda: run(strategies=("encoder", "bottleneck")),
        r"strategies\[1\]"),
    bad(RUN, "wrong type", lambda: run(strategies="encoder"), "strategies"),
    bad(RUN, "wrong type", lambda: run(source_model=nn.Linear(2, 2)), "source_model"),
    bad(RUN, "wrong type", lambda: run(make_model=lambda: nn.Linear(2, 2)), r"make_model\(\)"),
]

EXEMPT = {
    "dentpy.transfer.FitHistory": "a result dataclass, only returned by fit_segmenter",
    "dentpy.transfer.ProtocolResult": "a result dataclass, only returned by run_protocols",
}
