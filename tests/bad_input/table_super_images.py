"""Bad-input rows of the super images (``dentpy.super_images``)."""

from __future__ import annotations

import torch

from bad_input import bad, documented
from dentpy import super_images as si

TO, FROM = "dentpy.super_images.to_mosaic", "dentpy.super_images.from_mosaic"
V = torch.rand(1, 1, 4, 3, 3)
M = torch.rand(1, 1, 6, 6)

ROWS = [
    bad(TO, "wrong type", lambda: si.to_mosaic(None, (2, 2)), "volume"),
    bad(TO, "wrong rank", lambda: si.to_mosaic(V[0], (2, 2)), "volume"),
    bad(TO, "empty", lambda: si.to_mosaic(torch.zeros(0, 1, 4, 3, 3), (2, 2)), "volume"),
    bad(TO, "wrong type", lambda: si.to_mosaic(V, 4), "grid"),
    bad(TO, "wrong type", lambda: si.to_mosaic(V, "22"), "grid"),
    bad(TO, "not an integer", lambda: si.to_mosaic(V, (2.5, 2)), r"grid\[0\]"),
    bad(TO, "out of range", lambda: si.to_mosaic(V, (0, 4)), r"grid\[0\]"),
    bad(TO, "out of range", lambda: si.to_mosaic(V, (1, 3)), "grid"),
    documented(TO, "degenerate", lambda: si.to_mosaic(V, (1, 1 * 4)),
               lambda out: out.shape == (1, 1, 3, 12)),
    bad(FROM, "wrong type", lambda: si.from_mosaic("m", (2, 2), 4), "mosaic"),
    bad(FROM, "wrong rank", lambda: si.from_mosaic(V, (2, 2), 4), "mosaic"),
    bad(FROM, "mismatched lengths", lambda: si.from_mosaic(torch.rand(1, 1, 6, 5), (2, 2), 4),
        "mosaic"),
    bad(FROM, "out of range", lambda: si.from_mosaic(M, (2, 2), 5), "depth"),
    bad(FROM, "out of range", lambda: si.from_mosaic(M, (2, 2), 0), "depth"),
    bad(FROM, "not an integer", lambda: si.from_mosaic(M, (2, 2), 3.0), "depth"),
    bad(FROM, "wrong type", lambda: si.from_mosaic(M, None, 4), "grid"),
    bad(FROM, "out of range", lambda: si.from_mosaic(M, (2, -2), 4), r"grid\[1\]"),
]
