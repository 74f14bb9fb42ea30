"""Bad-input rows of ``dentpy.segformer`` (SegFormer built from a transformers config)."""

from __future__ import annotations

import torch
from torch import nn

from bad_input import bad
from dentpy import segformer as sf

P = "dentpy.segformer."
NAN = float("nan")


def _tiny(**kw):
    return sf.segformer_config("tiny", in_channels=1, num_classes=2, **kw)


def _model():
    return sf.SegFormer(_tiny())


ROWS = [
    # ----------------------------------------------------------------------- segformer_config
    bad(P + "segformer_config", "unknown option", lambda: sf.segformer_config("b9"),
        r"variant must be one of"),
    bad(P + "segformer_config", "wrong type", lambda: sf.segformer_config(None),
        r"variant must be one of"),
    bad(P + "segformer_config", "not an integer",
        lambda: sf.segformer_config("tiny", in_channels=2.5), r"in_channels must be an integer"),
    bad(P + "segformer_config", "out of range",
        lambda: sf.segformer_config("tiny", num_classes=0), r"num_classes must be an integer >= 1"),
    bad(P + "segformer_config", "unknown option",
        lambda: sf.segformer_config("tiny", hiden_sizes=[8, 16, 32, 64]),
        r"overrides must be SegformerConfig fields.*hiden_sizes"),
    bad(P + "segformer_config", "unknown option",
        lambda: sf.segformer_config("tiny", num_labels=3), r"overrides must be .*num_labels"),
    bad(P + "segformer_config", "mismatched lengths",
        lambda: sf.segformer_config("tiny", depths=[1, 1, 1]), r"config.depths must be a list"),
    bad(P + "segformer_config", "out of range",
        lambda: sf.segformer_config("tiny", num_attention_heads=[3, 1, 1, 1]),
        r"config.hidden_sizes must be divisible by config.num_attention_heads"),
    bad(P + "segformer_config", "nan or inf",
        lambda: sf.segformer_config("tiny", mlp_ratios=[4, NAN, 4, 4]),
        r"overrides must hold valid SegformerConfig values.*mlp_ratios"),
    bad(P + "segformer_config", "wrong type",
        lambda: sf.segformer_config("tiny", hidden_sizes="abc"),
        r"overrides must hold valid SegformerConfig values.*hidden_sizes"),
    # ------------------------------------------------------------------------------ SegFormer
    bad(P + "SegFormer", "wrong type", lambda: sf.SegFormer(None),
        r"config must be a transformers.SegformerConfig"),
    bad(P + "SegFormer", "wrong type", lambda: sf.SegFormer({"hidden_sizes": [8]}),
        r"config must be a transformers.SegformerConfig"),
    bad(P + "SegFormer", "wrong rank", lambda: _model()(torch.rand(1, 64, 64)),
        r"x must be 4-dimensional"),
    bad(P + "SegFormer", "wrong dtype",
        lambda: _model()(torch.ones(1, 1, 64, 64, dtype=torch.long)),
        r"x must be a tensor of float"),
    bad(P + "SegFormer", "mismatched lengths", lambda: _model()(torch.rand(1, 3, 64, 64)),
        r"x must have 1 channels"),
    bad(P + "SegFormer", "out of range", lambda: _model()(torch.rand(1, 1, 16, 64)),
        r"x must be at least 32 x 32"),
    bad(P + "SegFormer", "nan or inf",
        lambda: _model()(torch.full((1, 1, 32, 32), NAN)), r"x must be finite"),
    bad(P + "SegFormer", "wrong type", lambda: _model()(torch.rand(1, 1, 32, 32), upsample=1),
        r"upsample must be True or False"),
    bad(P + "SegFormer", "wrong type", lambda: _model().load_transformers_state(nn.Linear(2, 2)),
        r"hf_model must be a transformers.SegformerForSemanticSegmentation"),
    # ----------------------------------------------------------------------------- MiTEncoder
    bad(P + "MiTEncoder", "wrong type", lambda: sf.MiTEncoder("b0"),
        r"config must be a transformers.SegformerConfig"),
    bad(P + "MiTEncoder", "mismatched lengths",
        lambda: sf.MiTEncoder(_tiny().__class__(hidden_sizes=[8, 16], depths=[1, 1, 1, 1])),
        r"config.hidden_sizes must be a list of 4"),
    # -------------------------------------------------------------------------- AllMLPDecoder
    bad(P + "AllMLPDecoder", "empty", lambda: sf.AllMLPDecoder([], 16, 2),
        r"in_dims must be a non-empty list"),
    bad(P + "AllMLPDecoder", "wrong type", lambda: sf.AllMLPDecoder(None, 16, 2),
        r"in_dims must be a non-empty list"),
    bad(P + "AllMLPDecoder", "not an integer", lambda: sf.AllMLPDecoder([8, 16], 16.5, 2),
        r"hidden must be an integer"),
    bad(P + "AllMLPDecoder", "out of range", lambda: sf.AllMLPDecoder([8, 16], 16, 2, dropout=1.0),
        r"dropout must be a finite number in \[0.0, 1.0\)"),
    bad(P + "AllMLPDecoder", "mismatched lengths",
        lambda: sf.AllMLPDecoder([8, 16], 16, 2)([torch.rand(1, 8, 4, 4)]),
        r"features must be a list of 2 feature maps"),
    # ------------------------------------------------------------------------ count_parameters
    bad(P + "count_parameters", "wrong type", lambda: sf.count_parameters(None),
        r"model must be a torch.nn.Module"),
    bad(P + "count_parameters", "wrong type", lambda: sf.count_parameters([torch.ones(3)]),
        r"model must be a torch.nn.Module"),
]
