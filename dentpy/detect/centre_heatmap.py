"""Point detection by centre heatmaps (CenterNet-style): targets, Gaussian focal loss, peaks,
point matching and its average precision.

A small fully convolutional network predicts, on a grid ``stride`` times coarser than the
image, the probability that an object's centre falls in each cell (``heat``) and the centre's
sub-cell offset (``offset``). Training targets are Gaussian bumps around each true centre
(:func:`centre_targets`), scored by the penalty-reduced focal loss of CenterNet
(:func:`gaussian_focal_loss`). Detections are the local maxima of the heatmap (3 x 3 max-pool
"NMS", :func:`heatmap_peaks`) moved by their offsets (:func:`decode_centres`). A detection
matches a true centre within ``radius`` pixels (greedy by score, each true centre once:
:func:`match_points`), and :func:`point_average_precision` is the area under the step
precision-recall curve (no interpolation), with recall counted over all true centres.

Points are ``(x, y)`` in pixels, pixel ``i`` covering ``[i, i + 1)``; grid cell ``j`` of a
stride-``s`` map covers ``[j s, (j + 1) s)`` and has its centre at ``(j + 0.5) s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dentpy import _checks

__all__ = [
    "CentreNet",
    "bootstrap_point_ap",
    "centre_targets",
    "decode_centres",
    "gaussian_focal_loss",
    "heatmap_peaks",
    "match_points",
    "point_average_precision",
]


def _points(name: str, value: Any) -> np.ndarray:
    out = _checks.array(name, value, kind="number", nonempty=False)
    if out.size == 0:
        return np.zeros((0, 2))
    if out.ndim != 2 or out.shape[1] != 2:
        _checks.fail(name, "an (N, 2) array of (x, y) points", value)
    return out.astype(np.float64)


def _point_lists(name: str, value: Any) -> list[np.ndarray]:
    if isinstance(value, str | bytes | dict) or not isinstance(value, Sequence):
        raise _checks.ArgumentTypeError(
            f"{name} must be a list of (N, 2) point arrays, one per image, got "
            f"{_checks.describe(value)}")
    return [_points(f"{name}[{i}]", v) for i, v in enumerate(value)]


def centre_targets(
    centres: Sequence[Any],
    *,
    grid_size: tuple[int, int],
    stride: float,
    sigma: float = 1.0,
) -> tuple[Tensor, Tensor, Tensor]:
    """Training targets for a batch: ``(heat (B, 1, h, w), offset (B, 2, h, w), mask (B, 1, h,
    w))``.

    ``centres``: one (N_i, 2) array of (x, y) pixel centres per image. ``heat`` is the maximum,
    over an image's objects, of ``exp(-d^2 / (2 sigma^2))`` with ``d`` the distance in grid
    cells from a cell's centre to the object's centre (so exactly 1 only where
    :func:`decode_centres` would put a peak: the cell that holds the centre, set to 1).
    ``offset`` holds, at those cells (``mask`` 1), the centre's position within its cell in
    cells, in ``[0, 1)``, channels (x, y). Centres outside the grid are ignored.
    """
    lists = _point_lists("centres", centres)
    h, w = _checks.integer_pair("grid_size", grid_size)
    stride = _checks.number("stride", stride, low=0.0, low_open=True)
    sigma = _checks.number("sigma", sigma, low=0.0, low_open=True)
    b = len(lists)
    heat = torch.zeros(b, 1, h, w)
    offset = torch.zeros(b, 2, h, w)
    mask = torch.zeros(b, 1, h, w)
    gy, gx = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    for i, pts in enumerate(lists):
        for x, y in pts / stride:
            cx, cy = int(np.floor(x)), int(np.floor(y))
            if not (0 <= cx < w and 0 <= cy < h):
                continue
            bump = torch.exp(-((gx - x) ** 2 + (gy - y) ** 2) / (2 * sigma**2))
            heat[i, 0] = torch.maximum(heat[i, 0], bump)
            heat[i, 0, cy, cx] = 1.0
            offset[i, :, cy, cx] = torch.tensor([x - cx, y - cy], dtype=torch.float32)
            mask[i, 0, cy, cx] = 1.0
    return heat, offset, mask


def gaussian_focal_loss(
    logits: Tensor,
    target: Tensor,
    *,
    alpha: float = 2.0,
    beta: float = 4.0,
) -> Tensor:
    """CenterNet's penalty-reduced focal loss, summed and divided by the number of peaks.

    With ``p = sigmoid(logits)`` and Gaussian target ``y`` (1 at object centres):
    ``-(1 - p)^alpha log p`` where ``y == 1`` and ``-(1 - y)^beta p^alpha log(1 - p)``
    elsewhere, so cells near a centre are penalised less for a high score. Divided by
    ``max(1, number of cells with y == 1)``. Shapes of ``logits`` and ``target`` must agree.
    """
    logits = _checks.tensor("logits", logits, kind="float")
    target = _checks.tensor("target", target, kind="float")
    if logits.shape != target.shape:
        _checks.fail("target", f"the shape of logits {tuple(logits.shape)}", target)
    if bool(((target < 0) | (target > 1)).any()):
        _checks.fail("target", "values in [0, 1]", target)
    alpha = _checks.number("alpha", alpha, low=0.0)
    beta = _checks.number("beta", beta, low=0.0)
    pos = target.eq(1).to(logits.dtype)
    log_p, log_1p = F.logsigmoid(logits), F.logsigmoid(-logits)
    p = torch.sigmoid(logits)
    pos_loss = -((1 - p) ** alpha) * log_p * pos
    neg_loss = -((1 - target) ** beta) * p**alpha * log_1p * (1 - pos)
    return (pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1.0)


def heatmap_peaks(
    heat: Tensor,
    *,
    k: int = 100,
    threshold: float = 0.0,
    kernel: int = 3,
) -> list[tuple[Tensor, Tensor, Tensor]]:
    """Local maxima of ``heat`` (B, 1, h, w) probabilities: a cell is kept when it equals the
    maximum of its ``kernel x kernel`` neighbourhood (max-pool "NMS"), its value is above
    ``threshold``, and it is among the ``k`` highest of its image. Returns per image
    ``(scores, rows, cols)``, sorted by decreasing score."""
    heat = _checks.tensor("heat", heat, ndim=4, kind="float")
    if heat.shape[1] != 1:
        _checks.fail("heat", "one channel, shape (B, 1, h, w)", heat)
    k = _checks.integer("k", k, low=1)
    threshold = _checks.number("threshold", threshold, low=0.0, high=1.0)
    kernel = _checks.integer("kernel", kernel, low=1)
    if kernel % 2 == 0:
        _checks.fail("kernel", "an odd integer", kernel)
    pooled = F.max_pool2d(heat, kernel, stride=1, padding=kernel // 2)
    keep = (heat == pooled) & (heat > threshold)
    out = []
    w = heat.shape[-1]
    for img, ok in zip(heat[:, 0], keep[:, 0], strict=True):
        flat = torch.where(ok.flatten(), img.flatten(), torch.full_like(img.flatten(), -1.0))
        top = torch.topk(flat, min(k, flat.numel()))
        chosen = top.values > -1.0
        idx = top.indices[chosen]
        out.append((top.values[chosen], idx // w, idx % w))
    return out


def decode_centres(
    heat: Tensor,
    offset: Tensor | None = None,
    *,
    stride: float,
    k: int = 100,
    threshold: float = 0.0,
) -> list[dict[str, np.ndarray]]:
    """Detections from a heatmap (B, 1, h, w) and optional offsets (B, 2, h, w), in pixels:
    per image ``{"points": (n, 2) (x, y), "scores": (n,)}``, by decreasing score. Without
    offsets a point sits at its cell's centre."""
    peaks = heatmap_peaks(heat, k=k, threshold=threshold)
    stride = _checks.number("stride", stride, low=0.0, low_open=True)
    if offset is not None:
        offset = _checks.tensor("offset", offset, ndim=4, kind="float")
        if offset.shape[0] != heat.shape[0] or offset.shape[1] != 2 or \
                offset.shape[2:] != heat.shape[2:]:
            _checks.fail("offset", f"shape ({heat.shape[0]}, 2, {heat.shape[2]}, "
                         f"{heat.shape[3]})", offset)
    out = []
    for i, (scores, rows, cols) in enumerate(peaks):
        if offset is None:
            dx = dy = torch.full_like(scores, 0.5)
        else:
            dx, dy = offset[i, 0, rows, cols], offset[i, 1, rows, cols]
        points = torch.stack([(cols + dx) * stride, (rows + dy) * stride], dim=1)
        out.append({"points": points.detach().cpu().double().numpy().reshape(-1, 2),
                    "scores": scores.detach().cpu().double().numpy()})
    return out


def match_points(
    points: Any,
    scores: Any,
    truth: Any,
    *,
    radius: float,
) -> np.ndarray:
    """True-positive flags (n,) bool for detections ``points`` (n, 2) with ``scores`` (n,)
    against true centres ``truth`` (m, 2): detections in order of decreasing score (ties: the
    order given) each take the nearest still unmatched true centre within ``radius`` pixels."""
    points, truth = _points("points", points), _points("truth", truth)
    scores = _checks.array("scores", scores, ndim=1, kind="number", nonempty=False)
    _checks.same_length(points=points, scores=scores)
    radius = _checks.number("radius", radius, low=0.0, low_open=True)
    flags = np.zeros(len(points), dtype=bool)
    free = np.ones(len(truth), dtype=bool)
    if len(truth) == 0:
        return flags
    dist = np.hypot(points[:, None, 0] - truth[None, :, 0], points[:, None, 1] - truth[None, :, 1])
    for i in np.argsort(-scores, kind="stable"):
        d = np.where(free, dist[i], np.inf)
        j = int(np.argmin(d))
        if d[j] <= radius:
            flags[i], free[j] = True, False
    return flags


def _pooled(predictions: Any, targets: Any, radius: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores, flags and image ids of all detections (sorted by decreasing score), and the
    number of true centres per image."""
    if isinstance(predictions, str | bytes | dict) or not isinstance(predictions, Sequence):
        raise _checks.ArgumentTypeError(
            f"predictions must be a list of dicts with 'points' and 'scores', one per image, "
            f"got {_checks.describe(predictions)}")
    truths = _point_lists("targets", targets)
    _checks.same_length(predictions=predictions, targets=truths)
    scores, flags, images = [], [], []
    for i, (pred, truth) in enumerate(zip(predictions, truths, strict=True)):
        if not isinstance(pred, dict) or not {"points", "scores"} <= set(pred):
            raise _checks.ArgumentTypeError(
                f"predictions[{i}] must be a dict with 'points' and 'scores', got "
                f"{_checks.describe(pred)}")
        s = _checks.array(f"predictions[{i}]['scores']", pred["scores"], ndim=1,
                          nonempty=False)
        flags.append(match_points(pred["points"], s, truth, radius=radius))
        scores.append(s.astype(np.float64))
        images.append(np.full(len(s), i))
    scores, flags, images = (np.concatenate(v) if v else np.zeros(0)
                             for v in (scores, flags, images))
    order = np.argsort(-scores, kind="stable")
    n_true = np.array([len(t) for t in truths], dtype=np.float64)
    return scores[order], flags[order].astype(bool), images[order].astype(int), n_true


def _ap_from_flags(flags: np.ndarray, weights: np.ndarray, n_true: np.ndarray) -> np.ndarray:
    """AP per row of ``weights`` (R, n) for detections in score order; ``n_true`` (R,)."""
    tp = np.cumsum(weights * flags, axis=1)
    seen = np.cumsum(weights, axis=1)
    precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)
    gain = weights * flags  # recall rises by weight / n_true at every true positive
    with np.errstate(invalid="ignore", divide="ignore"):
        return (gain * precision).sum(axis=1) / n_true


def point_average_precision(
    predictions: Sequence[dict[str, Any]],
    targets: Sequence[Any],
    *,
    radius: float,
) -> float:
    """AP of point detections: ``predictions`` one dict per image (``points`` (n, 2),
    ``scores`` (n,)), ``targets`` one (m, 2) array per image, matched with :func:`match_points`.

    All detections are pooled and sorted by score; AP is ``sum_k (R_k - R_{k-1}) P_k``, the
    precision at each true positive times the recall it adds, with recall over *all* true
    centres (missed ones lower it). No interpolation. NaN (with no warning) when there is no
    true centre at all.
    """
    radius = _checks.number("radius", radius, low=0.0, low_open=True)
    _, flags, _, n_true = _pooled(predictions, targets, radius)
    total = n_true.sum()
    if total == 0:
        return float("nan")
    return float(_ap_from_flags(flags, np.ones((1, len(flags))), np.array([total]))[0])


def bootstrap_point_ap(
    predictions: dict[str, Sequence[dict[str, Any]]],
    targets: Sequence[Any],
    *,
    radius: float,
    n: int = 1000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """AP of several models on the same ``n`` bootstrap resamples of the images: ``{model:
    (n,) APs}``. ``predictions`` maps a model's name to its per-image detections (all on the
    images of ``targets``). Resample ``r`` draws as many images as there are, with replacement,
    from ``numpy.random.default_rng(seed)`` (the same draws for every model and every call
    with the same ``seed`` and image count), so differences between models are paired.
    A resample without any true centre gives NaN."""
    if not isinstance(predictions, dict) or not predictions:
        raise _checks.ArgumentTypeError(
            f"predictions must be a non-empty dict {{model name: per-image detections}}, got "
            f"{_checks.describe(predictions)}")
    radius = _checks.number("radius", radius, low=0.0, low_open=True)
    n = _checks.integer("n", n, low=1)
    seed = _checks.integer("seed", seed, low=0)
    n_images = len(_point_lists("targets", targets))
    draws = np.random.default_rng(seed).integers(0, n_images, size=(n, n_images))
    counts = np.zeros((n, n_images))
    np.add.at(counts, (np.repeat(np.arange(n), n_images), draws.ravel()), 1.0)
    out = {}
    for name, preds in predictions.items():
        _, flags, images, n_true = _pooled(preds, targets, radius)
        weights = counts[:, images]
        total = counts @ n_true
        ap = _ap_from_flags(flags, weights, np.where(total > 0, total, np.nan))
        out[name] = ap
    return out


class CentreNet(nn.Module):
    """A tiny centre-heatmap detector: conv stages to stride 8, then heads at stride 4.

    ``features(images)`` gives the stride-8 feature map (B, width, H/8, W/8), the deepest and
    most semantic one, where contextual regularisation attaches; ``head(features)`` doubles
    its resolution (nearest neighbour, then a 3 x 3 conv) and gives ``(heat_logits (B, 1, H/4,
    W/4), offset (B, 2, H/4, W/4))`` with offsets squashed into (0, 1) cells; ``forward`` chains
    both. The heat bias starts at ``log(0.01 / 0.99)`` (a 1% prior), as CenterNet does.
    """

    stride = 4

    def __init__(self, in_channels: int = 3, *, width: int = 32) -> None:
        super().__init__()
        in_channels = _checks.integer("in_channels", in_channels, low=1)
        width = _checks.integer("width", width, low=4)

        def block(cin: int, cout: int, stride: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        half = width // 2
        self.backbone = nn.Sequential(
            block(in_channels, half, 2),                         # stride 2
            block(half, width, 2), block(width, width, 1),       # stride 4
            block(width, width, 1), block(width, width, 2),      # stride 8
            block(width, width, 1))
        self.up = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                block(width, width, 1))
        self.heat = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(width, 1, 1))
        self.offset = nn.Sequential(nn.Conv2d(width, width, 3, padding=1),
                                    nn.ReLU(inplace=True), nn.Conv2d(width, 2, 1))
        nn.init.constant_(self.heat[-1].bias, float(np.log(0.01 / 0.99)))
        self.in_channels, self.width = in_channels, width

    def features(self, images: Tensor) -> Tensor:
        """Stride-8 features (B, width, H/8, W/8) of images (B, in_channels, H, W)."""
        images = _checks.tensor("images", images, ndim=4, kind="float")
        if images.shape[1] != self.in_channels:
            _checks.fail("images", f"{self.in_channels} channels", images)
        if images.shape[2] % 8 or images.shape[3] % 8:
            _checks.fail("images", "a height and width divisible by 8", images)
        return self.backbone(images)

    def head(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """(heat logits (B, 1, h, w), offsets in (0, 1) cells (B, 2, h, w)) at stride 4."""
        up = self.up(features)
        return self.heat(up), torch.sigmoid(self.offset(up))

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        return self.head(self.features(images))
