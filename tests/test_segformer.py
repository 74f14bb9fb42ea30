"""dentpy.segformer against transformers' SegFormer, shapes, and a small overfit check."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import SegformerForSemanticSegmentation

from dentpy.metrics import dice
from dentpy.segformer import (
    AllMLPDecoder,
    MiTEncoder,
    SegFormer,
    count_parameters,
    segformer_config,
)


def _pair(variant: str, **kw):
    torch.manual_seed(0)
    config = segformer_config(variant, **kw)
    reference = SegformerForSemanticSegmentation(config)
    ours = SegFormer(config).load_transformers_state(reference)
    return config, reference, ours


@pytest.mark.parametrize(("variant", "kw", "shape"), [
    ("tiny", dict(in_channels=1, num_classes=3), (2, 1, 64, 96)),
    ("b0", dict(in_channels=3, num_classes=2), (1, 3, 64, 64)),
])
def test_agrees_with_transformers(variant, kw, shape) -> None:
    _, reference, ours = _pair(variant, **kw)
    reference.eval()
    ours.eval()
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference(pixel_values=x).logits
        got = ours(x, upsample=False)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    assert count_parameters(ours) == count_parameters(reference)


def test_b0_has_the_published_size() -> None:
    model = SegFormer(segformer_config("b0", in_channels=3, num_classes=150))
    # SegFormer-B0 on ADE20K (150 classes) has 3.8M parameters (Xie et al. 2021, Table 1)
    assert 3.6e6 < count_parameters(model) < 3.9e6


def test_training_mode_agrees_without_randomness() -> None:
    """With dropout and stochastic depth off, the batch-norm of the decoder uses batch statistics
    in both, and the gradients agree too."""
    _, reference, ours = _pair("tiny", in_channels=1, num_classes=2, drop_path_rate=0.0,
                               classifier_dropout_prob=0.0)
    reference.train()
    ours.train()
    x = torch.randn(2, 1, 64, 64, generator=torch.Generator().manual_seed(2))
    a, b = ours(x, upsample=False), reference(pixel_values=x).logits
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    a.square().mean().backward()
    b.square().mean().backward()
    torch.testing.assert_close(ours.encoder.stages[0].patch_embed.proj.weight.grad,
                               reference.segformer.stages[0].patch_embeddings.proj.weight.grad,
                               rtol=1e-3, atol=1e-6)


def test_shapes_and_strides() -> None:
    config = segformer_config("tiny", in_channels=1, num_classes=4)
    model = SegFormer(config).eval()
    x = torch.rand(3, 1, 64, 128)
    features = model.encoder(x)
    assert [tuple(f.shape) for f in features] == [
        (3, 16, 16, 32), (3, 32, 8, 16), (3, 64, 4, 8), (3, 128, 2, 4)]
    assert model(x, upsample=False).shape == (3, 4, 16, 32)
    assert model(x).shape == (3, 4, 64, 128)
    assert isinstance(model.encoder, MiTEncoder)
    assert isinstance(model.decoder, AllMLPDecoder)


def test_sequence_reduction_shortens_keys() -> None:
    """Stage 1 (R = 8): each of the 16 x 16 queries attends to (16 / 8)^2 = 4 keys."""
    model = SegFormer(segformer_config("tiny", in_channels=1, num_classes=2)).eval()
    stage = model.encoder.stages[0]
    tokens, h, w = stage.patch_embed(torch.rand(1, 1, 64, 64))
    _, weights = stage.blocks[0].attn.attention(stage.blocks[0].norm1(tokens), h, w)
    assert weights.shape == (1, 1, 256, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(1, 1, 256))


def test_overfits_a_small_world_of_discs() -> None:
    """A second, differently built world: bright and dim discs on noise (two classes + background).
    The tiny model must learn it (Dice > 0.8 on the images it trained on)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:64, :64]
    images, labels = [], []
    for _ in range(4):
        img = rng.normal(0.2, 0.05, (64, 64))
        lab = np.zeros((64, 64), np.int64)
        for cls, value in ((1, 0.6), (2, 0.95), (1, 0.6)):
            cy, cx, r = rng.integers(12, 52), rng.integers(12, 52), rng.integers(6, 11)
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            img[disc], lab[disc] = value, cls
        images.append(img)
        labels.append(lab)
    x = torch.tensor(np.stack(images), dtype=torch.float32)[:, None]
    y = torch.tensor(np.stack(labels))
    torch.manual_seed(0)
    model = SegFormer(segformer_config("tiny", in_channels=1, num_classes=3, drop_path_rate=0.0))
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(80):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        score = dice(model(x).argmax(1), y, num_classes=3, include_background=False)
    assert score.mean() > 0.8, score


def test_load_refuses_another_configuration() -> None:
    small = SegFormer(segformer_config("tiny", in_channels=1, num_classes=2))
    other = SegformerForSemanticSegmentation(segformer_config("tiny", in_channels=1,
                                                              num_classes=3))
    with pytest.raises(ValueError, match="hf_model must have this model's configuration"):
        small.load_transformers_state(other)
