"""Command line of the course tooling; the Makefile's targets call these commands.

    python -m dentpy.book book [--profile auto] [--force]           run the notebooks, build HTML
    python -m dentpy.book execute [--profile smoke] [--only part1]   run the notebooks
    python -m dentpy.book html                                      build _build/html
    python -m dentpy.book records                                   check book/_runs/standard.json
    python -m dentpy.book check-site                                open every page in Chromium
    python -m dentpy.book check-lab                                 a chapter in JupyterLab
    python -m dentpy.book guards                                    check the notebook rules
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dentpy.book.browser import check_site, find_chromium
from dentpy.book.guards import check_notebook
from dentpy.book.lab import check_lab
from dentpy.book.records import check_records
from dentpy.book.runner import run_book
from dentpy.book.site import build_html
from dentpy.book.toc import toc_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dentpy.book", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="folder with _toc.yml")
    parser.add_argument("--out", type=Path, default=None, help="build folder (root/_build)")
    commands = parser.add_subparsers(dest="command", required=True)
    book = commands.add_parser(
        "book", help="execute the notebooks, then build the HTML even if some failed; exit 1 "
                     "when any failed")
    execute = commands.add_parser("execute", help="execute every notebook of _toc.yml")
    for command in (book, execute):
        command.add_argument("--profile", default=os.environ.get("PROFILE", "auto"),
                             help="smoke | standard | full | auto (default: $PROFILE or auto)")
        command.add_argument("--only", nargs="*",
                             help="run only notebooks whose path contains these")
        command.add_argument("--force", action="store_true",
                             help="re-run notebooks even when unchanged since their last run")
    commands.add_parser("html", help="build the HTML book from the executed notebooks")
    commands.add_parser("records", help="list notebooks without a green standard record of "
                                        "their current source (book/_runs/standard.json)")
    site = commands.add_parser("check-site", help="load every built page in headless Chromium")
    site.add_argument("--skip-if-missing", action="store_true",
                      help="print a notice and succeed when Chromium is not installed")
    lab = commands.add_parser("check-lab", help="open a chapter in JupyterLab (headless "
                              "Chromium): MyST rendered, solutions folded")
    lab.add_argument("--notebook", default="part3_training/01_training_loop.ipynb",
                     help="path under book/")
    lab.add_argument("--skip-if-missing", action="store_true",
                     help="print a notice and succeed when Chromium is not installed")
    commands.add_parser("guards", help="check every notebook of book/ against the rules")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    out = (args.out or root / "_build").resolve()

    if args.command in ("execute", "book"):
        report = run_book(root, profile=args.profile, out=out, only=args.only, force=args.force)
        if args.command == "book":
            build_html(root, out=out)
            if report.failed:
                print(f"The book was built, but {len(report.failed)} notebook(s) failed; their "
                      "pages say so:\n" + "\n".join(f"  {run.path}" for run in report.failed))
        return 1 if report.failed else 0
    if args.command == "records":
        problems = check_records(root, "standard")
        print("\n".join(problems) if problems else "records: every notebook has a green standard "
              "run of its current source")
        return 1 if problems else 0
    if args.command == "html":
        build_html(root, out=out)
        return 0
    if args.command == "check-site":
        if find_chromium() is None and args.skip_if_missing:
            print("NOTICE: chromium is not installed, so the browser check of the site was SKIPPED")
            return 0
        reports = check_site(root, html=out / "html", screenshot=out / "screenshot-index.png",
                             executed=out / "executed")
        return 1 if any(report.errors for report in reports) else 0
    if args.command == "check-lab":
        if find_chromium() is None and args.skip_if_missing:
            print("NOTICE: chromium is not installed, so the JupyterLab check was SKIPPED")
            return 0
        errors = check_lab(root, args.notebook, screenshot=out / "screenshot-lab.png")
        return 1 if errors else 0
    if args.command == "guards":
        return _guards(root)
    return 2  # pragma: no cover - argparse rejects unknown commands


def _guards(root: Path) -> int:
    listed = {path for path in toc_files(root) if path.suffix == ".ipynb"}
    on_disk = {path.relative_to(root) for path in (root / "book").rglob("*.ipynb")
               if ".ipynb_checkpoints" not in path.parts}
    problems = [f"{p}: toc-listed: notebook is not in _toc.yml" for p in sorted(on_disk - listed)]
    for path in sorted(listed):
        problems += [f"{path}: {problem}" for problem in check_notebook(root / path)]
    print("\n".join(problems) if problems else f"guards: {len(listed)} notebooks follow the rules")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
