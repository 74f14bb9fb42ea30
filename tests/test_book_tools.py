"""The course tooling: TOC, notebook guards (on every notebook of the book) and the runner."""

import json
from pathlib import Path

import nbformat
import pytest

from dentpy.book.guards import check_code, check_notebook, check_parameters, check_stripped
from dentpy.book.runner import run_book
from dentpy.book.site import stage_sources
from dentpy.book.toc import toc_files, toc_notebooks

ROOT = Path(__file__).resolve().parents[1]
BOOK_NOTEBOOKS = sorted(p.relative_to(ROOT) for p in (ROOT / "book").rglob("*.ipynb")
                        if ".ipynb_checkpoints" not in p.parts)


def make_notebook(*cells: tuple[str, str], tags_first: bool = True) -> nbformat.NotebookNode:
    """A notebook from (kind, source) pairs; the first code cell is tagged 'parameters'."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    first_code = True
    for kind, source in cells:
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
            continue
        cell = nbformat.v4.new_code_cell(source)
        if first_code and tags_first:
            cell.metadata["tags"] = ["parameters"]
        first_code = False
        nb.cells.append(cell)
    return nb


def write_book(root: Path, notebooks: dict[str, nbformat.NotebookNode]) -> None:
    """A minimal Jupyter Book: an intro page plus the given notebooks, all in the TOC."""
    (root / "book").mkdir(parents=True)
    (root / "book" / "intro.md").write_text("# Intro\n")
    chapters = "\n".join(f"  - file: book/{name}" for name in notebooks)
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: book/intro\nchapters:\n{chapters}\n")
    (root / "_config.yml").write_text("title: test\n")
    for name, nb in notebooks.items():
        nbformat.write(nb, root / "book" / f"{name}.ipynb")


# --- the book itself -------------------------------------------------------------------------

def test_toc_lists_existing_pages_in_reading_order():
    files = toc_files(ROOT)
    assert files[0] == Path("book/intro.md")
    assert all((ROOT / f).is_file() for f in files)
    assert len(files) == len(set(files))


def test_every_notebook_is_in_the_toc_and_vice_versa():
    assert sorted(toc_notebooks(ROOT)) == BOOK_NOTEBOOKS


@pytest.mark.parametrize("path", BOOK_NOTEBOOKS, ids=str)
def test_notebook_follows_the_rules(path):
    assert check_notebook(ROOT / path) == []


# --- the guards catch each broken rule -------------------------------------------------------

def test_guard_parameters_cell():
    assert check_parameters(make_notebook(("code", "PROFILE = 'auto'"))) == []
    untagged = make_notebook(("code", "PROFILE = 'auto'"), tags_first=False)
    assert "tagged 'parameters'" in check_parameters(untagged)[0]
    no_profile = make_notebook(("code", "SEED = 0"))
    assert "must set PROFILE" in check_parameters(no_profile)[0]
    assert "no code cell" in check_parameters(make_notebook(("md", "# t")))[0]


def test_guard_outputs_stripped():
    nb = make_notebook(("code", "PROFILE = 'auto'"), ("code", "1 + 1"))
    nb.cells[1].execution_count = 3
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    problems = check_stripped(nb)
    assert len(problems) == 2 and all(p.startswith("outputs-stripped") for p in problems)


@pytest.mark.parametrize("source, rule", [
    ("model.cuda()", "no-cuda-call"),
    ("from getpass import getpass", "no-getpass"),
    ("!pip install monai", "no-pip-in-notebook"),
    ("%pip install monai", "no-pip-in-notebook"),
    ("open('/home/me/data.csv')", "no-absolute-path"),
    ("root = '/content/drive'", "no-absolute-path"),
    ("urllib.request.urlretrieve(url, 'x')", "no-network"),
])
def test_guard_forbidden_code(source, rule):
    problems = check_code(make_notebook(("code", "PROFILE = 'auto'"), ("code", source)))
    assert problems and problems[0].startswith(rule)


def test_guard_allows_ordinary_code():
    nb = make_notebook(("code", "PROFILE = 'auto'"), ("code", "x = data_dir / 'a.png'\nm.to(d)"))
    assert check_code(nb) == []


def test_guard_size_limit(tmp_path):
    nb = make_notebook(("code", "PROFILE = 'auto'"), ("md", "x" * 1_100_000))
    nbformat.write(nb, tmp_path / "big.ipynb")
    assert any(p.startswith("size:") for p in check_notebook(tmp_path / "big.ipynb"))


# --- the runner --------------------------------------------------------------------------------

def test_runner_executes_reports_failures_and_refuses_unparameterised(tmp_path):
    show = "import os\nprint('profile', PROFILE, os.environ['OMP_WAIT_POLICY'])"
    good = make_notebook(("code", "PROFILE = 'auto'"), ("code", show))
    bad = make_notebook(("code", "PROFILE = 'auto'"), ("code", "x = 1\nraise ValueError('boom')"))
    refused = make_notebook(("code", "print('no parameters')"), tags_first=False)
    write_book(tmp_path, {"good": good, "bad": bad, "refused": refused})
    lines: list[str] = []
    report = run_book(tmp_path, profile="smoke", log=lines.append)
    status = {run.path: run.status for run in report.runs}
    assert status == {"book/good.ipynb": "ok", "book/bad.ipynb": "failed",
                      "book/refused.ipynb": "refused"}
    failure = next(run for run in report.runs if run.status == "failed").message
    assert failure.startswith("book/bad.ipynb") and "raise ValueError('boom')" in failure
    assert "ValueError" in failure and "boom" in failure
    assert any("notebooks: 1 passed (0 unchanged, not re-run), 2 failed" in line
               for line in lines)
    assert lines[-1].startswith("  FAILED book/refused.ipynb: parameters-cell")
    executed = nbformat.read(tmp_path / "_build/executed/book/good.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "profile smoke PASSIVE" in printed  # PROFILE injected; idle OpenMP threads sleep
    times = json.loads((tmp_path / "_build/notebook-times.json").read_text())
    assert times["profile"] == "smoke" and times["device"]
    assert times["notebooks"]["book/good.ipynb"]["seconds"] > 0

    # The HTML stage refuses to build from notebooks that never executed.
    (tmp_path / "_build/executed/book/good.ipynb").unlink()
    with pytest.raises(ValueError, match="no executed copy"):
        stage_sources(tmp_path, tmp_path / "_build")


def test_stage_sources_adds_a_run_note(tmp_path):
    nb = make_notebook(("md", "# Title"), ("code", "PROFILE = 'auto'"))
    write_book(tmp_path, {"one": nb})
    out = tmp_path / "_build"
    (out / "executed/book").mkdir(parents=True)
    nbformat.write(nb, out / "executed/book/one.ipynb")
    (out / "notebook-times.json").write_text(json.dumps(
        {"profile": "smoke", "device": "cpu",
         "notebooks": {"book/one.ipynb": {"seconds": 12.4}}}))
    src = stage_sources(tmp_path, out)
    staged = nbformat.read(src / "book/one.ipynb", as_version=4)
    assert staged.cells[0].source == "# Title"
    assert "`smoke` profile in about 12 s on a CPU" in staged.cells[1].source
    assert (src / "_toc.yml").is_file() and (src / "book/intro.md").is_file()


def test_runner_only_must_match(tmp_path):
    write_book(tmp_path, {"a": make_notebook(("code", "PROFILE = 'auto'"))})
    with pytest.raises(ValueError, match="matches no notebook"):
        run_book(tmp_path, profile="smoke", only=["zzz"], log=lambda _: None)


def test_offline_mathjax_files_are_installed_and_complete():
    """requirements.txt installs the MathJax files the book serves; the component is there."""
    from dentpy.book.offline_math import COMPONENT, NEEDED, mathjax_source

    source = mathjax_source()
    assert source is not None, "sphinx-mathjax-offline is missing: formulas would need a CDN"
    assert all((source / name).exists() for name in NEEDED)
    assert (source / COMPONENT).stat().st_size > 1_000_000  # the whole TeX-to-SVG component
