"""DAC's search on worlds it was not tuned on (issue 13).

``find_roi``'s defaults (a band that bends with the arch, of free thickness, on the contrast map
read in units of its mean) were chosen on seeds 101-104 of the three worlds below; the box of
free aspect that came before them (``shape="box"``) and the paper's search (``aspect="image",
contrast_scale=255``) are scored next to them. The tests use seed 13 only:

1. ``jaw_world``: a deliberately different, much simpler generator written here (it shares no
   code with ``dentpy.data.synthetic``): tooth-like ellipses and rectangles on two curved rows
   placed off-centre, on a textured, vignetted background, with bright striped spine-like
   columns at the left and right edges and a faint mandible border under the teeth;
2. the course's world with the realistic patient positioning (``framing="realistic"``), whose
   dental region moves with the patient;
3. ``root_world``: a third generator, also written here: crowns and tapered roots with canals,
   inside a jaw with a strong cortical outline, rami, condyle-like knobs, sinus and airway
   shadows, on a smooth background; the arch 45-72 % of the width, anywhere across it.

On each the search must find the dental region (mean IoU with the tight box of the teeth
>= 0.7), keep the teeth (>= 95% of tooth pixels on average, >= 85% on the worst image) and, on
the realistic framing, beat a centred crop of the same area by at least 0.15 IoU. The thresholds
come from the issue, not from these results. The box of free aspect fell short twice (the jaw
world's worst image kept 82.3% of its teeth: a frowning arch whose box cut the upper incisors;
the realistic framing's tight IoU was 0.66: its box took in the mandible's outline), which
stood here as strict expected failures until the band replaced it as the default.

How the band was chosen (seeds 101-104, 24 images of each world per seed; mean tight IoU / mean
teeth kept / worst image, jaw, realistic, root world): the box of free aspect 0.848 / 96.8% /
86.8%, 0.664 / 99.5% / 93.8%, 0.748 / 99.1% / 84.0%; the band with a thickness floor 0.8 times
the box's 0.891 / 96.8% / 85.7%, 0.723 / 99.5% / 93.6%, 0.729 / 97.9% / 86.1%. Floors of 0.77
and 0.85 traded the realistic IoU (0.735, 0.707) against the jaw world's worst image (83.6%,
88.7%). The same band with its bend frozen at 0 (only the lower floor) gave 0.767 / 91.3% /
76.6%, 0.728 / 99.1% / 92.3%, 0.716 / 97.2% / 84.0%: the floor brings the realistic gain, the
bend keeps the teeth of the jaw world's frowning arches. Climbing the box in the first stage
and the band from the second (``band_from_stage=1``, a quarter less time) gave 0.888 / 96.6% /
86.3%, 0.726 / 99.5% / 93.6%, 0.729 / 97.9% / 85.3%; from the third, 0.871 / 95.9% / 86.0%.
A cost leaning further towards density, ``f_in / (f_out + 1.5)`` in mean units, did about as
well (0.736 on the realistic world, 0.713 on the root world) but is not one of ``find_roi``'s
readings; with c = 2 to 8 at the box's floor, or with the map weighted by brightness, some world
lost teeth.

Each world has 48 images. The first version of these tests used 16; on them the new defaults
kept 94.7% of the jaw world's tooth pixels at seed 13, while seeds 101-104 (24 images each) gave
95.8-97.5% (the paper's search: 93.5-94.7%): the mean of 16 images moves by more than the margin
being tested, so the sample was enlarged, for every world and both searches alike, and the
results below are those of the 48 images, whichever way they fell.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from dentpy.dac import find_roi

H, W, K = 400, 740, 5  # half the paper's 800 x 1480; k = 5 keeps its 80 x 148 search grid
N_IMAGES = 48
PAPER = {"aspect": "image", "contrast_scale": 255.0}  # the paper's search


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Low-frequency texture: coarse Gaussian noise upsampled bilinearly, in about [-1, 1]."""
    coarse = torch.as_tensor(rng.normal(size=(shape[0] // cell + 2, shape[1] // cell + 2)))
    fine = torch.nn.functional.interpolate(coarse[None, None].float(), scale_factor=cell,
                                           mode="bilinear", align_corners=False)[0, 0]
    return fine[: shape[0], : shape[1]].numpy()


def _stacked(images: list[np.ndarray], masks: list[np.ndarray]):
    """The world's images (n, H, W) float32, tooth masks (n, H, W) bool and the tight boxes
    (n, 4) xyxy of the masks."""
    boxes = []
    for mask in masks:
        ys, xs = np.nonzero(mask)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return (torch.as_tensor(np.stack(images), dtype=torch.float32),
            torch.as_tensor(np.stack(masks)), torch.tensor(boxes, dtype=torch.float32))


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
    images, masks = [], []
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
        images.append(np.clip(image, 0, 1))
        masks.append(mask)
    return _stacked(images, masks)


def root_world(n: int, seed: int = 0, height: int = H, width: int = W):
    """``n`` images of a third world in [0, 1], their tooth masks and tight dental boxes.

    Teeth are crowns (brighter enamel at the biting edge) over tapered roots with a dark canal,
    in two rows on a slanted, curved occlusal line; they sit inside a jaw drawn as a textured
    region with a strong cortical outline (lower border and both rami), condyle-like knobs on
    top of the rami, two sinus-like shadows, a palate line and a dark airway band, all on a
    smooth, vertically graded background. The arch spans 45-72 % of the width and may sit
    anywhere across it; the jaw may run off the image. Same outputs as :func:`jaw_world`.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    images, masks = [], []
    for _ in range(n):
        image = 0.18 + 0.12 * yy / height + 0.05 * _smooth_noise(rng, (height, width), 60)
        arch_w = width * rng.uniform(0.45, 0.72)
        cx = width / 2 + rng.uniform(-1, 1) * (width - arch_w) * 0.45
        cy = height * rng.uniform(0.38, 0.62)
        slant = rng.uniform(-0.08, 0.08)
        smile = rng.uniform(-0.1, 0.4) * height / (arch_w / 2) ** 2
        # the jaw: textured inside, a cortical lower border and rami, knobs, shadows, airway
        jaw_half = arch_w / 2 * rng.uniform(1.2, 1.45)
        y_low = cy + height * rng.uniform(0.22, 0.3) + smile * 0.5 * (xx - cx) ** 2
        within = np.abs(xx - cx) < jaw_half
        inside = (yy < y_low) & within & (yy > cy - height * 0.3)
        image += 0.1 * inside * (1 + 0.5 * _smooth_noise(rng, (height, width), 6))
        image += 0.35 * ((np.abs(yy - y_low) < 6) & within)
        rami = np.abs(np.abs(xx - cx) - jaw_half) < 7
        image += 0.3 * (rami & (yy < y_low) & (yy > cy - height * 0.45))
        for side in (-1, 1):
            knob_x, knob_y = cx + side * jaw_half, cy - height * 0.47
            image += 0.3 * (((xx - knob_x) / 18) ** 2 + ((yy - knob_y) / 14) ** 2 < 1)
            sinus = (((xx - (cx + side * arch_w * 0.3)) / (arch_w * 0.2)) ** 2
                     + ((yy - (cy - height * 0.33)) / (height * 0.1)) ** 2)
            image -= 0.08 * (sinus < 1)
        airway_x = cx + rng.choice([-1, 1]) * jaw_half * rng.uniform(0.75, 0.95)
        image -= 0.07 * (np.abs(xx - airway_x) < width * 0.025)
        palate = np.abs(yy - (cy - height * 0.25 + smile * 0.3 * (xx - cx) ** 2)) < 3
        image += 0.15 * (palate & (np.abs(xx - cx) < arch_w * 0.55))
        # the teeth: a crown and a root tapering to 30 % of the crown's width, with a canal
        mask = np.zeros((height, width), bool)
        n_teeth = int(rng.integers(12, 17))
        edges = np.linspace(cx - arch_w / 2, cx + arch_w / 2, n_teeth + 1)
        for row in (-1, 1):  # -1: the upper teeth, roots up; 1: the lower teeth, roots down
            for x_t in (edges[:-1] + edges[1:]) / 2:
                if rng.random() < 0.1:
                    continue  # a missing tooth
                dx = x_t - cx
                y_0 = cy + smile * dx * dx + slant * dx + row * height * 0.01
                w_t = arch_w / n_teeth * rng.uniform(0.75, 0.9)
                crown_h = height * rng.uniform(0.06, 0.08)
                root_h = height * rng.uniform(0.1, 0.15) * (1.2 if abs(dx) < arch_w * 0.15 else 1)
                y_end = y_0 + row * (crown_h + root_h)
                rows = slice(max(0, int(min(y_0, y_end)) - 1),
                             min(height, int(max(y_0, y_end)) + 2))
                cols = slice(max(0, int(x_t - w_t / 2) - 1), min(width, int(x_t + w_t / 2) + 2))
                depth = (yy[rows, cols] - y_0) * row  # from the occlusal line into the jaw
                off = np.abs(xx[rows, cols] - x_t)
                crown = (depth >= 0) & (depth < crown_h) & (off < w_t / 2)
                half_root = w_t / 2 * (1 - 0.7 * (depth - crown_h) / root_h)
                root = (depth >= crown_h) & (depth < crown_h + root_h) & (off < half_root)
                canal = root & (off < w_t * 0.06)
                enamel = crown & (depth < crown_h * 0.4)
                image[rows, cols] += (rng.uniform(0.3, 0.45) * (crown | root) + 0.15 * enamel
                                      - 0.12 * canal)
                mask[rows, cols] |= crown | root
        image += 0.025 * rng.normal(size=image.shape)
        images.append(np.clip(image, 0, 1))
        masks.append(mask)
    return _stacked(images, masks)


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


def _world(images, masks, truth) -> dict:
    """A world's images, masks and tight boxes, with the boxes of the defaults, of the box of
    free aspect and of the paper's search (each searched once, as one batch)."""
    return {"images": images, "masks": masks, "truth": truth,
            "default": find_roi(images, k=K), "box": find_roi(images, k=K, shape="box"),
            "paper": find_roi(images, k=K, **PAPER)}


@pytest.fixture(scope="module")
def jaws():
    """The test-made world."""
    return _world(*jaw_world(N_IMAGES, seed=13))


@pytest.fixture(scope="module")
def roots():
    """The third world, crowns and roots inside a strongly outlined jaw."""
    return _world(*root_world(N_IMAGES, seed=13))


@pytest.fixture(scope="module")
def realistic():
    """The course's world with realistic positioning."""
    from dentpy.data.synthetic import make_panoramic

    samples = [make_panoramic(i, seed=13, size=(H, W), framing="realistic")
               for i in range(N_IMAGES)]
    images = torch.stack([torch.as_tensor(s.image) for s in samples])
    masks = torch.stack([torch.as_tensor(s.tooth_mask).bool() for s in samples])
    truth = torch.stack([torch.as_tensor(s.roi_box, dtype=torch.float32) for s in samples])
    return _world(images, masks, truth)


def best_possible_iou(truth: torch.Tensor, height: int, width: int) -> float:
    """Mean tight-box IoU of the best box the paper's search can output: the tight box grown to
    the image's aspect and, where narrower, widened to the floor 2 r_min = 2/3.5 of the width."""
    from dentpy.dac import fit_aspect

    fitted = fit_aspect(truth, height / width)
    box_w = torch.clamp_min(fitted[:, 2] - fitted[:, 0], 2 * width / 3.5)
    box_h = box_w * height / width
    cx, cy = (fitted[:, 0] + fitted[:, 2]) / 2, (fitted[:, 1] + fitted[:, 3]) / 2
    best = torch.stack([cx - box_w / 2, cy - box_h / 2, cx + box_w / 2, cy + box_h / 2], -1)
    return float(box_iou(best, truth).diag().mean())


def found(world: dict, search: str = "default") -> dict[str, float]:
    return scores(world[search], world["truth"], world["masks"])


def test_jaw_world_is_what_it_says():
    images, masks, truth = jaw_world(2, seed=1, height=200, width=370)
    assert images.shape == (2, 200, 370) and masks.shape == (2, 200, 370)
    assert float(images.min()) >= 0 and float(images.max()) <= 1
    assert bool((truth[:, 2] > truth[:, 0]).all()) and bool((truth[:, 3] > truth[:, 1]).all())
    assert bool((teeth_kept(truth, masks) == 1).all())  # the tight box holds every tooth pixel


def test_root_world_is_what_it_says():
    images, masks, truth = root_world(3, seed=1, height=200, width=370)
    assert images.shape == (3, 200, 370) and masks.shape == (3, 200, 370)
    assert float(images.min()) >= 0 and float(images.max()) <= 1
    assert bool((teeth_kept(truth, masks) == 1).all())
    width = (truth[:, 2] - truth[:, 0]) / 370
    assert bool(((width > 0.4) & (width < 0.75)).all()), width  # the arch's 45-72 % of W


# --- the default search ---------------------------------------------------------------------


def test_search_finds_the_jaw_in_a_world_it_was_not_tuned_on(jaws):
    result = found(jaws)
    assert result["iou"] >= 0.7, result
    assert result["kept_mean"] >= 0.95, result


def test_search_keeps_the_teeth_of_the_worst_image_of_that_world(jaws):
    """When written: 88.0% (the box of free aspect 82.3%, the paper's search 80.8%: a frowning
    arch's upper incisors stand above the box that holds its molars)."""
    assert found(jaws)["kept_worst"] >= 0.85


def test_search_finds_the_teeth_in_a_strongly_outlined_jaw(roots):
    result = found(roots)
    assert result["iou"] >= 0.7, result
    assert result["kept_mean"] >= 0.95, result
    assert result["kept_worst"] >= 0.85, result


def test_search_keeps_the_teeth_of_realistically_positioned_patients(realistic):
    result = found(realistic)
    assert result["kept_mean"] >= 0.95, result
    assert result["kept_worst"] >= 0.85, result


def test_search_beats_a_centred_crop_on_realistically_positioned_patients(realistic):
    result = found(realistic)
    centred = scores(centred_crop(realistic["default"], H, W), realistic["truth"],
                     realistic["masks"])
    assert result["iou"] - centred["iou"] >= 0.15, (result, centred)


def test_search_fits_the_dental_region_of_realistically_positioned_patients(realistic):
    """When written: 0.735 (the box of free aspect 0.66, the paper's search 0.48)."""
    assert found(realistic)["iou"] >= 0.7


# --- the defaults against the box and the paper's search ------------------------------------


def test_realistic_fit_ceiling(realistic):
    """The paper's geometry (the image's aspect, width >= 2/3.5 W) can reach the issue's 0.7 on
    this world: the best box it can output overlaps the tight box by >= 0.7 on average (0.77
    when written); the free aspect's ceiling is higher still."""
    assert best_possible_iou(realistic["truth"], H, W) >= 0.7


@pytest.mark.parametrize(("world", "other"), [("realistic", "paper"), ("jaws", "paper"),
                                              ("realistic", "box"), ("jaws", "box")])
def test_the_defaults_fit_better_than_the_paper_search_and_the_box(world, other, request):
    """Paired over the 48 images: the defaults' tight IoU is above that of the paper's search
    and of the box of free aspect, its 95% bootstrap interval above zero. When written: against
    the paper's search +0.25 on the realistic framing, +0.06 on the jaw world; against the box
    +0.07 and +0.04. On the third world neither difference is clear (+0.02 [-0.01, 0.05], and
    -0.01 [-0.03, 0.00] against the box, whose boxes keep a little more there); all three meet
    the issue's targets on it, so it is not parametrised here."""
    data = request.getfixturevalue(world)
    gain = (box_iou(data["default"], data["truth"]).diag()
            - box_iou(data[other], data["truth"]).diag()).numpy()
    rng = np.random.default_rng(0)
    means = gain[rng.integers(0, len(gain), (2000, len(gain)))].mean(1)
    assert np.quantile(means, 0.025) > 0, (gain.mean(), np.quantile(means, [0.025, 0.975]))


def test_the_8_bit_reading_is_what_finds_the_jaw(jaws):
    """With the paper's box, the 8-bit reading fits the off-centre jaws better than the peak-1
    reading (the old default), which moves less from the centred start."""
    eight_bit = found(jaws, "paper")
    peak_1 = scores(find_roi(jaws["images"], k=K, aspect="image", contrast_scale=1.0),
                    jaws["truth"], jaws["masks"])
    assert eight_bit["iou"] > peak_1["iou"] + 0.1, (eight_bit, peak_1)


def test_copies_in_8_bit_16_bit_and_float_give_the_same_box(realistic):
    """The defaults read the map in units of its mean: scale-free, so the dtype and range of a
    copy of the image do not move the box."""
    images = realistic["images"][:6]
    u8 = (images * 255).round().to(torch.uint8)
    u16 = (u8.to(torch.int32) * 257).to(torch.uint16)
    reference = find_roi(u8, k=K)
    for copy in (u16, u8.to(torch.float32) / 255, u8.to(torch.float64) * 1000):
        torch.testing.assert_close(find_roi(copy, k=K), reference, atol=0.05, rtol=0)
