"""dentpy.detect model, loss (assignment) and decoding: shapes, hand cases, overfitting a batch."""

import math

import pytest
import torch

from dentpy.detect import (
    DetectionLoss,
    YOLODetector,
    assign_targets,
    decode,
    decode_boxes,
    detection_loss,
    kmeans_anchors,
    mean_average_precision,
)

ANCHORS = torch.tensor([[10.0, 20.0], [20.0, 40.0]])


def logit(p):
    return math.log(p / (1 - p))


def scene(seed, *, n=5, h=128, w=256, num_classes=3):
    """One image (1, h, w): ``n`` flat rectangles whose grey level tells their class."""
    g = torch.Generator().manual_seed(seed)
    image = 0.1 * torch.rand(1, h, w, generator=g)
    boxes, labels = [], []
    for k in range(n):
        bw = int(torch.randint(14, 40, (1,), generator=g))
        bh = int(torch.randint(20, 60, (1,), generator=g))
        x0, y0 = 10 + k * (w - 20) // n, int(torch.randint(0, h - bh, (1,), generator=g))
        c = int(torch.randint(0, num_classes, (1,), generator=g))
        image[0, y0:y0 + bh, x0:x0 + bw] = 0.3 + 0.3 * c
        boxes.append([x0, y0, x0 + bw, y0 + bh])
        labels.append(c)
    return image, {"boxes": torch.tensor(boxes, dtype=torch.float32),
                   "labels": torch.tensor(labels)}


# ------------------------------------------------------------------------- model


@pytest.mark.parametrize(("options", "stride"), [
    ({}, 16), ({"neck": False}, 16), ({"channels": (8, 16, 32)}, 8),
    ({"backbone": "resnet18"}, 16), ({"backbone": "resnet18", "neck": False}, 16),
])
def test_output_shape(options, stride):
    model = YOLODetector(4, ANCHORS, **options)
    assert model.stride == stride
    out = model(torch.rand(2, 1, 64, 96))
    assert out.shape == (2, 2, 64 // stride, 96 // stride, 9)
    assert torch.isfinite(out).all()


def test_initial_objectness_is_the_prior():
    model = YOLODetector(3, ANCHORS, prior=0.02).eval()
    probs = model(torch.zeros(1, 1, 32, 32))[..., 4].sigmoid()
    assert probs.mean().item() == pytest.approx(0.02, rel=0.5)


def test_predict_returns_detections_and_keeps_mode():
    model = YOLODetector(3, ANCHORS).train()
    dets = model.predict(torch.rand(2, 1, 64, 64), score_threshold=0.0, max_detections=7)
    assert model.training
    assert len(dets) == 2 and all(d["boxes"].shape == (7, 4) for d in dets)
    assert all(d["boxes"].min() >= 0 and d["boxes"].max() <= 64 for d in dets)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: YOLODetector(0, ANCHORS), "num_classes"),
    (lambda: YOLODetector(3, torch.zeros(0, 2)), "anchors is empty"),
    (lambda: YOLODetector(3, torch.ones(3)), "anchors must have shape"),
    (lambda: YOLODetector(3, ANCHORS, backbone="vgg"), "backbone"),
    (lambda: YOLODetector(3, ANCHORS, channels=()), "channels"),
    (lambda: YOLODetector(3, ANCHORS, prior=1.0), "prior"),
    (lambda: YOLODetector(3, ANCHORS)(torch.rand(1, 3, 32, 32)), r"images must be a tensor"),
    (lambda: YOLODetector(3, ANCHORS)([[0.0]]), r"images must be a tensor"),
    (lambda: YOLODetector(3, ANCHORS)(torch.rand(1, 1, 40, 32)), "multiples of the stride"),
])
def test_model_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------------- decoding


def test_decode_boxes_by_hand():
    raw = torch.zeros(1, 2, 2, 3, 6)
    raw[0, 1, 1, 2, :4] = torch.tensor([10.0, -10.0, math.log(2), 0.0])
    boxes = decode_boxes(raw, anchors=ANCHORS, stride=16)
    # zeros: centre of the cell, anchor size
    torch.testing.assert_close(boxes[0, 0, 0, 0], torch.tensor([3.0, -2.0, 13.0, 18.0]))
    # sigmoid(10) ~ 1, sigmoid(-10) ~ 0: centre (3 * 16, 1 * 16); width doubled
    torch.testing.assert_close(boxes[0, 1, 1, 2], torch.tensor([28.0, -4.0, 68.0, 36.0]),
                               atol=1e-3, rtol=0)


def test_decode_scores_nms_and_clipping():
    raw = torch.full((1, 2, 2, 2, 7), -20.0)
    raw[..., :4] = 0.0
    # two cells see the same object (anchor 1 boxes overlap a lot after scaling), class 1
    raw[0, 1, 0, 0, 4], raw[0, 1, 0, 0, 6] = logit(0.9), 20.0
    raw[0, 1, 0, 1, 4], raw[0, 1, 0, 1, 6] = logit(0.6), 20.0
    raw[0, 1, :, :, 2:4] = math.log(3.0)
    dets = decode(raw, anchors=ANCHORS, stride=16, score_threshold=0.5, iou_threshold=0.5)[0]
    assert dets["labels"].tolist() == [1]
    assert dets["scores"].item() == pytest.approx(0.9, abs=1e-6)
    torch.testing.assert_close(dets["boxes"][0], torch.tensor([-22.0, -52.0, 38.0, 68.0]))
    kept = decode(raw, anchors=ANCHORS, stride=16, score_threshold=0.5, iou_threshold=0.8)[0]
    assert kept["scores"].tolist() == pytest.approx([0.9, 0.6], abs=1e-6)
    clipped = decode(raw, anchors=ANCHORS, stride=16, score_threshold=0.5,
                     image_size=(32, 32))[0]
    torch.testing.assert_close(clipped["boxes"][0], torch.tensor([0.0, 0.0, 32.0, 32.0]))


def test_decode_class_agnostic_merges_labels():
    raw = torch.full((1, 1, 1, 2, 7), -20.0)
    raw[..., :4] = 0.0
    raw[0, 0, 0, 0, 4], raw[0, 0, 0, 0, 5] = logit(0.9), 20.0  # class 0
    raw[0, 0, 0, 1, 4], raw[0, 0, 0, 1, 6] = logit(0.8), 20.0  # class 1, overlapping
    anchors = torch.tensor([[60.0, 60.0]])
    per_class = decode(raw, anchors=anchors, stride=16, score_threshold=0.5)[0]
    agnostic = decode(raw, anchors=anchors, stride=16, score_threshold=0.5,
                      class_agnostic=True)[0]
    assert per_class["labels"].tolist() == [0, 1]
    assert agnostic["labels"].tolist() == [0]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"raw": torch.zeros(1, 2, 2, 2, 5)}, r"5 \+ C\) with C >= 1"),
    ({"raw": torch.zeros(1, 3, 2, 2, 7)}, "3 anchors per cell"),
    ({"raw": torch.zeros(1, 2, 2, 2, 7, dtype=torch.long)}, "floating tensor"),
    ({"anchors": torch.zeros(0, 2)}, "anchors is empty"),
    ({"stride": 0}, "stride"),
    ({"score_threshold": 1.5}, "score_threshold"),
    ({"iou_threshold": -1}, "iou_threshold"),
    ({"max_detections": 0}, "max_detections"),
    ({"image_size": (0, 5)}, "image_size"),
])
def test_decode_bad_input_raises(kwargs, match):
    args = {"raw": torch.zeros(1, 2, 2, 2, 7), "anchors": ANCHORS, "stride": 16} | kwargs
    with pytest.raises(ValueError, match=match):
        decode(args.pop("raw"), **args)


# ------------------------------------------------------------------- assignment


def test_assignment_by_hand():
    targets = [
        {"boxes": torch.tensor([[30.0, 10.0, 40.0, 30.0],    # centre (35, 20), 10 x 20
                                [0.0, 0.0, 20.0, 40.0],      # centre (10, 20), 20 x 40
                                [31.0, 11.0, 41.0, 31.0]]),  # same cell and anchor as first
         "labels": torch.tensor([2, 0, 1])},
        {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)},
    ]
    a = assign_targets(targets, anchors=ANCHORS, stride=16, grid_size=(2, 3), num_classes=3)
    assert a.image.tolist() == [0, 0]
    assert a.anchor.tolist() == [0, 1]
    assert (a.row.tolist(), a.col.tolist()) == ([1, 1], [2, 0])
    assert a.labels.tolist() == [2, 0]
    assert a.num_dropped == 1
    with pytest.raises(ValueError, match="non-empty list"):
        assign_targets([], anchors=ANCHORS, stride=16, grid_size=(2, 3), num_classes=3)
    torch.testing.assert_close(a.offsets[0], torch.tensor([35 / 16 - 2, 20 / 16 - 1, 0.0, 0.0]))



def test_assignment_next_anchor_takes_the_free_anchor():
    boxes = torch.tensor([[30.0, 10.0, 40.0, 30.0],    # cell (1, 2), best anchor 0
                          [0.0, 0.0, 20.0, 40.0],      # cell (1, 0), anchor 1
                          [31.0, 11.0, 41.0, 31.0],    # cell (1, 2), anchor 0 taken -> 1
                          [32.0, 12.0, 42.0, 32.0]])   # cell (1, 2), both taken -> dropped
    targets = [{"boxes": boxes, "labels": torch.tensor([2, 0, 1, 1])}]
    a = assign_targets(targets, anchors=ANCHORS, stride=16, grid_size=(2, 3), num_classes=3,
                       collisions="next_anchor")
    assert a.anchor.tolist() == [0, 1, 1]
    assert (a.row.tolist(), a.col.tolist()) == ([1, 1, 1], [2, 0, 2])
    assert a.labels.tolist() == [2, 0, 1]
    assert a.num_dropped == 1
    # the regression target is relative to the anchor actually used (20 x 40 for the third box)
    torch.testing.assert_close(a.offsets[2], torch.tensor(
        [36 / 16 - 2, 21 / 16 - 1, math.log(10 / 20), math.log(20 / 40)]))
    dropped = assign_targets(targets, anchors=ANCHORS, stride=16, grid_size=(2, 3),
                             num_classes=3)
    assert dropped.num_dropped == 2
    with pytest.raises(ValueError, match="collisions"):
        assign_targets(targets, anchors=ANCHORS, stride=16, grid_size=(2, 3), num_classes=3,
                       collisions="steal")


def test_assignment_rules_agree_without_collisions():
    gen = torch.Generator().manual_seed(0)
    cells = torch.stack(torch.meshgrid(torch.arange(4), torch.arange(5), indexing="ij"), -1)
    centres = cells.reshape(-1, 2).flip(-1) * 16 + 4 + 8 * torch.rand(20, 2, generator=gen)
    size = 4 + 40 * torch.rand(20, 2, generator=gen)  # one box per cell: nothing collides
    target = [{"boxes": torch.cat([centres - size / 2, centres + size / 2], 1),
               "labels": torch.randint(3, (20,), generator=gen)}]
    options = dict(anchors=ANCHORS, stride=16, grid_size=(4, 5), num_classes=3)
    a = assign_targets(target, **options)
    b = assign_targets(target, **options, collisions="next_anchor")
    assert a.num_dropped == b.num_dropped == 0
    for name in ("image", "anchor", "row", "col", "boxes", "labels", "offsets"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name))
    raw = torch.randn(1, 2, 4, 5, 8, generator=gen)
    total_a, _ = detection_loss(raw, target, anchors=ANCHORS, stride=16)
    total_b, _ = detection_loss(raw, target, anchors=ANCHORS, stride=16,
                                collisions="next_anchor")
    torch.testing.assert_close(total_a, total_b)


def test_perfect_prediction_has_zero_box_loss():
    target = [{"boxes": torch.tensor([[30.0, 10.0, 44.0, 40.0]]), "labels": torch.tensor([1])}]
    a = assign_targets(target, anchors=ANCHORS, stride=16, grid_size=(2, 3), num_classes=2)
    raw = torch.zeros(1, 2, 2, 3, 7)
    tx, ty, tw, th = a.offsets[0]
    raw[0, a.anchor[0], a.row[0], a.col[0], :4] = torch.stack(
        [torch.logit(tx), torch.logit(ty), tw, th])
    for box_loss in ("giou", "mse"):
        _, parts = detection_loss(raw, target, anchors=ANCHORS, stride=16, box_loss=box_loss)
        assert parts["box"].item() == pytest.approx(0.0, abs=1e-5)


def test_loss_parts_by_hand_and_ignore_rule():
    # all logits 0: objectness BCE log 2 per prediction, CE log C at the one positive
    raw = torch.zeros(1, 2, 2, 3, 7, requires_grad=True)
    target = [{"boxes": torch.tensor([[30.0, 10.0, 40.0, 30.0]]), "labels": torch.tensor([1])}]
    total, parts = detection_loss(raw, target, anchors=ANCHORS, stride=16, ignore_iou=None)
    assert parts["obj"].item() == pytest.approx(12 * math.log(2), rel=1e-5)
    assert parts["cls"].item() == pytest.approx(math.log(2), rel=1e-5)
    total.backward()
    assert torch.isfinite(raw.grad).all() and raw.grad.abs().sum() > 0
    # with the ignore rule, predictions already overlapping the box are not negatives
    _, ignored = detection_loss(raw, target, anchors=ANCHORS, stride=16, ignore_iou=0.1)
    assert ignored["obj"] < parts["obj"]
    confident = torch.zeros(1, 2, 2, 3, 7)
    confident[..., 4] = 3.0  # IoU < 1, so a target of IoU rather than 1 changes the loss
    _, one = detection_loss(confident, target, anchors=ANCHORS, stride=16, ignore_iou=None)
    _, soft = detection_loss(confident, target, anchors=ANCHORS, stride=16, obj_target="iou",
                             ignore_iou=None)
    assert soft["obj"] > one["obj"]


def test_loss_without_boxes_is_only_objectness():
    raw = torch.zeros(2, 2, 2, 2, 6)
    empty = {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}
    total, parts = detection_loss(raw, [empty, {"boxes": [], "labels": []}], anchors=ANCHORS,
                                  stride=16)
    assert parts["box"].item() == 0.0 and parts["cls"].item() == 0.0
    assert total.item() == pytest.approx(16 * math.log(2), rel=1e-5)


@pytest.mark.parametrize(("targets", "options", "match"), [
    ([], {}, "list of 1 dicts"),
    ([{"boxes": torch.zeros(0, 4)}], {}, "'boxes' and 'labels'"),
    ([{"boxes": torch.tensor([[0.0, 0.0, 5.0, 5.0]]), "labels": torch.tensor([3])}], {},
     r"lie in \[0, 1\)"),
    ([{"boxes": torch.tensor([[0.0, 0.0, 5.0, 5.0]]), "labels": torch.tensor([0.0])}], {},
     "integers"),
    ([{"boxes": torch.tensor([[0.0, 0.0, 0.0, 5.0]]), "labels": torch.tensor([0])}], {},
     "zero width"),
    ([{"boxes": torch.tensor([[5.0, 0.0, 0.0, 5.0]]), "labels": torch.tensor([0])}], {},
     "x1 < x0"),
    ([{"boxes": torch.zeros(0, 4), "labels": []}], {"box_loss": "l1"}, "box_loss"),
    ([{"boxes": torch.zeros(0, 4), "labels": []}], {"obj_target": "x"}, "obj_target"),
    ([{"boxes": torch.zeros(0, 4), "labels": []}], {"ignore_iou": 2.0}, "ignore_iou"),
    ([{"boxes": torch.zeros(0, 4), "labels": []}], {"collisions": "x"}, "collisions"),
])
def test_loss_bad_input_raises(targets, options, match):
    with pytest.raises(ValueError, match=match):
        detection_loss(torch.zeros(1, 2, 2, 2, 6), targets, anchors=ANCHORS, stride=16,
                       **options)


# ------------------------------------------------------------------- overfitting


def test_loss_decreases_when_overfitting_one_batch():
    data = [scene(seed) for seed in range(2)]
    images = torch.stack([image for image, _ in data])
    targets = [target for _, target in data]
    wh = torch.cat([t["boxes"][:, 2:] - t["boxes"][:, :2] for t in targets])
    torch.manual_seed(0)
    model = YOLODetector(3, kmeans_anchors(wh, 3))
    loss_fn = DetectionLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(100):
        optimizer.zero_grad()
        loss = loss_fn(model(images), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert set(loss_fn.last_parts) == {"box", "obj", "cls"}
    assert sum(losses[-10:]) / 10 < 0.2 * losses[0]
    dets = model.predict(images, score_threshold=0.1)
    assert mean_average_precision(dets, targets)["map_50"] > 0.8
