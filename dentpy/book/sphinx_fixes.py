"""A small Sphinx extension that mends two console errors of the Jupyter Book 1.x theme stack.

- sphinx-thebe's and sphinx-togglebutton's inline scripts reach every page twice (once with
  filename ``None``, once with ``""``, which Sphinx does not see as equal), so each page
  declared ``const THEBE_JS_URL`` twice: a script error.
- pydata-sphinx-theme reads ``default_mode`` from the page context, which nothing sets, and
  logs "Got invalid theme mode" on every page.
"""

from __future__ import annotations

from typing import Any


def _deduplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        # The same inline script is registered once with filename None and once with "".
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", script) or "", tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique
    context.setdefault("default_mode", "auto")


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", _deduplicate_scripts, priority=900)  # after the others
    return {"parallel_read_safe": True, "parallel_write_safe": True}
