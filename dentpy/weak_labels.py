"""Weak segmentation labels, their iterative refinement by a pretrained network, and a rater.

- ``weaken_mask(mask, rng)`` deforms a true mask into a weak one: a random affine transform about
  the mask's centre (rotation, scale, shift) and a smooth random elastic displacement;
- ``mask_dice(a, b)`` scores one Dice per mask pair;
- ``refine(source_model, images, masks, ...)`` runs the refinement: each iteration copies the
  *source* model, fine-tunes it briefly on the images with the previous iteration's masks
  (:func:`dentpy.transfer.fit_segmenter`) and predicts the next masks (and, optionally, masks of
  held-out images);
- ``simulated_rater(truth, left, right)`` and ``blinded_ab(truth, model, weak, ...)`` replay a
  blinded A/B preference test with a rater who prefers the mask of higher Dice.

Images are ``(N, 1, H, W)`` float tensors, masks ``(N, 1, H, W)`` tensors of 0 and 1 (a single
mask for :func:`weaken_mask`: ``(H, W)``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.ndimage import gaussian_filter, map_coordinates

from dentpy import _checks
from dentpy.models.unet import UNet
from dentpy.transfer import FitHistory, _check_pair, _check_unet, _device, fit_segmenter

__all__ = ["RESTARTS", "ABResult", "RefineResult", "blinded_ab", "mask_dice", "refine",
           "simulated_rater", "weaken_mask"]

#: Where each iteration starts: the source model (the paper), the previous iteration's model.
RESTARTS = ("source", "previous")


def _rng(rng: object) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(_checks.integer("rng", rng, low=0))


def _binary(name: str, value: object, ndim: int | Sequence[int]) -> np.ndarray:
    out = _checks.array(name, value, ndim=ndim, kind="number")
    if not np.isin(out, (0, 1)).all():
        _checks.fail(name, "binary (0 and 1 only)", value)
    return out.astype(bool)


def weaken_mask(mask: np.ndarray, rng: np.random.Generator | int, *, rotation: float = 10.0,
                scale: tuple[float, float] = (0.9, 1.1), shift: float = 0.04,
                alpha: float = 3.0, sigma: float = 4.0) -> np.ndarray:
    """A weak version of a binary ``mask`` (H, W): randomly moved, scaled and bent.

    The affine part maps each output pixel back to the input through a rotation by an angle
    uniform in ±``rotation`` degrees and a scale uniform in ``scale`` (per axis), both about the
    mask's centroid, and a shift uniform in ±``shift`` times the image side. The elastic part
    (Simard et al.) adds a displacement field of uniform noise in [−1, 1] smoothed by a Gaussian
    of ``sigma`` pixels, normalised to a largest displacement of ``alpha`` pixels. Bilinear
    resampling, threshold 0.5. ``rng``: a NumPy generator or a seed. Returns a bool (H, W) array;
    an empty mask stays empty.
    """
    mask = _binary("mask", mask, 2)
    rng = _rng(rng)
    rotation = _checks.number("rotation", rotation, low=0.0, high=180.0)
    if isinstance(scale, str | bytes) or not isinstance(scale, Sequence) or len(scale) != 2:
        _checks.fail("scale", "a pair (low, high) of positive numbers", scale, wrong_type=True)
    lo = _checks.number("scale[0]", scale[0], low=0.0, low_open=True)
    hi = _checks.number("scale[1]", scale[1], low=lo)
    shift = _checks.number("shift", shift, low=0.0, high=0.5)
    alpha = _checks.number("alpha", alpha, low=0.0)
    sigma = _checks.number("sigma", sigma, low=0.0, low_open=True)
    if not mask.any():
        return mask.copy()
    h, w = mask.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    cy, cx = np.argwhere(mask).mean(axis=0)
    angle = np.deg2rad(rng.uniform(-rotation, rotation))
    sy, sx = rng.uniform(lo, hi, 2)
    ty, tx = rng.uniform(-shift, shift, 2) * (h, w)
    # output pixel p comes from input R^-1 S^-1 (p - c - t) + c
    dy, dx = (yy - cy - ty) / sy, (xx - cx - tx) / sx
    cos, sin = np.cos(angle), np.sin(angle)
    src_y, src_x = cy + cos * dy - sin * dx, cx + sin * dy + cos * dx
    noise = gaussian_filter(rng.uniform(-1, 1, (2, h, w)), (0, sigma, sigma))
    noise *= alpha / (np.abs(noise).max() + 1e-12)
    moved = map_coordinates(mask.astype(float), [src_y + noise[0], src_x + noise[1]], order=1,
                            mode="constant")
    return moved > 0.5


def mask_dice(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> np.ndarray:
    """Dice ``2|A∩B| / (|A| + |B|)`` of each pair of binary masks, shape ``(N,)``.

    ``a`` and ``b``: binary masks of one shape, ``(N, ...)`` (the first axis counts the masks).
    Two empty masks score 1 (as :func:`dentpy.transfer.dice_per_image`).
    """
    a_arr = _binary("a", a, (2, 3, 4, 5))
    return _dice(a_arr, _like("b", b, a_arr, "a's"))


def _like(name: str, value: object, reference: np.ndarray, whose: str) -> np.ndarray:
    out = _binary(name, value, (2, 3, 4, 5))
    if out.shape != reference.shape:
        _checks.fail(name, f"masks of {whose} shape {reference.shape}", value)
    return out


def _dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    both = (a & b).sum(1).astype(np.float64)
    total = (a.sum(1) + b.sum(1)).astype(np.float64)
    return np.where(total > 0, 2 * both / np.maximum(total, 1), 1.0)


@dataclass
class RefineResult:
    """What :func:`refine` returns.

    ``masks[i]``: the masks after iteration ``i`` (``masks[0]`` the input weak masks), each
    ``(N, 1, H, W)`` float 0/1; ``held_out[i]`` (``i >= 1``): iteration ``i``'s model's masks of
    the held-out images (empty list without them); ``histories[i - 1]``: iteration ``i``'s
    :class:`~dentpy.transfer.FitHistory` (its ``val_dice`` is the agreement with the labels it
    was trained on, epoch by epoch); ``model``: the last iteration's model.
    """

    masks: list[torch.Tensor]
    held_out: list[torch.Tensor] = field(default_factory=list)
    histories: list[FitHistory] = field(default_factory=list)
    model: UNet | None = None


@torch.no_grad()
def _predict(model: UNet, images: torch.Tensor, threshold: float, batch_size: int
             ) -> torch.Tensor:
    model.eval()
    device = _device(model)
    out = [(torch.sigmoid(model(images[i:i + batch_size].to(device))) > threshold).float().cpu()
           for i in range(0, len(images), batch_size)]
    return torch.cat(out)


def refine(source_model: UNet, images: torch.Tensor, masks: torch.Tensor, *, iterations: int,
           epochs: int, lr: float = 1e-3, batch_size: int = 8, seed: int = 0,
           restart: str = "source", held_out: torch.Tensor | None = None,
           threshold: float = 0.5) -> RefineResult:
    """Iteratively refine weak ``masks`` of ``images`` with a pretrained ``source_model``.

    Iteration ``i`` (1 to ``iterations``) copies the source model (``restart="source"``, the
    paper's rule; ``"previous"``: the model of iteration ``i - 1``), fine-tunes it for
    ``epochs`` epochs with Adam at ``lr`` and the soft Jaccard loss on ``(images, masks of
    iteration i - 1)`` with :func:`dentpy.transfer.fit_segmenter`, keeping the epoch whose
    predictions agree best with those same labels (no ground truth is used anywhere), then
    predicts ``sigmoid(logits) > threshold`` on the same images: the masks of iteration ``i``.
    ``held_out`` (M, 1, H, W) images, if given, are predicted by every iteration's model too.
    The source model is left unchanged. ``images`` (N, 1, H, W) float, ``masks`` of 0 and 1.
    """
    source_model = _check_unet(source_model, "source_model")
    images, masks = _check_pair("data", (images, masks))
    iterations = _checks.integer("iterations", iterations, low=1)
    epochs = _checks.integer("epochs", epochs, low=1)
    lr = _checks.number("lr", lr, low=0.0, low_open=True)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    seed = _checks.integer("seed", seed, low=0)
    _checks.choice("restart", restart, RESTARTS)
    threshold = _checks.probability("threshold", threshold, open_ends=True)
    if held_out is not None:
        held_out = _checks.tensor("held_out", held_out, ndim=4, kind="float")
        if tuple(held_out.shape[1:]) != tuple(images.shape[1:]):
            shape = ", ".join(map(str, images.shape[1:]))
            _checks.fail("held_out", f"images of shape (M, {shape})", held_out)
    result = RefineResult(masks=[masks.clone()])
    previous = source_model
    for i in range(1, iterations + 1):
        model = copy.deepcopy(source_model if restart == "source" else previous)
        labels = (images, result.masks[-1])
        history = fit_segmenter(model, labels, labels, epochs=epochs, lr=lr,
                                batch_size=batch_size, seed=seed + i - 1)
        result.histories.append(history)
        result.masks.append(_predict(model, images, threshold, 64))
        if held_out is not None:
            result.held_out.append(_predict(model, held_out, threshold, 64))
        previous = model
    result.model = previous
    return result


def simulated_rater(truth: np.ndarray | torch.Tensor, left: np.ndarray | torch.Tensor,
                    right: np.ndarray | torch.Tensor, *, margin: float = 0.01,
                    noise: float = 0.0, rng: np.random.Generator | int = 0) -> np.ndarray:
    """A rater's choice per image, ``"left"``, ``"right"`` or ``"tie"``, shape ``(N,)``.

    The rater perceives the Dice difference ``Dice(left, truth) − Dice(right, truth)`` plus
    Gaussian noise of standard deviation ``noise`` (a rater is no Dice meter) and calls a tie
    when its size is below ``margin``. Masks ``(N, ...)`` binary, all of one shape.
    """
    margin = _checks.number("margin", margin, low=0.0, high=1.0)
    noise = _checks.number("noise", noise, low=0.0)
    rng = _rng(rng)
    truth_arr = _binary("truth", truth, (2, 3, 4, 5))
    d_left = _dice(_like("left", left, truth_arr, "truth's"), truth_arr)
    d_right = _dice(_like("right", right, truth_arr, "truth's"), truth_arr)
    seen = d_left - d_right + noise * rng.standard_normal(len(d_left))
    return np.where(np.abs(seen) < margin, "tie", np.where(seen > 0, "left", "right"))


@dataclass
class ABResult:
    """A blinded A/B test, unblinded: counts of ``model``, ``weak`` and ``tie`` choices out of
    ``total``; ``model_left[k]`` whether image ``k`` showed the model's mask on the left;
    ``choices`` the rater's raw answers (``"left"``, ``"right"``, ``"tie"``)."""

    model: int
    weak: int
    tie: int
    total: int
    model_left: np.ndarray
    choices: np.ndarray

    @property
    def model_share_without_ties(self) -> float:
        """``model / (model + weak)``: the paper's "% model chosen" (ties left out)."""
        decided = self.model + self.weak
        return self.model / decided if decided else float("nan")


def blinded_ab(truth: np.ndarray | torch.Tensor, model: np.ndarray | torch.Tensor,
               weak: np.ndarray | torch.Tensor, *, margin: float = 0.01, noise: float = 0.0,
               seed: int = 0) -> ABResult:
    """Show each image's ``model`` and ``weak`` masks in a random left/right order to a
    :func:`simulated_rater`, then unblind and count. Masks ``(N, ...)`` binary."""
    seed = _checks.integer("seed", seed, low=0)
    truth_arr = _binary("truth", truth, (2, 3, 4, 5))
    model_arr = _like("model", model, truth_arr, "truth's")
    weak_arr = _like("weak", weak, truth_arr, "truth's")
    rng = np.random.default_rng(seed)
    model_left = rng.random(len(model_arr)) < 0.5
    flip = model_left.reshape(-1, *([1] * (model_arr.ndim - 1)))
    left = np.where(flip, model_arr, weak_arr)
    right = np.where(flip, weak_arr, model_arr)
    choices = simulated_rater(truth, left, right, margin=margin, noise=noise, rng=rng)
    picked_model = ((choices == "left") & model_left) | ((choices == "right") & ~model_left)
    ties = int((choices == "tie").sum())
    n_model = int(picked_model.sum())
    return ABResult(model=n_model, weak=len(choices) - ties - n_model, tie=ties,
                    total=len(choices), model_left=model_left, choices=choices)
