"""The "paper vs. this notebook" table that closes every paper chapter.

``paper_vs_notebook(chapter, rows, profile=...)`` returns the table as a pandas DataFrame (it
renders in the notebook and in the book) and writes it as JSON to ``_build/results/<chapter>.json``
so the book's "Reproduction status" page gathers every chapter's table in one place.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

VERDICTS = ("reproduced", "partly reproduced", "not reproduced", "not tested")
RESULTS_ENV = "DENTPY_RESULTS_DIR"
COLUMNS = ("claim", "paper", "ours", "verdict", "why")


def results_dir(start: Path | str | None = None) -> Path | None:
    """Where result files go: ``$DENTPY_RESULTS_DIR``, else ``_build/results`` of the book.

    The book is found by walking up from ``start`` (default: the working directory) to the
    folder holding ``_toc.yml``. Returns ``None`` outside a book, so nothing is written.
    """
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
    spread, as text), ``verdict`` (one of ``VERDICTS``) and ``why`` (one sentence: what explains
    the difference, or what the synthetic data cannot show).
    """
    if not isinstance(chapter, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", chapter):
        raise ValueError(f"chapter must be a short slug like 'dac' or 'miua_03', got {chapter!r}")
    if not rows:
        raise ValueError("rows must hold at least one claim")
    table = []
    for index, row in enumerate(rows):
        missing = [key for key in COLUMNS if not str(row.get(key, "")).strip()]
        if missing:
            raise ValueError(f"rows[{index}] lacks {missing}; every row needs {list(COLUMNS)}")
        if row["verdict"] not in VERDICTS:
            raise ValueError(f"rows[{index}]['verdict'] must be one of {VERDICTS}, "
                             f"got {row['verdict']!r}")
        table.append({key: str(row[key]) for key in COLUMNS})
    folder = Path(out_dir) if out_dir is not None else results_dir()
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


def status_markdown(folder: Path | str) -> str:
    """Every chapter's table from ``folder/*.json`` as MyST markdown, for the status page."""
    files = sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else []
    if not files:
        return "No chapter has reported results in this build yet.\n"
    parts = []
    counts = dict.fromkeys(VERDICTS, 0)
    for path in files:
        record = json.loads(path.read_text())
        parts.append(f"## `{record['chapter']}` ({record['profile']} profile)\n")
        parts.append("| Claim | Paper | This notebook | Verdict | Why |")
        parts.append("|---|---|---|---|---|")
        for row in record["rows"]:
            counts[row["verdict"]] += 1
            cells = [row[key].replace("|", "\\|").replace("\n", " ") for key in COLUMNS]
            parts.append("| " + " | ".join(cells) + " |")
        parts.append("")
    summary = ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n)
    return f"Across {len(files)} chapter(s): {summary}.\n\n" + "\n".join(parts)
