"""Results as the run measured them: verdicts, the "paper vs. this notebook" table, glued numbers.

- ``verdict(estimate, interval, paper)`` decides a claim from our effect and its 95% interval;
  verdicts are never typed.
- ``paper_vs_notebook(chapter, rows, profile=...)`` returns the table that closes every paper
  chapter as a pandas DataFrame and writes it as JSON to ``_build/results/<chapter>.json``, so
  the book's "Reproduction status" page gathers every chapter's table in one place.
- ``glue(name, value)`` hands a number or sentence of the run to the prose (``{glue:text}``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from dentpy import _checks
from dentpy.runtime import PROFILES

NOT_TESTED = "not tested"
SMOKE_WHY = "the smoke profile only checks that the code runs"
VERDICTS = ("reproduced", "partly reproduced", "not reproduced", "not tested")
RESULTS_ENV = "DENTPY_RESULTS_DIR"
COLUMNS = ("claim", "paper", "ours", "verdict", "why")


class Verdict(str):
    """A verdict computed by :func:`verdict`; it remembers the numbers that decided it."""

    estimate: float
    interval: tuple[float, float]
    paper: float


def verdict(estimate: float, interval: Sequence[float], paper: float) -> Verdict:
    """Decide whether a paper's effect is reproduced, from our estimate and its 95% interval.

    ``estimate`` is our effect in the paper's units (a difference, a ratio minus one, ...),
    ``interval`` its 95% interval ``(lo, hi)`` from folds, seeds or a bootstrap, and ``paper``
    the paper's effect in the same units, signed. The rules:

    - **not reproduced** when the interval contains 0 or lies on the other side of 0;
    - **reproduced** when it excludes 0 on the paper's side and the estimate is within a factor
      of 2 of the paper's effect (between ``paper / 2`` and ``2 * paper``);
    - **partly reproduced** otherwise (right direction, a different magnitude).
    """
    if isinstance(interval, (str, bytes)) or not hasattr(interval, "__len__") or len(
            interval) != 2:
        raise ValueError(f"interval must be a pair (lo, hi), got {interval!r}")
    lo, hi = (_finite_number(f"interval[{i}]", value) for i, value in enumerate(interval))
    estimate = _finite_number("estimate", estimate)
    paper = _finite_number("paper", paper)
    if lo > hi:
        raise ValueError(f"interval must have lo <= hi, got ({lo}, {hi})")
    if paper == 0:
        raise ValueError("paper must be the paper's (non-zero) effect; a claim of 'no difference' "
                         "needs an equivalence margin: report it as 'not tested' with the reason")
    sign = math.copysign(1.0, paper)
    if not (sign * lo > 0 and sign * hi > 0):  # contains 0, or lies on the other side
        decided = "not reproduced"
    elif abs(paper) / 2 <= sign * estimate <= 2 * abs(paper):
        decided = "reproduced"
    else:
        decided = "partly reproduced"
    result = Verdict(decided)
    result.estimate, result.interval, result.paper = estimate, (lo, hi), paper
    return result


def _finite_number(name: str, value: object) -> float:
    return _checks.number(name, value)


def glue(name: str, value: object) -> object:
    """Hand ``value`` to the book's prose as ``{glue:text}`name``` (myst-nb), without showing it.

    Numbers keep their type, so the prose formats them (``{glue:text}`auc:.3f```); a sentence
    whose truth depends on the run is glued as a string. Outside a notebook kernel, or where
    myst-nb is not installed (a bare Colab), nothing is recorded. Returns ``value``.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be an identifier like 'test_auc', got {name!r}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # pragma: no cover - myst-nb comes with jupyter-book
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()  # numpy / torch scalars glue as plain numbers
    myst_glue(name, value, display=False)
    return value


def results_dir(start: Path | str | None = None) -> Path | None:
    """Where result files go: ``$DENTPY_RESULTS_DIR``, else ``_build/results`` of the book.

    The book is found by walking up from ``start`` (default: the working directory) to the
    folder holding ``_toc.yml``. Returns ``None`` outside a book, so nothing is written.
    """
    if start is not None:
        start = _checks.existing_path("start", start, kind="dir")
    if os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV])
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder / "_build" / "results"
    return None


def paper_vs_notebook(
    chapter: str,
    rows: Sequence[Mapping[str, str]],
    *,
    profile: str,
    out_dir: Path | str | None = None,
) -> pd.DataFrame:
    """Build (and save as JSON) the comparison table of one chapter.

    Each row maps ``claim``, ``paper`` (the paper's value, as text), ``ours`` (our value with its
    spread, as text), ``verdict`` and ``why`` (one sentence: what explains the difference, or
    what the synthetic data cannot show). A verdict is either computed by :func:`verdict` or the
    string ``"not tested"``, with the reason in ``why``; a typed "reproduced" is refused. In the
    ``smoke`` profile every row is reported as "not tested" (smoke only checks the code runs).
    """
    if not isinstance(chapter, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", chapter):
        raise ValueError(f"chapter must be a short slug like 'dac' or 'miua_03', got {chapter!r}")
    _checks.choice("profile", profile, PROFILES)
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
        raise _checks.ArgumentTypeError(
            f"rows must be a list of dicts (one per claim), got {_checks.describe(rows)}")
    if not rows:
        raise ValueError("rows must hold at least one claim")
    table = []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise _checks.ArgumentTypeError(
                f"rows[{index}] must be a dict with keys {list(COLUMNS)}, "
                f"got {_checks.describe(row)}")
        missing = [key for key in COLUMNS if not str(row.get(key, "")).strip()]
        if missing:
            raise ValueError(f"rows[{index}] lacks {missing}; every row needs {list(COLUMNS)}")
        decided = row["verdict"]
        if not isinstance(decided, Verdict) and decided != NOT_TESTED:
            raise ValueError(
                f"rows[{index}]['verdict'] must come from dentpy.results.verdict(estimate, "
                f"interval, paper) or be {NOT_TESTED!r} with the reason in 'why', "
                f"got {decided!r}"
            )
        entry = {key: str(row[key]) for key in COLUMNS}
        if profile == "smoke":
            entry["verdict"] = NOT_TESTED
            entry["why"] = f"{SMOKE_WHY} ({entry['why']})"
        table.append(entry)
    folder = (_checks.output_path("out_dir", out_dir, kind="dir") if out_dir is not None
              else results_dir())
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        record = {"chapter": chapter, "profile": profile, "rows": table}
        target = folder / f"{chapter}.json"
        temporary = target.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        temporary.replace(target)
    frame = pd.DataFrame(table, columns=list(COLUMNS))
    frame.columns = ["Claim", "Paper", "This notebook", "Verdict", "Why"]
    return frame


def status_markdown(folder: Path | str, *, recorded: Mapping[str, Mapping] | None = None,
                    build_profile: str | None = None) -> str:
    """Every chapter's table as MyST markdown, for the "Reproduction status" page.

    ``folder`` holds this build's tables (``*.json``, searched recursively); ``recorded`` is the
    committed record of the last `standard` run (``{notebook: entry}``, each entry with
    ``results``, ``date``, ``commit`` and ``machine``). Recorded tables come first, so a book
    built in `smoke` still shows what the course reproduces; this build's table is shown beside
    them when its profile differs and is not `smoke`.
    """
    if not isinstance(folder, str | os.PathLike) or str(folder) == "":
        raise _checks.ArgumentTypeError(
            f"folder must be a path (str or os.PathLike), got {_checks.describe(folder)}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise _checks.ArgumentError(f"folder must be a directory, got the file {str(folder)!r}")
    if recorded is not None and not (isinstance(recorded, Mapping) and all(
            isinstance(entry, Mapping) for entry in recorded.values())):
        raise _checks.ArgumentTypeError(
            f"recorded must map notebooks to dicts of run records, got "
            f"{_checks.describe(recorded)}")
    if build_profile is not None:
        _checks.choice("build_profile", build_profile, PROFILES)
    files = sorted(folder.rglob("*.json")) if folder.is_dir() else []
    current = {record["chapter"]: record for record in map(_read_record, files) if record}
    chapters: dict[str, tuple[dict | None, Mapping | None]] = {}
    for entry in (recorded or {}).values():
        for record in entry.get("results", []):
            chapters[record["chapter"]] = (record, entry)
    for name in current:
        chapters.setdefault(name, (None, None))
    if not chapters:
        return "No chapter has reported results in this build yet.\n"
    counts = dict.fromkeys(VERDICTS, 0)
    parts = []
    for name, (saved, entry) in chapters.items():
        parts.append(f"## `{name}`\n")
        if saved is not None:
            parts.append(f"Recorded `{saved['profile']}` run of {entry.get('date', '?')[:10]}, "
                         f"commit `{entry.get('commit', '?')}`, on {entry.get('machine', '?')}:"
                         "\n")
            parts.append(_table(saved["rows"], counts))
        now = current.get(name)
        if now is None:
            continue
        if saved is None:
            parts.append(f"This build (`{now['profile']}` profile):\n")
            parts.append(_table(now["rows"], counts if saved is None else None))
        elif now["profile"] == "smoke":
            parts.append("This build ran the `smoke` profile, which only checks that the code "
                         "runs: its table says \"not tested\" in every row.\n")
        elif now["profile"] != saved["profile"] or now["rows"] != saved["rows"]:
            parts.append(f"This build (`{now['profile']}` profile):\n")
            parts.append(_table(now["rows"], None))
    summary = ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n)
    built = f" This book was built with the `{build_profile}` profile." if build_profile else ""
    return (f"Across {len(chapters)} chapter(s): {summary} (from the recorded run where there is "
            f"one, else from this build).{built}\n\n" + "\n".join(parts))


def _read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) and "chapter" in record else None


def _table(rows: Sequence[Mapping[str, str]], counts: dict[str, int] | None) -> str:
    lines = ["| Claim | Paper | This notebook | Verdict | Why |", "|---|---|---|---|---|"]
    for row in rows:
        if counts is not None:
            counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
        cells = [str(row[key]).replace("|", "\\|").replace("\n", " ") for key in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
