"""dentpy.detect.nms against torchvision.ops.nms / batched_nms and hand-computed cases."""

import pytest
import torch
import torchvision.ops as tvo

from dentpy.detect import batched_nms, nms


def scene(n, seed, *, tied=False):
    """``n`` random boxes (many overlapping), scores (few distinct values if ``tied``), labels."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 80
    boxes = torch.cat([xy, xy + 5 + 30 * torch.rand(n, 2, generator=g)], 1)
    if tied:
        scores = torch.randint(0, 4, (n,), generator=g).float() / 4
    else:
        scores = torch.rand(n, generator=g)
    return boxes, scores, torch.randint(0, 3, (n,), generator=g)


def test_by_hand():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0],   # best
                          [1.0, 0.0, 11.0, 10.0],   # IoU 9/11 with the best: dropped
                          [20.0, 0.0, 30.0, 10.0],  # far away: kept
                          [0.0, 5.0, 10.0, 15.0]])  # IoU 1/3 with the best: kept at 0.5
    scores = torch.tensor([0.9, 0.8, 0.3, 0.5])
    assert nms(boxes, scores, iou_threshold=0.5).tolist() == [0, 3, 2]
    assert nms(boxes, scores, iou_threshold=0.3).tolist() == [0, 2]
    assert nms(boxes, scores, iou_threshold=1.0).tolist() == [0, 1, 3, 2]
    # the overlapping box of another class survives class-aware NMS
    labels = torch.tensor([0, 1, 0, 0])
    assert batched_nms(boxes, scores, labels, iou_threshold=0.3).tolist() == [0, 1, 2]


def test_threshold_is_strict():
    boxes = torch.tensor([[0.0, 0.0, 2.0, 1.0], [1.0, 0.0, 3.0, 1.0]])  # IoU exactly 1/3
    scores = torch.tensor([0.9, 0.8])
    assert nms(boxes, scores, iou_threshold=1 / 3).tolist() == [0, 1]
    assert nms(boxes, scores, iou_threshold=0.33).tolist() == [0]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_equal_torchvision(seed, tied, threshold):
    boxes, scores, labels = scene(150, seed, tied=tied)
    assert torch.equal(nms(boxes, scores, iou_threshold=threshold),
                       tvo.nms(boxes, scores, threshold))
    assert torch.equal(batched_nms(boxes, scores, labels, iou_threshold=threshold),
                       tvo.batched_nms(boxes, scores, labels, threshold))


@pytest.mark.parametrize("seed", range(3))
def test_equal_torchvision_on_a_dense_grid_of_detections(seed):
    """What a detector emits before NMS: thousands of boxes on a grid, many near-identical,
    integer-ish coordinates (IoUs that land exactly on a threshold), a few classes."""
    g = torch.Generator().manual_seed(seed)
    rows, cols = torch.meshgrid(torch.arange(24.0), torch.arange(56.0), indexing="ij")
    centre = torch.stack([cols.flatten() * 8 + 4, rows.flatten() * 8 + 4], 1).repeat(3, 1)
    size = torch.tensor([[10.0, 7.0], [19.0, 18.0], [17.0, 44.0]]).repeat_interleave(
        len(centre) // 3, 0)
    jitter = torch.randint(-2, 3, centre.shape, generator=g).float()
    boxes = torch.cat([centre + jitter - size / 2, centre + jitter + size / 2], 1)
    scores = torch.randint(0, 50, (len(boxes),), generator=g).float() / 50
    labels = torch.randint(0, 3, (len(boxes),), generator=g)
    for threshold in (0.3, 0.5):
        assert torch.equal(nms(boxes, scores, iou_threshold=threshold),
                           tvo.nms(boxes, scores, threshold))
        # the same boxes kept (torchvision orders tied scores across classes its own way)
        assert torch.equal(batched_nms(boxes, scores, labels, iou_threshold=threshold).sort()[0],
                           tvo.batched_nms(boxes, scores, labels, threshold).sort()[0])


def test_all_scores_tied_keeps_input_order():
    boxes, _, labels = scene(60, 9)
    scores = torch.full((60,), 0.5)
    keep = nms(boxes, scores, iou_threshold=0.5)
    assert torch.equal(keep, tvo.nms(boxes, scores, 0.5))
    assert (keep.diff() > 0).all()
    assert torch.equal(batched_nms(boxes, scores, labels, iou_threshold=0.5),
                       tvo.batched_nms(boxes, scores, labels, 0.5))


def test_float64_and_identical_boxes():
    boxes = torch.tensor([[1.0, 1.0, 5.0, 5.0]] * 4, dtype=torch.float64)
    scores = torch.tensor([0.1, 0.4, 0.4, 0.2], dtype=torch.float64)
    assert nms(boxes, scores, iou_threshold=0.5).tolist() == [1]
    assert torch.equal(nms(boxes, scores, iou_threshold=0.5), tvo.nms(boxes, scores, 0.5))


def test_empty_and_single():
    empty = nms(torch.zeros(0, 4), torch.zeros(0), iou_threshold=0.5)
    assert empty.dtype == torch.int64 and empty.shape == (0,)
    assert torch.equal(empty, tvo.nms(torch.zeros(0, 4), torch.zeros(0), 0.5))
    keep = batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.long),
                       iou_threshold=0.5)
    assert keep.shape == (0,)
    assert nms(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.tensor([0.2]),
               iou_threshold=0.5).tolist() == [0]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"iou_threshold": 1.5}, "iou_threshold"),
    ({"iou_threshold": -0.1}, "iou_threshold"),
    ({"iou_threshold": float("nan")}, "iou_threshold"),
    ({"iou_threshold": "0.5"}, "iou_threshold"),
    ({"boxes": torch.zeros(3, 5)}, r"boxes must have shape \(N, 4\)"),
    ({"boxes": torch.tensor([[2.0, 0.0, 1.0, 1.0]] * 3)}, "x1 < x0"),
    ({"boxes": torch.full((3, 4), float("nan"))}, "NaN"),
    ({"scores": torch.zeros(4)}, r"scores must have shape \(3,\)"),
    ({"scores": torch.tensor([0.1, float("nan"), 0.2])}, "scores contains NaN"),
])
def test_bad_input_raises(kwargs, match):
    args = {"boxes": scene(3, 0)[0], "scores": torch.rand(3), "iou_threshold": 0.5} | kwargs
    with pytest.raises(ValueError, match=match):
        nms(args["boxes"], args["scores"], iou_threshold=args["iou_threshold"])


def test_batched_bad_labels_raise():
    boxes, scores, _ = scene(3, 0)
    with pytest.raises(ValueError, match="labels must have shape"):
        batched_nms(boxes, scores, torch.zeros(2, dtype=torch.long), iou_threshold=0.5)
    with pytest.raises(ValueError, match="labels must hold integers"):
        batched_nms(boxes, scores, torch.zeros(3), iou_threshold=0.5)
