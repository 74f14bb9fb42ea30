"""Reading and writing the file formats real dental datasets use.

Images: PNG (8/16-bit grayscale, 8-bit RGB) and JPEG (8-bit) with Pillow. Radiographs and
scans: DICOM with pydicom (rescaled to physical units), NIfTI with nibabel (the affine is kept,
so orientation survives a round trip). Annotations: COCO JSON boxes (``[x, y, w, h]`` on disk,
``[x1, y1, x2, y2]`` in memory, the torchvision convention) and CSV label tables.

Every writer is atomic: it writes a temporary file in the target's folder and moves it into
place only once complete, so a crash never leaves half a file; and it refuses to replace an
existing file unless ``overwrite=True``.

Bad arguments raise errors that name the argument (see :mod:`dentpy._checks`). A missing input
file raises an error that is both a ``FileNotFoundError`` and a ``ValueError``; a target that
exists without ``overwrite=True``, both a ``FileExistsError`` and a ``ValueError``. A file that
exists but cannot be read (corrupt, another format) raises ``ValueError`` naming the path.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dentpy import _checks
from dentpy._checks import (
    ArgumentError,
    ArgumentTypeError,
    ExistingPathError,
    MissingPathError,
    describe,
)

IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
NIFTI_SUFFIXES = (".nii", ".nii.gz")
_NIFTI_MAX_NDIM = 7  # the NIfTI-1 header holds at most 7 dimensions


def _path(name: str, value: object) -> Path:
    """``value`` as a ``Path``; ``None``, numbers and empty strings raise naming ``name``."""
    if not isinstance(value, str | os.PathLike) or str(value) == "":
        raise ArgumentTypeError(f"{name} must be a path (str or os.PathLike), got "
                                f"{describe(value)}")
    return Path(value)


def _existing(path: object, name: str = "path") -> Path:
    """An existing file: a missing one raises :class:`MissingPathError`, a folder
    :class:`ArgumentError`."""
    path = _path(name, path)
    if path.is_dir():
        raise ArgumentError(f"{name} must be a file, got the directory {str(path)!r}")
    if not path.is_file():
        raise MissingPathError(f"{name}: no such file: {str(path)!r}")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it to ``path`` atomically.

    The temporary name ends with the target's name (so writers that pick a format from the
    suffix still work). Without ``overwrite`` an existing ``path`` raises ``FileExistsError``,
    checked before writing and again (without a race, by hard link) when moving into place.
    On any error the temporary file is removed and ``path`` is left as it was.
    """
    target = _checks.output_path("path", _path("path", path), kind="file")
    overwrite = _checks.flag("overwrite", overwrite)
    if not target.parent.is_dir():
        raise MissingPathError(f"path: folder {str(target.parent)!r} does not exist; create it "
                               "first")
    if target.exists() and not overwrite:
        raise ExistingPathError(f"path {str(target)!r} exists; pass overwrite=True to replace "
                                 "it")
    temporary = target.parent / f".tmp-{secrets.token_hex(4)}-{target.name}"
    try:
        yield temporary
        if not temporary.is_file():
            raise RuntimeError(f"the writer produced no file for {str(target)!r}")
        if overwrite:
            os.replace(temporary, target)
            return
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise ExistingPathError(
                f"path {str(target)!r} appeared while writing; pass overwrite=True to replace "
                "it"
            ) from None
        except OSError:  # no hard links on this file system: check, then rename
            if target.exists():
                raise ExistingPathError(f"path {str(target)!r} exists; pass overwrite=True") \
                    from None
            os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _suffix(path: Path, allowed: Sequence[str], what: str) -> str:
    name = path.name.lower()
    for suffix in sorted(allowed, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise ArgumentError(f"path {str(path)!r} must end with one of {tuple(allowed)} for {what}")


# ----------------------------------------------------------------------------- PNG and JPEG
def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a PNG or JPEG as stored: (H, W) uint8 or uint16 grayscale, or (H, W, 3) uint8 RGB.

    Palette and 1-bit images become uint8; an alpha channel is dropped.
    """
    from PIL import Image

    path = _existing(path)
    _suffix(path, tuple(IMAGE_SUFFIXES), "an image")
    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            if mode in ("1", "LA"):
                image, mode = image.convert("L"), "L"
            elif mode in ("P", "PA", "RGBA", "CMYK", "YCbCr"):
                image, mode = image.convert("RGB"), "RGB"
            array = np.asarray(image)
    except Exception as error:  # Pillow raises many types for broken files
        raise ValueError(f"{str(path)!r} is not a readable PNG/JPEG image: {error}") from error
    if mode.startswith("I;16"):
        return array.astype(np.uint16)
    if mode in ("L", "RGB"):
        return array.astype(np.uint8, copy=False)
    raise ValueError(f"{str(path)!r} has image mode {mode!r}; expected grayscale or RGB")


def write_image(
    path: str | os.PathLike,
    image: np.ndarray,
    *,
    overwrite: bool = False,
    quality: int = 95,
) -> Path:
    """Write ``image`` to a PNG or JPEG file (chosen by the suffix) and return the path.

    ``image``: (H, W) uint8 or uint16, or (H, W, 3) uint8. Floats and bools are refused (scale
    and cast them first, e.g. ``(x * 255).round().astype(np.uint8)``): guessing a scale would
    silently change the data. JPEG is lossy and 8-bit only; ``quality`` is its 1–95 setting.
    """
    from PIL import Image

    path = _path("path", path)
    fmt = IMAGE_SUFFIXES[_suffix(path, tuple(IMAGE_SUFFIXES), "an image")]
    array = _checks.array("image", image, kind=None, finite=False, nonempty=False)
    if array.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"image must be uint8 or uint16, got dtype {array.dtype}; scale and cast it first, "
            "e.g. (x * 255).round().astype(np.uint8) for a float image in [0, 1]"
        )
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)):
        raise ValueError(f"image must have shape (H, W) or (H, W, 3), got {array.shape}")
    if array.size == 0:
        raise ValueError("image must not be empty")
    if array.ndim == 3 and array.dtype != np.uint8:
        raise ValueError("an RGB image must be uint8; 16-bit is supported for grayscale only")
    if fmt == "JPEG" and array.dtype != np.uint8:
        raise ValueError("JPEG holds 8-bit data only; write a uint16 image as PNG")
    quality = _checks.integer("quality", quality, low=1, high=95)
    options = {"quality": quality} if fmt == "JPEG" else {}
    pil = Image.fromarray(np.ascontiguousarray(array))
    with atomic_path(path, overwrite=overwrite) as temporary:
        pil.save(temporary, format=fmt, **options)
    return path


# ----------------------------------------------------------------------------- DICOM
@dataclass
class DicomImage:
    """A DICOM image in physical units.

    ``pixels``: float32 array, (H, W) or (frames, H, W), with RescaleSlope/Intercept applied
    (Hounsfield-like units for CT/CBCT; raw detector values otherwise). ``spacing``: (row, col)
    pixel spacing in mm from PixelSpacing, else ImagerPixelSpacing (projection radiographs),
    else ``None``. ``metadata``: a few identifying tags (missing ones absent). A MONOCHROME1
    image (bright = low value) is returned as stored; see ``metadata["PhotometricInterpretation"]``.
    """

    pixels: np.ndarray
    spacing: tuple[float, float] | None
    metadata: dict[str, object] = field(default_factory=dict)


DICOM_TAGS = (
    "Modality", "PatientID", "StudyDate", "SeriesDescription", "Manufacturer",
    "ManufacturerModelName", "Rows", "Columns", "BitsStored", "PhotometricInterpretation",
    "SOPInstanceUID", "RescaleSlope", "RescaleIntercept",
)


def read_dicom(path: str | os.PathLike) -> DicomImage:
    """Read one DICOM file into a :class:`DicomImage` (pixels rescaled, spacing, metadata)."""
    import pydicom

    path = _existing(path)
    try:
        dataset = pydicom.dcmread(path)
    except Exception as error:  # pydicom raises many types for broken files
        raise ValueError(f"{str(path)!r} is not a readable DICOM file: {error}") from error
    if "PixelData" not in dataset:
        raise ValueError(f"{str(path)!r} holds no pixel data (PixelData tag missing)")
    try:
        raw = dataset.pixel_array
    except Exception as error:  # pydicom raises many types for broken or compressed data
        raise ValueError(f"cannot decode the pixels of {str(path)!r}: {error}") from error
    slope = float(dataset.get("RescaleSlope", 1.0))
    intercept = float(dataset.get("RescaleIntercept", 0.0))
    pixels = raw.astype(np.float32) * np.float32(slope) + np.float32(intercept)
    spacing = None
    for tag in ("PixelSpacing", "ImagerPixelSpacing"):
        if tag in dataset:
            row, col = (float(v) for v in dataset[tag].value)
            spacing = (row, col)
            break
    metadata = {}
    for tag in DICOM_TAGS:
        if tag in dataset:
            value = dataset[tag].value
            if isinstance(value, float):  # DS values: plain floats, so JSON can hold them
                metadata[tag] = float(value)
            else:
                metadata[tag] = int(value) if isinstance(value, int) else str(value)
    return DicomImage(pixels=pixels, spacing=spacing, metadata=metadata)


# ----------------------------------------------------------------------------- NIfTI
@dataclass
class Volume:
    """A volume and where it sits: ``data`` (X, Y, Z[, ...]) in its stored dtype, and the 4×4
    ``affine`` from voxel indices to world millimetres (nibabel's RAS+ convention)."""

    data: np.ndarray
    affine: np.ndarray

    @property
    def spacing(self) -> tuple[float, ...]:
        """Voxel size along each axis, in mm."""
        return tuple(float(v) for v in np.sqrt((self.affine[:3, :3] ** 2).sum(axis=0)))

    @property
    def axcodes(self) -> tuple[str, ...]:
        """Anatomical direction each axis points to, e.g. ``('L', 'P', 'S')``."""
        import nibabel as nib

        return tuple(nib.aff2axcodes(self.affine))


def make_affine(
    spacing: Sequence[float],
    *,
    direction: np.ndarray | Sequence[Sequence[float]] | None = None,
    origin: Sequence[float] = (0.0, 0.0, 0.0),
) -> np.ndarray:
    """The 4×4 affine ``[[direction @ diag(spacing), origin], [0, 0, 0, 1]]``.

    ``spacing``: 3 positive voxel sizes in mm; ``direction``: a 3×3 orthonormal matrix whose
    columns are the axis directions (default identity); ``origin``: world position of voxel 0.
    """
    spacing = _checks.array("spacing", spacing, kind="number", finite=False, nonempty=False)
    spacing = spacing.astype(np.float64)
    if spacing.shape != (3,) or not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise ArgumentError(f"spacing must be 3 positive finite numbers, got {spacing.tolist()}")
    if direction is None:
        rotation = np.eye(3)
    else:
        rotation = _checks.array("direction", direction, kind="number", nonempty=False)
        rotation = rotation.astype(np.float64)
    if rotation.shape != (3, 3) or not np.allclose(rotation.T @ rotation, np.eye(3), atol=1e-6):
        raise ArgumentError(f"direction must be a 3x3 orthonormal matrix, got "
                            f"{describe(direction)}")
    origin = _checks.array("origin", origin, kind="number", finite=False, nonempty=False)
    origin = origin.astype(np.float64)
    if origin.shape != (3,) or not np.all(np.isfinite(origin)):
        raise ArgumentError(f"origin must be 3 finite numbers, got {origin.tolist()}")
    affine = np.eye(4)
    affine[:3, :3] = rotation * spacing
    affine[:3, 3] = origin
    return affine


def read_nifti(path: str | os.PathLike) -> Volume:
    """Read a ``.nii`` / ``.nii.gz`` file into a :class:`Volume` (data in the stored dtype,
    scaled by ``scl_slope``/``scl_inter`` when the header sets them, and the affine)."""
    import nibabel as nib

    path = _existing(path)
    _suffix(path, NIFTI_SUFFIXES, "a NIfTI volume")
    try:
        image = nib.load(path)
        data = np.asanyarray(image.dataobj)
    except Exception as error:  # nibabel raises many types for broken files
        raise ValueError(f"{str(path)!r} is not a readable NIfTI file: {error}") from error
    return Volume(data=np.asarray(data), affine=np.asarray(image.affine, dtype=np.float64))


def write_nifti(
    path: str | os.PathLike,
    data: np.ndarray,
    affine: np.ndarray,
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``data`` (3 to 7 dimensions, none of length 0; any integer dtype, float32 or
    float64) with its 4×4 ``affine``.

    The dtype is stored as is (no scaling), and both the qform and sform carry the affine, so
    ``read_nifti`` gives back the same array, dtype and orientation. NaN and inf in float data
    are stored as they are (NIfTI allows them, e.g. outside a brain mask).
    """
    import nibabel as nib

    path = _path("path", path)
    _suffix(path, NIFTI_SUFFIXES, "a NIfTI volume")
    array = _checks.array("data", data, kind=None, finite=False, nonempty=False)
    if not 3 <= array.ndim <= _NIFTI_MAX_NDIM:
        raise ArgumentError(f"data must have at least 3 dimensions (at most "
                            f"{_NIFTI_MAX_NDIM}), got shape {array.shape}")
    if array.dtype == np.bool_ or array.dtype.kind not in "iuf" or array.dtype == np.float16:
        raise ArgumentError(f"data must be an integer, float32 or float64 array, got "
                            f"{array.dtype}")
    if array.size == 0:
        raise ArgumentError(f"data must not be empty (NIfTI cannot store a 0-length axis), got "
                            f"shape {array.shape}")
    affine = _checks.array("affine", affine, kind="number", finite=False).astype(np.float64)
    if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
        raise ArgumentError(f"affine must be a finite 4x4 matrix, got shape {affine.shape}")
    if abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise ArgumentError("affine must be invertible (its 3x3 part has determinant 0)")
    image = nib.Nifti1Image(array, affine, dtype=array.dtype)
    image.set_data_dtype(array.dtype)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    with atomic_path(path, overwrite=overwrite) as temporary:
        nib.save(image, temporary)
    return path


# ----------------------------------------------------------------------------- COCO boxes
def _check_boxes(boxes: np.ndarray, name: str) -> np.ndarray:
    boxes = _checks.array(name, boxes, kind="number", finite=False, nonempty=False)
    boxes = boxes.astype(np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ArgumentError(f"{name} must have shape (N, 4), got {boxes.shape}")
    if not np.all(np.isfinite(boxes)):
        raise ArgumentError(f"{name} must be finite")
    return boxes


def _whole(value: object) -> int:
    """A JSON number that must be a whole number (``3`` or ``3.0``); ``3.5`` raises."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected a whole number, got {value!r}")
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(number)


def read_coco(path: str | os.PathLike) -> dict:
    """Read a COCO detection JSON file.

    Returns ``{"images": [{"id", "file_name", "width", "height"}, ...], "categories":
    {id: name}, "targets": {image_id: {"boxes": (N, 4) float32 xyxy in pixels, "labels": (N,)
    int64 category ids}}}``; every listed image has a target, possibly empty.
    """
    path = _existing(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{str(path)!r} is not valid JSON: {error}") from error
    if not isinstance(record, dict) or not all(
        isinstance(record.get(key), list) for key in ("images", "annotations", "categories")
    ):
        raise ValueError(f"{str(path)!r} must hold lists 'images', 'annotations', 'categories'")
    try:
        categories = {_whole(c["id"]): str(c["name"]) for c in record["categories"]}
        images = [
            {"id": _whole(i["id"]), "file_name": str(i["file_name"]),
             "width": _whole(i["width"]), "height": _whole(i["height"])}
            for i in record["images"]
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{str(path)!r}: malformed image or category entry ({error})") from error
    rows: dict[int, tuple[list, list]] = {image["id"]: ([], []) for image in images}
    for number, annotation in enumerate(record["annotations"]):
        where = f"{str(path)!r} annotations[{number}]"
        try:
            image_id = _whole(annotation["image_id"])
            category = _whole(annotation["category_id"])
            x, y, w, h = (float(v) for v in annotation["bbox"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{where}: needs image_id, category_id, bbox [x, y, w, h]") from error
        if image_id not in rows:
            raise ValueError(f"{where}: image_id {image_id} is not in 'images'")
        if category not in categories:
            raise ValueError(f"{where}: category_id {category} is not in 'categories'")
        if not (np.isfinite([x, y, w, h]).all() and w >= 0 and h >= 0):
            raise ValueError(f"{where}: bbox must be finite with w, h >= 0, got {[x, y, w, h]}")
        rows[image_id][0].append((x, y, x + w, y + h))
        rows[image_id][1].append(category)
    targets = {
        image_id: {"boxes": np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                   "labels": np.asarray(labels, dtype=np.int64)}
        for image_id, (boxes, labels) in rows.items()
    }
    return {"images": images, "categories": categories, "targets": targets}


def write_coco(
    path: str | os.PathLike,
    images: Sequence[Mapping],
    targets: Mapping[int, Mapping[str, np.ndarray]],
    categories: Mapping[int, str],
    *,
    overwrite: bool = False,
) -> Path:
    """Write boxes as COCO detection JSON (the inverse of :func:`read_coco`).

    ``images``: dicts with ``id``, ``file_name``, ``width``, ``height``; ``targets``: image id
    → ``{"boxes": (N, 4) xyxy pixels, "labels": (N,) category ids}`` (images without boxes
    may be left out); ``categories``: id → name. Boxes are stored as ``[x, y, w, h]`` with
    ``area = w * h``; annotation ids run 1, 2, ... in image order.
    """
    path = _path("path", path)
    if not path.name.lower().endswith(".json"):
        raise ArgumentError(f"path {str(path)!r} must end with .json for COCO annotations")
    if not isinstance(categories, Mapping):
        raise ArgumentTypeError(f"categories must be a mapping {{id: name}}, got "
                                f"{describe(categories)}")
    if not categories:
        raise ArgumentError("categories must name at least one category")
    for key in categories:
        _checks.integer("categories key", key)
    if isinstance(images, str | bytes | Mapping) or not isinstance(images, Sequence):
        raise ArgumentTypeError(f"images must be a list of dicts, got {describe(images)}")
    if not isinstance(targets, Mapping):
        raise ArgumentTypeError(f"targets must be a mapping {{image id: target dict}}, got "
                                f"{describe(targets)}")
    image_list = []
    for number, image in enumerate(images):
        if not isinstance(image, Mapping):
            raise ArgumentTypeError(f"images[{number}] must be a dict with id, file_name, "
                                    f"width, height, got {describe(image)}")
        missing = {"id", "file_name", "width", "height"} - set(image)
        if missing:
            raise ArgumentError(f"images[{number}] lacks {sorted(missing)}")
        image_list.append({
            "id": _checks.integer(f"images[{number}]['id']", image["id"]),
            "file_name": str(image["file_name"]),
            "width": _checks.integer(f"images[{number}]['width']", image["width"], low=1),
            "height": _checks.integer(f"images[{number}]['height']", image["height"], low=1),
        })
    known = {image["id"] for image in image_list}
    if len(known) != len(image_list):
        raise ArgumentError("images must have distinct ids")
    annotations = []
    for image_id in [image["id"] for image in image_list]:
        if image_id not in targets:
            continue
        target = targets[image_id]
        if not isinstance(target, Mapping) or not {"boxes", "labels"} <= set(target):
            raise ArgumentError(f"targets[{image_id}] must be a dict with 'boxes' and 'labels', "
                                f"got {describe(target)}")
        boxes = _check_boxes(target["boxes"], f"targets[{image_id}]['boxes']")
        labels = _checks.array(f"targets[{image_id}]['labels']", target["labels"],
                               kind="integer", nonempty=False).reshape(-1)
        if len(labels) != len(boxes):
            raise ArgumentError(f"targets[{image_id}]: {len(boxes)} boxes but {len(labels)} "
                                "labels")
        if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
            raise ArgumentError(f"targets[{image_id}]['boxes'] must be xyxy with x2 >= x1, "
                                "y2 >= y1")
        for box, label in zip(boxes, labels, strict=True):
            if int(label) not in categories:
                raise ArgumentError(f"targets[{image_id}]: label {int(label)} not in "
                                    "categories")
            x1, y1, x2, y2 = (float(v) for v in box)
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": int(label),
                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1),
                "iscrowd": 0,
            })
    unknown = set(targets) - known
    if unknown:
        raise ArgumentError(f"targets has image ids {sorted(unknown)} that are not in images")
    record = {
        "images": image_list,
        "annotations": annotations,
        "categories": [{"id": int(k), "name": str(v)} for k, v in sorted(categories.items())],
    }
    with atomic_path(path, overwrite=overwrite) as temporary:
        temporary.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- CSV labels
def _columns(name: str, value: object) -> list[str]:
    """Column names: one name (a str) or a sequence of names."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) or not isinstance(value, Sequence | np.ndarray | pd.Index):
        raise ArgumentTypeError(f"{name} must be a column name or a sequence of column names, "
                                f"got {describe(value)}")
    columns = list(value)
    bad = [c for c in columns if not isinstance(c, str)]
    if bad:
        raise ArgumentTypeError(f"{name} must hold column names (str), got {bad[:3]}")
    return columns


def read_labels_csv(
    path: str | os.PathLike, *, required: str | Sequence[str] = ()
) -> pd.DataFrame:
    """Read a CSV label table (one row per image) and check that ``required`` columns exist
    (``required``: one column name or a sequence of them)."""
    path = _existing(path)
    required = _columns("required", required)
    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as error:  # pandas' parser errors are ValueErrors
        raise ArgumentError(f"{str(path)!r} is not a readable CSV table: {error}") from error
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise ArgumentError(
            f"{str(path)!r} lacks columns {missing}; it has {list(table.columns)}"
        )
    return table


def write_labels_csv(
    path: str | os.PathLike, table: pd.DataFrame, *, overwrite: bool = False
) -> Path:
    """Write a label table as CSV (no index column) and return the path."""
    path = _path("path", path)
    if not path.name.lower().endswith(".csv"):
        raise ArgumentError(f"path {str(path)!r} must end with .csv")
    if not isinstance(table, pd.DataFrame):
        raise ArgumentTypeError(f"table must be a pandas DataFrame, got {describe(table)}")
    if table.columns.empty:
        raise ArgumentError("table must be a pandas DataFrame with at least one column")
    with atomic_path(path, overwrite=overwrite) as temporary:
        table.to_csv(temporary, index=False)
    return path
