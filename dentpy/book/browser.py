"""Open every page of the built book in headless Chromium and check what a reader would see.

Each page of the table of contents must load with no console error, no broken image, no
formula left as raw TeX (MathJax is served from the book itself) and no local link or resource
answering 404. Requests leaving the machine (CDN scripts, launch
buttons) are blocked and listed, since CI has no internet. A screenshot of the landing page is
saved next to the HTML.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import nbformat

from dentpy.book.toc import toc_files

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]


@dataclass
class PageReport:
    """What went wrong on one page (empty lists: the page is fine)."""

    url: str
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    images: int = 0
    output_images: int = 0


# Sphinx wraps each formula in span.math / div.math; MathJax 3 puts an mjx-container inside once
# it has typeset it (startup.promise resolves after the first typesetting of the page).
_UNRENDERED_MATH_JS = """async () => {
  const maths = [...document.querySelectorAll("span.math, div.math")];
  if (!maths.length) return 0;
  const startup = window.MathJax && window.MathJax.startup;
  if (startup && startup.promise) { try { await startup.promise; } catch (e) {} }
  return maths.filter(e => !e.querySelector("mjx-container")).length;
}"""


def find_chromium() -> str | None:
    """Path of a Chromium binary, or ``None``."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test log readable
        pass


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def check_site(
    root: Path | str,
    *,
    html: Path | str | None = None,
    chromium: str | None = None,
    screenshot: Path | str | None = None,
    executed: Path | str | None = None,
    log=print,
) -> list[PageReport]:
    """Load every TOC page of the HTML book; return one report per page.

    With ``executed`` (the folder of executed notebooks), each notebook's page must also show
    at least as many figures in its cell outputs as the notebook has image outputs.
    """
    from playwright.sync_api import sync_playwright

    root = Path(root).resolve()
    html = Path(html).resolve() if html is not None else root / "_build" / "html"
    chromium = chromium or find_chromium()
    if chromium is None:
        raise ValueError("chromium is not installed: pass chromium= or install it")
    sources = toc_files(root)
    pages = [path.with_suffix(".html") for path in sources]
    expected = {
        page.as_posix(): count_figures(Path(executed) / source)
        for page, source in zip(pages, sources, strict=True)
        if executed is not None and source.suffix == ".ipynb"
    }
    server, base = _serve(html)
    reports: list[PageReport] = []
    links: dict[str, bool] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for index, page_path in enumerate(pages):
                report = _check_page(context, base, page_path.as_posix(), links)
                figures = expected.get(page_path.as_posix(), 0)
                if report.output_images < figures:
                    report.errors.append(f"{figures} figure(s) in the executed notebook, "
                                         f"{report.output_images} shown on the page")
                reports.append(report)
                if index == 0 and screenshot is not None:
                    context.pages[-1].screenshot(path=str(screenshot), full_page=False)
                context.pages[-1].close()
                status = "ok" if not report.errors else "FAILED"
                log(f"  {status:>6}  {page_path.as_posix()}  ({report.images} images, "
                    f"{report.output_images} in cell outputs)")
                for error in report.errors:
                    log(f"          - {error}")
            blocked = sorted({url for report in reports for url in report.blocked})
            if blocked:
                log(f"  note: {len(blocked)} request(s) to other hosts were blocked "
                    f"(offline check), e.g. {blocked[0]}")
            browser.close()
    finally:
        server.shutdown()
    failed = sum(1 for report in reports if report.errors)
    log(f"pages: {len(reports) - failed} passed, {failed} failed")
    return reports


def _check_page(context, base: str, page_path: str, links: dict[str, bool]) -> PageReport:
    url = urljoin(base, page_path)
    report = PageReport(url=url)
    page = context.new_page()

    def is_local(address: str) -> bool:
        return address.startswith(base) or address.startswith(("data:", "blob:", "about:"))

    def route(route_) -> None:
        if is_local(route_.request.url):
            route_.continue_()
        else:
            report.blocked.append(route_.request.url)
            route_.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: _on_console(report, msg))
    page.on("pageerror", lambda error: report.errors.append(f"script error: {error}"))
    page.on("response", lambda response: _on_response(report, response, is_local))
    response = page.goto(url, wait_until="load")
    if response is None or response.status >= 400:
        report.errors.append(f"page answered {response.status if response else 'nothing'}")
        return report
    page.wait_for_timeout(300)  # let late scripts report their errors
    unrendered = page.evaluate(_UNRENDERED_MATH_JS)
    if unrendered:
        report.errors.append(f"{unrendered} formula(s) left as raw TeX (MathJax did not run)")
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => [e.currentSrc || e.src, e.complete && e.naturalWidth > 0])"
    )
    report.images = len(images)
    report.output_images = page.eval_on_selector_all(".cell_output img", "els => els.length")
    for src, loaded in images:
        if is_local(src) and not loaded:
            report.errors.append(f"image did not load: {src}")
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    for href in sorted(set(hrefs)):
        target, _ = urldefrag(href)
        if target.startswith(base) and not _link_ok(context, target, links):
            report.errors.append(f"broken local link: {href}")
    return report


def count_figures(notebook: Path) -> int:
    """Number of image outputs (PNG, JPEG, SVG) in an executed notebook."""
    nb = nbformat.read(notebook, as_version=4)
    kinds = ("image/png", "image/jpeg", "image/svg+xml")
    return sum(
        any(kind in output.get("data", {}) for kind in kinds)
        for cell in nb.cells if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def _on_console(report: PageReport, message) -> None:
    if message.type != "error":
        return
    text = message.text
    # A request we blocked on purpose (no internet in CI) is not the page's fault.
    if "net::ERR_FAILED" in text or "ERR_BLOCKED" in text:
        return
    report.errors.append(f"console error: {text}")


def _on_response(report: PageReport, response, is_local) -> None:
    if response.status >= 400 and is_local(response.url):
        report.errors.append(f"{response.status} for {response.url}")


def _link_ok(context, target: str, cache: dict[str, bool]) -> bool:
    """Whether a local link answers below 400 (each address is asked once per check)."""
    if target not in cache:
        cache[target] = context.request.get(target, fail_on_status_code=False).status < 400
    return cache[target]
