"""A torch ``Dataset`` over a folder of images and a CSV table of their labels.

The layout most public classification sets (and ``data_scripts/make_synthetic.py``) use::

    root/images/0001.png        root/labels.csv:  file,restorations,dac_class
    root/images/0002.png                          images/0001.png,3,1
                                                  images/0002.png,0,0
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from dentpy import _checks
from dentpy._checks import ArgumentError, ArgumentTypeError, describe
from dentpy.data.io import (
    _columns,
    _existing,
    _path,
    read_image,
    read_labels_csv,
)

# ITU-R BT.601 luma weights, to turn an RGB photo of a radiograph into one channel.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class ImageFolderCSV(Dataset):
    """Items ``{"image": (1, H, W) float32 in [0, 1], "file": str, <label columns>...}``.

    ``root``: the folder that image paths in the table are relative to. ``table``: a CSV path
    (relative to ``root`` or absolute) or a DataFrame. ``image_column``: the column of image
    paths. ``label_columns``: columns (or one column name) returned with each item (default:
    all others); numbers become 0-d tensors (int64 or float32), text stays text. Images are
    scaled by their dtype's maximum (255 or 65535) unless ``max_value`` is given: a number for
    the whole set (e.g. 4095 for 12-bit data) or the name of a column holding each image's own
    value (the tables of ``make_synthetic.py`` have one, ``"max_value"``, because 12- and
    16-bit devices are mixed there). RGB is converted to gray. ``transform``, if given, is
    called on the item dict and returns it. Every listed file must exist when the dataset is
    built.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        table: str | os.PathLike | pd.DataFrame = "labels.csv",
        *,
        image_column: str = "file",
        label_columns: Sequence[str] | None = None,
        max_value: float | str | None = None,
        transform: Callable[[dict], dict] | None = None,
    ) -> None:
        self.root = _path("root", root)
        if self.root.is_file():
            raise ArgumentError(f"root must be a folder, got the file {str(self.root)!r}")
        if not self.root.is_dir():
            raise _checks.MissingPathError(f"root folder {str(self.root)!r} does not exist")
        if isinstance(table, pd.DataFrame):
            frame = table.reset_index(drop=True)
        else:
            csv = _path("table", table)
            frame = read_labels_csv(_existing(csv if csv.is_absolute() else self.root / csv,
                                              "table"))
        if not isinstance(image_column, str):
            raise ArgumentTypeError(f"image_column must be a column name (str), got "
                                    f"{describe(image_column)}")
        if image_column not in frame.columns:
            raise ValueError(f"image_column {image_column!r} is not in the table; columns: "
                             f"{list(frame.columns)}")
        if label_columns is None:
            label_columns = [c for c in frame.columns if c != image_column]
        else:
            label_columns = _columns("label_columns", label_columns)
        missing = [c for c in label_columns if c not in frame.columns]
        if missing:
            raise ValueError(f"label_columns {missing} are not in the table; columns: "
                             f"{list(frame.columns)}")
        if len(frame) == 0:
            raise ValueError("the table has no rows")
        if isinstance(max_value, str):
            if max_value not in frame.columns:
                raise ValueError(f"max_value column {max_value!r} is not in the table; columns: "
                                 f"{list(frame.columns)}")
            scales = pd.to_numeric(frame[max_value], errors="coerce").to_numpy(np.float64)
            if not (np.isfinite(scales) & (scales > 0)).all():
                raise ValueError(f"max_value column {max_value!r} must hold positive numbers")
        else:
            if max_value is not None:
                max_value = _checks.number("max_value", max_value, low=0.0, low_open=True)
            scales = None
        if transform is not None and not callable(transform):
            raise ArgumentTypeError(f"transform must be callable or None, got "
                                    f"{describe(transform)}")
        self.files = [str(f) for f in frame[image_column]]
        absent = [f for f in self.files if not (self.root / f).is_file()]
        if absent:
            raise _checks.MissingPathError(f"{len(absent)} listed image(s) missing under "
                                    f"{str(self.root)!r}, e.g. {absent[:3]}")
        # One array per column, so an int column stays int beside a float one.
        self.labels = {c: frame[c].to_numpy() for c in label_columns}
        self.max_value = max_value
        self._scales = scales  # per-image maxima when max_value names a column
        self.transform = transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict:
        index = _checks.item_index("index", index, len(self))
        array = read_image(self.root / self.files[index])
        if self._scales is not None:
            scale = float(self._scales[index])
        else:
            scale = self.max_value or float(np.iinfo(array.dtype).max)
        image = array.astype(np.float32)
        if image.ndim == 3:
            image = image @ LUMA
        image = np.clip(image / np.float32(scale), 0.0, 1.0)
        item: dict = {"image": torch.from_numpy(image)[None], "file": self.files[index]}
        for column, values in self.labels.items():
            item[column] = _as_label(values[index])
        return self.transform(item) if self.transform is not None else item


def _as_label(value: object) -> object:
    if isinstance(value, bool | np.bool_):
        return torch.tensor(bool(value))
    if isinstance(value, int | np.integer):
        return torch.tensor(int(value), dtype=torch.int64)
    if isinstance(value, float | np.floating):
        return torch.tensor(float(value), dtype=torch.float32)
    return value
