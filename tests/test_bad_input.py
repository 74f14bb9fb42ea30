"""Every public function of dentpy meets bad input with a clear error (see tests/bad_input)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import warnings
from pathlib import Path

import pytest
from bad_input import KINDS, Row

import dentpy

TABLES = sorted(p.stem for p in (Path(__file__).parent / "bad_input").glob("table_*.py"))


def _tables() -> tuple[list[Row], dict[str, str]]:
    rows: list[Row] = []
    exempt: dict[str, str] = {}
    for stem in TABLES:
        module = importlib.import_module(f"bad_input.{stem}")
        rows += module.ROWS
        exempt |= getattr(module, "EXEMPT", {})
    return rows, exempt


ROWS, EXEMPT = _tables()


def public_names() -> set[str]:
    """Qualified names of the public functions and classes defined in dentpy's modules."""
    names = set()
    for info in pkgutil.walk_packages(dentpy.__path__, "dentpy."):
        parts = info.name.split(".")
        if parts[1] == "book" or any(p.startswith("_") for p in parts):
            continue
        module = importlib.import_module(info.name)
        listed = getattr(module, "__all__", None)
        for name, obj in vars(module).items():
            if name.startswith("_") or (listed is not None and name not in listed):
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == info.name:
                names.add(f"{info.name}.{name}")
    return names


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_call(row: Row, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # rows that write files write them here
    if row.match is not None:
        with pytest.raises(ValueError) as caught:
            row.call()
        assert re.search(row.match, str(caught.value)), (
            f"unclear message for {row.id}: {caught.value!r} does not match {row.match!r}"
        )
        return
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = row.call()
    assert row.check(result), f"{row.id} returned {result!r}, not the documented value"
    if row.warns is not None:
        assert any(issubclass(w.category, row.warns) for w in seen), f"{row.id} did not warn"


def test_rows_name_real_functions_and_kinds() -> None:
    names = public_names()
    assert {row.kind for row in ROWS} <= set(KINDS)
    assert {row.function for row in ROWS} <= names, {row.function for row in ROWS} - names
    assert set(EXEMPT) <= names, set(EXEMPT) - names


def test_every_public_function_has_a_row() -> None:
    missing = public_names() - {row.function for row in ROWS} - set(EXEMPT)
    assert not missing, f"public functions without a bad-input row: {sorted(missing)}"
