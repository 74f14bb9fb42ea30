"""The committed record of the last `standard` run (book/_runs/standard.json) and the cache."""

import json
import shutil
from pathlib import Path

import nbformat

from dentpy.book.records import check_records, read_records, source_hash, update_records
from dentpy.book.runner import run_book
from dentpy.book.site import stage_sources
from tests.test_book_tools import make_notebook, write_book

ROOT = Path(__file__).resolve().parents[1]


def test_every_notebook_has_a_green_standard_record_of_its_current_source():
    """A chapter cannot change without being run in `standard`: rerun the command it names."""
    problems = check_records(ROOT, "standard")
    assert not problems, "\n".join(problems)


def test_source_hash_ignores_outputs_but_not_sources_or_tags(tmp_path):
    nb = make_notebook(("md", "# T"), ("code", "PROFILE = 'auto'"), ("code", "x = 1"))
    nbformat.write(nb, tmp_path / "a.ipynb")
    before = source_hash(tmp_path / "a.ipynb")
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[2].execution_count = 3
    nbformat.write(nb, tmp_path / "a.ipynb")
    assert source_hash(tmp_path / "a.ipynb") == before
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, tmp_path / "a.ipynb")
    assert source_hash(tmp_path / "a.ipynb") != before


def test_an_update_keeps_notebooks_on_disk_and_drops_deleted_ones(tmp_path):
    """A chapter recorded before it joins the table of contents keeps its entry when another
    notebook's run updates the record; an entry whose notebook is gone is dropped."""
    nb = make_notebook(("md", "# A"), ("code", "PROFILE = 'auto'"))
    write_book(tmp_path, {"a": nb})
    nbformat.write(nb, tmp_path / "book/draft.ipynb")  # on disk, not in the table of contents
    update_records(tmp_path, "standard", {"book/draft.ipynb": {"status": "ok"},
                                          "book/gone.ipynb": {"status": "ok"}})
    update_records(tmp_path, "standard", {"book/a.ipynb": {"status": "ok"}})
    assert set(read_records(tmp_path)) == {"book/a.ipynb", "book/draft.ipynb"}


def test_record_guard_fails_when_a_notebook_changes_without_a_new_standard_run(tmp_path):
    """On a copy of the book's layout: a green record, then an edit, then the guard's finding."""
    table = ("import dentpy.results as r\n"
             "r.paper_vs_notebook('tiny', [dict(claim='c', paper='p', ours='o', "
             "verdict=r.verdict(0.1, (0.05, 0.2), 0.1), why='w')], profile=PROFILE)")
    nb = make_notebook(("md", "# Tiny"), ("code", "PROFILE = 'auto'"), ("code", table))
    write_book(tmp_path, {"tiny": nb})
    assert check_records(tmp_path) == ["book/tiny.ipynb: never run in standard; run "
                                       "`python -m dentpy.book execute --only book/tiny.ipynb "
                                       "--profile standard`"]
    report = run_book(tmp_path, profile="standard", log=lambda _: None)
    assert [run.status for run in report.runs] == ["ok"]
    assert check_records(tmp_path) == []
    entry = read_records(tmp_path)["book/tiny.ipynb"]
    assert entry["status"] == "ok" and entry["machine"] and entry["date"] and entry["commit"]
    assert entry["results"][0]["rows"][0]["verdict"] == "reproduced"

    # A second run with nothing changed executes nothing.
    again = run_book(tmp_path, profile="standard", log=lambda _: None)
    assert again.runs[0].cached and again.executed_seconds == 0

    # Editing a cell makes the guard fail and the cache miss.
    nb.cells[2].source += "\nprint('edited')"
    nbformat.write(nb, tmp_path / "book/tiny.ipynb")
    assert "changed since its last standard run" in check_records(tmp_path)[0]
    assert not run_book(tmp_path, profile="standard", log=lambda _: None).runs[0].cached
    assert check_records(tmp_path) == []

    # A failing standard run is recorded as such and keeps the guard red.
    nb.cells[2].source = "raise RuntimeError('broken in standard')"
    nbformat.write(nb, tmp_path / "book/tiny.ipynb")
    assert run_book(tmp_path, profile="standard", log=lambda _: None).failed
    assert "ended 'failed'" in check_records(tmp_path)[0]


def test_a_failed_notebook_gets_a_page_that_says_so(tmp_path):
    good = make_notebook(("md", "# Good"), ("code", "PROFILE = 'auto'"),
                         ("code", "from dentpy.results import glue\nglue('n', 3)"),
                         ("md", "n is {glue:text}`n:d`."))
    bad = make_notebook(("md", "# Bad"), ("code", "PROFILE = 'auto'"),
                        ("code", "raise ValueError('boom')\nglue('m', 1)"),
                        ("md", "m is {glue:text}`m:.2f`."))
    write_book(tmp_path, {"good": good, "bad": bad})
    report = run_book(tmp_path, profile="smoke", log=lambda _: None)
    assert [run.status for run in report.runs] == ["ok", "failed"]
    src = stage_sources(tmp_path, tmp_path / "_build")
    page = nbformat.read(src / "book/bad.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in page.cells if cell.cell_type == "markdown")
    assert "**This notebook failed**" in text and "ValueError: boom" in text
    assert "m is *(not computed: the notebook failed)*." in text
    good_page = nbformat.read(src / "book/good.ipynb", as_version=4)
    assert "n is {glue:text}`n:d`." in good_page.cells[-1].source
    injected = [c for c in good_page.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "remove-cell" in injected[0].metadata["tags"]
    times = json.loads((tmp_path / "_build/notebook-times.json").read_text())
    assert times["notebooks"]["book/bad.ipynb"]["status"] == "failed"
    shutil.rmtree(tmp_path / "_build")
