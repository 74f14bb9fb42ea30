"""Argument checks shared by the public functions of ``dentpy``.

Each check takes the argument's name and value, returns the value in a normal form (a plain
``int`` or ``float``, a tensor, an array, a ``Path``) and raises when the value is unusable. The
message names the argument, says what was expected and shows what came, for example::

    num_classes must be an integer >= 1, got 2.5 (float)

A value of the wrong kind (``None`` or a string where a tensor belongs) raises
:class:`ArgumentTypeError`, which is both a ``TypeError`` and a ``ValueError``; a value of the
right kind but outside what the function accepts raises :class:`ArgumentError` (a ``ValueError``).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

DtypeKind = Literal["float", "integer", "bool", "number"]

_NUMPY_KINDS = {"float": "f", "integer": "iu", "bool": "b", "number": "biuf"}


class ArgumentError(ValueError):
    """An argument of the right kind whose value a function cannot use."""


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of the wrong kind (also a ``TypeError``, as Python's own checks raise)."""


class MissingPathError(ArgumentError, FileNotFoundError):
    """A path argument naming a file or folder that does not exist (also a
    ``FileNotFoundError``, so code that catches the OS error keeps working)."""


class ExistingPathError(ArgumentError, FileExistsError):
    """A target path that exists and may not be replaced (also a ``FileExistsError``)."""


class IndexOutOfRangeError(ArgumentError, IndexError):
    """An item index past the end of a dataset: an ``IndexError`` (which ends a ``for`` loop
    over the dataset) that is also a ``ValueError``."""


def describe(value: Any) -> str:
    """A short description of ``value`` for an error message: its repr (cut) and its type."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def fail(name: str, expected: str, value: Any, *, wrong_type: bool = False) -> None:
    """Raise the error for ``name``: expected ``expected``, got ``value`` (of the wrong kind
    when ``wrong_type``)."""
    error = ArgumentTypeError if wrong_type else ArgumentError
    raise error(f"{name} must be {expected}, got {describe(value)}")


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high}"
    return ""


def _in_range(
    value: float, low: float | None, high: float | None, low_open: bool, high_open: bool
) -> bool:
    if low is not None and (value < low or (low_open and value == low)):
        return False
    return high is None or not (value > high or (high_open and value == high))


def integer(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a Python ``int`` in ``[low, high]``; floats (even ``5.0``) and bools raise."""
    expected = "an integer" + _range_text(low, high, False, False)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
            value = int(value)
        else:
            fail(name, expected, value, wrong_type=not isinstance(value, numbers.Real))
    value = int(value)
    if not _in_range(value, low, high, False, False):
        fail(name, expected, value)
    return value


def integer_pair(name: str, value: Any, *, low: int = 1) -> tuple[int, int]:
    """Two integers ``>= low``, such as an image size ``(H, W)`` in pixels."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        fail(name, f"two integers >= {low}, such as (H, W)", value, wrong_type=True)
    return (integer(f"{name}[0]", value[0], low=low), integer(f"{name}[1]", value[1], low=low))


def number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> float:
    """``value`` as a Python ``float``, finite unless ``finite=False``, within the given bounds.

    ``low_open`` / ``high_open`` exclude the bound itself (``low=0, low_open=True``: positive).
    """
    expected = ("a finite number" if finite else "a number") + _range_text(
        low, high, low_open, high_open
    )
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, expected, value, wrong_type=True)
    value = float(value)
    if math.isnan(value) or (finite and math.isinf(value)):
        fail(name, expected, value)
    if not _in_range(value, low, high, low_open, high_open):
        fail(name, expected, value)
    return value


def probability(name: str, value: Any, *, open_ends: bool = False) -> float:
    """A number in ``[0, 1]`` (``(0, 1)`` with ``open_ends=True``)."""
    return number(name, value, low=0.0, high=1.0, low_open=open_ends, high_open=open_ends)


def flag(name: str, value: Any) -> bool:
    """A ``bool`` (NumPy's included); ``0``/``1``, strings and ``None`` raise."""
    if not isinstance(value, bool | np.bool_):
        fail(name, "True or False", value, wrong_type=True)
    return bool(value)


def choice(name: str, value: Any, options: Collection[Any]) -> Any:
    """``value`` itself when it is one of ``options``; anything else raises."""
    try:
        known = value in options
    except TypeError:  # unhashable value against a set
        known = False
    if not known:
        fail(name, f"one of {tuple(options)!r}", value)
    return value


def _kind_ok(dtype_kind: str, kind: DtypeKind) -> bool:
    return dtype_kind in _NUMPY_KINDS[kind]


def _shape_checks(
    name: str, shape: tuple[int, ...], ndim: int | Sequence[int] | None, nonempty: bool, value: Any
) -> None:
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(shape) not in allowed:
            dims = " or ".join(str(d) for d in allowed)
            fail(name, f"{dims}-dimensional", value)
    if nonempty and math.prod(shape) == 0:
        fail(name, "non-empty", value)


def array(
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    kind: DtypeKind | None = "number",
    finite: bool = True,
    nonempty: bool = True,
) -> np.ndarray:
    """``value`` (array, tensor, list) as a NumPy array, checked for rank, dtype kind and NaN/inf.

    ``kind``: ``"float"``, ``"integer"`` (signed or unsigned), ``"bool"``, ``"number"`` (any of
    these) or ``None`` (anything, strings included).
    """
    if value is None or isinstance(value, str | bytes | dict):
        fail(name, "an array or a tensor", value, wrong_type=True)
    if isinstance(value, torch.Tensor):
        out = value.detach().cpu().numpy()
    else:
        try:
            out = np.asarray(value)
        except (TypeError, ValueError) as err:  # ragged lists
            raise ArgumentTypeError(
                f"{name} must be an array or a tensor, got {describe(value)}: {err}"
            ) from err
    if out.dtype == object:
        fail(name, "an array of numbers", value, wrong_type=True)
    if kind is not None and not _kind_ok(out.dtype.kind, kind):
        fail(name, f"an array of {kind} values", value, wrong_type=True)
    _shape_checks(name, out.shape, ndim, nonempty, value)
    if finite and out.dtype.kind == "f" and not np.isfinite(out).all():
        fail(name, "finite (no NaN or inf)", value)
    return out


def tensor(
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    kind: DtypeKind | None = "number",
    finite: bool = True,
    nonempty: bool = True,
) -> torch.Tensor:
    """``value`` (tensor, array, list) as a tensor, checked like :func:`array`; tensors keep
    their device and dtype, other inputs become tensors of their NumPy dtype."""
    if not isinstance(value, torch.Tensor):
        value = torch.as_tensor(array(name, value, ndim=ndim, kind=kind, finite=finite,
                                      nonempty=nonempty))
        return value
    kind_of = {torch.bool: "b"}.get(value.dtype) or (
        "f" if value.is_floating_point() else "c" if value.is_complex() else "i"
    )
    if kind is not None and not _kind_ok(kind_of, kind):
        fail(name, f"a tensor of {kind} values", value, wrong_type=True)
    _shape_checks(name, tuple(value.shape), ndim, nonempty, value)
    if finite and value.is_floating_point() and not torch.isfinite(value).all():
        fail(name, "finite (no NaN or inf)", value)
    return value


def item_index(name: str, value: Any, length: int) -> int:
    """An index into ``length`` items, negative ones counted from the end, as ``0..length-1``."""
    value = integer(name, value)
    if not -length <= value < length:
        raise IndexOutOfRangeError(f"{name} {value} is out of range for {length} items")
    return value % length


def same_length(**named: Any) -> int:
    """The common length of the named sequences; raises when they differ."""
    lengths = {name: len(value) for name, value in named.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ArgumentError(f"{' and '.join(lengths)} must have the same length: {listed}")
    return next(iter(lengths.values()), 0)


def box(name: str, value: Any) -> tuple[float, float, float, float]:
    """A box ``(x0, y0, x1, y1)`` of finite numbers with ``x1 > x0`` and ``y1 > y0``."""
    values = array(name, value, ndim=1, kind="number")
    if values.size != 4:
        fail(name, "a box (x0, y0, x1, y1) of 4 numbers", value)
    x0, y0, x1, y1 = (float(v) for v in values)
    if not (x1 > x0 and y1 > y0):
        fail(name, "a box (x0, y0, x1, y1) with x1 > x0 and y1 > y0", value)
    return x0, y0, x1, y1


def _as_path(name: str, value: Any) -> Path:
    if not isinstance(value, str | os.PathLike) or str(value) == "":
        fail(name, "a path (str or os.PathLike)", value, wrong_type=True)
    return Path(value)


def existing_path(
    name: str, value: Any, *, kind: Literal["file", "dir"] | None = None
) -> Path:
    """A path that exists (and is a file or a directory when ``kind`` says so)."""
    path = _as_path(name, value)
    if not path.exists():
        raise MissingPathError(f"{name} does not exist: {str(path)!r}")
    if kind == "file" and not path.is_file():
        raise ArgumentError(f"{name} must be a file, got the directory {str(path)!r}")
    if kind == "dir" and not path.is_dir():
        raise ArgumentError(f"{name} must be a directory, got the file {str(path)!r}")
    return path


def output_path(name: str, value: Any, *, kind: Literal["file", "dir"] = "file") -> Path:
    """A path to write to: not an existing path of the other kind (a file where a directory is
    wanted, or the reverse), and not under an existing file."""
    path = _as_path(name, value)
    if kind == "file" and path.is_dir():
        raise ArgumentError(f"{name} must be a file path, got the directory {str(path)!r}")
    if kind == "dir" and path.exists() and not path.is_dir():
        raise ArgumentError(f"{name} must be a directory, got the file {str(path)!r}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ArgumentError(f"{name} lies under a file, not a directory: {str(parent)!r}")
            break
    return path


def images_and_masks(name: str, pair: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, masks)``: images ``(N, C, H, W)`` float, masks ``(N, K, H, W)`` of 0 and 1 with
    the images' ``N, H, W`` (one channel per label); the masks come back in the images' dtype."""
    if not isinstance(pair, Sequence) or isinstance(pair, str | bytes) or len(pair) != 2:
        fail(name, "a pair (images, masks)", pair, wrong_type=True)
    images = tensor(f"{name} images", pair[0], ndim=4, kind="float")
    masks = tensor(f"{name} masks", pair[1], ndim=4, kind="number")
    if masks.shape[0] != images.shape[0] or masks.shape[2:] != images.shape[2:]:
        fail(f"{name} masks", f"of shape (N, K, H, W) with N, H, W of the images "
             f"{tuple(images.shape)}", masks)
    if not bool(((masks == 0) | (masks == 1)).all()):
        fail(f"{name} masks", "binary (0 and 1 only)", masks)
    return images, masks.to(images.dtype)
