"""Build the HTML book from the executed notebooks, so each notebook runs once per build.

The sources the book needs (``_config.yml``, ``_toc.yml``, ``book/``) are copied to
``<out>/src/``, every notebook is replaced by its executed copy from ``<out>/executed/`` with a
note of the profile, time and machine it ran with (a notebook that failed gets a plain error
box at the top instead, and the rest of the book is built as usual), and Jupyter Book builds
``<out>/html/`` from there with notebook execution off and Sphinx's ``-n -W --keep-going``: no
warning is tolerated.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from dentpy.book.guards import GLUE_ROLE
from dentpy.book.records import read_records
from dentpy.book.toc import toc_notebooks
from dentpy.results import status_markdown

BOOK_SOURCES = ("_config.yml", "_toc.yml", "book")
STATUS_MARKER = "<!-- dentpy:reproduction-status -->"
PAPERMILL_BANNER = "An Exception was encountered at"
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", ".DS_Store")


def stage_sources(root: Path, out: Path) -> Path:
    """Copy the book's sources and executed notebooks into ``out/src``; return that folder."""
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for name in BOOK_SOURCES:
        path = root / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=IGNORED)
        else:
            shutil.copy2(path, src / name)
    for page in (src / "book").rglob("*.md"):
        text = page.read_text()
        if STATUS_MARKER in text:
            status = status_markdown(out / "results", recorded=read_records(root, "standard"),
                                     build_profile=_read_times(out).get("profile"))
            page.write_text(text.replace(STATUS_MARKER, status))
    times = _read_times(out)
    missing = []
    for relative in toc_notebooks(root):
        executed = out / "executed" / relative
        run = times.get("notebooks", {}).get(str(relative))
        failed = run is not None and run.get("status", "ok") != "ok"
        if not executed.is_file() and not failed:
            missing.append(str(relative))
            continue
        nb = nbformat.read(executed if executed.is_file() else root / relative, as_version=4)
        _hide_injected_parameters(nb)
        if failed:
            _mark_missing_glue(nb)
            _insert_failure_note(nb, run, profile=run.get("profile", times.get("profile")))
        elif run:
            _insert_run_note(nb, seconds=run["seconds"],
                             profile=run.get("profile", times.get("profile")),
                             device=run.get("device", times.get("device", "cpu")),
                             machine=run.get("machine", times.get("machine", "")))
        nbformat.write(nb, src / relative)
    if missing:
        raise ValueError(
            f"no executed copy under {out / 'executed'} for {missing}: run the notebooks first "
            "(python -m dentpy.book execute)"
        )
    return src


def build_html(root: Path | str, *, out: Path | str | None = None, log=print) -> Path:
    """Stage the sources and run ``jupyter-book build``; return the HTML folder."""
    root = Path(root).resolve()
    out = Path(out).resolve() if out is not None else root / "_build"
    src = stage_sources(root, out)
    html = out / "html"
    command = [
        _jupyter_book(), "build", str(src),
        "--path-output", str(out / "jb"), "--builder", "html",
        "-n", "-W", "--keep-going",
    ]
    log("building the HTML book: jupyter-book " + " ".join(command[1:]))
    result = subprocess.run(command, text=True, capture_output=True)
    noteworthy = [line for line in (result.stdout + result.stderr).splitlines()
                  if any(word in line for word in ("WARNING", "ERROR", "build succeeded"))]
    log("\n".join(noteworthy))
    if result.returncode != 0:
        log(result.stdout[-6000:] + result.stderr[-6000:])
        raise RuntimeError(f"jupyter-book build failed (exit {result.returncode}); see above")
    if html.exists():
        shutil.rmtree(html)
    shutil.copytree(out / "jb" / "_build" / "html", html)
    log(f"HTML book: {html / 'index.html'}")
    return html


def _jupyter_book() -> str:
    """The ``jupyter-book`` command of this Python environment."""
    beside = Path(sys.executable).with_name("jupyter-book")
    found = str(beside) if beside.exists() else shutil.which("jupyter-book")
    if found is None:
        raise RuntimeError("jupyter-book is not installed: run `make venv`")
    return found


def _read_times(out: Path) -> dict:
    path = out / "notebook-times.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _insert_run_note(nb: nbformat.NotebookNode, *, seconds: float, profile: str,
                     device: str, machine: str = "") -> None:
    """Add a one-line note after the title: which profile ran, where, and how long it took."""
    where = "a GPU" if device.startswith("cuda") else "a CPU" if device == "cpu" else device
    detail = f" ({machine})" if machine else ""
    _insert_after_title(nb, "note", f"This page was executed with the `{profile}` profile in "
                        f"about {max(1, round(seconds))} s on {where}{detail}.")


def _insert_failure_note(nb: nbformat.NotebookNode, run: dict, *, profile: str) -> None:
    """Say at the top of the page that its notebook failed in this build, and how."""
    message = run.get("message", "").strip() or run.get("status", "failed")
    first, _, rest = message.partition("\n")
    detail = f"\n\n````text\n{rest.strip()[-4000:]}\n````" if rest.strip() else ""
    _insert_after_title(
        nb, "error",
        f"**This notebook failed** when the book was built with the `{profile}` profile, so the "
        f"page below stops at the failing cell.\n\n`{first.replace('`', chr(39))}`{detail}")


def _insert_after_title(nb: nbformat.NotebookNode, kind: str, text: str) -> None:
    note = nbformat.v4.new_markdown_cell(f"`````{{{kind}}}\n{text}\n`````")
    note.metadata["tags"] = ["dentpy-run-note"]
    # papermill puts a banner above the title of a failed notebook; the error box replaces it.
    nb.cells = [cell for cell in nb.cells
                if not (cell.cell_type == "markdown" and PAPERMILL_BANNER in cell.source)]
    markdown = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"]
    titles = [i for i in markdown if nb.cells[i].source.lstrip().startswith("# ")]
    after = titles[0] if titles else markdown[0] if markdown else -1
    nb.cells.insert(after + 1, note)


def _mark_missing_glue(nb: nbformat.NotebookNode) -> None:
    """In a failed notebook, prose that pastes a value never computed says so (no warning)."""
    glued = {output.get("metadata", {}).get("scrapbook", {}).get("name")
             for cell in nb.cells if cell.cell_type == "code" for output in cell.get("outputs", [])}

    def replace(match: re.Match) -> str:
        content = match.group(1)
        key = content.rsplit(":", 1)[0] if ":" in content else content
        return match.group(0) if key in glued else "*(not computed: the notebook failed)*"

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = GLUE_ROLE.sub(replace, cell.source)


def _hide_injected_parameters(nb: nbformat.NotebookNode) -> None:
    """papermill's "injected parameters" cell is tooling, not course: keep it off the page."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
