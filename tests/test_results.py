"""dentpy.results: the paper-vs-notebook table and the status page."""

import json

import pytest

from dentpy.results import paper_vs_notebook, results_dir, status_markdown

ROW = dict(claim="TF2 is the best fine-tuning degree", paper="AUC 0.894", ours="AUC 0.81 ± 0.03",
           verdict="partly reproduced", why="synthetic cortex is easier than real bone")


def test_table_is_returned_and_saved(tmp_path):
    frame = paper_vs_notebook("osteo_tl", [ROW], profile="standard", out_dir=tmp_path)
    assert list(frame.columns) == ["Claim", "Paper", "This notebook", "Verdict", "Why"]
    assert frame.iloc[0]["Paper"] == "AUC 0.894"
    record = json.loads((tmp_path / "osteo_tl.json").read_text())
    assert record == {"chapter": "osteo_tl", "profile": "standard", "rows": [ROW]}


def test_status_page_gathers_every_chapter(tmp_path):
    paper_vs_notebook("a", [ROW], profile="smoke", out_dir=tmp_path)
    paper_vs_notebook("b", [{**ROW, "verdict": "not tested", "claim": "x | y"}],
                      profile="smoke", out_dir=tmp_path)
    text = status_markdown(tmp_path)
    assert "Across 2 chapter(s): 1 partly reproduced, 1 not tested." in text
    assert "## `a` (smoke profile)" in text and "x \\| y" in text
    assert "No chapter" in status_markdown(tmp_path / "nothing")


@pytest.mark.parametrize("chapter, rows, match", [
    ("DAC paper", [ROW], "chapter must be a short slug"),
    ("dac", [], "at least one claim"),
    ("dac", [{**ROW, "why": ""}], r"lacks \['why'\]"),
    ("dac", [{**ROW, "verdict": "yes"}], "verdict'\\] must be one of"),
])
def test_bad_rows_are_refused(tmp_path, chapter, rows, match):
    with pytest.raises(ValueError, match=match):
        paper_vs_notebook(chapter, rows, profile="smoke", out_dir=tmp_path)


def test_results_dir_finds_the_book(tmp_path, monkeypatch):
    monkeypatch.delenv("DENTPY_RESULTS_DIR", raising=False)
    (tmp_path / "_toc.yml").write_text("root: x\n")
    (tmp_path / "book" / "part").mkdir(parents=True)
    assert results_dir(tmp_path / "book" / "part") == tmp_path / "_build" / "results"
    monkeypatch.setenv("DENTPY_RESULTS_DIR", str(tmp_path / "elsewhere"))
    assert results_dir() == tmp_path / "elsewhere"
