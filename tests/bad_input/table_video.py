"""Bad-input rows for video attention (dentpy.models.video_attention) and the procedure-clip
phantom (dentpy.data.phantoms.procedure_clips)."""

from __future__ import annotations

import torch

from bad_input import bad
from dentpy.data.phantoms.procedure_clips import (
    make_procedure_clip,
    make_procedure_clips,
    reverse_verb,
)
from dentpy.models.video_attention import (
    RelPosAttention,
    VideoTransformer,
    patchify,
    relative_offsets,
)

VA = "dentpy.models.video_attention"
PC = "dentpy.data.phantoms.procedure_clips"
GRID = (2, 2, 2)

ROWS = [
    bad(f"{VA}.patchify", "wrong type", lambda: patchify(None, 4), "video"),
    bad(f"{VA}.patchify", "wrong rank", lambda: patchify(torch.zeros(2, 3, 8, 8), 4), "video"),
    bad(f"{VA}.patchify", "wrong dtype",
        lambda: patchify(torch.zeros(1, 2, 1, 8, 8, dtype=torch.long), 4), "video"),
    bad(f"{VA}.patchify", "nan or inf",
        lambda: patchify(torch.full((1, 2, 1, 8, 8), float("nan")), 4), "video"),
    bad(f"{VA}.patchify", "not an integer", lambda: patchify(torch.zeros(1, 2, 1, 8, 8), 2.5),
        "patch"),
    bad(f"{VA}.patchify", "out of range", lambda: patchify(torch.zeros(1, 2, 1, 6, 6), 4),
        "patch"),
    bad(f"{VA}.relative_offsets", "wrong type", lambda: relative_offsets("thw"), "grid"),
    bad(f"{VA}.relative_offsets", "out of range", lambda: relative_offsets((2, 0, 3)),
        r"grid\[1\]"),
    bad(f"{VA}.relative_offsets", "not an integer", lambda: relative_offsets((2, 1.5, 3)),
        r"grid\[1\]"),
    bad(f"{VA}.RelPosAttention", "out of range", lambda: RelPosAttention(10, 4, GRID), "dim"),
    bad(f"{VA}.RelPosAttention", "unknown option",
        lambda: RelPosAttention(8, 2, GRID, mode="key"), "mode"),
    bad(f"{VA}.RelPosAttention", "unknown option",
        lambda: RelPosAttention(8, 2, GRID, axes="xy"), "axes"),
    bad(f"{VA}.RelPosAttention", "mismatched lengths",
        lambda: RelPosAttention(8, 2, GRID)(torch.zeros(1, 9, 8)), "x"),
    bad(f"{VA}.VideoTransformer", "out of range",
        lambda: VideoTransformer(frames=2, size=8, patch=4, num_classes=0), "num_classes"),
    bad(f"{VA}.VideoTransformer", "out of range",
        lambda: VideoTransformer(frames=2, size=10, patch=4, num_classes=2), "patch"),
    bad(f"{VA}.VideoTransformer", "mismatched lengths",
        lambda: VideoTransformer(frames=2, size=8, patch=4, num_classes=2)(
            torch.zeros(1, 3, 1, 8, 8)), "video"),
    bad(f"{PC}.make_procedure_clip", "out of range", lambda: make_procedure_clip(-1), "index"),
    bad(f"{PC}.make_procedure_clip", "not an integer",
        lambda: make_procedure_clip(0, seed=1.5), "seed"),
    bad(f"{PC}.make_procedure_clip", "out of range", lambda: make_procedure_clip(0, size=4),
        "size"),
    bad(f"{PC}.make_procedure_clip", "out of range", lambda: make_procedure_clip(0, verb=4),
        "verb"),
    bad(f"{PC}.make_procedure_clip", "nan or inf",
        lambda: make_procedure_clip(0, noise=float("nan")), "noise"),
    bad(f"{PC}.make_procedure_clips", "out of range", lambda: make_procedure_clips(0), "n"),
    bad(f"{PC}.make_procedure_clips", "unknown option",
        lambda: make_procedure_clips(2, verb=1), "options"),
    bad(f"{PC}.reverse_verb", "out of range", lambda: reverse_verb(7), "verb"),
    bad(f"{PC}.reverse_verb", "wrong type", lambda: reverse_verb("place"), "verb"),
]

EXEMPT = {f"{PC}.ProcedureClip": "a result dataclass, made by make_procedure_clip"}
