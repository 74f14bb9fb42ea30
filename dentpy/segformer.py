"""SegFormer (Xie et al., 2021) written out in plain PyTorch, checked against ``transformers``.

SegFormer is a semantic-segmentation network in two parts:

- the **Mix Transformer (MiT) encoder**: four stages, each an *overlapping patch embedding* (a
  strided convolution whose kernel is larger than its stride, so neighbouring patches share
  pixels) followed by transformer blocks. A block is *efficient self-attention* (keys and values
  come from a sequence shortened by a strided ``R x R`` convolution, the sequence-reduction
  ratio ``R``, so attention costs ``N * N / R^2`` instead of ``N^2``) and a *Mix-FFN* (linear,
  3x3 depthwise convolution, GELU, linear). The zero-padded depthwise convolution lets the
  tokens know where they are, so there is no positional encoding to interpolate when the image
  size changes. The stages give feature maps at strides 4, 8, 16 and 32.
- the **all-MLP decoder**: each stage's map is projected to ``decoder_hidden_size`` channels by
  one linear layer, upsampled to the stride-4 grid, concatenated (deepest first), fused by a
  1x1 convolution + batch norm + ReLU, and classified by another 1x1 convolution. The logits
  come out at ``H/4 x W/4``; :class:`SegFormer` upsamples them bilinearly to ``H x W``.

The module names follow ``transformers.SegformerForSemanticSegmentation`` closely enough that
:meth:`SegFormer.load_transformers_state` can copy its weights with a short renaming table;
``tests/test_segformer.py`` asserts that both give the same logits and have the same number of
parameters.

Public names: :func:`segformer_config`, :class:`SegFormer` (with its parts
:class:`MiTEncoder` and :class:`AllMLPDecoder`), :func:`count_parameters`, :data:`VARIANTS`.
"""

from __future__ import annotations

import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dentpy import _checks

__all__ = [
    "VARIANTS",
    "AllMLPDecoder",
    "MiTEncoder",
    "SegFormer",
    "count_parameters",
    "segformer_config",
]

#: Encoder/decoder sizes of the named variants. ``b0`` and ``b4`` are the published ones;
#: ``tiny`` is this course's smaller model for CPU runs (one block per stage, half b0's widths).
VARIANTS: dict[str, dict[str, list[int] | int]] = {
    "tiny": {
        "hidden_sizes": [16, 32, 64, 128],
        "depths": [1, 1, 1, 1],
        "num_attention_heads": [1, 1, 2, 4],
        "decoder_hidden_size": 64,
    },
    "b0": {
        "hidden_sizes": [32, 64, 160, 256],
        "depths": [2, 2, 2, 2],
        "num_attention_heads": [1, 2, 5, 8],
        "decoder_hidden_size": 256,
    },
    "b4": {
        "hidden_sizes": [64, 128, 320, 512],
        "depths": [3, 8, 27, 3],
        "num_attention_heads": [1, 2, 5, 8],
        "decoder_hidden_size": 768,
    },
}


def _config_class() -> Any:
    from transformers import SegformerConfig

    return SegformerConfig


def segformer_config(
    variant: str = "b0", *, in_channels: int = 3, num_classes: int = 2, **overrides: Any
) -> Any:
    """A ``transformers.SegformerConfig`` for ``variant`` (``"tiny"``, ``"b0"`` or ``"b4"``).

    ``in_channels``: image channels (1 for a radiograph, 3 for RGB); ``num_classes``: output
    classes (background included). ``overrides``: any other ``SegformerConfig`` field, e.g.
    ``decoder_hidden_size=128`` or ``drop_path_rate=0.0``; an unknown field raises.
    """
    _checks.choice("variant", variant, tuple(VARIANTS))
    in_channels = _checks.integer("in_channels", in_channels, low=1)
    num_classes = _checks.integer("num_classes", num_classes, low=1)
    config_class = _config_class()
    known = set(config_class().to_dict())
    for key in overrides:
        if key not in known or key in {"num_channels", "num_labels", "id2label", "label2id"}:
            raise _checks.ArgumentError(
                f"overrides must be SegformerConfig fields other than num_channels/num_labels "
                f"(use in_channels/num_classes), got {key!r}")
    fields: dict[str, Any] = {k: list(v) if isinstance(v, list) else v
                              for k, v in VARIANTS[variant].items()}
    fields.update(overrides)
    try:
        config = config_class(num_channels=in_channels, num_labels=num_classes, **fields)
    except Exception as err:  # transformers' strict dataclass validation of field types
        raise _checks.ArgumentError(
            f"overrides must hold valid SegformerConfig values, got {overrides!r}: "
            f"{str(err).splitlines()[-1].strip()}") from err
    _check_config(config)
    return config


def _check_config(config: Any) -> None:
    """Raise when ``config`` is not a usable ``SegformerConfig`` (lengths, head divisibility)."""
    if not isinstance(config, _config_class()):
        _checks.fail("config", "a transformers.SegformerConfig (see segformer_config)", config,
                     wrong_type=True)
    n = config.num_encoder_blocks
    for field in ("hidden_sizes", "depths", "num_attention_heads", "sr_ratios", "patch_sizes",
                  "strides", "mlp_ratios"):
        value = getattr(config, field)
        if not isinstance(value, list | tuple) or len(value) != n:
            _checks.fail(f"config.{field}", f"a list of {n} numbers (num_encoder_blocks)", value)
        for v in value:
            _checks.number(f"config.{field}", v, low=0, low_open=True)
    for size, heads in zip(config.hidden_sizes, config.num_attention_heads, strict=True):
        if size % heads:
            raise _checks.ArgumentError(
                f"config.hidden_sizes must be divisible by config.num_attention_heads, "
                f"got {size} and {heads}")
    _checks.integer("config.decoder_hidden_size", config.decoder_hidden_size, low=1)
    _checks.integer("config.num_labels", config.num_labels, low=1)
    _checks.integer("config.num_channels", config.num_channels, low=1)


# --------------------------------------------------------------------------- encoder parts
class OverlapPatchEmbed(nn.Module):
    """Strided convolution with kernel > stride (patches overlap) + LayerNorm on the tokens.

    ``forward(x: (B, C_in, H, W)) -> (tokens (B, h*w, dim), h, w)``.
    """

    def __init__(self, in_channels: int, dim: int, patch_size: int, stride: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, patch_size, stride, padding=patch_size // 2)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        x = self.proj(x)
        h, w = x.shape[-2:]
        return self.norm(x.flatten(2).transpose(1, 2)), h, w


class EfficientSelfAttention(nn.Module):
    """Multi-head self-attention whose keys/values come from an ``R x R``-reduced token grid.

    ``forward(tokens (B, N, dim), h, w) -> (B, N, dim)``; ``N = h * w``; the key/value
    sequence has ``N / R^2`` tokens (``R = sr_ratio``; no reduction when ``R = 1``).
    """

    def __init__(self, dim: int, heads: int, sr_ratio: int) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q_proj, self.k_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.v_proj, self.o_proj = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, sr_ratio)
            self.sr_norm = nn.LayerNorm(dim)

    def attention(self, x: torch.Tensor, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(output (B, N, dim), weights (B, heads, N, N / R^2))``."""
        b, n, d = x.shape
        kv = x
        if self.sr_ratio > 1:
            grid = x.transpose(1, 2).reshape(b, d, h, w)
            kv = self.sr_norm(self.sr(grid).flatten(2).transpose(1, 2))

        def split(t: torch.Tensor) -> torch.Tensor:  # (B, L, dim) -> (B, heads, L, dim/heads)
            return t.reshape(b, t.shape[1], self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(kv)), split(self.v_proj(kv))
        weights = torch.softmax(q @ k.transpose(-2, -1) * self.scale, dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(b, n, d)
        return self.o_proj(out), weights

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        return self.attention(x, h, w)[0]


class MixFFN(nn.Module):
    """Linear -> 3x3 depthwise conv (zero-padded: leaks position) -> GELU -> linear.

    ``forward(tokens (B, N, dim), h, w) -> (B, N, dim)``; the hidden width is ``ratio * dim``.
    """

    def __init__(self, dim: int, ratio: float, dropout: float = 0.0) -> None:
        super().__init__()
        hidden = int(dim * ratio)
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, n, _ = x.shape
        x = self.fc1(x)
        x = self.dwconv(x.transpose(1, 2).reshape(b, -1, h, w)).flatten(2).transpose(1, 2)
        return self.drop(self.fc2(self.drop(F.gelu(x))))


class _DropPath(nn.Module):
    """Stochastic depth: drop a sample's whole residual branch with probability ``p`` (training)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = torch.rand((x.shape[0],) + (1,) * (x.ndim - 1), device=x.device) < 1 - self.p
        return x * keep.to(x.dtype) / (1 - self.p)


class MiTBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + ffn(norm2(x))``."""

    def __init__(self, dim: int, heads: int, sr_ratio: int, mlp_ratio: float,
                 drop_path: float = 0.0, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = EfficientSelfAttention(dim, heads, sr_ratio)
        self.ffn = MixFFN(dim, mlp_ratio, dropout)
        self.drop = nn.Dropout(dropout)
        self.drop_path = _DropPath(drop_path)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = x + self.drop_path(self.drop(self.attn(self.norm1(x), h, w)))
        return x + self.drop_path(self.ffn(self.norm2(x), h, w))


class MiTStage(nn.Module):
    """Patch embedding, ``depth`` blocks, LayerNorm; returns a map ``(B, dim, h, w)``."""

    def __init__(self, config: Any, i: int, drop_paths: list[float]) -> None:
        super().__init__()
        dim = config.hidden_sizes[i]
        in_ch = config.num_channels if i == 0 else config.hidden_sizes[i - 1]
        self.patch_embed = OverlapPatchEmbed(in_ch, dim, config.patch_sizes[i], config.strides[i])
        start = sum(config.depths[:i])
        self.blocks = nn.ModuleList(
            MiTBlock(dim, config.num_attention_heads[i], config.sr_ratios[i],
                     config.mlp_ratios[i], drop_paths[start + j], config.hidden_dropout_prob)
            for j in range(config.depths[i]))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, h, w = self.patch_embed(x)
        for block in self.blocks:
            x = block(x, h, w)
        x = self.norm(x)
        return x.reshape(x.shape[0], h, w, -1).permute(0, 3, 1, 2).contiguous()


class MiTEncoder(nn.Module):
    """The hierarchical Mix Transformer encoder.

    ``forward(x: (B, C, H, W)) -> [f1, f2, f3, f4]``, ``f_i: (B, hidden_sizes[i], H/s_i, W/s_i)``
    with strides ``s = 4, 8, 16, 32`` for the standard configuration.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        _check_config(config)
        total = sum(config.depths)
        drop_paths = [config.drop_path_rate * i / max(total - 1, 1) for i in range(total)]
        self.stages = nn.ModuleList(MiTStage(config, i, drop_paths)
                                    for i in range(config.num_encoder_blocks))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


class AllMLPDecoder(nn.Module):
    """Per-stage linear projection -> upsample to the first map's grid -> concat (deepest first)
    -> 1x1 conv + BN + ReLU -> dropout -> 1x1 classifier.

    ``forward([f1..f4]) -> logits (B, num_classes, h1, w1)`` (the grid of ``f1``, i.e. H/4).
    """

    def __init__(self, in_dims: list[int], hidden: int, num_classes: int,
                 dropout: float = 0.1) -> None:
        super().__init__()
        if isinstance(in_dims, str | bytes) or not isinstance(in_dims, list | tuple) or not in_dims:
            _checks.fail("in_dims", "a non-empty list of channel counts", in_dims,
                         wrong_type=not isinstance(in_dims, list | tuple))
        in_dims = [_checks.integer(f"in_dims[{i}]", d, low=1) for i, d in enumerate(in_dims)]
        hidden = _checks.integer("hidden", hidden, low=1)
        num_classes = _checks.integer("num_classes", num_classes, low=1)
        dropout = _checks.number("dropout", dropout, low=0.0, high=1.0, high_open=True)
        self.proj = nn.ModuleList(nn.Linear(d, hidden) for d in in_dims)
        self.fuse = nn.Conv2d(hidden * len(in_dims), hidden, 1, bias=False)
        self.bn = nn.BatchNorm2d(hidden)
        self.drop = nn.Dropout(dropout)
        self.classifier = nn.Conv2d(hidden, num_classes, 1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        if not isinstance(features, list | tuple) or len(features) != len(self.proj):
            _checks.fail("features", f"a list of {len(self.proj)} feature maps (B, C_i, h_i, w_i)",
                         features, wrong_type=not isinstance(features, list | tuple))
        size = features[0].shape[-2:]
        maps = []
        for f, proj in zip(features, self.proj, strict=True):
            b, _, h, w = f.shape
            m = proj(f.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, -1, h, w)
            maps.append(F.interpolate(m, size=size, mode="bilinear", align_corners=False))
        x = F.relu(self.bn(self.fuse(torch.cat(maps[::-1], dim=1))))
        return self.classifier(self.drop(x))


# transformers name -> dentpy name (applied in order, as regular expressions)
_RENAMES = [
    (r"^segformer\.", "encoder."),
    (r"^decode_head\.linear_projections\.(\d+)\.proj\.", r"decoder.proj.\1."),
    (r"^decode_head\.linear_fuse\.", "decoder.fuse."),
    (r"^decode_head\.batch_norm\.", "decoder.bn."),
    (r"^decode_head\.classifier\.", "decoder.classifier."),
    (r"\.patch_embeddings\.layer_norm\.", ".patch_embed.norm."),
    (r"\.patch_embeddings\.", ".patch_embed."),
    (r"\.layernorm_before\.", ".norm1."),
    (r"\.layernorm_after\.", ".norm2."),
    (r"\.attention\.sequence_reduction\.sequence_reduction\.", ".attn.sr."),
    (r"\.attention\.sequence_reduction\.layer_norm\.", ".attn.sr_norm."),
    (r"\.attention\.", ".attn."),
    (r"\.mlp\.dwconv\.dwconv\.", ".ffn.dwconv."),
    (r"\.mlp\.", ".ffn."),
    (r"(stages\.\d+)\.layer_norm\.", r"\1.norm."),
]


def _rename(key: str) -> str:
    for pattern, repl in _RENAMES:
        key = re.sub(pattern, repl, key)
    return key


class SegFormer(nn.Module):
    """SegFormer built from a ``SegformerConfig`` (see :func:`segformer_config`).

    ``forward(x: (B, C, H, W) float) -> logits (B, num_classes, H, W)``: the decoder's
    ``H/4 x W/4`` logits upsampled bilinearly (``upsample=False`` returns them as they are).
    ``H`` and ``W`` should be multiples of 32 so the four stages tile the image exactly.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        _check_config(config)
        self.config = config
        self.encoder = MiTEncoder(config)
        self.decoder = AllMLPDecoder(list(config.hidden_sizes), config.decoder_hidden_size,
                                     config.num_labels, config.classifier_dropout_prob)

    def forward(self, x: torch.Tensor, upsample: bool = True) -> torch.Tensor:
        x = _checks.tensor("x", x, ndim=4, kind="float")
        if x.shape[1] != self.config.num_channels:
            raise _checks.ArgumentError(
                f"x must have {self.config.num_channels} channels (config.num_channels), "
                f"got shape {tuple(x.shape)}")
        if min(x.shape[-2:]) < 32:
            raise _checks.ArgumentError(f"x must be at least 32 x 32 pixels, got shape "
                                        f"{tuple(x.shape)}")
        logits = self.decoder(self.encoder(x))
        if _checks.flag("upsample", upsample):
            logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear",
                                   align_corners=False)
        return logits

    @torch.no_grad()
    def load_transformers_state(self, hf_model: nn.Module) -> SegFormer:
        """Copy the weights of a ``transformers.SegformerForSemanticSegmentation`` built from
        the same configuration; returns ``self``. Raises when a name or a shape does not match."""
        if not isinstance(hf_model, nn.Module) or not hasattr(hf_model, "decode_head"):
            _checks.fail("hf_model", "a transformers.SegformerForSemanticSegmentation", hf_model,
                         wrong_type=True)
        ours = self.state_dict()
        theirs = {_rename(k): v for k, v in hf_model.state_dict().items()}
        missing, extra = sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))
        if missing or extra:
            raise _checks.ArgumentError(
                f"hf_model must have this model's configuration: missing {missing[:3]}, "
                f"unexpected {extra[:3]}")
        for key, value in theirs.items():
            if ours[key].shape != value.shape:
                raise _checks.ArgumentError(
                    f"hf_model must have this model's configuration: {key} has shape "
                    f"{tuple(value.shape)}, expected {tuple(ours[key].shape)}")
        self.load_state_dict(theirs)
        return self


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters (``requires_grad``) of ``model``."""
    if not isinstance(model, nn.Module):
        _checks.fail("model", "a torch.nn.Module", model, wrong_type=True)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
