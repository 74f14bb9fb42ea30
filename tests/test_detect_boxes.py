"""dentpy.detect.boxes and anchors against torchvision.ops and hand-computed cases."""

import pytest
import torch
import torchvision.ops as tvo

from dentpy.detect import (
    aligned_box_iou,
    aligned_generalized_box_iou,
    box_area,
    box_convert,
    box_iou,
    generalized_box_iou,
    grid_centres,
    kmeans_anchors,
    mean_best_iou,
    wh_iou,
)


def random_boxes(n, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 100
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 40 + 0.5
    return torch.cat([xy, xy + wh], 1).to(dtype)


# ----------------------------------------------------------------------- by hand


def test_iou_and_giou_by_hand():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [4.0, 0.0, 6.0, 2.0], [0.0, 0.0, 2.0, 2.0]])
    # overlap 1, union 7; disjoint: hull 6 x 2 = 12, union 8; identical
    torch.testing.assert_close(box_iou(a, b), torch.tensor([[1 / 7, 0.0, 1.0]]))
    hull_first = 9.0  # (0,0)-(3,3)
    expected = torch.tensor([[1 / 7 - (hull_first - 7) / hull_first, 0 - 4 / 12, 1.0]])
    torch.testing.assert_close(generalized_box_iou(a, b), expected)


def test_conversions_by_hand():
    xyxy = torch.tensor([[10.0, 20.0, 40.0, 60.0]])
    torch.testing.assert_close(box_convert(xyxy, in_fmt="xyxy", out_fmt="cxcywh"),
                               torch.tensor([[25.0, 40.0, 30.0, 40.0]]))
    torch.testing.assert_close(box_convert(xyxy, in_fmt="xyxy", out_fmt="xywh"),
                               torch.tensor([[10.0, 20.0, 30.0, 40.0]]))
    assert box_area(xyxy).item() == 1200.0


def test_zero_area_boxes_give_zero_not_nan():
    point = torch.tensor([[5.0, 5.0, 5.0, 5.0]])
    assert box_iou(point, point).item() == 0.0
    assert generalized_box_iou(point, point).item() == 0.0
    assert box_area(point).item() == 0.0


def test_integer_boxes_are_read_as_float():
    boxes = torch.tensor([[0, 0, 2, 2], [1, 1, 3, 3]])
    torch.testing.assert_close(box_iou(boxes, boxes),
                               tvo.box_iou(boxes.float(), boxes.float()))


# ------------------------------------------------------------------- vs torchvision


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_iou_giou_equal_torchvision(seed, dtype):
    a, b = random_boxes(40, seed, dtype), random_boxes(25, seed + 100, dtype)
    torch.testing.assert_close(box_iou(a, b), tvo.box_iou(a, b))
    torch.testing.assert_close(generalized_box_iou(a, b), tvo.generalized_box_iou(a, b))
    torch.testing.assert_close(box_area(a), tvo.box_area(a))


def test_aligned_equal_diagonal_and_torchvision_loss():
    a, b = random_boxes(30, 1), random_boxes(30, 2)
    torch.testing.assert_close(aligned_box_iou(a, b), tvo.box_iou(a, b).diagonal())
    torch.testing.assert_close(aligned_generalized_box_iou(a, b),
                               1 - tvo.generalized_box_iou_loss(a, b, reduction="none"))


@pytest.mark.parametrize("fmts", [("xyxy", "cxcywh"), ("xyxy", "xywh"), ("cxcywh", "xywh"),
                                  ("xywh", "cxcywh"), ("cxcywh", "xyxy"), ("xywh", "xyxy")])
def test_convert_equals_torchvision_and_round_trips(fmts):
    in_fmt, out_fmt = fmts
    boxes = tvo.box_convert(random_boxes(20, 3), "xyxy", in_fmt)
    ours = box_convert(boxes, in_fmt=in_fmt, out_fmt=out_fmt)
    torch.testing.assert_close(ours, tvo.box_convert(boxes, in_fmt, out_fmt))
    torch.testing.assert_close(box_convert(ours, in_fmt=out_fmt, out_fmt=in_fmt), boxes)


def test_convert_keeps_leading_dims():
    boxes = random_boxes(12, 4).view(2, 3, 2, 4)
    out = box_convert(boxes, in_fmt="xyxy", out_fmt="cxcywh")
    assert out.shape == (2, 3, 2, 4)
    torch.testing.assert_close(out.view(-1, 4), tvo.box_convert(boxes.view(-1, 4), "xyxy",
                                                                "cxcywh"))


def test_empty_inputs():
    empty, some = torch.zeros(0, 4), random_boxes(3, 0)
    assert box_iou(empty, some).shape == (0, 3)
    assert generalized_box_iou(some, empty).shape == (3, 0)
    assert box_area(empty).shape == (0,)
    assert box_convert(empty, in_fmt="xyxy", out_fmt="cxcywh").shape == (0, 4)
    assert box_iou([], some).shape == (0, 3)


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("boxes", "match"), [
    (torch.zeros(3, 5), r"shape \(N, 4\)"),
    (torch.zeros(4), r"shape \(N, 4\)"),
    (torch.tensor([[0.0, 0.0, -1.0, 2.0]]), "x1 < x0"),
    (torch.tensor([[0.0, 3.0, 1.0, 2.0]]), "y1 < y0"),
    (torch.tensor([[0.0, float("nan"), 1.0, 2.0]]), "NaN"),
    (torch.tensor([[0.0, 0.0, float("inf"), 2.0]]), "infinite"),
    (torch.ones(2, 4, dtype=torch.bool), "real numbers"),
    ("boxes", "boxes1 must be an array or a tensor"),
])
def test_bad_boxes_raise(boxes, match):
    with pytest.raises(ValueError, match=match):
        box_iou(boxes, random_boxes(2, 0))
    with pytest.raises(ValueError, match="boxes2"):
        generalized_box_iou(random_boxes(2, 0), boxes)


def test_bad_formats_and_pairs_raise():
    with pytest.raises(ValueError, match="in_fmt"):
        box_convert(random_boxes(2, 0), in_fmt="xyzw", out_fmt="xyxy")
    with pytest.raises(ValueError, match="out_fmt"):
        box_convert(random_boxes(2, 0), in_fmt="xyxy", out_fmt="yolo")
    with pytest.raises(ValueError, match="negative width"):
        box_convert(torch.tensor([[5.0, 5.0, -2.0, 3.0]]), in_fmt="cxcywh", out_fmt="xyxy")
    with pytest.raises(ValueError, match="same shape"):
        aligned_box_iou(random_boxes(2, 0), random_boxes(3, 0))


# ------------------------------------------------------------------------ anchors


def test_wh_iou_by_hand():
    assert wh_iou([[2.0, 4.0]], [[4.0, 2.0]]).item() == pytest.approx(4 / 12)
    assert wh_iou([[3.0, 3.0]], [[3.0, 3.0]]).item() == 1.0


def test_wh_iou_is_box_iou_of_centred_boxes():
    g = torch.Generator().manual_seed(0)
    wh1, wh2 = 1 + 20 * torch.rand(7, 2, generator=g), 1 + 20 * torch.rand(4, 2, generator=g)
    centred = lambda wh: torch.cat([-wh / 2, wh / 2], 1)  # noqa: E731
    torch.testing.assert_close(wh_iou(wh1, wh2), tvo.box_iou(centred(wh1), centred(wh2)))


def test_kmeans_recovers_three_clusters_and_is_seeded():
    g = torch.Generator().manual_seed(0)
    shapes = torch.tensor([[10.0, 30.0], [30.0, 10.0], [60.0, 60.0]])
    wh = (shapes.repeat(40, 1) * (1 + 0.05 * torch.randn(120, 2, generator=g))).abs()
    anchors = kmeans_anchors(wh, 3, seed=1)
    assert anchors.shape == (3, 2)
    assert (anchors.prod(1).diff() >= 0).all()  # sorted by area
    assert wh_iou(anchors, shapes).max(1).values.min() > 0.9
    assert mean_best_iou(wh, anchors) > 0.85
    torch.testing.assert_close(kmeans_anchors(wh, 3, seed=1), anchors)
    assert mean_best_iou(wh, anchors) > mean_best_iou(wh, kmeans_anchors(wh, 1))


def test_kmeans_with_fewer_distinct_shapes_than_k():
    anchors = kmeans_anchors(torch.tensor([[5.0, 5.0]] * 4), 3)
    torch.testing.assert_close(anchors, torch.full((3, 2), 5.0))


def test_grid_centres():
    c = grid_centres(2, 3, stride=16)
    assert c.shape == (2, 3, 2)
    torch.testing.assert_close(c[1, 2], torch.tensor([40.0, 24.0]))  # (x, y) of row 1, col 2
    torch.testing.assert_close(grid_centres(7, 7, stride=448 / 7)[0, 0], torch.tensor([32.0, 32.0]))


@pytest.mark.parametrize(("call", "match"), [
    (lambda: kmeans_anchors(torch.zeros(0, 2), 3), "wh is empty"),
    (lambda: kmeans_anchors(torch.ones(5, 3), 2), r"shape \(N, 2\)"),
    (lambda: kmeans_anchors(torch.tensor([[1.0, -2.0]]), 1), "positive"),
    (lambda: kmeans_anchors(torch.tensor([[1.0, float("nan")]]), 1), "NaN"),
    (lambda: kmeans_anchors(torch.ones(5, 2), 0), "k must be"),
    (lambda: kmeans_anchors(torch.ones(2, 2), 3), "larger than"),
    (lambda: kmeans_anchors(torch.ones(2, 2), 1, iterations=0), "iterations"),
    (lambda: wh_iou(torch.ones(2, 2), torch.zeros(0, 2)), "wh2 is empty"),
    (lambda: grid_centres(0, 3), "grid_h"),
    (lambda: grid_centres(3, 3, stride=-1), "stride"),
])
def test_anchor_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
