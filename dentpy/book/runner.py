"""Execute the book's notebooks with papermill, one profile for all, and time each one.

Executed copies land under ``<out>/executed/`` with the same relative paths as the sources;
``<out>/notebook-times.json`` records, per notebook, its status, wall seconds, profile, device
and machine; each notebook's "paper vs. this notebook" tables go to ``<out>/results/<slug>/``.

A notebook whose source, ``dentpy`` code and profile are unchanged since its last green run in
this build folder is not executed again (the execution cache, ``<out>/cache.json``); ``force``
runs everything. Runs in `standard` and `full` are also written to the committed record
(``book/_runs/<profile>.json``, see :mod:`dentpy.book.records`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from dentpy.book import records
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
    cached: bool = False  # True: unchanged since a green run, not executed again


@dataclass
class RunReport:
    """The outcome of executing every notebook of a book."""

    profile: str
    device: str
    runs: list[NotebookRun] = field(default_factory=list)

    @property
    def failed(self) -> list[NotebookRun]:
        return [run for run in self.runs if run.status != "ok"]

    @property
    def executed_seconds(self) -> float:
        """Wall seconds of the notebooks this run actually executed (cached ones cost none)."""
        return round(sum(run.seconds for run in self.runs if not run.cached), 1)


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
    force: bool = False,
    log=print,
) -> RunReport:
    """Execute every notebook of ``root/_toc.yml`` (or those whose path contains one of ``only``).

    A notebook without a ``parameters`` cell is refused, not run. Failures do not stop the run:
    every notebook is tried and the report lists each failure with its cell and traceback.
    Notebooks unchanged since their last green run with this profile are skipped unless
    ``force``.
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
    report = RunReport(profile=resolved, device=str(get_device("auto")))
    cache = _read_json(out / "cache.json")
    code = code_hash()
    log(f"executing {len(notebooks)} notebook(s) with PROFILE={resolved} on {report.device}")
    for relative in notebooks:
        source = root / relative
        target = out / "executed" / relative
        results = out / "results" / _slug(relative)
        source_sha256 = records.source_hash(source)  # of what runs, even if edited meanwhile
        key = _cache_key(source_sha256, resolved, code)
        if not force and cache.get(str(relative), {}).get("key") == key and target.is_file():
            previous = _read_json(out / "notebook-times.json").get("notebooks", {})
            seconds = previous.get(str(relative), {}).get("seconds", 0.0)
            report.runs.append(NotebookRun(str(relative), seconds, "ok", cached=True))
            log(f"  {'cached':>8}  {seconds:7.1f} s  {relative}  (unchanged since its last run)")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(results, ignore_errors=True)  # this run's tables replace the last ones
        problems = check_parameters(nbformat.read(source, as_version=4))
        if problems:
            run = NotebookRun(str(relative), 0.0, "refused", "; ".join(problems))
            target.unlink(missing_ok=True)
        else:
            start = time.perf_counter()
            try:
                seconds = execute_notebook(source, target, profile=resolved, cwd=source.parent,
                                           results=results)
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
        _remember(out, run, report, key=key if run.status == "ok" else None, root=root,
                  results=results, source_sha256=source_sha256)
    passed = len(report.runs) - len(report.failed)
    cached = sum(run.cached for run in report.runs)
    log(f"notebooks: {passed} passed ({cached} unchanged, not re-run), {len(report.failed)} "
        f"failed; {report.executed_seconds:.0f} s executing")
    for run in report.failed:
        first = run.message.splitlines()[0] if run.message else run.status
        log(f"  FAILED {run.path}: {first.removeprefix(run.path + ': ')}")
    return report


def code_hash(package: Path | None = None) -> str:
    """sha256 of the ``dentpy`` library code a notebook imports (not the book tooling)."""
    package = package or Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "book" in path.relative_to(package).parts[:1] or "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _cache_key(source_sha256: str, profile: str, code: str) -> str:
    return hashlib.sha256(f"{source_sha256} {profile} {code}".encode()).hexdigest()


def _slug(relative: Path) -> str:
    """``book/papers/dac/02_search.ipynb`` -> ``papers__dac__02_search``, a folder per notebook."""
    parts = relative.with_suffix("").parts
    return "__".join(parts[1:] if parts[0] == "book" else parts)


def _remember(out: Path, run: NotebookRun, report: RunReport, *, key: str | None, root: Path,
              results: Path, source_sha256: str) -> None:
    """Write the notebook's times entry, its cache key and, for standard/full, its record."""
    out.mkdir(parents=True, exist_ok=True)
    when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    entry = {**asdict(run), "profile": report.profile, "device": report.device,
             "machine": records.machine(), "date": when}
    with records.locked(out / ".runner.lock"):  # other runners may share this build folder
        times = _read_json(out / "notebook-times.json")
        times.update(profile=report.profile, device=report.device, machine=records.machine())
        times.setdefault("notebooks", {})[run.path] = entry
        times["total_seconds"] = round(sum(n["seconds"] for n in times["notebooks"].values()), 1)
        _write_json(out / "notebook-times.json", times)
        cache = _read_json(out / "cache.json")
        if key is None:
            cache.pop(run.path, None)
        else:
            cache[run.path] = {"key": key, "profile": report.profile}
        _write_json(out / "cache.json", cache)
    if report.profile in records.RECORDED_PROFILES:
        tables = [_read_json(path) for path in sorted(results.glob("*.json"))]
        records.update_records(root, report.profile, {run.path: {
            "source_sha256": source_sha256, "status": run.status,
            "seconds": run.seconds, "message": run.message[:2000], "device": report.device,
            "machine": records.machine(), "date": when, "commit": records.commit(root),
            "results": tables,
        }})


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except json.JSONDecodeError:
        return {}


def _write_json(path: Path, data: dict) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    temporary.replace(path)


def _indent(text: str) -> str:
    return "\n".join("      | " + line for line in text.splitlines())
