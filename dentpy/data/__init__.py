"""Dental imaging data: the synthetic world, real-format I/O, datasets, splits and fetching."""

from dentpy.data import synthetic
from dentpy.data.datasets import (
    DetectionDataset,
    OsteoporosisDataset,
    RestorationDataset,
    RoIDataset,
    SegmentationDataset,
    VolumeDataset,
    detection_collate,
    restoration_boxes,
)
from dentpy.data.fetch import DatasetEntry, fetch, list_datasets
from dentpy.data.folder import ImageFolderCSV
from dentpy.data.io import (
    read_coco,
    read_dicom,
    read_image,
    read_labels_csv,
    read_nifti,
    write_coco,
    write_image,
    write_labels_csv,
    write_nifti,
)
from dentpy.data.splits import balanced_holdout, check_leakage, kfold, train_val_test_split

__all__ = [
    "DatasetEntry", "ImageFolderCSV", "balanced_holdout", "check_leakage", "fetch", "kfold",
    "list_datasets", "read_coco", "read_dicom", "read_image", "read_labels_csv", "read_nifti",
    "train_val_test_split", "write_coco", "write_image", "write_labels_csv", "write_nifti",
]
__all__ += [
    "DetectionDataset", "OsteoporosisDataset", "RestorationDataset", "RoIDataset",
    "SegmentationDataset", "VolumeDataset", "detection_collate", "restoration_boxes", "synthetic",
]
