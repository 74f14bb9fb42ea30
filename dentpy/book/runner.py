"""Execute the book's notebooks with papermill, one profile for all, and time each one.

Executed copies land under ``<out>/executed/`` with the same relative paths as the sources, and
``<out>/notebook-times.json`` records wall seconds per notebook, the profile and the device.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from dentpy.book.guards import check_parameters
from dentpy.book.toc import toc_notebooks
from dentpy.results import RESULTS_ENV
from dentpy.runtime import PROFILES, get_device, resolve_profile

SMOKE_BUDGET_S = 60  # DESIGN.md: a smoke run should take at most this long...
SMOKE_LIMIT_S = 120  # ...and never more than this.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class NotebookRun:
    """The outcome of executing one notebook."""

    path: str
    seconds: float
    status: str  # "ok", "failed", "refused", "too-slow"
    message: str = ""


@dataclass
class RunReport:
    """The outcome of executing every notebook of a book."""

    profile: str
    device: str
    runs: list[NotebookRun] = field(default_factory=list)

    @property
    def failed(self) -> list[NotebookRun]:
        return [run for run in self.runs if run.status != "ok"]

    def to_json(self) -> dict:
        return {
            "profile": self.profile,
            "device": self.device,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
            "total_seconds": round(sum(run.seconds for run in self.runs), 1),
            "notebooks": {run.path: asdict(run) for run in self.runs},
        }


def describe_failure(path: str, error: PapermillExecutionError) -> str:
    """A message naming the notebook, the failing cell's source and its traceback."""
    traceback = ANSI_ESCAPE.sub("", "\n".join(error.traceback or []))
    return (
        f"{path}: cell {error.exec_count} raised {error.ename}: {error.evalue}\n"
        f"--- cell source ---\n{error.source}\n--- traceback ---\n{traceback}"
    )


def execute_notebook(source: Path, target: Path, *, profile: str, cwd: Path,
                     results: Path | None = None) -> float:
    """Run one notebook with ``PROFILE=profile`` injected; return its wall time in seconds.

    ``results`` is the folder where the chapter's "paper vs. this notebook" table is saved.
    """
    env_before = dict(os.environ)
    # Idle OpenMP threads sleep instead of spinning: with any other process on the CPU, spinning
    # threads made a 30 s notebook take over 5 minutes on a 2-core machine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if results is not None:
        os.environ[RESULTS_ENV] = str(results)
    if profile in ("smoke", "standard"):
        os.environ["DENTPY_OFFLINE"] = "1"  # fetch() refuses: these sizes never touch the network
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters={"PROFILE": profile},
            cwd=str(cwd),
            kernel_name="python3",
            progress_bar=False,
            request_save_on_cell_execute=False,
        )
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return time.perf_counter() - start


def run_book(
    root: Path | str,
    *,
    profile: str = "auto",
    out: Path | str | None = None,
    only: list[str] | None = None,
    log=print,
) -> RunReport:
    """Execute every notebook of ``root/_toc.yml`` (or those whose path contains one of ``only``).

    A notebook without a ``parameters`` cell is refused, not run. Failures do not stop the run:
    every notebook is tried and the report lists each failure with its cell and traceback.
    """
    root = Path(root).resolve()
    out = Path(out).resolve() if out is not None else root / "_build"
    resolved = resolve_profile(profile)
    if resolved not in PROFILES:  # pragma: no cover - resolve_profile already guarantees it
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    notebooks = toc_notebooks(root)
    if only:
        notebooks = [nb for nb in notebooks if any(part in str(nb) for part in only)]
        if not notebooks:
            raise ValueError(f"only={only!r} matches no notebook of the table of contents")
    if not only:  # a full run starts the "paper vs. this notebook" tables afresh
        shutil.rmtree(out / "results", ignore_errors=True)
    report = RunReport(profile=resolved, device=str(get_device("auto")))
    log(f"executing {len(notebooks)} notebook(s) with PROFILE={resolved} on {report.device}")
    for relative in notebooks:
        source = root / relative
        target = out / "executed" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        problems = check_parameters(nbformat.read(source, as_version=4))
        if problems:
            run = NotebookRun(str(relative), 0.0, "refused", "; ".join(problems))
        else:
            start = time.perf_counter()
            try:
                seconds = execute_notebook(source, target, profile=resolved, cwd=source.parent,
                                           results=out / "results")
                run = NotebookRun(str(relative), round(seconds, 1), "ok")
                if resolved == "smoke" and seconds > SMOKE_LIMIT_S:
                    run.status = "too-slow"
                    run.message = f"smoke run took {seconds:.0f} s > {SMOKE_LIMIT_S} s"
            except PapermillExecutionError as error:
                seconds = time.perf_counter() - start
                message = describe_failure(str(relative), error)
                run = NotebookRun(str(relative), round(seconds, 1), "failed", message)
        report.runs.append(run)
        over = resolved == "smoke" and run.seconds > SMOKE_BUDGET_S
        note = f"  (over the {SMOKE_BUDGET_S} s smoke budget)" if over else ""
        log(f"  {run.status:>8}  {run.seconds:7.1f} s  {relative}{note}")
        if run.status != "ok":
            log(_indent(run.message))
    out.mkdir(parents=True, exist_ok=True)
    (out / "notebook-times.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    passed = len(report.runs) - len(report.failed)
    log(f"notebooks: {passed} passed, {len(report.failed)} failed")
    return report


def _indent(text: str) -> str:
    return "\n".join("      | " + line for line in text.splitlines())
