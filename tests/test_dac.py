"""Tests of dentpy.dac: window, pooling, cost, batched RoI search, crop and the AutoCrop layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import box_iou

from dentpy.dac import (
    AutoCrop,
    auto_crop,
    dac_cost,
    find_roi,
    fit_aspect,
    max_min_dif,
    rect_window,
)
from dentpy.dac import _band_cost_and_grad as band_cost_and_grad  # the band's, likewise
from dentpy.dac import _band_tables as band_tables
from dentpy.dac import _cost_and_grad as cost_and_grad  # the fast path, checked vs autograd

H, W, K = 400, 740, 5  # pooled grid 80 x 148, the paper's search size


def make_scenes(n: int, seed: int = 0, height: int = H, width: int = W):
    """Bright striped rectangles (random place and size) on a dark noisy background, in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    images = 0.1 + 0.03 * torch.randn(n, height, width, generator=g)
    boxes = []
    for i in range(n):
        fw = 0.62 + 0.25 * torch.rand(1, generator=g).item()
        fh = min(0.95, fw * (0.9 + 0.2 * torch.rand(1, generator=g).item()))
        bw, bh = int(fw * width), int(fh * height)
        x0 = int(torch.randint(0, width - bw + 1, (1,), generator=g))
        y0 = int(torch.randint(0, height - bh + 1, (1,), generator=g))
        stripes = 0.25 * torch.sin(2 * torch.pi * torch.arange(bw) / 11.0)
        images[i, y0 : y0 + bh, x0 : x0 + bw] = (
            0.5 + stripes + 0.08 * torch.randn(bh, bw, generator=g)
        )
        boxes.append([x0, y0, x0 + bw, y0 + bh])
    return images.clamp(0, 1), torch.tensor(boxes, dtype=torch.float32)


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(8)


# --- rect_window ----------------------------------------------------------------------------


def test_rect_window_hand_values():
    # at the centre each of the four sigmoids sees +gamma*r: value sigma(g r)^2 sigma(g a r)^2
    win = rect_window(9, 15, 7.0, 4.0, 3.0, 0.5, 1.0)
    s = torch.sigmoid
    expected = (s(torch.tensor(3.0)) ** 2 * s(torch.tensor(1.5)) ** 2).item()
    assert win.shape == (9, 15)
    assert win[4, 7].item() == pytest.approx(expected, rel=1e-6)
    # on the left edge x = xc - r: one sigmoid is 1/2
    edge = 0.5 * s(torch.tensor(6.0)) * s(torch.tensor(1.5)) ** 2
    assert win[4, 4].item() == pytest.approx(edge.item(), rel=1e-6)


def test_rect_window_range_and_sharp_limit():
    win = rect_window(80, 148, 74.0, 40.0, 30.0, 80 / 148, 10.0)
    assert bool(((win >= 0) & (win <= 1)).all())
    assert win[40, 74].item() == pytest.approx(1.0, abs=1e-6)
    assert win[0, 0].item() < 1e-6 and win[40, 120].item() < 1e-6
    smooth = rect_window(80, 148, 74.0, 40.0, 30.0, 80 / 148, 0.01)
    assert bool(((smooth > 0) & (smooth < 1)).all())


def test_rect_window_batched_matches_scalar():
    xc = torch.tensor([10.0, 20.0])
    batched = rect_window(12, 30, xc, 6.0, torch.tensor([5.0, 8.0]), 0.4, torch.tensor([0.5, 2.0]))
    assert batched.shape == (2, 12, 30)
    torch.testing.assert_close(batched[1], rect_window(12, 30, 20.0, 6.0, 8.0, 0.4, 2.0))


def test_rect_window_is_differentiable():
    xc = torch.tensor(7.0, requires_grad=True)
    r = torch.tensor(3.0, requires_grad=True)
    rect_window(9, 15, xc, 4.0, r, 0.5, 1.0).sum().backward()
    assert xc.grad is not None and r.grad is not None and r.grad.item() > 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"gamma": 0.0}, "gamma"),
        ({"gamma": torch.tensor([1.0, -1.0])}, "gamma"),
        ({"alpha": -0.5}, "alpha"),
        ({"h": 0}, "h"),
    ],
)
def test_rect_window_bad_input(kwargs, name):
    args = {"h": 5, "w": 6, "xc": 2.0, "yc": 2.0, "r_total": 1.0, "alpha": 1.0, "gamma": 1.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        rect_window(**args)


# --- max_min_dif ----------------------------------------------------------------------------


def test_max_min_dif_matches_max_pool_and_numpy():
    x = torch.rand(2, 1, 23, 31, dtype=torch.float64)
    direct = F.max_pool2d(x, 4) + F.max_pool2d(-x, 4)  # maxPool - minPool
    torch.testing.assert_close(max_min_dif(x, 4), direct)
    a = x[0, 0].numpy()[:20, :28].reshape(5, 4, 7, 4)
    reference = a.max(axis=(1, 3)) - a.min(axis=(1, 3))
    np.testing.assert_allclose(max_min_dif(x[0, 0], 4).numpy(), reference)


def test_max_min_dif_hand_case():
    x = torch.tensor([[0.0, 1.0, 5.0, 5.0], [2.0, 3.0, 5.0, 5.0]])
    torch.testing.assert_close(max_min_dif(x, 2), torch.tensor([[3.0, 0.0]]))


@pytest.mark.parametrize(
    ("x", "k", "match"),
    [
        (torch.rand(5, 5), 0, "k"),
        (torch.rand(5, 5), 6, "smaller"),
        (torch.rand(3, 5, 5), 2, "x must"),
        (torch.ones(5, 5, dtype=torch.uint8), 2, "floating"),
    ],
)
def test_max_min_dif_bad_input(x, k, match):
    with pytest.raises(ValueError, match=match):
        max_min_dif(x, k)


# --- dac_cost -------------------------------------------------------------------------------


def test_dac_cost_hand_case():
    # gamma -> large: the window is exactly pixels 1..3 of a 1x5 row (centre 2, half-width 1.5)
    s = torch.tensor([[1.0, 4.0, 4.0, 4.0, 2.0]], dtype=torch.float64)
    cost = dac_cost(s, 2.0, 0.0, 0.5, 1.0, 1.0, 200.0)
    assert cost.item() == pytest.approx(4.0 / (1.5 + 1), rel=1e-5)


def test_dac_cost_gradcheck():
    torch.manual_seed(0)
    s = torch.rand(2, 8, 13, dtype=torch.float64)
    params = [
        torch.tensor(v, dtype=torch.float64, requires_grad=True)
        for v in ([6.0, 5.0], [4.0, 3.5], [2.0, 1.0])
    ]

    def cost(xc, yc, r):
        return dac_cost(s, xc, yc, r, torch.tensor([3.0, 4.0]), 0.6, torch.tensor([0.4, 1.5]))

    assert torch.autograd.gradcheck(cost, params)


def test_analytic_gradient_matches_autograd():
    torch.manual_seed(1)
    s = torch.rand(3, 10, 17, dtype=torch.float64)
    theta = torch.tensor([[8.0, 5.0, 2.0], [6.0, 4.0, 1.0], [11.0, 6.0, 3.0]], dtype=torch.float64)
    theta.requires_grad_(True)
    r_min = torch.tensor([4.0, 5.0, 3.0], dtype=torch.float64)
    alpha = torch.full((3,), 10 / 17, dtype=torch.float64)
    gamma = torch.tensor([0.025, 0.4, 1.6], dtype=torch.float64)
    cost = dac_cost(s, theta[:, 0], theta[:, 1], theta[:, 2], r_min, alpha, gamma)
    (auto_grad,) = torch.autograd.grad(cost.sum(), theta)
    value, grad = cost_and_grad(s, theta.detach(), r_min, alpha, gamma)
    torch.testing.assert_close(value, cost.detach())
    torch.testing.assert_close(grad, auto_grad)


def test_dac_cost_bad_input():
    with pytest.raises(ValueError, match="s must"):
        dac_cost(torch.rand(5), 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="gamma"):
        dac_cost(torch.rand(5, 5), 1.0, 1.0, 1.0, 1.0, 1.0, -1.0)


# --- find_roi -------------------------------------------------------------------------------


def test_find_roi_recovers_rectangles(scenes):
    images, truth = scenes
    boxes, history = find_roi(images, k=K, return_history=True)
    iou = box_iou(boxes, truth).diag()
    assert boxes.shape == (8, 4) and boxes.dtype == torch.float32
    assert bool((iou > 0.7).all()), iou
    assert iou.mean() > box_iou(history[0], truth).diag().mean()  # better than the start
    assert len(history) == 5


def test_find_roi_batched_equals_single(scenes):
    images, _ = scenes
    batched = find_roi(images[:3, None], k=K)
    single = torch.cat([find_roi(im, k=K) for im in images[:3]])
    torch.testing.assert_close(batched, single, atol=0.05, rtol=0)


def test_find_roi_dtype_and_range_invariance(scenes):
    images, _ = scenes
    u8 = (images[:2] * 255).round().to(torch.uint8)
    u16 = (u8.to(torch.int32) * 257).to(torch.uint16)
    as_float = u8.to(torch.float64) / 255
    reference = find_roi(u8, k=K)
    torch.testing.assert_close(find_roi(u16, k=K), reference, atol=0.05, rtol=0)
    torch.testing.assert_close(find_roi(as_float, k=K), reference, atol=0.05, rtol=0)


@pytest.mark.parametrize("contrast_scale", [1.0, 255.0, "mean"])
def test_find_roi_dtype_invariance_in_every_reading(scenes, contrast_scale):
    images, _ = scenes
    u8 = (images[2:4] * 255).round().to(torch.uint8)
    u16 = (u8.to(torch.int32) * 257).to(torch.uint16)
    reference = find_roi(u8, k=K, contrast_scale=contrast_scale)
    for copy in (u16, u8.to(torch.float32) / 255, u8.to(torch.float64) * 1000):
        torch.testing.assert_close(find_roi(copy, k=K, contrast_scale=contrast_scale), reference,
                                   atol=0.05, rtol=0)


def test_contrast_scale_is_the_unit_the_cost_reads():
    """find_roi(x, aspect="image", contrast_scale=c) climbs dac_cost on c * (the peak-1 map),
    or on the map over its mean for "mean": a literal one-stage ascent with autograd on that
    map gives the same box."""
    torch.manual_seed(4)
    x = torch.rand(60, 100)
    x[15:45, 20:70] += 1.5 * torch.rand(30, 50)
    for scale in (1.0, 255.0, "mean"):
        found = find_roi(x, k=5, stages=1, max_steps=30, aspect="image", contrast_scale=scale)
        s = max_min_dif(x.double(), 5)
        s = s / s.mean() if scale == "mean" else scale * s / s.max()
        h, w = s.shape
        r_min = w / 3.5
        theta = torch.tensor([(w - 1) / 2, (h - 1) / 2, w / 2.3 - r_min], dtype=torch.float64)
        for _ in range(30):
            theta = theta.detach().requires_grad_(True)
            cost = dac_cost(s, theta[0], theta[1], theta[2], r_min, h / w, 0.025)
            (grad,) = torch.autograd.grad(cost, theta)
            new = theta.detach() + 96.0 * grad.clamp(-0.05, 0.05)
            new = torch.stack([new[0].clamp(0, w - 1), new[1].clamp(0, h - 1), new[2].abs()])
            done = (new - theta.detach()).abs().max() <= 0.01
            theta = new
            if done:
                break
        half = r_min + float(theta[2])
        box = (torch.tensor([theta[0] - half, theta[1] - h / w * half,
                             theta[0] + half, theta[1] + h / w * half]) + 0.5) * 5
        box = torch.minimum(box.clamp_min(0), torch.tensor([100.0, 60.0, 100.0, 60.0]))
        torch.testing.assert_close(found[0], box.float(), atol=0.05, rtol=0)


def test_free_aspect_climbs_the_same_cost_with_height_and_width_apart():
    """aspect="free": a literal one-stage ascent with autograd over (xc, yc, r_x, r_y), the
    window of eq. 2 with half-width r_min + r_x and half-height alpha r_min + r_y (dac_cost with
    alpha = half-height / half-width), gives find_roi's box."""
    torch.manual_seed(5)
    x = torch.rand(60, 100)
    x[20:40, 10:90] += 1.5 * torch.rand(20, 80)  # wide and flat: the height must shrink
    found = find_roi(x, k=5, stages=1, max_steps=30, contrast_scale="mean", shape="box")
    s = max_min_dif(x.double(), 5)
    s = s / s.mean()
    h, w = s.shape
    alpha, r_min = h / w, w / 3.5
    r = w / 2.3 - r_min
    theta = torch.tensor([(w - 1) / 2, (h - 1) / 2, r, alpha * r], dtype=torch.float64)
    for _ in range(30):
        theta = theta.detach().requires_grad_(True)
        half_x, half_y = r_min + theta[2], alpha * r_min + theta[3]
        cost = dac_cost(s, theta[0], theta[1], theta[2], r_min, half_y / half_x, 0.025)
        (grad,) = torch.autograd.grad(cost, theta)
        new = theta.detach() + 96.0 * grad.clamp(-0.05, 0.05)
        new = torch.cat([new[:1].clamp(0, w - 1), new[1:2].clamp(0, h - 1), new[2:].abs()])
        done = (new - theta.detach()).abs().max() <= 0.01
        theta = new
        if done:
            break
    half_x, half_y = r_min + float(theta[2]), alpha * r_min + float(theta[3])
    box = (torch.tensor([theta[0] - half_x, theta[1] - half_y,
                         theta[0] + half_x, theta[1] + half_y]) + 0.5) * 5
    box = torch.minimum(box.clamp_min(0), torch.tensor([100.0, 60.0, 100.0, 60.0]))
    torch.testing.assert_close(found[0], box.float(), atol=0.05, rtol=0)
    # the whole search (four stages) fits the wide, flat region with a flatter box than the
    # image's aspect, which the paper's box cannot do
    for aspect, flatter in (("free", True), ("image", False)):
        box = find_roi(x, k=5, aspect=aspect, shape="box")[0]
        width, height = float(box[2] - box[0]), float(box[3] - box[1])
        assert (height / width < 0.9 * 60 / 100) == flatter, (aspect, box)


def test_free_aspect_gradient_matches_autograd():
    torch.manual_seed(6)
    s = torch.rand(3, 12, 20, dtype=torch.float64)
    theta = torch.tensor([[9.0, 5.0, 2.0, 1.0], [4.0, 7.0, 0.5, 2.5], [15.0, 3.0, 3.0, 0.2]],
                         dtype=torch.float64, requires_grad=True)
    r_min = torch.full((3,), 20 / 3.5, dtype=torch.float64)
    alpha = torch.full((3,), 12 / 20, dtype=torch.float64)
    gamma = torch.tensor([0.025, 0.4, 1.6], dtype=torch.float64)
    half_x, half_y = r_min + theta[:, 2], alpha * r_min + theta[:, 3]
    cost = dac_cost(s, theta[:, 0], theta[:, 1], theta[:, 2], r_min, half_y / half_x, gamma)
    (auto_grad,) = torch.autograd.grad(cost.sum(), theta)
    value, grad = cost_and_grad(s, theta.detach(), r_min, alpha, gamma)
    torch.testing.assert_close(value, cost.detach())
    torch.testing.assert_close(grad, auto_grad)


def test_the_search_options_differ_and_pass_through_auto_crop_and_the_layer(scenes):
    images, _ = scenes
    paper = find_roi(images[:2], k=K, aspect="image", contrast_scale=255.0)
    default = find_roi(images[:2], k=K)
    assert float((paper - default).abs().max()) > 1.0  # the options change the boxes
    torch.testing.assert_close(find_roi(images[:2], k=K, aspect="free", contrast_scale="mean"),
                               default)
    layer = AutoCrop((20, 37), k=K, aspect="image", contrast_scale=255)
    layer(images[:2, None])
    torch.testing.assert_close(layer.last_boxes, paper)
    assert "aspect='image'" in repr(layer) and "contrast_scale=255" in repr(layer)
    torch.testing.assert_close(
        auto_crop(images[:2], (20, 37), k=K, aspect="image", contrast_scale=255.0),
        auto_crop(images[:2], (20, 37), boxes=paper))
    torch.testing.assert_close(auto_crop(images[:2], (20, 37), k=K),
                               auto_crop(images[:2], (20, 37), boxes=default))


@pytest.mark.parametrize("scale", [0.0, -255.0, float("nan"), float("inf"), "255", "Mean", None,
                                   True])
def test_contrast_scale_bad_values_raise(scale):
    with pytest.raises(ValueError, match="contrast_scale"):
        find_roi(torch.rand(40, 40), contrast_scale=scale)
    with pytest.raises(ValueError, match="contrast_scale"):
        auto_crop(torch.rand(40, 40), (10, 20), contrast_scale=scale)
    with pytest.raises(ValueError, match="contrast_scale"):
        AutoCrop((10, 20), contrast_scale=scale)


def band_window(h: int, w: int, theta: torch.Tensor, r_min, alpha, gamma) -> torch.Tensor:
    """The band of find_roi(shape="band") written out on the full grid: (B, h, w) for theta
    (B, 5) = (xc, yc, r_x, r_y, bend). Across x the soft span of eq. 1, half-width r_min + r_x;
    a centre line y = yc + bend u^2, u = (x - xc) / half-width clipped to [-1, 1]; across the
    line sigmoid(g (v + h_y)) - sigmoid(g (v - h_y)), half-thickness 0.8 alpha r_min + r_y."""
    xc, yc, bend = (theta[:, i, None, None] for i in (0, 1, 4))
    half_x = (r_min + theta[:, 2])[:, None, None]
    half_y = (0.8 * alpha * r_min + theta[:, 3])[:, None, None]
    g = gamma[:, None, None]
    x = torch.arange(w, dtype=theta.dtype)
    y = torch.arange(h, dtype=theta.dtype)[:, None]
    span = torch.sigmoid(g * (x - xc + half_x)) * torch.sigmoid(g * (xc + half_x - x))
    v = y - (yc + bend * ((x - xc) / half_x).clamp(-1, 1) ** 2)
    return span * (torch.sigmoid(g * (v + half_y)) - torch.sigmoid(g * (v - half_y)))


@pytest.mark.parametrize("gamma", [0.025, 0.1, 0.4, 1.6])
def test_band_cost_and_gradient_match_autograd_on_the_full_window(gamma):
    """The band's cost from per-column tables (two look-ups per column) against eq. 3 on the
    full 2D band with autograd: equal up to the tables' linear interpolation, which is finest
    where the sigmoids are soft. When written, the cost agreed to 1e-7, 2e-6, 6e-5 and 5e-4
    (relative) at gamma = 0.025, 0.1, 0.4, 1.6, the gradient to 0.02%, 0.3%, 1% and 10% of its
    largest component: at 1.6 the slopes, 0.6 pooled pixels wide, are read from a table of
    spacing 1. The ascent clips each step, so a 10% error in a slope moves it little."""
    torch.manual_seed(6)
    n, h, w = 3, 24, 40
    s = torch.rand(n, h, w, dtype=torch.float64)
    theta = torch.tensor([[19.0, 11.0, 3.0, 2.0, 4.0], [12.0, 14.0, 1.0, 5.0, -6.0],
                          [25.0, 9.0, 6.0, 0.5, 2.0]], dtype=torch.float64, requires_grad=True)
    r_min = torch.full((n,), w / 3.5, dtype=torch.float64)
    alpha = torch.full((n,), h / w, dtype=torch.float64)
    gammas = torch.full((n,), gamma, dtype=torch.float64)
    z = band_window(h, w, theta, r_min, alpha, gammas)
    sz, z_sum = (s * z).sum((-2, -1)), z.sum((-2, -1))
    f_in = sz / (z_sum + 1e-6)
    f_out = (s.sum((-2, -1)) - sz) / (h * w - z_sum + 1e-6)
    cost = f_in / (f_out + 1)
    (auto_grad,) = torch.autograd.grad(cost.sum(), theta)
    value, grad = band_cost_and_grad(band_tables(s, gamma), torch.arange(n), s.sum((-2, -1)),
                                     theta.detach(), r_min, alpha, gammas, h)
    error = float(((grad - auto_grad).abs() / auto_grad.abs().amax(1, keepdim=True)).max())
    torch.testing.assert_close(value, cost.detach(), rtol=1e-3, atol=0)
    assert error < {0.025: 0.002, 0.1: 0.006, 0.4: 0.02, 1.6: 0.15}[gamma]


def test_a_band_follows_a_frowning_arch_that_a_box_cuts():
    """A bright, textured arc that frowns (its ends low, its middle high) on a dark noisy
    background: the band's bounding box holds the whole arc; the box of free aspect, whose
    height is climbed on the same cost, keeps less of it."""
    g = torch.Generator().manual_seed(3)
    h, w = 200, 370
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    centre = 60 + 90 * ((xx - 185) / 130.0) ** 2
    arc = ((yy - centre).abs() < 22) & ((xx - 185).abs() < 130)
    x = 0.1 + 0.02 * torch.randn(h, w, generator=g)
    x = x + arc * (0.5 + 0.3 * (torch.rand(h, w, generator=g) > 0.5))
    kept = {}
    for shape in ("band", "box"):
        x0, y0, x1, y1 = (int(round(float(v))) for v in find_roi(x, k=5, shape=shape)[0])
        kept[shape] = float(arc[y0:y1, x0:x1].sum() / arc.sum())
    assert kept["band"] >= 0.97 and kept["band"] > kept["box"] + 0.02, kept


def test_the_band_takes_over_from_the_box_at_band_from_stage():
    """Stage by stage: before ``band_from_stage`` the search is the box's, from it the band's;
    with 0 the first stage is already the band's, and past the last stage only the box runs."""
    torch.manual_seed(7)
    x = torch.rand(2, 60, 100)
    x[:, 15:45, 10:90] += torch.rand(2, 30, 80)
    _, box = find_roi(x, k=5, shape="box", return_history=True)
    _, band = find_roi(x, k=5, return_history=True)  # band_from_stage=1
    _, band_0 = find_roi(x, k=5, band_from_stage=0, return_history=True)
    torch.testing.assert_close(band[1], box[1])  # stage 1 climbed the box
    assert float((band_0[1] - box[1]).abs().max()) > 0  # ... unless the band starts at once
    torch.testing.assert_close(find_roi(x, k=5, band_from_stage=4), box[-1])
    with pytest.raises(ValueError, match="band_from_stage"):
        find_roi(x, k=5, band_from_stage=-1)


@pytest.mark.parametrize("shape", ["rectangle", "Band", 1, True])
def test_shape_bad_values_raise(shape):
    for call in (lambda: find_roi(torch.rand(40, 40), shape=shape),
                 lambda: auto_crop(torch.rand(40, 40), (10, 20), shape=shape),
                 lambda: AutoCrop((10, 20), shape=shape)):
        with pytest.raises(ValueError, match="shape must be 'box'"):
            call()


def test_shape_defaults_to_the_band_and_to_the_papers_box_with_the_images_aspect():
    x = torch.rand(2, 60, 100)
    torch.testing.assert_close(find_roi(x, k=5), find_roi(x, k=5, shape="band"))
    torch.testing.assert_close(find_roi(x, k=5, aspect="image"),
                               find_roi(x, k=5, aspect="image", shape="box"))
    with pytest.raises(ValueError, match="shape='band' .* needs aspect='free'"):
        find_roi(x, aspect="image", shape="band")
    assert "shape='band'" in repr(AutoCrop((10, 20)))
    assert "shape='box'" in repr(AutoCrop((10, 20), aspect="image"))


@pytest.mark.parametrize("aspect", ["square", "IMAGE", 0.5, None])
def test_aspect_bad_values_raise(aspect):
    for call in (lambda: find_roi(torch.rand(40, 40), aspect=aspect),
                 lambda: auto_crop(torch.rand(40, 40), (10, 20), aspect=aspect),
                 lambda: AutoCrop((10, 20), aspect=aspect)):
        with pytest.raises(ValueError, match="aspect must be 'free' .* or 'image'"):
            call()


def test_find_roi_constant_image_returns_initial_centred_box():
    boxes, history = find_roi(torch.full((2, 100, 200), 7.0), k=10, return_history=True)
    assert bool(torch.isfinite(boxes).all())
    torch.testing.assert_close(boxes, history[0])
    torch.testing.assert_close((boxes[:, 0] + boxes[:, 2]) / 2, torch.full((2,), 100.0))
    torch.testing.assert_close((boxes[:, 1] + boxes[:, 3]) / 2, torch.full((2,), 50.0))


def test_find_roi_boxes_stay_in_image():
    boxes = find_roi(torch.rand(2, 60, 90), k=3, eta0=1e4, gamma0=1.0)
    assert bool((boxes >= 0).all())
    assert bool((boxes[:, [0, 2]] <= 90).all() and (boxes[:, [1, 3]] <= 60).all())


@pytest.mark.parametrize(
    ("images", "kwargs", "match"),
    [
        (torch.rand(2, 3, 40, 40), {}, "images must have shape"),
        (torch.rand(40), {}, "images must have shape"),
        (torch.rand(0, 40, 40), {}, "empty"),
        (torch.full((40, 40), float("nan")), {}, "NaN"),
        (torch.rand(15, 40), {}, "too small"),
        (torch.rand(40, 40), {"k": 0}, "k must"),
        (torch.rand(40, 40), {"gamma0": 0.0}, "gamma0"),
        (torch.rand(40, 40), {"gamma_factor": -2.0}, "gamma_factor"),
        (torch.rand(40, 40), {"eta0": 0.0}, "eta0"),
        (torch.rand(40, 40), {"stages": 0}, "stages"),
        (torch.rand(40, 40), {"tol": -1.0}, "tol"),
        ([[0.0]], {}, "torch.Tensor"),
    ],
)
def test_find_roi_bad_input(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        find_roi(images, **kwargs)


# --- auto_crop and AutoCrop -----------------------------------------------------------------


def test_auto_crop_given_box_keeps_aspect():
    image = torch.arange(40 * 74, dtype=torch.float32).reshape(40, 74)
    # a box with the output's aspect (20 x 37) maps to plain bilinear resizing of that region
    out = auto_crop(image, (20, 37), boxes=torch.tensor([[0.0, 0.0, 74.0, 40.0]]))
    expected = F.interpolate(image[None, None], size=(20, 37), mode="bilinear")
    torch.testing.assert_close(out, expected)


def test_auto_crop_grows_and_shifts_box_inside():
    image = torch.zeros(100, 200)
    image[:, 150:] = 1.0
    # a tall box at the right edge is grown to aspect 1/2 (width 120) and shifted inside
    box = torch.tensor([[170.0, 20.0, 200.0, 80.0]])
    out = auto_crop(image, (10, 20), boxes=box, antialias=False)
    assert out.shape == (1, 1, 10, 20)
    expected = image[None, None, :, 80:200]
    torch.testing.assert_close(out, F.interpolate(expected, size=(10, 20), mode="bilinear"))
    smooth = auto_crop(image, (15, 30), boxes=box)  # shrunk 4x: the average of each 4 x 4 block
    torch.testing.assert_close(smooth, F.interpolate(expected, size=(15, 30), mode="area"))


def test_auto_crop_antialias_keeps_a_thin_bright_line():
    image = torch.zeros(80, 160)
    image[:, 83] = 1.0  # one pixel wide; a plain 4x bilinear shrink reads columns 1.5, 5.5, ...
    plain = auto_crop(image, (20, 40), boxes=torch.tensor([[0.0, 0.0, 160.0, 80.0]]),
                      antialias=False)
    smooth = auto_crop(image, (20, 40), boxes=torch.tensor([[0.0, 0.0, 160.0, 80.0]]))
    assert float(plain.max()) == 0.0  # the line fell between the samples
    torch.testing.assert_close(smooth.sum() * 16, image.sum())  # its energy is kept


def test_auto_crop_list_of_sizes(scenes):
    images, _ = scenes
    items = [images[0], images[1, :300, :600], images[2, None]]
    out = auto_crop(items, k=K)
    assert out.shape == (3, 1, 200, 370) and bool(torch.isfinite(out).all())
    # float32 rounding of the batched search moves the box by a few 1e-4 pixels
    torch.testing.assert_close(out[2:], auto_crop(images[2], k=K), atol=1e-4, rtol=0)


def test_auto_crop_bad_input():
    with pytest.raises(ValueError, match="out_size"):
        auto_crop(torch.rand(40, 40), (0, 10), boxes=torch.zeros(1, 4))
    with pytest.raises(ValueError, match="boxes"):
        auto_crop(torch.rand(40, 40), boxes=torch.zeros(2, 4))
    with pytest.raises(ValueError, match="images"):
        auto_crop([])


def test_autocrop_gradient_reaches_input(scenes):
    images, _ = scenes
    x = images[:2, None].clone().requires_grad_(True)
    layer = AutoCrop((20, 37), k=K)
    out = layer(x)
    assert out.shape == (2, 1, 20, 37)
    out.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    torch.testing.assert_close(layer.last_boxes, find_roi(images[:2], k=K))


def test_autocrop_through_search():
    images, _ = make_scenes(1, seed=3, height=80, width=148)
    x = images[:, None].clone().requires_grad_(True)
    layer = AutoCrop((10, 18), detach_search=False, k=2, max_steps=5)
    layer(x).sum().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())


def test_autocrop_bad_input():
    with pytest.raises(ValueError, match="x must"):
        AutoCrop()(torch.rand(40, 40))


def test_find_roi_restores_the_thread_count():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        find_roi(torch.rand(2, 60, 100), k=5, max_steps=3)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_fit_aspect_grows_to_the_smallest_box_of_that_aspect():
    boxes = torch.tensor([[10.0, 20.0, 110.0, 40.0], [0.0, 0.0, 10.0, 40.0]])
    fitted = fit_aspect(boxes, 0.5)
    torch.testing.assert_close(
        fitted, torch.tensor([[10.0, 35.0, 110.0, 85.0], [-35.0, 0.0, 45.0, 40.0]]) - torch.tensor(
            [[0.0, 30.0, 0.0, 30.0], [0.0, 0.0, 0.0, 0.0]])
    )
    inside = fit_aspect(boxes, 0.5, image_size=(60, 200))
    assert bool((inside[:, :2] >= 0).all()) and bool((inside[:, 2] <= 200).all())
    torch.testing.assert_close(inside[1], torch.tensor([0.0, 0.0, 80.0, 40.0]))


@pytest.mark.parametrize(
    ("boxes", "aspect", "size", "match"),
    [
        (torch.zeros(4), 0.5, None, "boxes must"),
        (torch.zeros(2, 4), 0.0, None, "aspect must"),
        (torch.zeros(2, 4), 0.5, (0, 10), "image_size must"),
    ],
)
def test_fit_aspect_bad_input(boxes, aspect, size, match):
    with pytest.raises(ValueError, match=match):
        fit_aspect(boxes, aspect, image_size=size)


def test_find_roi_finds_the_dental_region_of_synthetic_panoramics():
    """On the course's centred panoramics the paper's box with the peak-1 reading
    (``aspect="image", contrast_scale=1``) keeps the teeth, finds the dental region and beats
    a centred crop of equal area.

    The defaults and the paper's 8-bit reading are scored on worlds they were not tuned on in
    ``tests/test_dac_worlds.py``; on this centred world the 8-bit reading keeps every tooth but
    often grows the box towards the whole image (the contrast ratio rises when only flat
    background is left outside), which the book's chapter "DAC 2: the search" measures.

    DAC's boxes always have the image's aspect (alpha = h / w) and at least 2 / 3.5 = 57% of its
    width, while the synthetic dental region is flatter (height/width about 0.45 of the image's
    0.54). So the issue's IoU >= 0.7 is measured against the best box DAC can output: the
    dental-region box grown to the image's aspect (``fit_aspect``). Against the tight box the
    ceiling is about 0.72 and the search reaches about 0.65. The synthetic dental region is
    nearly centred, so a centred crop of DAC's own mean area (an oracle size) comes close: on 24
    images per seed DAC led it by 0.02-0.07 fitted IoU here and by 0.01-0.03 at the paper's
    1480x800 (fitted IoU 0.70-0.73 there); DAC's clearer gain is the worst case of teeth kept.
    """
    from dentpy.data.synthetic import make_panoramic

    samples = [make_panoramic(i, seed=7, size=(200, 370)) for i in range(12)]
    images = torch.stack([torch.as_tensor(s.image) for s in samples])
    truth = torch.stack([torch.as_tensor(s.roi_box) for s in samples])
    boxes = find_roi(images, k=3, aspect="image", contrast_scale=1.0)

    def coverage(box, sample):
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
        teeth = sample.tooth_mask.astype(bool)
        return teeth[y0:y1, x0:x1].sum() / teeth.sum()

    area = float(((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).mean())
    half_w, half_h = (area * 370 / 200) ** 0.5 / 2, (area * 200 / 370) ** 0.5 / 2
    centre = torch.tensor([185 - half_w, 100 - half_h, 185 + half_w, 100 + half_h])
    found = [coverage(b, s) for b, s in zip(boxes, samples, strict=True)]
    centred = [coverage(centre, s) for s in samples]
    assert sum(found) / len(found) >= 0.95
    assert min(found) >= min(centred)
    assert area < 0.6 * 200 * 370  # it does crop

    best_possible = fit_aspect(truth, 200 / 370, image_size=(200, 370))
    iou_fitted = box_iou(boxes, best_possible).diag()
    iou_centre = box_iou(centre[None], best_possible)[0]
    assert float(iou_fitted.mean()) >= 0.7
    assert float(iou_fitted.mean()) > float(iou_centre.mean())
    assert float(box_iou(boxes, truth).diag().mean()) >= 0.6


# --- bad input (issue 14) -------------------------------------------------------------------


def test_dac_cost_of_an_integer_map_equals_the_float_computation():
    s = torch.randint(0, 255, (2, 10, 17), dtype=torch.uint8)
    args = (8.0, 5.0, 2.0, 4.0, 10 / 17, torch.tensor([0.4, 1.6]))
    cost = dac_cost(s, *args)
    assert cost.dtype == torch.float32 and bool((cost > 0).all())
    torch.testing.assert_close(cost, dac_cost(s.float(), *args))


@pytest.mark.parametrize("box", [[30.0, 5.0, 10.0, 30.0], [0.0, 30.0, 10.0, 5.0]])
def test_reversed_boxes_raise(box):
    boxes = torch.tensor([box])
    with pytest.raises(ValueError, match=r"boxes must be boxes .* x1 >= x0 and y1 >= y0"):
        fit_aspect(boxes, 0.5)
    with pytest.raises(ValueError, match=r"boxes must be boxes .* x1 >= x0 and y1 >= y0"):
        auto_crop(torch.rand(40, 60), (10, 20), boxes=boxes)


def test_zero_size_box_is_grown_to_one_pixel():
    fitted = fit_aspect(torch.tensor([[5.0, 5.0, 5.0, 5.0]]), 1.0)
    torch.testing.assert_close(fitted, torch.tensor([[4.5, 4.5, 5.5, 5.5]]))


@pytest.mark.parametrize("stages", [2.5, 4.0, "4"])
def test_find_roi_stages_must_be_an_integer(stages):
    with pytest.raises(ValueError, match="stages must be an integer"):
        find_roi(torch.rand(40, 40), stages=stages)


def test_unknown_find_roi_keyword_raises_at_construction():
    with pytest.raises(ValueError, match="stagez"):
        AutoCrop((10, 20), stagez=3)
