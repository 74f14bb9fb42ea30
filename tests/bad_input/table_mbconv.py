"""Bad-input rows of ``dentpy.mbconv`` (MBConv, encoders, U-Net, DAE corruption) and of the
histology phantom ``dentpy.data.phantoms.histology``."""

from __future__ import annotations

import torch
from torch import nn

from bad_input import bad
from dentpy import mbconv as mb
from dentpy.data.phantoms import histology as hi

P = "dentpy.mbconv."
H = "dentpy.data.phantoms.histology."
NAN = float("nan")
IMG = torch.ones(1, 3, 8, 8)

ROWS = [
    # ---------------------------------------------------------------------- SqueezeExcite
    bad(P + "SqueezeExcite", "wrong type", lambda: mb.SqueezeExcite(None, 2),
        r"channels must be an integer"),
    bad(P + "SqueezeExcite", "out of range", lambda: mb.SqueezeExcite(8, 0),
        r"squeeze must be an integer >= 1"),
    bad(P + "SqueezeExcite", "not an integer", lambda: mb.SqueezeExcite(8.5, 2),
        r"channels must be an integer"),
    # -------------------------------------------------------------------- stochastic_depth
    bad(P + "stochastic_depth", "wrong type", lambda: mb.stochastic_depth(None, 0.5, True),
        r"x must be an array or a tensor"),
    bad(P + "stochastic_depth", "wrong dtype",
        lambda: mb.stochastic_depth(torch.ones(2, 3, dtype=torch.long), 0.5, True),
        r"x must be a tensor of float values"),
    bad(P + "stochastic_depth", "out of range",
        lambda: mb.stochastic_depth(torch.ones(2, 3), 1.5, True), r"p must be a finite number"),
    bad(P + "stochastic_depth", "nan or inf",
        lambda: mb.stochastic_depth(torch.ones(2, 3), NAN, True), r"p must be a finite number"),
    bad(P + "stochastic_depth", "wrong type",
        lambda: mb.stochastic_depth(torch.ones(2, 3), 0.5, "yes"), r"training must be"),
    # ------------------------------------------------------------------------------ MBConv
    bad(P + "MBConv", "out of range", lambda: mb.MBConv(0, 4), r"c_in must be an integer >= 1"),
    bad(P + "MBConv", "not an integer", lambda: mb.MBConv(4, 2.5), r"c_out must be an integer"),
    bad(P + "MBConv", "out of range", lambda: mb.MBConv(4, 4, kernel=4),
        r"kernel must be an odd integer"),
    bad(P + "MBConv", "unknown option", lambda: mb.MBConv(4, 4, stride=3),
        r"stride must be one of"),
    bad(P + "MBConv", "out of range", lambda: mb.MBConv(4, 4, drop_path=1.0),
        r"drop_path must be a finite number in \[0.0, 1.0\)"),
    bad(P + "MBConv", "out of range", lambda: mb.MBConv(4, 4, expand=0),
        r"expand must be an integer >= 1"),
    # -------------------------------------------------------------------- EfficientEncoder
    bad(P + "EfficientEncoder", "wrong type", lambda: mb.EfficientEncoder(widths="abc"),
        r"widths must be a non-empty sequence"),
    bad(P + "EfficientEncoder", "mismatched lengths",
        lambda: mb.EfficientEncoder(depths=(1, 1)), r"depths must be 4 entries"),
    bad(P + "EfficientEncoder", "out of range", lambda: mb.EfficientEncoder(widths=(16, 0)),
        r"widths\[1\] must be an integer >= 1"),
    bad(P + "EfficientEncoder", "wrong rank", lambda: mb.EfficientEncoder()(torch.ones(3, 64, 64)),
        r"x must be 4-dimensional"),
    bad(P + "EfficientEncoder", "mismatched lengths",
        lambda: mb.EfficientEncoder()(torch.ones(1, 1, 64, 64)), r"x must be a tensor with 3"),
    bad(P + "EfficientEncoder", "out of range",
        lambda: mb.EfficientEncoder()(torch.ones(1, 3, 40, 40)), r"x must be .*divisible by 16"),
    bad(P + "EfficientEncoder", "wrong dtype",
        lambda: mb.EfficientEncoder()(torch.ones(1, 3, 64, 64, dtype=torch.long)),
        r"x must be a tensor of float values"),
    # ----------------------------------------------------------------------- ResNetEncoder
    bad(P + "ResNetEncoder", "empty", lambda: mb.ResNetEncoder(widths=()),
        r"widths must be a non-empty sequence"),
    bad(P + "ResNetEncoder", "not an integer", lambda: mb.ResNetEncoder(in_channels=3.5),
        r"in_channels must be an integer"),
    bad(P + "ResNetEncoder", "mismatched lengths",
        lambda: mb.ResNetEncoder(depths=(1, 1, 1)), r"depths must be 4 entries"),
    bad(P + "ResNetEncoder", "nan or inf",
        lambda: mb.ResNetEncoder()(torch.full((1, 3, 16, 16), NAN)), r"x must be finite"),
    # ----------------------------------------------------------------------------- SegUNet
    bad(P + "SegUNet", "wrong type", lambda: mb.SegUNet(nn.Conv2d(3, 3, 1), 2),
        r"encoder must be an EfficientEncoder or a ResNetEncoder"),
    bad(P + "SegUNet", "out of range", lambda: mb.SegUNet(mb.ResNetEncoder(), 0),
        r"n_out must be an integer >= 1"),
    bad(P + "SegUNet", "wrong rank",
        lambda: mb.SegUNet(mb.ResNetEncoder(), 2)(torch.ones(3, 16, 16)), r"x must be 4-dim"),
    # ----------------------------------------------------------------------------- corrupt
    bad(P + "corrupt", "wrong type", lambda: mb.corrupt(None), r"images must be an array"),
    bad(P + "corrupt", "wrong rank", lambda: mb.corrupt(torch.ones(3, 8, 8)),
        r"images must be 4-dimensional"),
    bad(P + "corrupt", "nan or inf", lambda: mb.corrupt(torch.full((1, 3, 8, 8), NAN)),
        r"images must be finite"),
    bad(P + "corrupt", "wrong dtype", lambda: mb.corrupt(torch.ones(1, 3, 8, 8, dtype=torch.long)),
        r"images must be a tensor of float values"),
    bad(P + "corrupt", "empty", lambda: mb.corrupt(torch.ones(0, 3, 8, 8)),
        r"images must be non-empty"),
    bad(P + "corrupt", "out of range", lambda: mb.corrupt(IMG, mask_fraction=1.5),
        r"mask_fraction must be a finite number in \[0.0, 1.0\]"),
    bad(P + "corrupt", "out of range", lambda: mb.corrupt(IMG, noise=-1),
        r"noise must be a finite number >= 0"),
    bad(P + "corrupt", "not an integer", lambda: mb.corrupt(IMG, patch=2.5),
        r"patch must be an integer"),
    # ---------------------------------------------------------------------- make_histology
    bad(H + "make_histology", "out of range", lambda: hi.make_histology(-1),
        r"index must be an integer >= 0"),
    bad(H + "make_histology", "wrong type", lambda: hi.make_histology(0, seed="a"),
        r"seed must be an integer"),
    bad(H + "make_histology", "out of range", lambda: hi.make_histology(0, size=16),
        r"size must be an integer >= 32"),
    bad(H + "make_histology", "not an integer", lambda: hi.make_histology(0, size=64.0),
        r"size must be an integer"),
    bad(H + "make_histology", "nan or inf", lambda: hi.make_histology(0, stain_jitter=NAN),
        r"stain_jitter must be a finite number"),
    # ---------------------------------------------------------------- make_histology_batch
    bad(H + "make_histology_batch", "out of range", lambda: hi.make_histology_batch(0),
        r"n must be an integer >= 1"),
    bad(H + "make_histology_batch", "not an integer", lambda: hi.make_histology_batch(2.5),
        r"n must be an integer"),
    bad(H + "make_histology_batch", "out of range", lambda: hi.make_histology_batch(2, start=-1),
        r"start must be an integer >= 0"),
]

EXEMPT = {
    H + "HistologySample": "a result dataclass, only returned by make_histology",
}
