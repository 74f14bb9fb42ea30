"""Checks of uploaded images and masks, before anything is written to disk.

An upload is raw bytes. :func:`read_image` decodes a greyscale PNG into a ``(H, W)`` float32
array in [0, 1]; :func:`read_mask` decodes a PNG of class labels into a ``(H, W)`` uint8 array
with values in ``0 .. num_classes - 1``; :func:`check_pair` requires an image and its mask to
have the same size. Every problem raises :class:`UploadError`, a ``ValueError`` that names the
file, says what is wrong and carries the HTTP status the web tool answers with (413 for a file
over the size limit, 415 for a file that is not a PNG, 422 for the rest).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image

from dentpy import _checks

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_MAX_BYTES = 2_000_000  #: the default size limit of one uploaded file, in bytes
MAX_PIXELS = 4096 * 4096  #: larger images are refused before they are decoded
_GREY_MODES = {"L": 255.0, "I;16": 65535.0, "I;16B": 65535.0, "I": 65535.0, "1": 1.0}


class UploadError(ValueError):
    """An uploaded file the tool cannot use; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _check_bytes(data: object, name: str, max_bytes: int) -> bytes:
    if not isinstance(name, str) or not name:
        raise _checks.ArgumentTypeError(f"name must be a non-empty string, got "
                                        f"{_checks.describe(name)}")
    max_bytes = _checks.integer("max_bytes", max_bytes, low=1)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _checks.ArgumentTypeError(f"data must be the bytes of a file, got "
                                        f"{_checks.describe(data)}")
    data = bytes(data)
    if not data:
        raise UploadError(f"{name}: the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise UploadError(f"{name}: the file has {len(data)} bytes, over the limit of "
                          f"{max_bytes} bytes", status=413)
    if not data.startswith(PNG_SIGNATURE):
        raise UploadError(f"{name}: not a PNG file (it does not start with the PNG signature); "
                          "save images and masks as PNG", status=415)
    return data


def _decode(data: bytes, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            if picture.width * picture.height > MAX_PIXELS:
                raise UploadError(f"{name}: {picture.width} x {picture.height} pixels, over the "
                                  f"limit of {MAX_PIXELS} pixels", status=413)
            picture.load()
    except UploadError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as error:
        raise UploadError(f"{name}: a corrupt or truncated PNG ({error})") from None
    if picture.width < 1 or picture.height < 1:
        raise UploadError(f"{name}: the image has no pixels")
    return picture


def read_image(data: bytes, *, name: str = "image", max_bytes: int = DEFAULT_MAX_BYTES
               ) -> np.ndarray:
    """Decode an uploaded greyscale PNG (8 or 16 bit) into a ``(H, W)`` float32 array in [0, 1].

    Colour PNGs are refused (a radiograph has one channel; converting silently would hide a
    wrong file). Raises :class:`UploadError` naming ``name`` for an empty file, a file over
    ``max_bytes``, a file that is not a PNG, a corrupt PNG or a colour image.
    """
    picture = _decode(_check_bytes(data, name, max_bytes), name)
    if picture.mode not in _GREY_MODES:
        raise UploadError(f"{name}: a {picture.mode} image; upload a greyscale PNG "
                          "(one channel, 8 or 16 bit)")
    peak = _GREY_MODES[picture.mode]
    image = np.asarray(picture, dtype=np.float32)
    if picture.mode == "I" and image.max(initial=0) > 65535:
        raise UploadError(f"{name}: values above 65535; upload an 8 or 16 bit PNG")
    return image / np.float32(peak) if peak != 1.0 else image


def read_mask(data: bytes, *, name: str = "mask", num_classes: int = 2,
              max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Decode an uploaded PNG of class labels into a ``(H, W)`` uint8 array.

    Each pixel holds its class, ``0`` (background) to ``num_classes - 1``; a mask saved as a
    0/255 picture is refused with a message saying so. Raises :class:`UploadError` naming
    ``name`` as :func:`read_image` does, and for labels out of range.
    """
    num_classes = _checks.integer("num_classes", num_classes, low=2, high=255)
    picture = _decode(_check_bytes(data, name, max_bytes), name)
    if picture.mode not in ("L", "P", "1", "I;16", "I;16B", "I"):
        raise UploadError(f"{name}: a {picture.mode} mask; upload a one-channel PNG of class "
                          "labels")
    labels = np.asarray(picture if picture.mode != "1" else picture.convert("L"))
    if picture.mode == "1":
        labels = (labels > 0).astype(np.int64)
    top = int(labels.max(initial=0))
    if int(labels.min(initial=0)) < 0 or top >= num_classes:
        hint = " (a 0/255 picture? save the labels 0 and 1)" if top == 255 else ""
        raise UploadError(f"{name}: mask values must be class labels 0 to {num_classes - 1}, "
                          f"found {top}{hint}")
    return labels.astype(np.uint8)


def check_pair(image: np.ndarray, mask: np.ndarray, *, name: str = "pair") -> None:
    """Raise :class:`UploadError` unless ``image`` and ``mask`` are ``(H, W)`` of one size."""
    image = _checks.array("image", image, ndim=2)
    mask = _checks.array("mask", mask, ndim=2)
    if image.shape != mask.shape:
        raise UploadError(f"{name}: the image is {image.shape[0]} x {image.shape[1]} pixels "
                          f"but its mask is {mask.shape[0]} x {mask.shape[1]}")


def encode_png(array: np.ndarray) -> bytes:
    """PNG bytes of a ``(H, W)`` array: uint8 as is, floats in [0, 1] scaled to 0..255."""
    array = _checks.array("array", array, ndim=2)
    if array.size == 0:
        raise _checks.ArgumentError("array must have at least one pixel, got shape "
                                    f"{array.shape}")
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise _checks.ArgumentError("array must be finite, got NaN or inf")
        array = np.round(np.clip(array, 0, 1) * 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        if array.min() < 0 or array.max() > 255:
            raise _checks.ArgumentError("array of integers must hold values 0..255, got "
                                        f"{array.min()}..{array.max()}")
        array = array.astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()
