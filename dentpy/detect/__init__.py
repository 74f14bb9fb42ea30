"""Object detection: boxes, NMS, anchors, a one-stage (YOLO-style) and a two-stage detector,
their losses, decoding and mAP.

``boxes`` (formats, IoU, GIoU), ``nms`` (greedy and class-aware NMS), ``anchors`` (k-means
anchors, grid centres), ``model`` (YOLODetector), ``loss`` (assignment and loss), ``decode``
(raw output to detections), ``evaluate`` (AP, mAP@0.5, mAP@0.5:0.95, PR curves, the
pycocotools check, bootstrap intervals over images), ``dental`` (FDI error kinds,
label-free matching, one box per tooth number) and ``two_stage`` (torchvision's Faster
R-CNN in the same call shape).
"""

from dentpy.detect.anchors import grid_centres, kmeans_anchors, mean_best_iou, wh_iou
from dentpy.detect.boxes import (
    BOX_FORMATS,
    aligned_box_iou,
    aligned_generalized_box_iou,
    box_area,
    box_convert,
    box_iou,
    check_boxes,
    generalized_box_iou,
)
from dentpy.detect.decode import decode, decode_boxes
from dentpy.detect.dental import (
    FDI_ERROR_KINDS,
    assign_to_boxes,
    best_per_class,
    fdi_error_kind,
    match_detections,
)
from dentpy.detect.evaluate import (
    COCO_IOU_THRESHOLDS,
    average_precision,
    bootstrap_map,
    coco_evaluate,
    mean_average_precision,
    precision_recall_curve,
)
from dentpy.detect.loss import Assignment, DetectionLoss, assign_targets, detection_loss
from dentpy.detect.model import YOLODetector
from dentpy.detect.nms import batched_nms, nms
from dentpy.detect.two_stage import TwoStageDetector, TwoStageLoss, two_stage_collate

__all__ = [
    "BOX_FORMATS", "COCO_IOU_THRESHOLDS", "FDI_ERROR_KINDS", "Assignment", "DetectionLoss",
    "TwoStageDetector", "TwoStageLoss", "YOLODetector", "aligned_box_iou",
    "aligned_generalized_box_iou", "assign_targets", "assign_to_boxes", "average_precision",
    "batched_nms", "best_per_class", "bootstrap_map", "box_area", "box_convert", "box_iou",
    "check_boxes", "coco_evaluate", "decode", "decode_boxes", "detection_loss", "fdi_error_kind",
    "generalized_box_iou", "grid_centres", "kmeans_anchors", "match_detections",
    "mean_average_precision", "mean_best_iou", "nms", "precision_recall_curve",
    "two_stage_collate", "wh_iou",
]
