"""Build the HTML book from the executed notebooks, so each notebook runs once per build.

The sources the book needs (``_config.yml``, ``_toc.yml``, ``book/``) are copied to
``<out>/src/``, every notebook is replaced by its executed copy from ``<out>/executed/`` with a
note of the profile and wall time it ran with, and Jupyter Book builds ``<out>/html/`` from there
with notebook execution off and Sphinx's ``-n -W --keep-going``: no warning is tolerated.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from dentpy.book.toc import toc_notebooks
from dentpy.results import status_markdown

BOOK_SOURCES = ("_config.yml", "_toc.yml", "book")
STATUS_MARKER = "<!-- dentpy:reproduction-status -->"
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
            page.write_text(text.replace(STATUS_MARKER, status_markdown(out / "results")))
    times = _read_times(out)
    missing = []
    for relative in toc_notebooks(root):
        executed = out / "executed" / relative
        if not executed.is_file():
            missing.append(str(relative))
            continue
        nb = nbformat.read(executed, as_version=4)
        run = times.get("notebooks", {}).get(str(relative))
        if run:
            _insert_run_note(nb, seconds=run["seconds"], profile=times["profile"],
                             device=times["device"])
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
                     device: str) -> None:
    """Add a one-line note after the title: which profile ran, where, and how long it took."""
    where = "a GPU" if device.startswith("cuda") else "a CPU" if device == "cpu" else device
    note = nbformat.v4.new_markdown_cell(
        f"```{{note}}\nThis page was executed with the `{profile}` profile in about "
        f"{max(1, round(seconds))} s on {where}.\n```"
    )
    note.metadata["tags"] = ["dentpy-run-note"]
    first_markdown = next(
        (i for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"), -1
    )
    nb.cells.insert(first_markdown + 1, note)
