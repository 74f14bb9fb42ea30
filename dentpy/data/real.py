"""What the readers of public panoramic sets share: where each set is published, the layout
error, and turning a radiograph and its annotations into the synthetic world's item form.

An item is a dict like :class:`dentpy.data.DetectionDataset`'s: ``image`` (1, H, W) float32
in [0, 1], ``boxes`` (N, 4) float32 xyxy pixels, ``labels`` and ``fdi`` (N,) int64,
``restoration`` (N,) bool (always False: neither set marks restorations), plus ``box`` (4,)
float32, the dental region (as :class:`dentpy.data.RoIDataset`), ``index``, ``image_id`` and
``patient_id`` (str), and what the set adds (masks, diagnoses).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dentpy import _checks
from dentpy.data.datasets import fdi_to_class

__all__ = ["PUBLISHED", "LayoutError", "PublishedSet", "open_public", "which_set"]

Transform = Callable[[dict], dict]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class PublishedSet:
    """Where a public set is published and how the reader expects it unpacked."""

    name: str
    homepage: str
    licence: str
    how: str  # how to obtain it
    layout: str  # the folder tree the reader expects


PUBLISHED = {
    "dentex": PublishedSet(
        name="DENTEX (MICCAI 2023 challenge)",
        homepage="https://zenodo.org/records/7812323 "
        "(mirror: https://huggingface.co/datasets/ibrahimhamamci/DENTEX)",
        licence="CC BY-NC-SA 4.0 (non-commercial, share alike, cite the challenge paper)",
        how="download training_data.zip from the Zenodo record (no registration) and unzip it",
        layout=(
            "DIR/ (any depth below it)\n"
            "  quadrant/xrays/*.png + train_quadrant.json\n"
            "  quadrant_enumeration/xrays/*.png + train_quadrant_enumeration.json\n"
            "  quadrant_enumeration_disease/xrays/*.png + train_quadrant_enumeration_disease.json\n"
            "(folder names may use - or _; each JSON is COCO-style with category_id_1 "
            "(quadrant), category_id_2 (tooth) and category_id_3 (diagnosis))"
        ),
    ),
    "tufts": PublishedSet(
        name="Tufts Dental Database",
        homepage="http://tdd.ece.tufts.edu/",
        licence="research and teaching use after accepting the database's terms (registration)",
        how="request access on the homepage, download the archive and unzip it",
        layout=(
            "DIR/\n"
            "  Radiographs/<id>.jpg\n"
            "  Segmentation/teeth_bbox.json (list of {'External ID', 'Label': {'objects': "
            "[{'title': Universal code, 'bounding box': [x_min, y_min, x_max, y_max]}]}})\n"
            "  Segmentation/teeth_mask/<id>.jpg (optional)\n"
            "  Segmentation/maxillomandibular/<id>.jpg (optional)"
        ),
    ),
}


class LayoutError(ValueError):
    """A data folder that is missing, partial or laid out differently from the published set."""

    def __init__(self, key: str, root: Path, problem: str) -> None:
        published = PUBLISHED[key]
        super().__init__(
            f"{problem}\nin {str(root)!r}, read as the {published.name}.\n"
            f"Expected layout:\n{published.layout}\n"
            f"The set is published at {published.homepage} ({published.licence}); "
            f"`python data_scripts/fetch_public.py --how {key}` says how to get it and "
            f"`--check {key} DIR` checks a folder without changing it."
        )


def find_images(folder: Path) -> dict[str, Path]:
    """Image files of ``folder`` by lower-case stem (``'12'`` for ``12.JPG``)."""
    if not folder.is_dir():
        return {}
    return {
        p.stem.lower(): p for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    }


def gray_float(image: np.ndarray) -> torch.Tensor:
    """A radiograph as read (H, W) or (H, W, 3), uint8/uint16, as (1, H, W) float32 in [0, 1]."""
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    values = image.astype(np.float32) / np.float32(scale)
    if values.ndim == 3:
        values = values.mean(axis=2)
    return torch.from_numpy(np.ascontiguousarray(values))[None]


def binary_mask(image: np.ndarray) -> torch.Tensor:
    """A mask image (JPEG masks are lossy, so thresholded at half range) as (1, H, W) float32."""
    return (gray_float(image) >= 0.5).float()


def extent(boxes: torch.Tensor) -> torch.Tensor:
    """The box (4,) around all ``boxes`` (N, 4), or NaNs when there are none."""
    if len(boxes) == 0:
        return torch.full((4,), float("nan"))
    return torch.cat([boxes[:, :2].min(0).values, boxes[:, 2:].max(0).values])


def mask_box(mask: torch.Tensor) -> torch.Tensor:
    """The xyxy box (4,) float32 around the non-zero pixels of a (1, H, W) mask (NaNs if none)."""
    ys, xs = torch.nonzero(mask[0], as_tuple=True)
    if len(xs) == 0:
        return torch.full((4,), float("nan"))
    return torch.stack([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]).float()


def check_size(size: Sequence[int] | None) -> tuple[int, int] | None:
    """``size`` (H, W) in pixels, or None to keep each image's own size."""
    if size is None:
        return None
    return _checks.integer_pair("size", size, low=16)


def resize(item: dict, size: tuple[int, int] | None, masks: Sequence[str]) -> dict:
    """Resize ``image`` (bilinear) and the named masks (nearest) to ``size``; scale the boxes."""
    if size is None:
        return item
    height, width = item["image"].shape[-2:]
    sy, sx = size[0] / height, size[1] / width
    item["image"] = F.interpolate(item["image"][None], size=size, mode="bilinear",
                                  align_corners=False, antialias=True)[0]
    for key in masks:
        item[key] = F.interpolate(item[key][None], size=size, mode="nearest")[0]
    scale = torch.tensor([sx, sy, sx, sy])
    item["boxes"] = item["boxes"] * scale
    item["box"] = item["box"] * scale
    return item


def detection_labels(fdi: torch.Tensor, labels: str) -> torch.Tensor:
    """``labels="fdi"``: the FDI numbers; ``"class"``: classes 1..32 (permanent teeth only)."""
    if labels == "fdi":
        return fdi.clone()
    return fdi_to_class(fdi) if len(fdi) else fdi.clone()


def which_set(root: str | Path) -> str:
    """``"tufts"`` or ``"dentex"``: which published set the folder ``root`` holds, by layout."""
    root = _checks.existing_path("root", root, kind="dir")
    if (root / "Radiographs").is_dir():
        return "tufts"
    if next(root.rglob("train_quadrant*.json"), None) is not None:
        return "dentex"
    raise _checks.ArgumentError(
        f"root {str(root)!r} holds neither the Tufts Dental Database (Radiographs/) nor DENTEX "
        "(train_quadrant*.json); `python data_scripts/fetch_public.py --how` shows both layouts")


def open_public(root: str | Path, **options) -> torch.utils.data.Dataset:
    """The reader of the set in ``root`` (:class:`~dentpy.data.tufts.TuftsDataset` or
    :class:`~dentpy.data.dentex.DentexDataset`, told apart by :func:`which_set`), built with
    ``options`` (``size``, ``labels``, ``transform``; ``subset`` for DENTEX, ``teeth`` for
    Tufts)."""
    key = which_set(root)
    if key == "tufts":
        from dentpy.data.tufts import TuftsDataset

        return TuftsDataset(root, **options)
    from dentpy.data.dentex import DentexDataset

    return DentexDataset(root, **options)
