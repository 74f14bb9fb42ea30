"""Bad input for MIUA 2023 paper 9: the implant phantom, the four CNN families and the
repeated-split interval (``dental_implants``, ``models.families``, ``compare``)."""

from __future__ import annotations

import numpy as np
import torch

from bad_input import bad
from dentpy import compare
from dentpy.data.phantoms import dental_implants as di
from dentpy.models import families as fam

IMPLANT = "dentpy.data.phantoms.dental_implants.make_implant"
SOURCE = "dentpy.data.phantoms.dental_implants.make_source_implant"
SET = "dentpy.data.phantoms.dental_implants.make_implant_set"
INTERVAL = "dentpy.compare.repeated_split_interval"
FAMILY = "dentpy.models.families."
TINY = ("TinyVGG", "TinyInception", "TinyXception", "TinyInceptionResNet")

ROWS = [
    bad(IMPLANT, "wrong type", lambda: di.make_implant("3"), r"index"),
    bad(IMPLANT, "out of range", lambda: di.make_implant(-1), r"index"),
    bad(IMPLANT, "out of range", lambda: di.make_implant(0, label=7), r"label"),
    bad(IMPLANT, "not an integer", lambda: di.make_implant(0, label=2.5), r"label"),
    bad(IMPLANT, "out of range", lambda: di.make_implant(0, size=16), r"size"),
    bad(IMPLANT, "nan or inf", lambda: di.make_implant(0, noise=float("nan")), r"noise"),
    bad(IMPLANT, "out of range", lambda: di.make_implant(0, spread=-1), r"spread"),
    bad(SOURCE, "out of range", lambda: di.make_source_implant(0, seed=-2), r"seed"),
    bad(SOURCE, "not an integer", lambda: di.make_source_implant(0, size=40.0), r"size"),
    bad(SOURCE, "out of range", lambda: di.make_source_implant(0, pose=5), r"pose"),
    bad(SET, "wrong type", lambda: di.make_implant_set(7), r"counts"),
    bad(SET, "mismatched lengths", lambda: di.make_implant_set((1, 2, 3)), r"counts"),
    bad(SET, "out of range", lambda: di.make_implant_set((1, 1, 1, -1, 1, 1, 1)),
        r"counts\[3\]"),
    bad(SET, "empty", lambda: di.make_implant_set((0,) * 7), r"counts"),
    bad(SET, "not an integer", lambda: di.make_implant_set((1.5,) * 7), r"counts\[0\]"),
    bad(INTERVAL, "empty", lambda: compare.repeated_split_interval(
        [0.1], n_train=10, n_test=5), r"scores"),
    bad(INTERVAL, "nan or inf", lambda: compare.repeated_split_interval(
        [0.1, np.nan], n_train=10, n_test=5), r"scores"),
    bad(INTERVAL, "wrong rank", lambda: compare.repeated_split_interval(
        np.zeros((2, 2)), n_train=10, n_test=5), r"scores"),
    bad(INTERVAL, "wrong type", lambda: compare.repeated_split_interval(
        "abc", n_train=10, n_test=5), r"scores"),
    bad(INTERVAL, "out of range", lambda: compare.repeated_split_interval(
        [0.1, 0.2], n_train=0, n_test=5), r"n_train"),
    bad(INTERVAL, "not an integer", lambda: compare.repeated_split_interval(
        [0.1, 0.2], n_train=10, n_test=2.5), r"n_test"),
    bad(INTERVAL, "out of range", lambda: compare.repeated_split_interval(
        [0.1, 0.2], n_train=10, n_test=5, alpha=1.5), r"alpha"),
    bad(INTERVAL, "wrong type", lambda: compare.repeated_split_interval(
        [0.1, 0.2], n_train=10, n_test=5, corrected="yes"), r"corrected"),
    bad(FAMILY + "build_family", "unknown option", lambda: fam.build_family("resnet", 3),
        r"name"),
    bad(FAMILY + "build_family", "out of range", lambda: fam.build_family("vgg", 0),
        r"num_classes"),
    bad(FAMILY + "TinyInceptionResNet", "out of range",
        lambda: fam.TinyInceptionResNet(3, residual_scale=2.0), r"residual_scale"),
    bad(FAMILY + "ConvBNReLU", "out of range", lambda: fam.ConvBNReLU(0, 4), r"in_channels"),
    bad(FAMILY + "ConvBNReLU", "not an integer", lambda: fam.ConvBNReLU(4, 4, kernel_size=2.5),
        r"kernel_size"),
    bad(FAMILY + "InceptionModule", "out of range", lambda: fam.InceptionModule(4, 0),
        r"branch"),
    bad(FAMILY + "SeparableConv", "wrong type", lambda: fam.SeparableConv("4", 8),
        r"in_channels"),
    bad(FAMILY + "XceptionBlock", "out of range", lambda: fam.XceptionBlock(4, -1),
        r"out_channels"),
    bad(FAMILY + "InceptionResNetBlock", "out of range",
        lambda: fam.InceptionResNetBlock(8, 4, residual_scale=-0.1), r"residual_scale"),
    bad(FAMILY + "InceptionResNetBlock", "not an integer",
        lambda: fam.InceptionResNetBlock(8.0, 4), r"channels"),
]
for _name in TINY:
    _cls = getattr(fam, _name)
    ROWS += [
        bad(FAMILY + _name, "out of range", lambda c=_cls: c(0), r"num_classes"),
        bad(FAMILY + _name, "not an integer", lambda c=_cls: c(3, width=2.5), r"width"),
        bad(FAMILY + _name, "out of range", lambda c=_cls: c(3, dropout=1.0), r"dropout"),
        bad(FAMILY + _name, "wrong rank", lambda c=_cls: c(3)(torch.zeros(1, 32, 32)), r"x"),
        bad(FAMILY + _name, "mismatched lengths",
            lambda c=_cls: c(3)(torch.zeros(1, 3, 32, 32)), r"x must be \(N, 1"),
        bad(FAMILY + _name, "out of range", lambda c=_cls: c(3)(torch.zeros(1, 1, 8, 8)),
            r"H, W >= 16"),
        bad(FAMILY + _name, "wrong dtype",
            lambda c=_cls: c(3)(torch.zeros(1, 1, 32, 32, dtype=torch.long)), r"x"),
    ]

EXEMPT = {
    "dentpy.data.phantoms.dental_implants.ImplantSample":
        "a result dataclass, built by make_implant and make_source_implant",
}
