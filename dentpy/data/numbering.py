"""Tooth numbering systems and their conversion to FDI, the course's one numbering.

* **FDI** (ISO 3950): two digits, quadrant then tooth. Permanent quadrants 1–4 (upper right,
  upper left, lower left, lower right, as the patient sees them), teeth 1 (central incisor)
  to 8 (third molar): 11–18, 21–28, 31–38, 41–48. Primary quadrants 5–8, teeth 1–5: 51–55,
  61–65, 71–75, 81–85.
* **Universal** (ADA, used by the Tufts Dental Database): permanent teeth 1–32 counted from
  the upper right third molar round the upper arch to the upper left third molar (16), then
  from the lower left third molar (17) round to the lower right third molar (32); primary
  teeth are letters A–T in the same order (A = upper right second molar, T = lower right
  second molar).
* **DENTEX** stores a quadrant index and a tooth index, both counted from 0, so
  FDI = 10 · (quadrant + 1) + (tooth + 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from dentpy import _checks

__all__ = ["dentex_to_fdi", "fdi_to_dentex", "fdi_to_universal", "universal_to_fdi"]

# Universal order: each arch is walked from the patient's right to the left (upper), then
# from the left to the right (lower); FDI numbers in that order.
_PERMANENT = (
    [10 + k for k in range(8, 0, -1)] + [20 + k for k in range(1, 9)]
    + [30 + k for k in range(8, 0, -1)] + [40 + k for k in range(1, 9)]
)
_PRIMARY = (
    [50 + k for k in range(5, 0, -1)] + [60 + k for k in range(1, 6)]
    + [70 + k for k in range(5, 0, -1)] + [80 + k for k in range(1, 6)]
)
_UNIVERSAL_TO_FDI: dict[str, int] = {str(u + 1): f for u, f in enumerate(_PERMANENT)}
_UNIVERSAL_TO_FDI |= {chr(ord("A") + u): f for u, f in enumerate(_PRIMARY)}
_FDI_TO_UNIVERSAL = {f: u for u, f in _UNIVERSAL_TO_FDI.items()}
#: Every valid FDI number, permanent then primary.
FDI_NUMBERS = tuple(sorted(_FDI_TO_UNIVERSAL))


def _codes(name: str, values: Any) -> list:
    if isinstance(values, str | int | np.integer):
        return [values]
    if isinstance(values, np.ndarray | torch.Tensor):
        return values.ravel().tolist()
    if not isinstance(values, list | tuple):
        _checks.fail(name, "a tooth code or a sequence of them", values, wrong_type=True)
    return list(values)


def universal_to_fdi(codes: Any) -> np.ndarray:
    """Universal tooth codes (``"1"``–``"32"`` or ``1``–``32``, ``"A"``–``"T"``) to FDI, (N,)."""
    out = []
    for code in _codes("codes", codes):
        key = code.strip().upper() if isinstance(code, str) else code
        if isinstance(key, bool) or not isinstance(key, str | int | np.integer):
            _checks.fail("codes", "Universal tooth codes 1-32 or A-T", code, wrong_type=True)
        if str(key) not in _UNIVERSAL_TO_FDI:
            _checks.fail("codes", "Universal tooth codes 1-32 or A-T", code)
        out.append(_UNIVERSAL_TO_FDI[str(key)])
    return np.asarray(out, dtype=np.int64)


def _fdi(name: str, fdi: Any) -> np.ndarray:
    values = _checks.array(name, np.atleast_1d(fdi), kind="integer", nonempty=False).ravel()
    bad = values[~np.isin(values, FDI_NUMBERS)]
    if bad.size:
        raise _checks.ArgumentError(
            f"{name} must hold FDI numbers (11-18, 21-28, 31-38, 41-48, 51-55, ..., 81-85), "
            f"got {bad.tolist()}"
        )
    return values.astype(np.int64)


def fdi_to_universal(fdi: Any) -> list[str]:
    """FDI numbers to Universal codes (``"1"``–``"32"`` permanent, ``"A"``–``"T"`` primary)."""
    return [_FDI_TO_UNIVERSAL[int(f)] for f in _fdi("fdi", fdi)]


def dentex_to_fdi(quadrant: Any, tooth: Any) -> np.ndarray:
    """DENTEX's 0-based quadrant (0–3) and tooth (0–7) indices to FDI numbers, (N,) int64."""
    q = _checks.array("quadrant", np.atleast_1d(quadrant), ndim=1, kind="integer", nonempty=False)
    t = _checks.array("tooth", np.atleast_1d(tooth), ndim=1, kind="integer", nonempty=False)
    _checks.same_length(quadrant=q, tooth=t)
    if q.size and (q.min() < 0 or q.max() > 3):
        raise _checks.ArgumentError(f"quadrant must hold 0-based indices 0-3, got {q.tolist()}")
    if t.size and (t.min() < 0 or t.max() > 7):
        raise _checks.ArgumentError(f"tooth must hold 0-based indices 0-7, got {t.tolist()}")
    return (10 * (q + 1) + (t + 1)).astype(np.int64)


def fdi_to_dentex(fdi: Any) -> tuple[np.ndarray, np.ndarray]:
    """Permanent FDI numbers to DENTEX's 0-based (quadrant, tooth) indices."""
    values = _fdi("fdi", fdi)
    if values.size and values.max() > 48:
        raise _checks.ArgumentError(
            f"fdi must hold permanent teeth (DENTEX has no primary teeth), got {values.tolist()}"
        )
    return values // 10 - 1, values % 10 - 1
