"""Tests of dentpy.super_images: known layout, exact round trip, agreement with torchvision."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.utils import make_grid

from dentpy.data.synthetic import make_volume
from dentpy.super_images import from_mosaic, to_mosaic


def test_known_layout_row_major_with_zero_padding():
    volume = torch.arange(5 * 2 * 2).reshape(1, 1, 5, 2, 2)
    mosaic = to_mosaic(volume, (2, 3))
    assert mosaic.shape == (1, 1, 4, 6)
    expected = torch.tensor([[0, 1, 4, 5, 8, 9],
                             [2, 3, 6, 7, 10, 11],
                             [12, 13, 16, 17, 0, 0],
                             [14, 15, 18, 19, 0, 0]])
    assert torch.equal(mosaic[0, 0], expected)


@pytest.mark.parametrize("grid", [(4, 4), (2, 8), (8, 2), (1, 16), (3, 6)])
def test_round_trip_on_the_dental_world(grid):
    sample = make_volume(0, seed=3, size=(16, 24, 24))
    volume = torch.from_numpy(np.stack([sample.image, sample.bone_mask * 1.0]))[None]
    mosaic = to_mosaic(volume, grid)
    assert mosaic.shape == (1, 2, grid[0] * 24, grid[1] * 24)
    assert torch.equal(from_mosaic(mosaic, grid, 16), volume)


def test_matches_torchvision_make_grid():
    volume = torch.rand(3, 1, 7, 5, 6)
    for n in range(3):
        slices = volume[n].permute(1, 0, 2, 3)  # (D, 1, H, W): one image per slice
        reference = make_grid(slices, nrow=4, padding=0)[0]  # grey images are tripled
        assert torch.equal(to_mosaic(volume, (2, 4))[n, 0], reference)


def _ellipsoids(n: int, depth: int, side: int, seed: int) -> torch.Tensor:
    """A second world, built differently: random solid ellipsoids, as bool volumes."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*(np.linspace(-1, 1, s) for s in (depth, side, side)), indexing="ij")
    out = []
    for _ in range(n):
        c, r = rng.uniform(-0.3, 0.3, 3), rng.uniform(0.2, 0.7, 3)
        out.append(((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2
                   + ((x - c[2]) / r[2]) ** 2 < 1)
    return torch.from_numpy(np.stack(out))[:, None]


def test_round_trip_and_voxel_count_on_a_second_world():
    volumes = _ellipsoids(4, 9, 10, seed=1)
    mosaic = to_mosaic(volumes, (3, 3))
    assert mosaic.dtype == torch.bool and mosaic.shape == (4, 1, 30, 30)
    assert torch.equal(mosaic.sum((1, 2, 3)), volumes.sum((1, 2, 3, 4)))
    assert torch.equal(from_mosaic(mosaic, (3, 3), 9), volumes)
    # tile (1, 2) of the mosaic is slice 1 * 3 + 2 = 5
    assert torch.equal(mosaic[:, :, 10:20, 20:30], volumes[:, :, 5])


def test_gradients_flow_through_both_ways():
    volume = torch.rand(2, 1, 4, 3, 3, requires_grad=True)
    from_mosaic(to_mosaic(volume, (2, 2)) * 2, (2, 2), 4).sum().backward()
    assert torch.equal(volume.grad, torch.full_like(volume, 2.0))


def test_bad_grid_is_refused():
    with pytest.raises(ValueError, match="grid"):
        to_mosaic(torch.zeros(1, 1, 5, 2, 2), (2, 2))
    with pytest.raises(ValueError, match="mosaic"):
        from_mosaic(torch.zeros(1, 1, 5, 4), (2, 2), 4)
