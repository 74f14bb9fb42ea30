"""Bad-input rows of the mixups (``dentpy.mixup``) and the tooth-anomaly phantom
(``dentpy.data.phantoms.dental_anomalies``)."""

from __future__ import annotations

import torch

from bad_input import bad, documented
from dentpy import mixup as mx
from dentpy.data.phantoms import dental_anomalies as da

MIX, KMIX, WARP, TRI, ANCH = ("dentpy.mixup.mixup", "dentpy.mixup.keypoint_mixup",
                              "dentpy.mixup.piecewise_affine_warp",
                              "dentpy.mixup.delaunay_triangles", "dentpy.mixup.border_anchors")
TOOTH = "dentpy.data.phantoms.dental_anomalies.make_tooth"
X = torch.rand(2, 1, 8, 8)
K = torch.tensor([[[2.0, 2.0], [5.0, 2.0], [3.0, 5.0]]]).expand(2, 3, 2).clone()
Y = torch.eye(2)
NAN = float("nan")

ROWS = [
    bad(MIX, "wrong type", lambda: mx.mixup(None, Y, 0.5), "x"),
    bad(MIX, "wrong dtype", lambda: mx.mixup(torch.zeros(2, 3, dtype=torch.long), Y, 0.5), "x"),
    bad(MIX, "wrong rank", lambda: mx.mixup(torch.zeros(2), Y, 0.5), "x"),
    bad(MIX, "nan or inf", lambda: mx.mixup(torch.full((2, 3), NAN), Y, 0.5), "x"),
    bad(MIX, "out of range", lambda: mx.mixup(X, Y, 1.5), "lam"),
    bad(MIX, "nan or inf", lambda: mx.mixup(X, Y, NAN), "lam"),
    bad(MIX, "wrong dtype", lambda: mx.mixup(X, torch.tensor([0, 1]), 0.5), "y"),
    bad(MIX, "mismatched lengths", lambda: mx.mixup(X, torch.eye(3), 0.5), "y"),
    bad(MIX, "out of range", lambda: mx.mixup(X, torch.ones(2, 2), 0.5), "y"),
    bad(MIX, "out of range", lambda: mx.mixup(X, Y, 0.5, perm=torch.tensor([0, 0])), "perm"),
    bad(MIX, "wrong dtype", lambda: mx.mixup(X, Y, 0.5, perm=torch.tensor([1.0, 0.0])), "perm"),
    documented(MIX, "degenerate", lambda: mx.mixup(X[:1], Y[:1], 0.3),
               lambda out: torch.allclose(out[0], X[:1]) and torch.allclose(out[1], Y[:1])),
    bad(WARP, "wrong type", lambda: mx.piecewise_affine_warp("x", K, K), "images"),
    bad(WARP, "wrong rank", lambda: mx.piecewise_affine_warp(X[0], K, K), "images"),
    bad(WARP, "wrong dtype",
        lambda: mx.piecewise_affine_warp(torch.zeros(2, 1, 8, 8, dtype=torch.uint8), K, K),
        "images"),
    bad(WARP, "mismatched lengths", lambda: mx.piecewise_affine_warp(X, K[:1], K), "src"),
    bad(WARP, "wrong rank", lambda: mx.piecewise_affine_warp(X, K, K[0]), "dst"),
    bad(WARP, "mismatched lengths", lambda: mx.piecewise_affine_warp(X, K, K[:, :2]),
        "src and dst"),
    bad(WARP, "nan or inf", lambda: mx.piecewise_affine_warp(X, K, torch.full_like(K, NAN)),
        "dst"),
    bad(WARP, "unknown option", lambda: mx.piecewise_affine_warp(X, K, K, mode="cubic"), "mode"),
    bad(WARP, "wrong type", lambda: mx.piecewise_affine_warp(X, K, K, border=1), "border"),
    bad(WARP, "out of range",
        lambda: mx.piecewise_affine_warp(X, K, K, triangles=torch.tensor([[0, 1, 20]])),
        "triangles"),
    bad(WARP, "wrong rank",
        lambda: mx.piecewise_affine_warp(X, K, K, triangles=torch.tensor([[0, 1]])),
        "triangles"),
    bad(KMIX, "wrong type", lambda: mx.keypoint_mixup(None, K, Y, 0.5), "x"),
    bad(KMIX, "mismatched lengths", lambda: mx.keypoint_mixup(X, K[:1], Y, 0.5), "keypoints"),
    bad(KMIX, "out of range", lambda: mx.keypoint_mixup(X, K, Y, -0.1), "lam"),
    bad(KMIX, "wrong dtype", lambda: mx.keypoint_mixup(X, K, torch.tensor([0, 1]), 0.5), "y"),
    bad(KMIX, "out of range",
        lambda: mx.keypoint_mixup(X, K, Y, 0.5, triangles=torch.tensor([[0, 1, 11]])),
        "triangles"),
    bad(KMIX, "unknown option", lambda: mx.keypoint_mixup(X, K, Y, 0.5, mode="area"), "mode"),
    bad(TRI, "wrong type", lambda: mx.delaunay_triangles(None), "points"),
    bad(TRI, "wrong rank", lambda: mx.delaunay_triangles(torch.zeros(4)), "points"),
    bad(TRI, "empty", lambda: mx.delaunay_triangles(torch.zeros(2, 2)), "points"),
    bad(TRI, "degenerate", lambda: mx.delaunay_triangles(torch.tensor([[0.0, 0], [1, 1], [2, 2]])),
        "points"),
    bad(TRI, "nan or inf", lambda: mx.delaunay_triangles(torch.full((3, 2), NAN)), "points"),
    bad(ANCH, "not an integer", lambda: mx.border_anchors(8.5, 8), "height"),
    bad(ANCH, "out of range", lambda: mx.border_anchors(8, 1), "width"),
    bad(TOOTH, "out of range", lambda: da.make_tooth(-1), "index"),
    bad(TOOTH, "not an integer", lambda: da.make_tooth(0, seed=1.5), "seed"),
    bad(TOOTH, "out of range", lambda: da.make_tooth(0, label=12), "label"),
    bad(TOOTH, "out of range", lambda: da.make_tooth(0, size=8), "size"),
    bad(TOOTH, "nan or inf", lambda: da.make_tooth(0, spread=NAN), "spread"),
    bad(TOOTH, "out of range", lambda: da.make_tooth(0, pose=-1), "pose"),
    bad(TOOTH, "wrong type", lambda: da.make_tooth(0, noise="low"), "noise"),
    documented(TOOTH, "degenerate", lambda: da.make_tooth(0, label=0, spread=0, pose=0, noise=0),
               lambda out: out.shape.tolist() == list(da.ANOMALY_SHAPES["normal"])),
]

EXEMPT = {
    "dentpy.data.phantoms.dental_anomalies.ToothSample": "a result dataclass, built by make_tooth",
}
