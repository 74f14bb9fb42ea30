"""dentpy.models.video_attention and the procedure-clip phantom: shapes, known answers, bad input.

The known answers are symmetries: attention without positions is permutation-equivariant over
tokens (so a mean-pooled network is invariant), with width and height offsets only it is
invariant to the order of the frames, and with a temporal offset it is not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dentpy.data.phantoms.procedure_clips import (
    INSTRUMENTS,
    VERBS,
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

GRID = (3, 2, 4)  # T, H, W tokens
N = math.prod(GRID)


def reference_attention(layer: RelPosAttention, x: torch.Tensor) -> torch.Tensor:
    """The layer written out pair by pair: logits, softmax, values plus offset vectors."""
    b, n, d = x.shape
    h, dh = layer.heads, layer.head_dim
    q, k, v = layer.qkv(x).split(d, dim=-1)
    offsets = relative_offsets(layer.grid)
    out = torch.zeros(b, n, h, dh, dtype=x.dtype)
    for head in range(h):
        cols = slice(head * dh, (head + 1) * dh)
        for i in range(n):
            logits = torch.stack([(q[:, i, cols] * k[:, j, cols]).sum(-1) / math.sqrt(dh)
                                  for j in range(n)], dim=-1)  # (B, N)
            for a, table in layer.logit_tables.items():
                axis = "thw".index(a)
                rows = offsets[i, :, axis] + layer.grid[axis] - 1
                logits = logits + table[rows, head]
            weights = logits.softmax(-1)
            values = v[:, :, cols].clone()  # (B, N, dh)
            for a, table in layer.value_tables.items():
                axis = "thw".index(a)
                rows = offsets[i, :, axis] + layer.grid[axis] - 1
                values = values + table[rows][:, cols]
            out[:, i, head] = (weights[:, :, None] * values).sum(1)
    return layer.proj(out.reshape(b, n, d))


@pytest.mark.parametrize("mode", ["value", "logit", "both"])
@pytest.mark.parametrize("axes", ["", "hw", "thw", "t"])
def test_attention_matches_pair_by_pair_reference(axes: str, mode: str) -> None:
    torch.manual_seed(0)
    layer = RelPosAttention(8, 2, GRID, axes=axes, mode=mode).double()
    x = torch.randn(2, N, 8, dtype=torch.float64)
    out = layer(x)
    assert out.shape == (2, N, 8)
    torch.testing.assert_close(out, reference_attention(layer, x))


def test_relative_offsets_known_values() -> None:
    offsets = relative_offsets((2, 2, 3))
    assert offsets.shape == (12, 12, 3)
    # token 0 is (0, 0, 0) and token 11 is (1, 1, 2)
    assert offsets[11, 0].tolist() == [1, 1, 2]
    assert offsets[0, 11].tolist() == [-1, -1, -2]
    assert (offsets.diagonal(dim1=0, dim2=1) == 0).all()
    torch.testing.assert_close(offsets, -offsets.transpose(0, 1))


def test_patchify_shape_and_order() -> None:
    video = torch.arange(2 * 3 * 1 * 4 * 6, dtype=torch.float32).reshape(2, 3, 1, 4, 6)
    tokens = patchify(video, 2)
    assert tokens.shape == (2, 3 * 2 * 3, 4)
    # token 4 is frame 0, patch row 1, patch column 1: pixels (2..3, 2..3)
    torch.testing.assert_close(tokens[0, 4], video[0, 0, 0, 2:4, 2:4].reshape(-1))
    # the first token of frame 1 comes right after the 6 tokens of frame 0
    torch.testing.assert_close(tokens[1, 6], video[1, 1, 0, 0:2, 0:2].reshape(-1))


def test_no_positions_is_permutation_equivariant_exactly() -> None:
    """Known answer: without positions, permuting the tokens permutes the output."""
    torch.manual_seed(1)
    layer = RelPosAttention(8, 2, GRID, axes="").double()
    x = torch.randn(3, N, 8, dtype=torch.float64)
    perm = torch.randperm(N)
    torch.testing.assert_close(layer(x[:, perm]), layer(x)[:, perm], rtol=0, atol=1e-12)


def test_network_without_positions_is_invariant_to_any_token_order() -> None:
    torch.manual_seed(2)
    model = VideoTransformer(frames=3, size=8, patch=4, num_classes=3, axes="").double()
    video = torch.randn(2, 3, 1, 8, 8, dtype=torch.float64)
    # swap two patches between frames 0 and 2: a reordering of the tokens
    moved = video.clone()
    moved[:, 0, :, :4, :4], moved[:, 2, :, 4:, 4:] = video[:, 2, :, 4:, 4:], video[:, 0, :, :4, :4]
    torch.testing.assert_close(model(moved), model(video), rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", ["value", "logit", "both"])
def test_width_height_offsets_are_blind_to_frame_order(mode: str) -> None:
    """The paper's Eq. 4 (offsets in w and h only): reversing or shuffling frames changes
    nothing, while the same network with a temporal offset sees the difference."""
    torch.manual_seed(3)
    video = torch.randn(4, 5, 1, 8, 8, dtype=torch.float64)
    blind = VideoTransformer(frames=5, size=8, patch=4, num_classes=2, axes="hw",
                             mode=mode).double()
    torch.testing.assert_close(blind(video.flip(1)), blind(video), rtol=0, atol=1e-12)
    torch.testing.assert_close(blind(video[:, [3, 0, 4, 1, 2]]), blind(video), rtol=0,
                               atol=1e-12)
    # but not to where things are within a frame
    assert not torch.allclose(blind(video.flip(-1)), blind(video), atol=1e-6)
    seeing = VideoTransformer(frames=5, size=8, patch=4, num_classes=2, axes="thw",
                              mode=mode).double()
    assert not torch.allclose(seeing(video.flip(1)), seeing(video), atol=1e-6)


def test_value_offsets_full_form_matches_fast_path() -> None:
    torch.manual_seed(4)
    layer = RelPosAttention(8, 2, GRID, axes="thw", mode="value").double()
    layer.keep_attention = True
    x = torch.randn(2, N, 8, dtype=torch.float64)
    out = layer(x)
    attention = layer.last_attention
    assert attention.shape == (2, 2, N, N)
    _, _, v = layer.qkv(x).reshape(2, N, 3, 2, 4).permute(2, 0, 3, 1, 4)
    full = attention @ v + torch.einsum("bhij,ijhd->bhid", attention, layer.value_offsets())
    torch.testing.assert_close(out, layer.proj(full.transpose(1, 2).reshape(2, N, 8)))
    assert layer.logit_offsets() is None


def test_video_transformer_shapes_and_gradients() -> None:
    torch.manual_seed(5)
    model = VideoTransformer(frames=4, size=8, patch=4, num_classes=4, dim=16, depth=2, heads=2)
    video = torch.randn(3, 4, 1, 8, 8)
    assert model.embed(video).shape == (3, 16)
    logits = model(video)
    assert logits.shape == (3, 4)
    logits.sum().backward()
    table = model.blocks[0].attention.value_tables["t"]
    assert table.grad is not None and table.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: patchify(torch.zeros(2, 3, 8, 8), 4), "video"),
        (lambda: patchify(torch.zeros(1, 2, 1, 6, 6), 4), "patch"),
        (lambda: patchify(torch.zeros(1, 2, 1, 8, 8), 0), "patch"),
        (lambda: relative_offsets((2, 0, 3)), r"grid\[1\]"),
        (lambda: relative_offsets((2, 3)), "grid"),
        (lambda: RelPosAttention(10, 4, GRID), "dim"),
        (lambda: RelPosAttention(8, 2, GRID, axes="xy"), "axes"),
        (lambda: RelPosAttention(8, 2, GRID, mode="key"), "mode"),
        (lambda: RelPosAttention(8, 2, GRID)(torch.zeros(1, N + 1, 8)), "x"),
        (lambda: RelPosAttention(8, 2, GRID)(torch.zeros(1, N, 8, dtype=torch.long)), "x"),
        (lambda: VideoTransformer(frames=4, size=10, patch=4, num_classes=2), "patch"),
        (lambda: VideoTransformer(frames=4, size=8, patch=4, num_classes=0), "num_classes"),
        (lambda: VideoTransformer(frames=4, size=8, patch=4, num_classes=2)(
            torch.zeros(1, 3, 1, 8, 8)), "video"),
        (lambda: VideoTransformer(frames=2, size=8, patch=4, num_classes=2)(
            torch.full((1, 2, 1, 8, 8), float("nan"))), "video"),
    ],
)
def test_bad_input_names_the_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# ---- the phantom ----------------------------------------------------------------------------

def test_clip_is_a_pure_function_of_seed_and_index() -> None:
    a = make_procedure_clip(7, seed=3)
    b = make_procedure_clip(7, seed=3)
    np.testing.assert_array_equal(a.video, b.video)
    assert a.video.shape == (8, 16, 16) and a.video.dtype == np.float32
    assert not np.array_equal(a.video, make_procedure_clip(8, seed=3).video)
    assert not np.array_equal(a.video, make_procedure_clip(7, seed=4).video)


def test_remove_is_place_played_backwards() -> None:
    place = make_procedure_clip(5, verb=0)
    remove = make_procedure_clip(5, verb=1)
    np.testing.assert_array_equal(remove.video, place.video[::-1])
    np.testing.assert_array_equal(remove.tip, place.tip[::-1])
    assert [reverse_verb(v) for v in range(len(VERBS))] == [1, 0, 2, 3]


def test_verbs_move_the_tip_as_named() -> None:
    for index in range(8):
        place = make_procedure_clip(index, verb=0)
        top, centre, _ = place.tooth
        start, end = place.tip[0], place.tip[-1]
        assert end[0] > start[0] + 3  # moves down, towards the crown
        assert abs(end[0] - (top - 0.9)) < 2.5 and abs(end[1] - centre) < 2.5  # ends on it
        hold = make_procedure_clip(index, verb=3)
        assert np.ptp(hold.tip, axis=0).max() < 4  # tremor and shake only
        scale = make_procedure_clip(index, verb=2)
        assert abs(scale.tip[-1, 1] - scale.tip[0, 1]) > abs(scale.tip[-1, 0] - scale.tip[0, 0])


def test_make_procedure_clips_balanced_arrays() -> None:
    videos, verbs, instruments = make_procedure_clips(8, seed=1, frames=4, size=12)
    assert videos.shape == (8, 4, 1, 12, 12)
    assert verbs.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert set(instruments.tolist()) <= set(range(len(INSTRUMENTS)))
    np.testing.assert_array_equal(videos[5, :, 0],
                                  make_procedure_clip(5, seed=1, verb=1, frames=4, size=12).video)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: make_procedure_clip(-1), "index"),
        (lambda: make_procedure_clip(0, seed=1.5), "seed"),
        (lambda: make_procedure_clip(0, frames=1), "frames"),
        (lambda: make_procedure_clip(0, size=4), "size"),
        (lambda: make_procedure_clip(0, verb=4), "verb"),
        (lambda: make_procedure_clip(0, instrument=2), "instrument"),
        (lambda: make_procedure_clip(0, noise=float("nan")), "noise"),
        (lambda: make_procedure_clip(0, shake=-1), "shake"),
        (lambda: make_procedure_clips(0), "n"),
        (lambda: make_procedure_clips(2, verb=1), "options"),
        (lambda: reverse_verb(7), "verb"),
    ],
)
def test_phantom_bad_input_names_the_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
