"""The bad-input table: one row per (public function of ``dentpy``, kind of bad argument).

Each file ``table_<area>.py`` in this folder defines

* ``ROWS``: a list of :class:`Row`, built with :func:`bad` (the call must raise a ``ValueError``,
  possibly an ``ArgumentTypeError``, whose message matches ``match``: name the argument) or
  :func:`documented` (the call returns a documented value for degenerate input, checked by
  ``check``, and warns with ``warns`` when given);
* ``EXEMPT`` (optional): ``{qualified name: reason}`` for public names that take no argument a
  user could get wrong (a result dataclass, ``world_size()``).

``tests/test_bad_input.py`` runs every row and fails when a public function or class of
``dentpy`` (outside ``dentpy.book``) has neither a row nor an exemption. A new function joins
the table by adding rows to its area's file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KINDS = (
    "wrong type",          # None, a string, a dict where a tensor/number/path belongs
    "wrong rank",          # (H, W) where (B, C, H, W) is expected
    "wrong dtype",         # floats where labels belong, an integer contrast map
    "empty",               # zero images, zero samples, an empty mask batch
    "nan or inf",          # non-finite values in data or in a number argument
    "not an integer",      # 2.5 epochs, n=5.5, a float FDI code
    "out of range",        # negative sizes, thresholds outside [0, 1], indices past the end
    "mismatched lengths",  # y_true and y_pred of different lengths, shapes that differ
    "unknown option",      # a misspelt mode, weights name or reduction
    "bad box",             # x1 < x0, a box of 3 numbers
    "bad path",            # a missing file, a directory where a file belongs, a corrupt file
    "degenerate",          # one class, no positives, an empty mask: a documented result
)


@dataclass(frozen=True)
class Row:
    """One bad call of one public function."""

    function: str  # qualified name, e.g. "dentpy.metrics.dice"
    kind: str  # one of KINDS
    call: Callable[[], Any]
    match: str | None = None  # regex the error message must match (bad rows)
    check: Callable[[Any], bool] | None = None  # test of the returned value (documented rows)
    warns: type[Warning] | None = None  # warning a documented row must give

    @property
    def id(self) -> str:
        return f"{self.function.removeprefix('dentpy.')}[{self.kind}]"


def bad(function: str, kind: str, call: Callable[[], Any], match: str) -> Row:
    """A call that must raise a ``ValueError`` whose message matches ``match``."""
    return Row(function, kind, call, match=match)


def documented(
    function: str,
    kind: str,
    call: Callable[[], Any],
    check: Callable[[Any], bool],
    warns: type[Warning] | None = None,
) -> Row:
    """A degenerate call that returns the documented value (``check`` is true of it)."""
    return Row(function, kind, call, check=check, warns=warns)
