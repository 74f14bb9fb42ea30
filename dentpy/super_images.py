"""Super images: a 3-D volume's slices tiled side by side into one 2-D mosaic, and back.

A volume batch ``(N, C, D, H, W)`` and a grid ``(rows, cols)`` with ``rows * cols >= D`` give a
mosaic ``(N, C, rows * H, cols * W)``: slice ``d`` sits in tile row ``d // cols`` and tile
column ``d % cols`` (row-major, like reading a page), and tiles past the last slice are zero.
:func:`from_mosaic` undoes it exactly, so a 2-D network's output on the mosaic maps back to the
volume's voxels. Both are pure reshapes and permutations (no copies of values, no arithmetic),
so the round trip is exact for every dtype.
"""

from __future__ import annotations

from typing import Any

import torch

from dentpy import _checks

__all__ = ["from_mosaic", "to_mosaic"]


def _grid(grid: Any) -> tuple[int, int]:
    if isinstance(grid, (str, bytes)) or not hasattr(grid, "__len__") or len(grid) != 2:
        _checks.fail("grid", "a pair (rows, cols) of positive integers", grid, wrong_type=True)
    rows = _checks.integer("grid[0]", grid[0], low=1)
    cols = _checks.integer("grid[1]", grid[1], low=1)
    return rows, cols


def to_mosaic(volume: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """Tile the ``D`` slices of ``volume`` ``(N, C, D, H, W)`` into ``(N, C, rows*H, cols*W)``.

    ``grid = (rows, cols)`` needs ``rows * cols >= D``; empty tiles are filled with zeros.
    """
    volume = _checks.tensor("volume", volume, ndim=5, kind=None, finite=False)
    rows, cols = _grid(grid)
    n, c, d, h, w = volume.shape
    if rows * cols < d:
        raise _checks.ArgumentError(
            f"grid: {rows} x {cols} = {rows * cols} tiles cannot hold the volume's {d} slices")
    if rows * cols > d:
        empty = volume.new_zeros((n, c, rows * cols - d, h, w))
        volume = torch.cat([volume, empty], dim=2)
    tiles = volume.reshape(n, c, rows, cols, h, w)  # slice d -> (d // cols, d % cols)
    return tiles.permute(0, 1, 2, 4, 3, 5).reshape(n, c, rows * h, cols * w)


def from_mosaic(mosaic: torch.Tensor, grid: tuple[int, int], depth: int) -> torch.Tensor:
    """Un-tile ``mosaic`` ``(N, C, rows*H, cols*W)`` into the volume ``(N, C, depth, H, W)``.

    The inverse of :func:`to_mosaic` for the same ``grid``; ``depth`` (at most ``rows * cols``)
    drops the zero tiles that padded the last row.
    """
    mosaic = _checks.tensor("mosaic", mosaic, ndim=4, kind=None, finite=False)
    rows, cols = _grid(grid)
    depth = _checks.integer("depth", depth, low=1, high=rows * cols)
    n, c, big_h, big_w = mosaic.shape
    if big_h % rows or big_w % cols:
        raise _checks.ArgumentError(
            f"mosaic: size {big_h} x {big_w} is not divisible by the grid {rows} x {cols}")
    h, w = big_h // rows, big_w // cols
    tiles = mosaic.reshape(n, c, rows, h, cols, w).permute(0, 1, 2, 4, 3, 5)
    return tiles.reshape(n, c, rows * cols, h, w)[:, :, :depth]
