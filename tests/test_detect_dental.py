"""dentpy.detect.dental, dentpy.detect.two_stage, coco_evaluate and the detection dataset's
restoration boxes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from dentpy.data.datasets import DetectionDataset, detection_collate, restoration_boxes
from dentpy.data.synthetic import make_panoramic
from dentpy.detect import (
    TwoStageDetector,
    TwoStageLoss,
    assign_to_boxes,
    best_per_class,
    coco_evaluate,
    fdi_error_kind,
    match_detections,
    mean_average_precision,
    two_stage_collate,
)
from dentpy.train import fit

SIZE = (96, 160)


# ------------------------------------------------------------------ FDI error kinds
def test_fdi_error_kinds_by_hand():
    true = [36, 34, 34, 16, 16, 26, 11, 11]
    pred = [36, 35, 37, 26, 46, 36, 21, 47]
    assert fdi_error_kind(true, pred).tolist() == [
        "correct", "neighbour", "same quadrant", "left-right", "upper-lower", "upper-lower",
        "left-right", "other"]
    assert fdi_error_kind(31, 41).tolist() == ["left-right"]


@pytest.mark.parametrize("true, pred", [([19], [11]), ([11], [50]), ([11, 12], [11])])
def test_fdi_error_kind_rejects_bad_input(true, pred):
    with pytest.raises(ValueError, match="fdi"):
        fdi_error_kind(true, pred)


# ------------------------------------------------------------------ matching, post-processing
def _pred(boxes, scores, labels):
    return {"boxes": torch.tensor(boxes, dtype=torch.float32), "scores": torch.tensor(scores),
            "labels": torch.tensor(labels)}


def test_match_detections_ignores_labels_and_takes_best_scores_first():
    target = {"boxes": torch.tensor([[0.0, 0, 10, 10], [20, 0, 30, 10]])}
    pred = _pred([[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10], [50, 50, 60, 60]],
                 [0.5, 0.9, 0.8, 0.7], [3, 4, 5, 6])
    pi, ti = match_detections(pred, target, iou_threshold=0.5)
    assert pi.tolist() == [1, 2] and ti.tolist() == [0, 1]  # box 0 is a duplicate of box 1
    pi, _ = match_detections(pred, target, score_threshold=0.85)
    assert pi.tolist() == [1]
    empty = match_detections(pred, {"boxes": torch.zeros(0, 4)})
    assert empty[0].numel() == 0
    with pytest.raises(ValueError, match="pred"):
        match_detections({"boxes": torch.zeros(1, 4)}, target)
    with pytest.raises(ValueError, match="iou_threshold"):
        match_detections(pred, target, iou_threshold=2.0)


def test_best_per_class_keeps_top_k_per_label():
    pred = _pred([[0, 0, 1, 1]] * 5, [0.1, 0.9, 0.5, 0.7, 0.3], [1, 1, 2, 2, 1])
    out = best_per_class(pred)
    assert out["scores"].tolist() == pytest.approx([0.9, 0.7])
    assert out["labels"].tolist() == [1, 2]
    out2 = best_per_class(pred, max_per_class=2)
    assert out2["scores"].tolist() == pytest.approx([0.9, 0.7, 0.5, 0.3])
    with pytest.raises(ValueError, match="max_per_class"):
        best_per_class(pred, max_per_class=0)


def test_assign_to_boxes():
    teeth = torch.tensor([[0.0, 0, 10, 30], [10, 0, 20, 30]])
    fillings = torch.tensor([[2.0, 2, 6, 6], [8, 2, 14, 6], [40, 40, 44, 44]])
    assert assign_to_boxes(fillings, teeth).tolist() == [0, 1, -1]
    assert assign_to_boxes(fillings, teeth, min_cover=0.9).tolist() == [0, -1, -1]
    assert assign_to_boxes(fillings, torch.zeros(0, 4)).tolist() == [-1, -1, -1]
    with pytest.raises(ValueError, match="min_cover"):
        assign_to_boxes(fillings, teeth, min_cover=-0.1)


# ------------------------------------------------------------------ restoration boxes
def test_restoration_boxes_by_hand_and_on_a_panoramic():
    inst = np.zeros((8, 8), np.int64)
    inst[:, :4], inst[:, 4:] = 1, 2
    rest = np.zeros((8, 8), bool)
    rest[1:3, 1:3] = True      # inside tooth 1
    rest[0, 7] = True          # a pontic-like pixel is still inside tooth 2 here
    boxes, fdi = restoration_boxes(inst, rest, np.array([36, 37]))
    np.testing.assert_array_equal(boxes, [[1, 1, 3, 3], [7, 0, 8, 1]])
    assert fdi.tolist() == [36, 37]
    s = make_panoramic(0, seed=0, size=SIZE)
    boxes, fdi = restoration_boxes(s.instance_mask, s.restoration_mask, s.tooth_fdi)
    assert len(boxes) == s.restoration_count and set(fdi.tolist()) <= set(s.tooth_fdi.tolist())
    with pytest.raises(ValueError, match="restoration_mask"):
        restoration_boxes(inst, rest[:4], np.array([36, 37]))
    with pytest.raises(ValueError, match="tooth_fdi"):
        restoration_boxes(inst, rest, np.array([36]))
    with pytest.raises(ValueError, match="instance_mask"):
        restoration_boxes(inst.astype(float), rest, np.array([36, 37]))


def test_detection_dataset_objects_and_label_schemes():
    teeth = DetectionDataset(2, seed=3, size=SIZE)[0]
    rest = DetectionDataset(2, seed=3, size=SIZE, objects="restorations")[0]
    both = DetectionDataset(2, seed=3, size=SIZE, objects="both", labels="class")[0]
    obj = DetectionDataset(2, seed=3, size=SIZE, objects="both", labels="object")[0]
    nt, nr = len(teeth["boxes"]), len(rest["boxes"])
    assert len(both["boxes"]) == nt + nr and not teeth["restoration"].any()
    assert rest["restoration"].all() and rest["labels"].tolist() == rest["fdi"].tolist()
    torch.testing.assert_close(both["boxes"][nt:], rest["boxes"])
    assert (both["labels"][nt:] == 33).all() and both["labels"][:nt].max() <= 32
    assert obj["labels"].tolist() == [1] * nt + [2] * nr
    # restoration boxes lie inside their tooth's box
    tooth_of = {f: b for f, b in zip(teeth["fdi"].tolist(), teeth["boxes"], strict=True)}
    for f, b in zip(rest["fdi"].tolist(), rest["boxes"], strict=True):
        assert (b[:2] >= tooth_of[f][:2]).all() and (b[2:] <= tooth_of[f][2:]).all()
    with pytest.raises(ValueError, match="objects"):
        DetectionDataset(2, size=SIZE, objects="caries")


# ------------------------------------------------------------------ pycocotools check
def test_coco_evaluate_matches_mean_average_precision():
    g = torch.Generator().manual_seed(0)
    preds, targets = [], []
    for _ in range(5):
        xy = torch.rand(8, 2, generator=g) * 80
        boxes = torch.cat([xy, xy + 10 + torch.rand(8, 2, generator=g) * 20], 1)
        pick = torch.randint(0, 8, (12,), generator=g)
        noisy = boxes[pick] + torch.randn(12, 4, generator=g) * 3
        noisy[:, 2:] = torch.maximum(noisy[:, 2:], noisy[:, :2] + 1)
        preds.append({"boxes": noisy, "scores": torch.rand(12, generator=g),
                      "labels": torch.randint(0, 5, (12,), generator=g)})
        targets.append({"boxes": boxes, "labels": torch.randint(0, 4, (8,), generator=g)})
    ours, ref = mean_average_precision(preds, targets), coco_evaluate(preds, targets)
    for key in ("map", "map_50", "map_75"):
        assert ours[key] == pytest.approx(ref[key], abs=1e-9)
    np.testing.assert_allclose(ours["ap"], ref["ap"], atol=1e-9)


# ------------------------------------------------------------------ two-stage detector
def _items(n):
    ds = DetectionDataset(n, seed=1, size=SIZE, objects="teeth", labels="class")
    return [{"image": ds[i]["image"], "boxes": ds[i]["boxes"], "labels": ds[i]["labels"] - 1}
            for i in range(n)]


def test_two_stage_detector_trains_with_fit_and_predicts():
    torch.manual_seed(0)
    model = TwoStageDetector(32, image_size=SIZE, backbone="tiny", channels=(8, 16, 32))
    loader = DataLoader(_items(4), batch_size=2, collate_fn=two_stage_collate)
    loss_fn = TwoStageLoss()
    history = fit(model, loader, loader, loss_fn, torch.optim.Adam(model.parameters(), 1e-3),
                  1, device="cpu", progress=False)
    assert np.isfinite(history["train_loss"]).all() and np.isfinite(history["val_loss"]).all()
    assert set(loss_fn.last_parts) == {"loss_classifier", "loss_box_reg", "loss_objectness",
                                       "loss_rpn_box_reg"}
    images, _ = detection_collate(_items(2))
    model.train()
    out = model.predict(images, score_threshold=0.0)
    assert len(out) == 2 and model.training  # predict restores the previous mode
    for o in out:
        assert o["boxes"].shape[1] == 4 and len(o["boxes"]) <= 100
        assert o["labels"].numel() == 0 or 0 <= int(o["labels"].min()) <= 31


def test_two_stage_bad_arguments_and_offline_weights():
    with pytest.raises(ValueError, match="backbone"):
        TwoStageDetector(2, image_size=(64, 64), backbone="vgg")
    with pytest.raises(ValueError, match="anchor_sizes"):
        TwoStageDetector(2, image_size=(64, 64), backbone="tiny", channels=(8, 16, 32),
                         anchor_sizes=((8,), (16,)))
    with pytest.raises(ValueError, match="num_classes"):
        TwoStageDetector(0, image_size=(64, 64))
    model = TwoStageDetector(2, image_size=(64, 64), backbone="tiny", channels=(8, 16, 32))
    with pytest.raises(ValueError, match="inputs"):
        model(torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match="images"):
        model.predict(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match="score_threshold"):
        model.predict(torch.zeros(1, 1, 64, 64), score_threshold=2.0)
    for weights in ("NO_SUCH_WEIGHTS", True, 1):  # never fetched or dropped on a guess
        with pytest.raises(ValueError, match=r"weights_backbone must be None or one of \("):
            TwoStageDetector(2, image_size=(64, 64), backbone="resnet18",
                             weights_backbone=weights)
    with pytest.raises(ValueError, match="weights_backbone must be None with backbone='tiny'"):
        TwoStageDetector(2, image_size=(64, 64), backbone="tiny", channels=(8, 16, 32),
                         weights_backbone="DEFAULT")


def test_known_weights_offline_warn_and_fall_back(monkeypatch):
    """Only a failed fetch of a known weights name warns and trains from random weights (the
    loader is patched to fail as it does offline: nothing is downloaded)."""
    from urllib.error import URLError

    from torchvision.models._api import WeightsEnum

    from dentpy.detect import YOLODetector

    def offline(self, *args, **kwargs):
        raise URLError("no network (patched)")

    monkeypatch.setattr(WeightsEnum, "get_state_dict", offline)
    with pytest.warns(RuntimeWarning, match="weights_backbone='DEFAULT' could not be fetched"):
        net = TwoStageDetector(2, image_size=(64, 64), backbone="resnet18",
                               weights_backbone="DEFAULT")
    assert net.net.backbone.body.conv1.in_channels == 1
    assert net.net.backbone.body.bn1.__class__ is torch.nn.BatchNorm2d  # trained from scratch
    with pytest.warns(RuntimeWarning, match="weights='IMAGENET1K_V1' could not be fetched"):
        YOLODetector(2, [[16.0, 16.0]], backbone="resnet18", weights="IMAGENET1K_V1")
