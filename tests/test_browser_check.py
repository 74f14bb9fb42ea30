"""The browser check catches what a reader would see broken (needs Chromium; skipped without)."""

from pathlib import Path

import nbformat
import pytest

from dentpy.book.browser import check_site, find_chromium

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def write_site(root: Path, pages: dict[str, str]) -> Path:
    """A TOC whose pages are the given HTML bodies, already 'built' under root/html/book/."""
    (root / "book").mkdir()
    html = root / "html" / "book"
    html.mkdir(parents=True)
    (html / "ok.png").write_bytes(PNG_1x1)
    names = list(pages)
    for name, body in pages.items():
        (root / "book" / f"{name}.md").write_text(f"# {name}\n")
        (html / f"{name}.html").write_text(f"<!doctype html><html><body>{body}</body></html>")
    chapters = "\n".join(f"  - file: book/{name}" for name in names[1:])
    (root / "_toc.yml").write_text(
        f"format: jb-book\nroot: book/{names[0]}\nchapters:\n{chapters}\n")
    return root / "html"


def test_check_site_passes_good_pages_and_flags_each_fault(tmp_path):
    html = write_site(tmp_path, {
        "good": '<img src="ok.png"><a href="bad_link.html">next</a>',
        "bad_link": '<a href="missing.html">gone</a>',
        "bad_image": '<img src="missing.png">',
        "bad_script": "<script>undefinedFunction()</script>",
        "bad_console": "<script>console.error('something broke')</script>",
        "raw_math": '<span class="math">\\(x^2\\)</span>',
        "typeset_math": '<span class="math"><mjx-container>x²</mjx-container></span>',
    })
    shot = tmp_path / "shot.png"
    reports = check_site(tmp_path, html=html, screenshot=shot, log=lambda _: None)
    errors = {Path(r.url).stem: " ".join(r.errors) for r in reports}
    assert errors["good"] == ""
    assert "broken local link" in errors["bad_link"]
    assert "image did not load" in errors["bad_image"]
    assert "404" in errors["bad_image"]
    assert "script error" in errors["bad_script"]
    assert "something broke" in errors["bad_console"]
    assert "1 formula(s) left as raw TeX" in errors["raw_math"]
    assert errors["typeset_math"] == ""
    assert shot.stat().st_size > 0


def test_check_site_counts_figures_of_executed_notebooks(tmp_path):
    html = write_site(tmp_path, {"intro": "<p>hi</p>",
                                 "chapter": '<div class="cell_output"><p>no figure</p></div>'})
    (tmp_path / "book" / "chapter.md").unlink()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [nbformat.v4.new_output("display_data", {"image/png": "iVBORw0KGgo="})]
    nb.cells.append(cell)
    nbformat.write(nb, tmp_path / "book" / "chapter.ipynb")
    (tmp_path / "executed" / "book").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "executed" / "book" / "chapter.ipynb")
    reports = check_site(tmp_path, html=html, executed=tmp_path / "executed", log=lambda _: None)
    errors = {Path(r.url).stem: " ".join(r.errors) for r in reports}
    assert errors == {"intro": "", "chapter": "1 figure(s) in the executed notebook, 0 shown on "
                                              "the page"}
