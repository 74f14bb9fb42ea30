"""The committed record of the last `standard` (and `full`) run of every notebook.

``book/_runs/<profile>.json`` holds, per notebook of the table of contents, the hash of its
source, its status, seconds, machine, date, commit and its "paper vs. this notebook" tables.
The runner writes it after each notebook it runs in `standard` or `full`; a unit test fails when
a notebook's current source has no green `standard` record, so no chapter changes without being
run at the size students and instructors meet. The HTML built by CI in `smoke` shows the
recorded verdicts on the "Reproduction status" page.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import nbformat

from dentpy.book.toc import toc_notebooks

RECORDED_PROFILES = ("standard", "full")
RECORDS_FOLDER = Path("book") / "_runs"


def source_hash(path: Path | str) -> str:
    """sha256 of what a notebook says: each cell's kind, source and tags, not its outputs.

    Re-saving a notebook, executing it or changing its kernel metadata keeps the hash; editing a
    cell, adding one or changing a tag (``parameters``) changes it.
    """
    nb = nbformat.read(Path(path), as_version=4)
    digest = hashlib.sha256()
    for cell in nb.cells:
        tags = sorted(cell.get("metadata", {}).get("tags", []))
        digest.update(json.dumps([cell.cell_type, cell.source, tags]).encode())
    return digest.hexdigest()


def records_path(root: Path | str, profile: str) -> Path:
    """Where the record of ``profile`` lives: ``root/book/_runs/<profile>.json``."""
    if profile not in RECORDED_PROFILES:
        raise ValueError(f"profile must be one of {RECORDED_PROFILES}, got {profile!r}")
    return Path(root) / RECORDS_FOLDER / f"{profile}.json"


def read_records(root: Path | str, profile: str = "standard") -> dict[str, Any]:
    """The record of ``profile`` as ``{notebook path: entry}`` (empty when none was written)."""
    path = records_path(root, profile)
    if not path.is_file():
        return {}
    return json.loads(path.read_text()).get("notebooks", {})


def update_records(root: Path | str, profile: str, entries: Mapping[str, Mapping]) -> Path:
    """Merge ``entries`` into the record of ``profile`` (locked, written atomically).

    Entries of notebooks that are neither in the table of contents nor on disk are dropped.
    """
    path = records_path(root, profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path.with_suffix(".lock")):
        notebooks = read_records(root, profile)
        notebooks.update({key: dict(value) for key, value in entries.items()})
        # keep the table of contents' notebooks and any other still on disk (a chapter run
        # before it joins the table of contents must not drop the others' entries)
        listed = {str(p) for p in toc_notebooks(root)}
        notebooks = {key: notebooks[key] for key in sorted(notebooks)
                     if key in listed or (Path(root) / key).is_file()}
        text = json.dumps({"profile": profile, "notebooks": notebooks}, indent=1,
                          ensure_ascii=False, sort_keys=True)
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(text + "\n")
        temporary.replace(path)
    return path


def check_records(root: Path | str, profile: str = "standard") -> list[str]:
    """Notebooks of the table of contents without a green ``profile`` record of their source."""
    root = Path(root)
    records = read_records(root, profile)
    problems = []
    for relative in toc_notebooks(root):
        entry = records.get(str(relative))
        run = f"python -m dentpy.book execute --only {relative} --profile {profile}"
        if entry is None:
            problems.append(f"{relative}: never run in {profile}; run `{run}`")
        elif entry.get("source_sha256") != source_hash(root / relative):
            problems.append(f"{relative}: changed since its last {profile} run; run `{run}`")
        elif entry.get("status") != "ok":
            problems.append(f"{relative}: its last {profile} run ended '{entry.get('status')}': "
                            f"{entry.get('message', '').splitlines()[:1]}; fix it and `{run}`")
    return problems


def machine() -> str:
    """A short description of this machine: architecture, cores, operating system."""
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}"


def commit(root: Path | str) -> str:
    """The checked-out commit (short), with ``+changes`` when the work tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path``, so two runners never lose each other's entries."""
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
