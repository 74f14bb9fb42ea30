"""Object detection, YOLO style: boxes, NMS, anchors, a one-stage detector, its loss, decoding
and mAP.

``boxes`` (formats, IoU, GIoU), ``nms`` (greedy and class-aware NMS), ``anchors`` (k-means
anchors, grid centres), ``model`` (YOLODetector), ``loss`` (assignment and loss), ``decode``
(raw output to detections) and ``evaluate`` (AP, mAP@0.5, mAP@0.5:0.95, PR curves).
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
from dentpy.detect.evaluate import (
    COCO_IOU_THRESHOLDS,
    average_precision,
    mean_average_precision,
    precision_recall_curve,
)
from dentpy.detect.loss import Assignment, DetectionLoss, assign_targets, detection_loss
from dentpy.detect.model import YOLODetector
from dentpy.detect.nms import batched_nms, nms

__all__ = [
    "BOX_FORMATS", "COCO_IOU_THRESHOLDS", "Assignment", "DetectionLoss", "YOLODetector",
    "aligned_box_iou", "aligned_generalized_box_iou", "assign_targets", "average_precision",
    "batched_nms", "box_area", "box_convert", "box_iou", "check_boxes", "decode",
    "decode_boxes", "detection_loss", "generalized_box_iou", "grid_centres", "kmeans_anchors",
    "mean_average_precision", "mean_best_iou", "nms", "precision_recall_curve", "wh_iou",
]
