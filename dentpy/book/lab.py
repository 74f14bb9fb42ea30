"""Open one chapter in JupyterLab, in headless Chromium, and check it renders as the book does.

Students read the course in JupyterLab, where plain Markdown would show MyST raw: ``{doc}`` and
``{cite:p}`` roles as text and every exercise's solution printed under it. ``jupyterlab-myst``
(in requirements.txt) renders them; this check proves it on a real chapter: no directive or role
left as raw text, exercises rendered, solutions folded. A screenshot is saved.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from dentpy.book.browser import CHROMIUM_FLAGS, find_chromium

RAW_MYST = re.compile(r":::\{(exercise|solution)\}|\{(doc|cite:p|cite:t|ref|numref)\}`")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Render every cell at once (not only those in view) and ask no questions about news.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false"}',
}


def _start_lab(folder: Path, port: int, token: str, home: Path) -> subprocess.Popen:
    for name, text in LAB_SETTINGS.items():
        (home / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (home / "settings" / name).write_text(text)
    env = {**os.environ, "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={folder}", "--ServerApp.open_browser=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (localhost)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer {url} within {timeout:.0f} s")


def check_lab(
    root: Path | str,
    notebook: str = "part3_training/01_training_loop.ipynb",
    *,
    chromium: str | None = None,
    screenshot: Path | str | None = None,
    log=print,
) -> list[str]:
    """Render ``book/<notebook>`` in JupyterLab; return what a student would see wrong."""
    from playwright.sync_api import sync_playwright

    chromium = chromium or find_chromium()
    if chromium is None:
        raise RuntimeError("chromium is not installed")
    folder = Path(root).resolve() / "book"
    if not (folder / notebook).is_file():
        raise ValueError(f"notebook={notebook!r} is not a file under {folder}")
    port, token = _free_port(), secrets.token_hex(16)
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as home:
        lab = _start_lab(folder, port, token, Path(home))
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/api/status?token={token}", timeout=90)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium,
                                                     args=CHROMIUM_FLAGS[1:], headless=True)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/lab/tree/{notebook}?token={token}")
                page.wait_for_selector(".jp-MarkdownCell .jp-RenderedMarkdown, "
                                       ".jp-MarkdownCell .myst", timeout=90_000)
                time.sleep(3)  # let every visible cell render
                page.keyboard.press("Escape")  # a kernel dialog, if one opened
                texts = page.eval_on_selector_all(
                    ".jp-MarkdownCell", "cells => cells.map(c => c.innerText)")
                rendered = "\n".join(texts)
                for match in sorted(set(m.group(0) for m in RAW_MYST.finditer(rendered))):
                    errors.append(f"raw MyST shown to the student: {match!r}")
                if "Exercise" not in rendered:
                    errors.append("no rendered exercise found")
                details = page.eval_on_selector_all(
                    ".jp-MarkdownCell details", "ds => ds.map(d => d.open)")
                if not details:
                    errors.append("no folded solution (<details>) found")
                elif any(details):
                    errors.append(f"{sum(details)} of {len(details)} solutions are unfolded")
                if screenshot is not None:
                    if details:  # show the first exercise with its folded solution
                        page.locator(".jp-MarkdownCell details").first.scroll_into_view_if_needed()
                    page.screenshot(path=str(screenshot), full_page=False)
                browser.close()
        finally:
            lab.terminate()
            try:
                lab.wait(timeout=20)
            except subprocess.TimeoutExpired:
                lab.kill()
    log(f"JupyterLab view of {notebook}: "
        + ("renders as in the book" if not errors else "; ".join(errors)))
    return errors
