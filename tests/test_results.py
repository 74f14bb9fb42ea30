"""dentpy.results: the paper-vs-notebook table and the status page."""

import json

import pytest

from dentpy.results import Verdict, glue, paper_vs_notebook, results_dir, status_markdown, verdict

ROW = dict(claim="TF2 is the best fine-tuning degree", paper="AUC 0.894", ours="AUC 0.81 ± 0.03",
           verdict=verdict(0.05, (0.01, 0.09), 0.2), why="synthetic cortex is easier")
SAVED = {**ROW, "verdict": "partly reproduced"}


@pytest.mark.parametrize("estimate, interval, paper, expected", [
    (0.10, (0.05, 0.15), 0.10, "reproduced"),          # excludes 0 on the paper's side, same size
    (0.05, (0.01, 0.09), 0.10, "reproduced"),          # exactly half the paper's effect
    (0.20, (0.15, 0.25), 0.10, "reproduced"),          # exactly twice
    (0.04, (0.01, 0.07), 0.10, "partly reproduced"),   # right side, under half
    (0.30, (0.25, 0.35), 0.10, "partly reproduced"),   # right side, over twice
    (0.10, (-0.01, 0.21), 0.10, "not reproduced"),     # interval contains 0
    (0.10, (0.00, 0.20), 0.10, "not reproduced"),      # touches 0: does not exclude it
    (-0.10, (-0.15, -0.05), 0.10, "not reproduced"),   # the other side
    (-0.10, (-0.15, -0.05), -0.12, "reproduced"),      # a negative effect (e.g. a lower error)
    (-0.01, (-0.02, -0.005), -0.12, "partly reproduced"),
    (0.10, (0.05, 0.15), -0.12, "not reproduced"),
])
def test_verdict_rules(estimate, interval, paper, expected):
    decided = verdict(estimate, interval, paper)
    assert decided == expected and isinstance(decided, Verdict)
    assert decided.interval == interval and decided.paper == paper


@pytest.mark.parametrize("args, match", [
    ((0.1, (0.2, 0.1), 0.1), "lo <= hi"),
    ((float("nan"), (0.0, 0.2), 0.1), "estimate must be a finite number, got nan"),
    ((0.1, (0.0, float("inf")), 0.1), r"interval\[1\] must be a finite number, got inf"),
    ((0.1, (0.0, 0.2), float("nan")), "paper must be a finite number, got nan"),
    ((0.1, (0.0, 0.2), 0.0), "non-zero"),
    ((0.1, (0.0, 0.2, 0.3), 0.1), "pair"),
    ((0.1, None, 0.1), "pair"),
    ((0.1, "ab", 0.1), "pair"),
    (("0.1", (0.0, 0.2), 0.1), "estimate must be a finite number, got '0.1'"),
    ((True, (0.0, 0.2), 0.1), "estimate must be a finite number, got True"),
])
def test_verdict_refuses_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        verdict(*args)


def test_verdict_accepts_numpy_and_torch_scalars():
    import numpy as np
    import torch
    assert verdict(np.float32(0.1), (torch.tensor(0.05), np.float64(0.2)), 0.1) == "reproduced"


def test_typed_verdicts_are_refused_and_smoke_is_not_tested(tmp_path):
    with pytest.raises(ValueError, match="must come from dentpy.results.verdict"):
        paper_vs_notebook("a", [{**ROW, "verdict": "reproduced"}], profile="standard",
                          out_dir=tmp_path)
    frame = paper_vs_notebook("a", [ROW], profile="smoke", out_dir=tmp_path)
    assert frame.iloc[0]["Verdict"] == "not tested"
    assert frame.iloc[0]["Why"].startswith("the smoke profile only checks that the code runs")


def test_glue_checks_the_name_and_returns_the_value():
    import numpy as np
    assert glue("auc", np.float64(0.75)) == 0.75 and isinstance(glue("x", np.int64(3)), int)
    with pytest.raises(ValueError, match="name must be an identifier"):
        glue("test auc", 1.0)


def test_table_is_returned_and_saved(tmp_path):
    frame = paper_vs_notebook("osteo_tl", [ROW], profile="standard", out_dir=tmp_path)
    assert list(frame.columns) == ["Claim", "Paper", "This notebook", "Verdict", "Why"]
    assert frame.iloc[0]["Paper"] == "AUC 0.894"
    record = json.loads((tmp_path / "osteo_tl.json").read_text())
    assert record == {"chapter": "osteo_tl", "profile": "standard", "rows": [SAVED]}


def test_status_page_gathers_every_chapter(tmp_path):
    paper_vs_notebook("a", [ROW], profile="smoke", out_dir=tmp_path)
    paper_vs_notebook("b", [{**ROW, "verdict": "not tested", "claim": "x | y"}],
                      profile="smoke", out_dir=tmp_path)
    text = status_markdown(tmp_path)
    assert "Across 2 chapter(s): 2 not tested (from the recorded run" in text
    assert "## `a`\n\nThis build (`smoke` profile)" in text and "x \\| y" in text
    assert "No chapter" in status_markdown(tmp_path / "nothing")


def test_status_page_shows_the_recorded_standard_run_beside_a_smoke_build(tmp_path):
    paper_vs_notebook("a", [ROW], profile="smoke", out_dir=tmp_path)
    saved = {"chapter": "a", "profile": "standard", "rows": [SAVED]}
    recorded = {"book/a.ipynb": {"results": [saved], "date": "2026-12-03T08:00:00+00:00",
                                 "commit": "abc1234", "machine": "x86_64, 2 CPU cores, Linux"}}
    text = status_markdown(tmp_path, recorded=recorded, build_profile="smoke")
    assert "Across 1 chapter(s): 1 partly reproduced" in text
    assert "Recorded `standard` run of 2026-12-03, commit `abc1234`, on x86_64" in text
    assert "This build ran the `smoke` profile" in text and "built with the `smoke`" in text


@pytest.mark.parametrize("chapter, rows, match", [
    ("DAC paper", [ROW], "chapter must be a short slug"),
    ("dac", [], "at least one claim"),
    ("dac", [{**ROW, "why": ""}], r"lacks \['why'\]"),
    ("dac", [{**ROW, "verdict": "yes"}], "must come from dentpy.results.verdict"),
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
