"""DENTEX (MICCAI 2023): panoramic radiographs with teeth boxes in FDI numbering, read from
the folder a student unpacked, as items of the synthetic world's form (:mod:`dentpy.data.real`).

DENTEX comes as three COCO-style sets of the same kind of image: ``quadrant`` (a box per
quadrant), ``enumeration`` (a box per tooth, quadrant and tooth number) and ``disease`` (a
box per *abnormal* tooth only, with its diagnosis). Each annotation carries
``category_id_1`` (quadrant), ``category_id_2`` (tooth in the quadrant) and, in the third set,
``category_id_3`` (diagnosis); the ``categories_*`` lists name them. The ids are read through
those names, so a set numbered from 0 (as DENTEX is) or from 1 reads the same; without the
lists, ids are taken as DENTEX's 0-based indices and checked.
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
from dentpy.data.real import (
    LayoutError,
    Transform,
    check_size,
    detection_labels,
    extent,
    find_images,
    gray_float,
    resize,
)

__all__ = ["DIAGNOSES", "DentexDataset"]

SUBSETS = {
    "quadrant": "train_quadrant.json",
    "enumeration": "train_quadrant_enumeration.json",
    "disease": "train_quadrant_enumeration_disease.json",
}
#: DENTEX's diagnoses in the order of their 0-based ``category_id_3``.
DIAGNOSES = ("Impacted", "Caries", "Periapical Lesion", "Deep Caries")


def _find(root: Path, subset: str) -> tuple[Path, Path]:
    """The subset's JSON file and the folder of its images."""
    name = SUBSETS[subset]
    found = sorted(root.rglob(name))
    if not found:
        raise LayoutError("dentex", root, f"no {name} (the {subset!r} set) below the folder")
    if len(found) > 1:
        raise LayoutError("dentex", root, f"{len(found)} copies of {name}: "
                          f"{[str(p) for p in found]}; point at one of their folders")
    json_path = found[0]
    for folder in (json_path.parent / "xrays", json_path.parent):
        if find_images(folder):
            return json_path, folder
    raise LayoutError("dentex", root, f"no images next to {json_path} (nor in its xrays/)")


def _category_numbers(coco: dict, key: str, low: int, high: int, path: Path) -> dict[int, int]:
    """Map the category ids of ``categories_<key>`` to the numbers their names give.

    DENTEX names quadrants "1".."4" and teeth "1".."8"; without the list the ids are DENTEX's
    0-based indices.
    """
    listed = coco.get(f"categories_{key}")
    if listed is None:
        return {i: i + 1 for i in range(low - 1, high)}
    try:
        return {int(c["id"]): int(c["name"]) for c in listed}
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: categories_{key} must list {{'id', 'name'}} with numeric "
                         f"names, got {listed[:3]!r}...") from err


class DentexDataset(Dataset):
    """The DENTEX panoramics of one set, as detection items with FDI numbers.

    ``root``: the unpacked folder (searched below for the set's JSON file). ``subset``:
    ``"enumeration"`` (every tooth; the default), ``"disease"`` (abnormal teeth, with
    ``diagnosis`` (N,) int64, an index into :data:`DIAGNOSES`) or ``"quadrant"`` (a box per
    quadrant: ``labels`` and ``quadrant`` hold 1..4, and there is no ``fdi``). ``labels``:
    ``"fdi"`` or ``"class"`` (1..32, torchvision's convention). ``size``: (H, W) to resize to,
    or None. ``box`` is the extent of the item's boxes (the dental region's estimate for DAC).
    DENTEX gives no patient identifier; each radiograph is taken as its own patient
    (``patient_id`` = the file's stem), which is what the challenge's own splits assume.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        subset: str = "enumeration",
        labels: str = "fdi",
        size: Sequence[int] | None = None,
        transform: Transform | None = None,
    ) -> None:
        root = _checks.existing_path("root", root, kind="dir")
        self.subset = _checks.choice("subset", subset, tuple(SUBSETS))
        self.labels = _checks.choice("labels", labels, ("fdi", "class"))
        if subset == "quadrant" and labels != "fdi":
            raise _checks.ArgumentError("labels must be 'fdi' for subset='quadrant' (the "
                                        "labels are then the quadrants 1..4)")
        self.size = check_size(size)
        if transform is not None and not callable(transform):
            _checks.fail("transform", "a callable or None", transform, wrong_type=True)
        self.transform = transform
        self.json_path, self.image_dir = _find(root, subset)
        self._records = self._read(self.json_path, find_images(self.image_dir))
        self.image_ids = [r["image_id"] for r in self._records]
        self.patient_ids = list(self.image_ids)

    def _read(self, path: Path, images: dict[str, Path]) -> list[dict]:
        try:
            coco = json.loads(path.read_text())
            entries, annotations = coco["images"], coco["annotations"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path} is not a DENTEX COCO file (images, annotations): {err}") \
                from err
        quadrants = _category_numbers(coco, "1", 1, 4, path)
        teeth = _category_numbers(coco, "2", 1, 8, path)
        by_image: dict[int, list[dict]] = {}
        for ann in annotations:
            by_image.setdefault(ann.get("image_id"), []).append(ann)
        records = []
        for entry in entries:
            stem = Path(str(entry.get("file_name", ""))).stem.lower()
            if stem not in images:
                raise LayoutError("dentex", path.parent,
                                  f"{path.name} lists {entry.get('file_name')!r}, not found "
                                  f"in {self.image_dir}")
            anns = by_image.get(entry.get("id"), [])
            records.append({"image_id": images[stem].stem, "path": images[stem],
                            **self._boxes(anns, quadrants, teeth, path)})
        if not records:
            raise LayoutError("dentex", path.parent, f"{path.name} lists no images")
        return records

    def _boxes(self, anns: list[dict], quadrants: dict, teeth: dict, path: Path) -> dict:
        """Boxes (COCO x, y, w, h → xyxy), FDI numbers (or quadrants) and diagnoses."""
        boxes = np.asarray([a["bbox"] for a in anns], dtype=np.float32).reshape(-1, 4)
        if len(boxes) and (not np.isfinite(boxes).all() or (boxes[:, 2:] <= 0).any()):
            raise ValueError(f"{path}: a bbox has a non-finite or non-positive width/height")
        boxes[:, 2:] += boxes[:, :2]
        try:
            q = np.asarray([quadrants[a["category_id_1"]] for a in anns], dtype=np.int64)
            out = {"boxes": boxes, "quadrant": q}
            if self.subset != "quadrant":
                t = np.asarray([teeth[a["category_id_2"]] for a in anns], dtype=np.int64)
                out["fdi"] = 10 * q + t
            if self.subset == "disease":
                out["diagnosis"] = np.asarray([a["category_id_3"] for a in anns], np.int64)
        except KeyError as err:
            raise ValueError(f"{path}: an annotation has a missing or unknown category "
                             f"{err} (quadrants {sorted(quadrants)}, teeth {sorted(teeth)})") \
                from err
        if q.size and not np.isin(q, (1, 2, 3, 4)).all():
            raise ValueError(f"{path}: quadrants must be 1..4 after numbering, got "
                             f"{sorted(set(q.tolist()))}")
        if "fdi" in out and out["fdi"].size and not np.isin(out["fdi"] % 10, range(1, 9)).all():
            raise ValueError(f"{path}: tooth numbers must be 1..8 after numbering")
        if "diagnosis" in out and out["diagnosis"].size and not np.isin(
                out["diagnosis"], range(len(DIAGNOSES))).all():
            raise ValueError(f"{path}: category_id_3 must be 0..3 ({DIAGNOSES})")
        return out

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> dict:
        index = _checks.item_index("index", index, len(self))
        record = self._records[index]
        boxes = torch.from_numpy(record["boxes"].copy())
        item = {"image": gray_float(read_image(record["path"])), "boxes": boxes,
                "box": extent(boxes), "index": index, "image_id": record["image_id"],
                "patient_id": record["image_id"]}
        if self.subset == "quadrant":
            item["quadrant"] = torch.from_numpy(record["quadrant"])
            item["labels"] = item["quadrant"].clone()
        else:
            fdi = torch.from_numpy(record["fdi"])
            item |= {"fdi": fdi, "labels": detection_labels(fdi, self.labels),
                     "restoration": torch.zeros(len(fdi), dtype=torch.bool)}
        if self.subset == "disease":
            item["diagnosis"] = torch.from_numpy(record["diagnosis"])
        item = resize(item, self.size, masks=())
        return self.transform(item) if self.transform is not None else item
