"""Download public dental datasets with checksum checks and atomic writes.

``fetch(name, dest)`` looks ``name`` up in a registry (:data:`REGISTRY` by default, or one
you pass, or a JSON file), downloads the file into ``dest`` through a temporary file, checks
its size and sha256, and only then renames it into place. An existing file with the right
checksum is reused; an existing different file is never replaced. ``DENTPY_OFFLINE=1`` in the
environment forbids any download.

The built-in registry records datasets the course refers to. Their archives sit behind
registration or licence pages, or their exact file checksums are not recorded here yet, so
their entries have ``url=None`` (download by hand from ``homepage``) or ``sha256=None``
(fetched only with ``allow_unverified=True``). Nothing here invents a checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dentpy import _checks
from dentpy._checks import ArgumentError, ArgumentTypeError, MissingPathError, describe
from dentpy.data.io import _existing, atomic_path

OFFLINE_ENV = "DENTPY_OFFLINE"
CHUNK = 1 << 20


@dataclass(frozen=True)
class DatasetEntry:
    """One downloadable file of a public dataset.

    ``url``: direct download address, or ``None`` when the file must be fetched by hand from
    ``homepage`` (registration, licence click-through). ``filename``: the name it is saved
    under in ``dest``. ``sha256``: hex digest, or ``None`` when not recorded. ``size``: bytes,
    or ``None``. ``licence`` and ``citation``: what using the data requires.
    """

    name: str
    filename: str
    homepage: str
    licence: str
    citation: str
    url: str | None = None
    sha256: str | None = None
    size: int | None = None
    note: str = ""

    def __post_init__(self) -> None:
        for field_name in ("name", "filename", "homepage", "licence", "citation", "note"):
            value = getattr(self, field_name)
            if not isinstance(value, str):
                raise ArgumentTypeError(f"{field_name} must be a str, got {describe(value)}")
        for field_name in ("url", "sha256"):
            value = getattr(self, field_name)
            if value is not None and not isinstance(value, str):
                raise ArgumentTypeError(f"{field_name} must be a str or None, got "
                                        f"{describe(value)}")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", self.name):
            raise ValueError(f"name must be a lowercase slug, got {self.name!r}")
        if not self.filename or Path(self.filename).name != self.filename:
            raise ValueError(f"filename must be a bare file name, got {self.filename!r}")
        if self.sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"sha256 must be 64 lowercase hex digits or None, got "
                             f"{self.sha256!r}")
        if self.size is not None:
            _checks.integer("size", self.size, low=0)


REGISTRY: dict[str, DatasetEntry] = {
    entry.name: entry
    for entry in (
        DatasetEntry(
            name="dentex",
            filename="dentex.zip",
            homepage="https://doi.org/10.5281/zenodo.7812323",
            licence="CC BY-NC-SA 4.0",
            citation="Hamamci I.E. et al., DENTEX: an abnormal tooth detection with dental "
            "enumeration and diagnosis benchmark for panoramic X-rays, arXiv:2305.19112 (2023)",
            note="MICCAI 2023 challenge: panoramic radiographs with quadrant/enumeration/"
            "diagnosis boxes in COCO JSON; the data come as archives from the Zenodo record "
            "(mirrored on Hugging Face as ibrahimhamamci/DENTEX).",
        ),
        DatasetEntry(
            name="mandible-abdi2015",
            filename="panoramic_mandibles.zip",
            homepage="https://data.mendeley.com/datasets/hxt48yk462",
            licence="CC BY 4.0",
            citation="Abdi A.H., Kasaei S., Mehdizadeh M., Automatic segmentation of mandible "
            "in panoramic x-ray, J. Med. Imaging 2(4):044003 (2015)",
            note="Panoramic radiographs with manual mandible segmentations (Mendeley Data).",
        ),
        DatasetEntry(
            name="tufts-dental",
            filename="tufts_dental_database.zip",
            homepage="http://tdd.ece.tufts.edu/",
            licence="research use after accepting the database's terms (registration)",
            citation="Panetta K. et al., Tufts Dental Database: a multimodal panoramic X-ray "
            "dataset for benchmarking diagnostic systems, IEEE J. Biomed. Health Inform. "
            "26(4):1650-1659 (2022)",
            note="1000 panoramic radiographs with tooth masks, abnormality boxes and gaze maps.",
        ),
        DatasetEntry(
            name="toothfairy",
            filename="toothfairy.zip",
            homepage="https://ditto.ing.unimore.it/toothfairy/",
            licence="see the homepage (registration required)",
            citation="Cipriano M. et al., Deep segmentation of the mandibular canal: a new 3D "
            "annotated dataset of CBCT volumes, IEEE Access 10:11500-11510 (2022)",
            note="CBCT volumes with inferior alveolar canal labels (ToothFairy, MICCAI 2023).",
        ),
    )
}


def load_registry(path: str | os.PathLike) -> dict[str, DatasetEntry]:
    """Read a registry from JSON: ``{name: {filename, homepage, licence, citation, url,
    sha256, size, note}}`` (``url``, ``sha256``, ``size``, ``note`` optional)."""
    try:
        path = _existing(path)
    except MissingPathError:
        raise MissingPathError(f"registry file {str(path)!r} does not exist") from None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"registry {str(path)!r} is not valid JSON: {error}") from error
    if not isinstance(record, dict):
        raise ValueError(f"registry {str(path)!r} must map dataset names to entries")
    malformed = [name for name, fields in record.items() if not isinstance(fields, dict)]
    if malformed:
        raise ValueError(f"registry {str(path)!r} has a malformed entry: {malformed[0]!r} must "
                         "map to a dict of fields")
    try:
        return {name: DatasetEntry(name=name, **fields) for name, fields in record.items()}
    except TypeError as error:
        raise ValueError(f"registry {str(path)!r} has a malformed entry: {error}") from error


def _registry(registry: Mapping[str, DatasetEntry] | str | os.PathLike | None):
    if registry is None:
        return REGISTRY
    if isinstance(registry, str | os.PathLike):
        return load_registry(registry)
    if not isinstance(registry, Mapping):
        raise ArgumentTypeError(f"registry must be None, a mapping {{name: DatasetEntry}} or "
                                f"the path of a JSON registry, got {describe(registry)}")
    bad = [name for name, entry in registry.items() if not isinstance(entry, DatasetEntry)]
    if bad:
        raise ArgumentTypeError(f"registry[{bad[0]!r}] must be a DatasetEntry, got "
                                f"{describe(registry[bad[0]])}")
    return registry


def list_datasets(
    registry: Mapping[str, DatasetEntry] | str | os.PathLike | None = None,
) -> list[DatasetEntry]:
    """The registry's entries, sorted by name."""
    entries = _registry(registry)
    return [entries[name] for name in sorted(entries)]


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 digest of a file, read in 1 MiB chunks."""
    path = _existing(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(
    name: str,
    dest: str | os.PathLike,
    *,
    registry: Mapping[str, DatasetEntry] | str | os.PathLike | None = None,
    timeout: float = 60.0,
    allow_unverified: bool = False,
) -> Path:
    """Download dataset file ``name`` into folder ``dest`` and return its path.

    Steps: reuse ``dest/filename`` if it exists and its sha256 matches (an existing file that
    differs raises ``FileExistsError``); refuse when ``DENTPY_OFFLINE=1``; stream the URL into
    a temporary file beside the target while hashing; check size and sha256 (a mismatch
    deletes the temporary file and raises ``RuntimeError``); rename into place. ``timeout`` is
    in seconds per network operation. Entries without a recorded sha256 are refused unless
    ``allow_unverified=True``.
    """
    entries = _registry(registry)
    if not isinstance(name, str) or name not in entries:
        raise ArgumentError(f"unknown dataset {name!r}; known: {sorted(entries)}")
    entry = entries[name]
    timeout = _checks.number("timeout", timeout, low=0.0, low_open=True)
    allow_unverified = _checks.flag("allow_unverified", allow_unverified)
    folder = _checks.output_path("dest", dest, kind="dir")
    target = folder / entry.filename
    if target.exists():
        if entry.sha256 is None:
            if allow_unverified:
                return target
            raise FileExistsError(f"{str(target)!r} exists and {name!r} has no recorded "
                                  "sha256 to compare it with; pass allow_unverified=True to "
                                  "use it as is, or move it away")
        if sha256_of(target) == entry.sha256:
            return target
        raise FileExistsError(f"{str(target)!r} exists but its sha256 differs from {name!r}'s; "
                              "it is not replaced: move or delete it, then fetch again")
    if entry.url is None:
        raise RuntimeError(
            f"{name!r} has no direct download (registration or licence page): download it by "
            f"hand from {entry.homepage} and save it as {str(target)!r}. Licence: {entry.licence}"
        )
    if entry.sha256 is None and not allow_unverified:
        raise RuntimeError(f"{name!r} has no recorded sha256, so the download cannot be "
                           "verified; pass allow_unverified=True to fetch it anyway")
    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        raise ConnectionError(f"{OFFLINE_ENV} is set, so {entry.url} is not downloaded; unset "
                              f"it, or place the file at {str(target)!r} by hand")
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as temporary:
        digest, size = _download(entry.url, temporary, timeout=timeout)
        if entry.size is not None and size != entry.size:
            raise RuntimeError(f"{entry.url} gave {size} bytes, expected {entry.size}; the "
                               "partial file was removed; try again")
        if entry.sha256 is not None and digest != entry.sha256:
            raise RuntimeError(f"sha256 mismatch for {entry.url}: got {digest}, expected "
                               f"{entry.sha256}; the file was removed (corrupt download or "
                               "changed upstream)")
    return target


def _download(url: str, path: Path, *, timeout: float) -> tuple[str, int]:
    """Stream ``url`` into ``path``; return (sha256 hex, size in bytes)."""
    digest, size = hashlib.sha256(), 0
    request = urllib.request.Request(url, headers={"User-Agent": "dentpy-fetch"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, \
                open(path, "wb") as handle:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"HTTP {error.code} ({error.reason}) for {url}; the address may "
                           "have moved: check the dataset's homepage") from error
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise ConnectionError(f"could not download {url}: {reason}. Are you offline or behind "
                              "a proxy? Download it by hand and place it in dest") from error
    return digest.hexdigest(), size

