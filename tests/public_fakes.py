"""Tiny fakes of DENTEX and the Tufts Dental Database in their published layouts.

They hold a few small synthetic panoramics (from the course's generator) with the world's own
tooth boxes written in each set's format and numbering, so a reader that converts back must
find the generator's FDI numbers and boxes again.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dentpy.data.io import write_image
from dentpy.data.numbering import fdi_to_dentex, fdi_to_universal
from dentpy.data.synthetic import make_panoramic

SIZE = (128, 256)


def samples(n: int, seed: int = 0) -> list:
    """The synthetic panoramics the fakes are written from."""
    return [make_panoramic(i, seed=seed, size=SIZE) for i in range(n)]


def _uint8(sample) -> np.ndarray:
    return np.round(255 * sample.image / sample.max_value).astype(np.uint8)


def write_dentex(root: Path, n: int = 4, *, folder: str = "quadrant_enumeration",
                 subset: str = "enumeration", one_based: bool = False) -> list:
    """A DENTEX set under ``root/training_data/<folder>``: xrays/*.png and its COCO JSON.

    ``one_based``: number categories from 1 (a layout some re-exports use) instead of 0.
    """
    names = {"quadrant": "train_quadrant.json", "enumeration": "train_quadrant_enumeration.json",
             "disease": "train_quadrant_enumeration_disease.json"}
    base = root / "training_data" / folder
    (base / "xrays").mkdir(parents=True, exist_ok=True)
    shift = 1 if one_based else 0
    images, annotations, made = [], [], samples(n)
    for i, s in enumerate(made):
        write_image(base / "xrays" / f"train_{i}.png", _uint8(s))
        images.append({"id": i + 1, "file_name": f"train_{i}.png", "height": SIZE[0],
                       "width": SIZE[1]})
        q, t = fdi_to_dentex(s.tooth_fdi)
        for k, (x0, y0, x1, y1) in enumerate(s.tooth_boxes.tolist()):
            ann = {"id": len(annotations) + 1, "image_id": i + 1, "iscrowd": 0,
                   "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0),
                   "category_id_1": int(q[k]) + shift, "category_id_2": int(t[k]) + shift}
            if subset == "disease":
                ann["category_id_3"] = k % 4
            annotations.append(ann)
    coco = {"images": images, "annotations": annotations,
            "categories_1": [{"id": j + shift, "name": str(j + 1)} for j in range(4)],
            "categories_2": [{"id": j + shift, "name": str(j + 1)} for j in range(8)]}
    if subset == "disease":
        coco["categories_3"] = [{"id": j, "name": d} for j, d in
                                enumerate(("Impacted", "Caries", "Periapical Lesion",
                                           "Deep Caries"))]
    (base / names[subset]).write_text(json.dumps(coco))
    return made


def write_tufts(root: Path, n: int = 4) -> list:
    """A Tufts folder: Radiographs/<id>.JPG, Segmentation/teeth_bbox.json and both mask folders
    (masks as JPEGs, as published)."""
    for sub in ("Radiographs", "Segmentation/teeth_mask", "Segmentation/maxillomandibular"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rows, made = [], samples(n)
    for i, s in enumerate(made, start=1):
        write_image(root / "Radiographs" / f"{i}.JPG", _uint8(s))
        write_image(root / "Segmentation" / "teeth_mask" / f"{i}.jpg",
                    (255 * (s.tooth_mask > 0)).astype(np.uint8))
        x0, y0, x1, y1 = (int(round(v)) for v in s.roi_box)
        region = np.zeros(SIZE, np.uint8)
        region[y0:y1, x0:x1] = 255
        write_image(root / "Segmentation" / "maxillomandibular" / f"{i}.jpg", region)
        objects = [{"title": code, "bounding box": box} for code, box in
                   zip(fdi_to_universal(s.tooth_fdi), s.tooth_boxes.tolist(), strict=True)]
        rows.append({"External ID": f"{i}.jpg", "Label": {"objects": objects}})
    (root / "Segmentation" / "teeth_bbox.json").write_text(json.dumps(rows))
    return made
