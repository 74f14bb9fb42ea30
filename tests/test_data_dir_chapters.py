"""The chapters that take a ``DATA_DIR`` run end to end in ``smoke`` on fake public sets.

Each chapter is executed with papermill, as ``dentpy.book.runner`` does, with ``DATA_DIR``
pointing at a tiny DENTEX or Tufts folder written by ``public_fakes`` (the published layouts);
between them the four chapters read both sets. Without ``DATA_DIR`` the chapters run in the
book's own smoke run (``python -m dentpy.book execute --profile smoke``).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill
import pytest
from public_fakes import write_dentex, write_tufts

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = {  # notebook: the public set it reads here
    "book/part1_pipeline/02_pipeline.ipynb": "tufts",
    "book/papers/dac/02_search.ipynb": "dentex",
    "book/papers/dac/03_experiment.ipynb": "tufts",
    "book/part4_detection/03_fdi_and_restorations.ipynb": "dentex",
}
N_IMAGES = 8  # enough for a patient-level train/validation/test split of a few images


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("public")
    write_dentex(root / "dentex", N_IMAGES)
    write_tufts(root / "tufts", N_IMAGES)
    return {"dentex": root / "dentex", "tufts": root / "tufts"}


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_chapter_runs_on_a_public_folder(chapter: str, fakes: dict[str, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    source = ROOT / chapter
    parameters = nbformat.read(source, as_version=4).cells
    first_code = next(cell for cell in parameters if cell.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", [])
    assert 'DATA_DIR = ""' in first_code.source  # synthetic unless a folder is given
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.setenv("DENTPY_OFFLINE", "1")
    monkeypatch.setenv("DENTPY_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    target = tmp_path / Path(chapter).name
    folder = fakes[CHAPTERS[chapter]]
    papermill.execute_notebook(str(source), str(target),
                               parameters={"PROFILE": "smoke", "DATA_DIR": str(folder)},
                               cwd=str(source.parent), kernel_name="python3",
                               progress_bar=False, request_save_on_cell_execute=False)
    executed = nbformat.read(target, as_version=4)
    text = "\n".join(str(value) for cell in executed.cells if cell.cell_type == "code"
                     for output in cell.get("outputs", [])
                     for value in output.get("data", {}).values())
    name = {"dentex": "DENTEX", "tufts": "Tufts"}[CHAPTERS[chapter]]
    assert "This run uses" in text and name in text, f"no 'This run uses' sentence naming {name}"
