"""dentpy.models.SmallCNN: shapes, learning, bad input."""

import pytest
import torch

from dentpy.models import SmallCNN


@pytest.mark.parametrize("size", [(32, 32), (37, 70), (200, 370)])
def test_small_cnn_any_input_size(size):
    model = SmallCNN(1, 5, width=4, depth=3)
    assert model(torch.randn(2, 1, *size)).shape == (2, 5)


def test_small_cnn_learns_a_separable_toy():
    torch.manual_seed(0)
    x = torch.randn(64, 1, 16, 16)
    y = (x.mean((1, 2, 3)) > 0).long()
    model = SmallCNN(1, 2, width=8, depth=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize("kwargs, match", [
    (dict(in_channels=0), "in_channels"), (dict(num_classes=1.5), "num_classes"),
    (dict(width=0), "width"), (dict(depth=True), "depth"), (dict(dropout=1.0), "dropout"),
])
def test_small_cnn_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SmallCNN(**kwargs)


def test_small_cnn_rejects_wrong_input_shape():
    with pytest.raises(ValueError, match=r"x must have shape \(B, 1, H, W\)"):
        SmallCNN(1, 2)(torch.randn(2, 3, 8, 8))
