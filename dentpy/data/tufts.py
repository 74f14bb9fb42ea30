"""The Tufts Dental Database: 1000 panoramic radiographs with teeth boxes in the Universal
numbering, teeth masks and maxillomandibular (dental region) masks, read from the folder a
student unpacked, as items of the synthetic world's form (:mod:`dentpy.data.real`).

Quirks handled here: teeth are named by Universal codes (``"1"``–``"32"``, letters ``"A"``–``"T"``
for primary teeth), converted to FDI; boxes are ``[x_min, y_min, x_max, y_max]`` (not COCO's
``[x, y, w, h]``); masks are JPEGs, so they are thresholded rather than read as exact 0/1;
file names are matched by stem whatever the case of their suffix (``1.JPG`` and ``1.jpg``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from dentpy import _checks
from dentpy.data.io import read_image
from dentpy.data.numbering import universal_to_fdi
from dentpy.data.real import (
    LayoutError,
    Transform,
    binary_mask,
    check_size,
    detection_labels,
    extent,
    find_images,
    gray_float,
    mask_box,
    resize,
)

__all__ = ["TuftsDataset"]


class TuftsDataset(Dataset):
    """Tufts panoramics as detection items with FDI numbers, masks and the dental region.

    ``root``: the unpacked folder (``Radiographs/`` and ``Segmentation/``). ``teeth``:
    ``"permanent"`` (default: the primary teeth of children's radiographs are left out, as the
    synthetic world has none) or ``"all"``. ``labels``: ``"fdi"`` or ``"class"`` (1..32,
    permanent teeth only). ``size``: (H, W) to resize to, or None. Items add ``mask`` (1, H, W)
    teeth and ``region`` (1, H, W) maxillomandibular masks when the folder has them, and ``box``,
    the dental region: the extent of ``region`` when there is one, else of the teeth boxes. Each
    radiograph comes from a different patient, so ``patient_id`` is the image's stem.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        teeth: str = "permanent",
        labels: str = "fdi",
        size: Sequence[int] | None = None,
        transform: Transform | None = None,
    ) -> None:
        self.root = _checks.existing_path("root", root, kind="dir")
        self.teeth = _checks.choice("teeth", teeth, ("permanent", "all"))
        self.labels = _checks.choice("labels", labels, ("fdi", "class"))
        if labels == "class" and teeth == "all":
            raise _checks.ArgumentError("labels='class' covers permanent teeth only; use "
                                        "teeth='permanent' or labels='fdi'")
        self.size = check_size(size)
        if transform is not None and not callable(transform):
            _checks.fail("transform", "a callable or None", transform, wrong_type=True)
        self.transform = transform
        images = find_images(self.root / "Radiographs")
        if not images:
            raise LayoutError("tufts", self.root, "no radiographs in Radiographs/")
        boxes_path = self.root / "Segmentation" / "teeth_bbox.json"
        if not boxes_path.is_file():
            raise LayoutError("tufts", self.root, "no Segmentation/teeth_bbox.json")
        self._masks = find_images(self.root / "Segmentation" / "teeth_mask")
        self._regions = find_images(self.root / "Segmentation" / "maxillomandibular")
        self._records = self._read(boxes_path, images)
        self.image_ids = [r["image_id"] for r in self._records]
        self.patient_ids = list(self.image_ids)

    def _read(self, path: Path, images: dict[str, Path]) -> list[dict]:
        try:
            rows = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise ValueError(f"{path} is not readable JSON: {err}") from err
        if not isinstance(rows, list):
            raise ValueError(f"{path} must hold a list of images, got {type(rows).__name__}")
        records = []
        for row in rows:
            try:
                name, objects = row["External ID"], row["Label"]["objects"]
                codes = [o["title"] for o in objects]
                boxes = np.asarray([o["bounding box"] for o in objects], np.float32).reshape(-1, 4)
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"{path}: each entry needs 'External ID' and 'Label': "
                                 f"{{'objects': [{{'title', 'bounding box'}}]}}; {err!r} in "
                                 f"{str(row)[:120]}") from err
            stem = Path(str(name)).stem.lower()
            if stem not in images:
                raise LayoutError("tufts", self.root, f"{path.name} lists {name!r}, not found "
                                  "in Radiographs/")
            try:
                fdi = universal_to_fdi(codes)
            except ValueError as err:
                raise ValueError(f"{path}, {name}: {err}") from err
            if len(boxes) and (not np.isfinite(boxes).all()
                               or (boxes[:, 2:] <= boxes[:, :2]).any()):
                raise ValueError(f"{path}, {name}: boxes must be [x_min, y_min, x_max, y_max] "
                                 "with x_max > x_min and y_max > y_min")
            if self.teeth == "permanent":
                keep = fdi < 50
                fdi, boxes = fdi[keep], boxes[keep]
            records.append({"image_id": images[stem].stem, "path": images[stem],
                            "boxes": boxes, "fdi": fdi, "stem": stem})
        if not records:
            raise LayoutError("tufts", self.root, f"{path.name} lists no images")
        return records

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> dict:
        index = _checks.item_index("index", index, len(self))
        record = self._records[index]
        image = gray_float(read_image(record["path"]))
        boxes, fdi = torch.from_numpy(record["boxes"].copy()), torch.from_numpy(record["fdi"])
        item = {"image": image, "boxes": boxes, "fdi": fdi,
                "labels": detection_labels(fdi, self.labels),
                "restoration": torch.zeros(len(fdi), dtype=torch.bool), "index": index,
                "image_id": record["image_id"], "patient_id": record["image_id"]}
        masks = []
        for key, found in (("mask", self._masks), ("region", self._regions)):
            if record["stem"] in found:
                item[key] = binary_mask(read_image(found[record["stem"]]))
                if item[key].shape[-2:] != image.shape[-2:]:
                    raise ValueError(f"{found[record['stem']]} is {tuple(item[key].shape[-2:])}"
                                     f", its radiograph {tuple(image.shape[-2:])}")
                masks.append(key)
        item["box"] = mask_box(item["region"]) if "region" in item else extent(boxes)
        item = resize(item, self.size, masks=masks)
        return self.transform(item) if self.transform is not None else item
