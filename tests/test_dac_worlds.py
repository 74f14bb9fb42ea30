"""DAC's search on worlds it was not tuned on (issue 13).

``find_roi``'s defaults were chosen on the course's own synthetic panoramics. These tests score
them, unchanged, on two other worlds:

1. ``jaw_world``: a deliberately different, much simpler generator written here (it shares no
   code with ``dentpy.data.synthetic``): tooth-like ellipses and rectangles on two curved rows
   placed off-centre, on a textured, vignetted background, with bright striped spine-like
   columns at the left and right edges and a faint mandible border under the teeth;
2. the course's world with the realistic patient positioning (``framing="realistic"``), whose
   dental region moves with the patient.

On each the search must find the dental region (mean IoU with the tight box of the teeth
>= 0.7), keep the teeth (>= 95% of tooth pixels on average, >= 85% on the worst image) and, on
the realistic framing, beat a centred crop of the same area by at least 0.15 IoU. The thresholds
come from the issue, not from these results. Where the search falls short, the requirement stays
as a strict expected failure with the measured numbers and the reason (nothing loosened, no
default tuned on these worlds): the worst image of the test-made world, and the fit on the
realistic framing, where the cost prefers a box around the whole mandible to the tight box
around the teeth (DAC's geometry could reach 0.7 there: test_realistic_fit_ceiling).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from dentpy.dac import find_roi

H, W, K = 400, 740, 5  # half the paper's 800 x 1480; k = 5 keeps its 80 x 148 search grid
N_IMAGES = 16


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Low-frequency texture: coarse Gaussian noise upsampled bilinearly, in about [-1, 1]."""
    coarse = torch.as_tensor(rng.normal(size=(shape[0] // cell + 2, shape[1] // cell + 2)))
    fine = torch.nn.functional.interpolate(coarse[None, None].float(), scale_factor=cell,
                                           mode="bilinear", align_corners=False)[0, 0]
    return fine[: shape[0], : shape[1]].numpy()


def jaw_world(n: int, seed: int = 0, height: int = H, width: int = W):
    """``n`` panoramic-like images in [0, 1], their tooth masks and tight dental boxes.

    Each image: a background of smooth texture under a vignette (darker towards the corners),
    bright vertebra-like striped columns at both edges, a faint curved mandible border, and two
    rows of teeth (ellipses for the front teeth, rectangles for the back teeth, some missing)
    along a parabola that smiles or frowns, with the whole arch shifted off-centre and scaled.
    Returns images ``(n, H, W)`` float32, masks ``(n, H, W)`` bool and boxes ``(n, 4)`` xyxy.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    images, masks, boxes = [], [], []
    for _ in range(n):
        # background: texture, vignette, noise
        level = rng.uniform(0.25, 0.4)
        image = level + 0.06 * _smooth_noise(rng, (height, width), 40)
        image += 0.03 * _smooth_noise(rng, (height, width), 8)
        radius = ((xx / width - 0.5) ** 2 / 0.35 + (yy / height - 0.5) ** 2 / 0.5)
        image *= 1.0 - rng.uniform(0.25, 0.45) * np.clip(radius, 0, 1.5)
        # spine-like columns at both edges: bright bands with dark horizontal gaps
        for side in (0, 1):
            col_w = int(width * rng.uniform(0.05, 0.09))
            x0 = 0 if side == 0 else width - col_w
            period = rng.uniform(25, 40)
            stripes = 0.5 + 0.5 * np.cos(2 * np.pi * yy[:, :col_w] / period + rng.uniform(0, 6))
            image[:, x0 : x0 + col_w] += rng.uniform(0.25, 0.4) * (0.4 + 0.6 * stripes)
        # the arch: off-centre, scaled, curved
        arch_w = width * rng.uniform(0.55, 0.7)
        cx = width / 2 + rng.uniform(-1, 1) * (width - arch_w) * 0.4
        cy = height * rng.uniform(0.4, 0.6)
        curve = rng.uniform(-0.25, 0.35) * height / (arch_w / 2) ** 2  # smile (+) or frown (-)
        tooth_h = height * rng.uniform(0.17, 0.24)
        gap = height * rng.uniform(0.015, 0.04)
        mask = np.zeros((height, width), bool)
        n_teeth = int(rng.integers(12, 17))
        centres = np.linspace(cx - arch_w / 2, cx + arch_w / 2, n_teeth + 1)
        centres = (centres[:-1] + centres[1:]) / 2
        tooth_w = arch_w / n_teeth
        for row in (-1, 1):  # upper row hangs above the occlusal line, lower row below it
            for x_t in centres:
                if rng.random() < 0.08:
                    continue  # a missing tooth
                dx = x_t - cx
                y_occ = cy + curve * dx**2
                front = abs(dx) < arch_w * 0.18
                h_t = tooth_h * (1.1 if front else 1.0) * rng.uniform(0.85, 1.05)
                w_t = tooth_w * rng.uniform(0.7, 0.88)
                y_mid = y_occ + row * (gap / 2 + h_t / 2)
                # drawn in the tooth's own window of the image (cheap), clipped to the image
                rows = slice(max(0, int(y_mid - h_t / 2) - 1), int(y_mid + h_t / 2) + 2)
                cols = slice(max(0, int(x_t - w_t / 2) - 1), int(x_t + w_t / 2) + 2)
                x_, y_ = xx[rows, cols], yy[rows, cols]
                if front:  # an ellipse
                    inside = ((x_ - x_t) / (w_t / 2)) ** 2 + ((y_ - y_mid) / (h_t / 2)) ** 2 <= 1
                else:  # a rectangle
                    inside = (np.abs(x_ - x_t) <= w_t / 2) & (np.abs(y_ - y_mid) <= h_t / 2)
                bright = rng.uniform(0.35, 0.55)
                pulp = np.abs(x_ - x_t) < w_t * 0.12
                image[rows, cols] += inside * (bright - 0.15 * pulp)
                if rng.random() < 0.15:  # a restoration: a brighter block on the crown
                    crown = inside & (np.abs(y_ - (y_occ + row * (gap / 2 + h_t * 0.15)))
                                      < h_t * 0.12)
                    image[rows, cols] += 0.3 * crown
                mask[rows, cols] |= inside
        # a faint mandible border: a wide curved band below the lower row
        y_border = cy + tooth_h * 1.9 + curve * 0.6 * (xx - cx) ** 2
        border = (np.abs(yy - y_border) < 5) & (np.abs(xx - cx) < arch_w * 0.62)
        image += 0.12 * border
        image += 0.02 * rng.normal(size=image.shape)
        ys, xs = np.nonzero(mask)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        images.append(np.clip(image, 0, 1))
        masks.append(mask)
    return (torch.as_tensor(np.stack(images), dtype=torch.float32),
            torch.as_tensor(np.stack(masks)), torch.tensor(boxes, dtype=torch.float32))


def teeth_kept(boxes: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Share of each image's tooth pixels inside its box (boxes rounded to whole pixels)."""
    kept = []
    for box, mask in zip(boxes, masks, strict=True):
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        kept.append(mask[y0:y1, x0:x1].sum() / mask.sum())
    return torch.stack(kept).float()


def centred_crop(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A box of the image's aspect centred on the image, with the mean area of ``boxes``."""
    area = float(((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).mean())
    half_w, half_h = (area * width / height) ** 0.5 / 2, (area * height / width) ** 0.5 / 2
    box = torch.tensor([width / 2 - half_w, height / 2 - half_h,
                        width / 2 + half_w, height / 2 + half_h])
    return box.repeat(len(boxes), 1)


def scores(boxes: torch.Tensor, truth: torch.Tensor, masks: torch.Tensor) -> dict[str, float]:
    kept = teeth_kept(boxes, masks)
    return {"iou": float(box_iou(boxes, truth).diag().mean()),
            "kept_mean": float(kept.mean()), "kept_worst": float(kept.min())}


@pytest.fixture(scope="module")
def jaws():
    """The test-made world, and find_roi's default boxes on it (searched once, as one batch)."""
    images, masks, truth = jaw_world(N_IMAGES, seed=13)
    return images, masks, truth, find_roi(images, k=K)


@pytest.fixture(scope="module")
def realistic():
    """The course's world with realistic positioning, and find_roi's default boxes on it."""
    from dentpy.data.synthetic import make_panoramic

    samples = [make_panoramic(i, seed=13, size=(H, W), framing="realistic")
               for i in range(N_IMAGES)]
    images = torch.stack([torch.as_tensor(s.image) for s in samples])
    masks = torch.stack([torch.as_tensor(s.tooth_mask).bool() for s in samples])
    truth = torch.stack([torch.as_tensor(s.roi_box, dtype=torch.float32) for s in samples])
    return images, masks, truth, find_roi(images, k=K)


def best_possible_iou(truth: torch.Tensor, height: int, width: int) -> float:
    """Mean tight-box IoU of the best box DAC can output: the tight box grown to the image's
    aspect and, where narrower, widened to the floor 2 r_min = 2/3.5 of the width."""
    from dentpy.dac import fit_aspect

    fitted = fit_aspect(truth, height / width)
    box_w = torch.clamp_min(fitted[:, 2] - fitted[:, 0], 2 * width / 3.5)
    box_h = box_w * height / width
    cx, cy = (fitted[:, 0] + fitted[:, 2]) / 2, (fitted[:, 1] + fitted[:, 3]) / 2
    best = torch.stack([cx - box_w / 2, cy - box_h / 2, cx + box_w / 2, cy + box_h / 2], -1)
    return float(box_iou(best, truth).diag().mean())


def test_jaw_world_is_what_it_says():
    images, masks, truth = jaw_world(2, seed=1, height=200, width=370)
    assert images.shape == (2, 200, 370) and masks.shape == (2, 200, 370)
    assert float(images.min()) >= 0 and float(images.max()) <= 1
    assert bool((truth[:, 2] > truth[:, 0]).all()) and bool((truth[:, 3] > truth[:, 1]).all())
    assert bool((teeth_kept(truth, masks) == 1).all())  # the tight box holds every tooth pixel


def test_search_finds_the_jaw_in_a_world_it_was_not_tuned_on(jaws):
    images, masks, truth, boxes = jaws
    found = scores(boxes, truth, masks)
    assert found["iou"] >= 0.7, found
    assert found["kept_mean"] >= 0.95, found


@pytest.mark.xfail(strict=True, reason=(
    "measured when written: the worst of the 16 images keeps 81% of its tooth pixels (mean IoU "
    "0.84, mean kept 96%). Its arch is 69% of the image's width and flat; DAC's box has the "
    "image's aspect, so holding the last molars would take in a band of background above and "
    "below, and the contrast ratio prefers a box at the width floor that cuts them. Kept as a "
    "known failure, not loosened (issue 13); strict, so a fix shows up here."))
def test_search_keeps_the_teeth_of_the_worst_image_of_that_world(jaws):
    images, masks, truth, boxes = jaws
    assert scores(boxes, truth, masks)["kept_worst"] >= 0.85


def test_the_8_bit_reading_is_what_finds_the_jaw(jaws):
    """The default reads the contrast map in 8-bit units; the peak-1 reading (the old default)
    moves less from the centred start and fits the off-centre jaws worse."""
    images, masks, truth, boxes = jaws
    eight_bit = scores(boxes, truth, masks)
    peak_1 = scores(find_roi(images, k=K, contrast_scale=1.0), truth, masks)
    assert eight_bit["iou"] > peak_1["iou"] + 0.1, (eight_bit, peak_1)


def test_search_keeps_the_teeth_of_realistically_positioned_patients(realistic):
    images, masks, truth, boxes = realistic
    found = scores(boxes, truth, masks)
    assert found["kept_mean"] >= 0.95, found
    assert found["kept_worst"] >= 0.85, found


_REALISTIC_FIT = (
    "measured on the realistic framing with field_scale ~ U(1.05, 1.3) (16 images, seed 13, "
    "400x740, k=5): mean tight IoU 0.505 (0.574 with the tight box grown to the image's aspect), "
    "tooth pixels kept 99.8% (worst 98.5%), a centred crop of the same area 0.400 (DAC - centred "
    "= +0.105). The best box DAC can output reaches 0.74 (test_realistic_fit_ceiling), so the "
    "geometry allows 0.7; the search does not get there: the cost f_in / (f_out + 1) rates a box "
    "that takes in the whole mandible outline (rami, condyles, lower border) above the tight one "
    "(0.84 W wide on average on a separate seed range, 101). Contrast maps that favour "
    "dense texture, tried on that range (a 3x3 min or median of the max-min map, a high-pass "
    "before pooling), reached at most 0.60 there (jaw world 0.81 -> 0.73), so the paper's map "
    "stays. A smaller contrast_scale trades teeth for fit: on that range, scale 4 reaches IoU "
    "0.67 and +0.20 over the centred crop (peak 1: 0.56), but keeps 97.6% of the tooth pixels "
    "(worst 89%) and only 91% on the jaw world; no scale of 1-255 meets all three targets, and "
    "a crop that cuts teeth loses them for good, so the 8-bit default stays. Kept strict, not "
    "loosened (issue 13)."
)


def test_realistic_fit_ceiling(realistic):
    """DAC's geometry (the image's aspect, width >= 2/3.5 W) can reach the issue's 0.7 on this
    world: the best box it can output, the tight box grown to the image's aspect and widened to
    the floor, overlaps the tight box by >= 0.7 on average (0.74 when written). The expected
    failures below are the search's, not the geometry's."""
    _, _, truth, _ = realistic
    assert best_possible_iou(truth, H, W) >= 0.7


@pytest.mark.xfail(strict=True, reason=_REALISTIC_FIT)
def test_search_fits_the_dental_region_of_realistically_positioned_patients(realistic):
    images, masks, truth, boxes = realistic
    assert scores(boxes, truth, masks)["iou"] >= 0.7


@pytest.mark.xfail(strict=True, reason=_REALISTIC_FIT)
def test_search_beats_a_centred_crop_on_realistically_positioned_patients(realistic):
    images, masks, truth, boxes = realistic
    found = scores(boxes, truth, masks)
    centred = scores(centred_crop(boxes, H, W), truth, masks)
    assert found["iou"] - centred["iou"] >= 0.15, (found, centred)
