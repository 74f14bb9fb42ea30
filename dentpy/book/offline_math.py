"""A Sphinx extension that serves MathJax from the built book, so formulas render offline.

Jupyter Book loads MathJax 3 from a CDN; without a network every formula stays raw TeX. The
``sphinx-mathjax-offline`` package (in ``requirements.txt``) ships the MathJax 3 files. When it
is installed, this extension points ``mathjax_path`` at ``_static/mathjax/tex-svg.js`` and
copies the files that component needs there after the build. SVG output draws glyphs as paths,
so no web font is fetched: formulas also render when a page is opened as a local file.
Without the package the CDN stays.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

from sphinx.util import logging

logger = logging.getLogger(__name__)

TARGET = "mathjax"  # under _static/
COMPONENT = "tex-svg.js"
# tex-svg.js plus what it loads on demand (TeX extensions, menu, accessibility, speech rules)
NEEDED = (COMPONENT, "input", "ui", "a11y", "sre", "output/svg", "output/svg.js", "adaptors")


def mathjax_source() -> Path | None:
    """The ``static/mathjax`` folder of sphinx-mathjax-offline, or ``None``."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "static" / "mathjax"
    return folder if (folder / COMPONENT).is_file() else None


def _use_local_mathjax(app, config) -> None:
    if mathjax_source() is None:
        logger.info("offline_math: sphinx-mathjax-offline not found; MathJax comes from the CDN")
        return
    config.mathjax_path = f"{TARGET}/{COMPONENT}"


def _copy_mathjax(app, exception) -> None:
    source = mathjax_source()
    if exception is not None or source is None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / TARGET
    for name in NEEDED:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        elif (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target / name)


def setup(app) -> dict[str, Any]:
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
