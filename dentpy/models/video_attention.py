"""Self-attention over the space-time tokens of a video, with relative position terms.

A clip ``(B, T, C, H, W)`` is cut into non-overlapping ``patch x patch`` squares in every frame
(:func:`patchify`); the ``N = T * gh * gw`` tokens of all frames form one sequence, in raster
order (frame, then row, then column), so token ``n`` sits at grid position ``(t, h, w)``.
Attention alone is blind to where a token sits: permuting the tokens permutes the output the
same way. Position reaches it only through the relative offsets
``(t_i - t_j, h_i - h_j, w_i - w_j)`` of each pair of tokens (:func:`relative_offsets`), read
from learnable lookup tables, one per axis:

- ``mode="value"`` adds a vector per offset to the value of each attended token (the form
  written in the ReViT paper, Jiang et al., MIUA 2023, Eq. 4):
  ``z_i = sum_j a_ij (x_j W_V + r^t_ij + r^h_ij + r^w_ij)``;
- ``mode="logit"`` adds a scalar per offset and head to the attention logits before the
  softmax (as in Bello et al. 2019 and Wu et al. 2021, which the paper cites);
- ``mode="both"`` does both.

``axes`` says which offsets exist: ``""`` (none: the layer is permutation-equivariant over all
tokens), ``"hw"`` (the paper's Eq. 4: width and height only, so tokens at the same place in
different frames are positionally identical and frame order is invisible) or ``"thw"``.

:class:`VideoTransformer` stacks :class:`RelPosAttention` blocks (pre-norm, MLP, residuals)
on linearly embedded patches and averages the tokens into a clip embedding for a linear head;
with ``axes="hw"`` the whole network is invariant to any reordering of the frames, and with
``axes=""`` to any reordering of the tokens.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from dentpy import _checks

__all__ = ["AXES", "MODES", "RelPosAttention", "VideoTransformer", "patchify",
           "relative_offsets"]

#: The axes a relative offset can have, in token order.
AXES = ("t", "h", "w")
#: Where the relative terms enter the attention.
MODES = ("value", "logit", "both")


def _grid(name: str, grid: object) -> tuple[int, int, int]:
    if isinstance(grid, (str, bytes)) or not hasattr(grid, "__len__") or len(grid) != 3:
        raise _checks.ArgumentError(f"{name} must be a (T, H, W) triple of integers >= 1, "
                                    f"got {_checks.describe(grid)}")
    return tuple(_checks.integer(f"{name}[{i}]", v, low=1) for i, v in enumerate(grid))


def _axes(axes: object) -> str:
    if not isinstance(axes, str) or any(a not in AXES for a in axes) or len(set(axes)) != len(
            axes):
        raise _checks.ArgumentError(f"axes must be a string of distinct letters from 't', 'h', "
                                    f"'w' (e.g. 'thw', 'hw' or ''), got {_checks.describe(axes)}")
    return "".join(a for a in AXES if a in axes)  # canonical order


def relative_offsets(grid: tuple[int, int, int]) -> Tensor:
    """Offsets between all pairs of tokens of a ``(T, H, W)`` token grid in raster order.

    Returns a long tensor ``(N, N, 3)``, ``N = T * H * W``, whose entry ``[i, j]`` is
    ``(t_i - t_j, h_i - h_j, w_i - w_j)``; each component lies in ``[-(L - 1), L - 1]`` for its
    axis length ``L``.
    """
    t, h, w = _grid("grid", grid)
    positions = torch.stack(torch.meshgrid(torch.arange(t), torch.arange(h), torch.arange(w),
                                           indexing="ij"), dim=-1).reshape(-1, 3)
    return positions[:, None, :] - positions[None, :, :]


def patchify(video: Tensor, patch: int) -> Tensor:
    """Cut a clip into the flattened tokens of non-overlapping square patches.

    ``video`` ``(B, T, C, H, W)`` with ``H`` and ``W`` multiples of ``patch`` →
    ``(B, T * H/patch * W/patch, C * patch * patch)``, tokens in raster order (frame, patch
    row, patch column); each token lists channel, then pixel row, then pixel column.
    """
    video = _checks.tensor("video", video, ndim=5, kind="float")
    patch = _checks.integer("patch", patch, low=1)
    b, t, c, h, w = video.shape
    if h % patch or w % patch:
        raise _checks.ArgumentError(f"patch must divide the frame size {h} x {w}, got {patch}")
    gh, gw = h // patch, w // patch
    x = video.reshape(b, t, c, gh, patch, gw, patch)
    return x.permute(0, 1, 3, 5, 2, 4, 6).reshape(b, t * gh * gw, c * patch * patch)


class RelPosAttention(nn.Module):
    """Multi-head self-attention over ``N = T * H * W`` tokens with relative position terms.

    Parameters
    ----------
    dim : token width, a multiple of ``heads``.
    heads : number of attention heads (each of width ``dim // heads``).
    grid : ``(T, H, W)``, the token grid; inputs must hold exactly ``T * H * W`` tokens in
        raster order.
    axes : which relative offsets exist, a subset of ``"thw"`` (``""``: none).
    mode : ``"value"`` (vectors added to the attended values, the paper's Eq. 4), ``"logit"``
        (scalars added to the logits) or ``"both"``.

    ``forward(x)`` maps ``(B, N, dim)`` to ``(B, N, dim)``; the attention weights of the last
    call are kept in ``last_attention`` ``(B, heads, N, N)`` when ``keep_attention`` is true.
    The tables ``value_tables[a]`` ``(2 L_a - 1, dim)`` and ``logit_tables[a]``
    ``(2 L_a - 1, heads)`` are indexed by offset ``+ L_a - 1``.
    """

    def __init__(self, dim: int, heads: int, grid: tuple[int, int, int], *, axes: str = "thw",
                 mode: str = "value") -> None:
        super().__init__()
        dim = _checks.integer("dim", dim, low=1)
        heads = _checks.integer("heads", heads, low=1)
        if dim % heads:
            raise _checks.ArgumentError(f"dim must be a multiple of heads ({heads}), got {dim}")
        self.grid = _grid("grid", grid)
        self.axes = _axes(axes)
        self.mode = _checks.choice("mode", mode, MODES)
        self.dim, self.heads, self.head_dim = dim, heads, dim // heads
        self.n_tokens = math.prod(self.grid)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        lengths = dict(zip(AXES, self.grid, strict=True))
        use_value = self.mode in ("value", "both")
        use_logit = self.mode in ("logit", "both")
        self.value_tables = nn.ParameterDict({
            a: nn.Parameter(0.02 * torch.randn(2 * lengths[a] - 1, dim))
            for a in self.axes if use_value})
        self.logit_tables = nn.ParameterDict({
            a: nn.Parameter(0.02 * torch.randn(2 * lengths[a] - 1, heads))
            for a in self.axes if use_logit})
        index = relative_offsets(self.grid) + torch.tensor([n - 1 for n in self.grid])
        self.register_buffer("index", index, persistent=False)  # (N, N, 3), all >= 0
        # per axis, (N, L): table row of query i and key coordinate c, pos_i - c + L - 1
        positions = index[:, 0, :] - index[0, 0, :]  # (N, 3) coordinates of the tokens
        for k, n in enumerate(self.grid):  # buffers, so that they follow the module's device
            self.register_buffer(f"axis_index_{AXES[k]}",
                                 positions[:, k, None] - torch.arange(n)[None, :] + n - 1,
                                 persistent=False)
        self.keep_attention = False
        self.last_attention: Tensor | None = None

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, heads={self.heads}, grid={self.grid}, axes={self.axes!r}, "
                f"mode={self.mode!r}")

    def value_offsets(self) -> Tensor | None:
        """``(N, N, heads, head_dim)``: the vector added to token j's value for query i."""
        if not self.value_tables:
            return None
        total = sum(self.value_tables[a][self.index[..., AXES.index(a)]]
                    for a in self.value_tables)
        return total.reshape(self.n_tokens, self.n_tokens, self.heads, self.head_dim)

    def _value_term(self, attention: Tensor) -> Tensor:
        """``sum_j a_ij r_ij`` without building ``(N, N, dim)``: per axis, the attention is
        first summed over the keys that share an offset with query i, then meets the table."""
        b = attention.shape[0]
        per_key = attention.reshape(b, self.heads, self.n_tokens, *self.grid)
        total = 0
        for a in self.value_tables:
            axis = AXES.index(a)
            others = tuple(3 + k for k in range(3) if k != axis)
            mass = per_key.sum(dim=others)  # (B, heads, N, L): attention on key coordinate c
            rows = self.value_tables[a][getattr(self, f"axis_index_{a}")]  # (N, L, dim)
            rows = rows.reshape(self.n_tokens, self.grid[axis], self.heads, self.head_dim)
            total = total + torch.einsum("bhic,ichd->bhid", mass, rows)
        return total

    def logit_offsets(self) -> Tensor | None:
        """``(heads, N, N)``: the bias added to the logit of query i and key j."""
        if not self.logit_tables:
            return None
        total = sum(self.logit_tables[a][self.index[..., AXES.index(a)]]
                    for a in self.logit_tables)
        return total.permute(2, 0, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = _checks.tensor("x", x, ndim=3, kind="float", finite=False)
        b, n, d = x.shape
        if n != self.n_tokens or d != self.dim:
            raise _checks.ArgumentError(
                f"x must have shape (B, {self.n_tokens}, {self.dim}) for grid {self.grid}, "
                f"got {tuple(x.shape)}")
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        logits = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, heads, N, N)
        bias = self.logit_offsets()
        if bias is not None:
            logits = logits + bias
        attention = logits.softmax(dim=-1)
        if self.keep_attention:
            self.last_attention = attention.detach()
        out = attention @ v  # (B, heads, N, head_dim)
        if self.value_tables:
            out = out + self._value_term(attention)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class _Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, dim: int, heads: int, grid: tuple[int, int, int], axes: str, mode: str,
                 mlp_ratio: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = RelPosAttention(dim, heads, grid, axes=axes, mode=mode)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(),
                                 nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VideoTransformer(nn.Module):
    """A small video transformer with joint space-time attention: clip → class logits.

    Parameters
    ----------
    frames, size, channels : the clip shape ``(B, frames, channels, size, size)`` it accepts.
    patch : side of the square patches (must divide ``size``).
    num_classes : width of the output ``(B, num_classes)``.
    dim, depth, heads, mlp_ratio : token width, number of blocks, heads, MLP widening.
    axes, mode : the relative position terms of every block (see :class:`RelPosAttention`).

    Tokens are embedded linearly (no absolute position is ever added), passed through ``depth``
    blocks, normalised and averaged over all tokens; ``embed(video)`` returns that ``(B, dim)``
    clip embedding and ``forward(video)`` the logits.
    """

    def __init__(self, *, frames: int, size: int, patch: int, num_classes: int,
                 channels: int = 1, dim: int = 32, depth: int = 2, heads: int = 4,
                 mlp_ratio: int = 2, axes: str = "thw", mode: str = "value") -> None:
        super().__init__()
        frames = _checks.integer("frames", frames, low=1)
        size = _checks.integer("size", size, low=1)
        patch = _checks.integer("patch", patch, low=1)
        if size % patch:
            raise _checks.ArgumentError(f"patch must divide size ({size}), got {patch}")
        num_classes = _checks.integer("num_classes", num_classes, low=1)
        channels = _checks.integer("channels", channels, low=1)
        depth = _checks.integer("depth", depth, low=1)
        mlp_ratio = _checks.integer("mlp_ratio", mlp_ratio, low=1)
        self.frames, self.size, self.patch, self.channels = frames, size, patch, channels
        self.grid = (frames, size // patch, size // patch)
        self.embedding = nn.Linear(channels * patch * patch, dim)
        self.blocks = nn.ModuleList(
            _Block(dim, heads, self.grid, axes, mode, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def embed(self, video: Tensor) -> Tensor:
        """``(B, frames, channels, size, size)`` → clip embedding ``(B, dim)``."""
        video = _checks.tensor("video", video, ndim=5, kind="float")
        expected = (self.frames, self.channels, self.size, self.size)
        if tuple(video.shape[1:]) != expected:
            shape = ", ".join(map(str, expected))
            raise _checks.ArgumentError(f"video must have shape (B, {shape}), "
                                        f"got {tuple(video.shape)}")
        x = self.embedding(patchify(video, self.patch))
        for block in self.blocks:
            x = block(x)
        return self.norm(x).mean(dim=1)

    def forward(self, video: Tensor) -> Tensor:
        return self.head(self.embed(video))

