"""The book's table of contents: which source files `_toc.yml` lists, in reading order."""

from __future__ import annotations

from pathlib import Path

from sphinx_external_toc.parsing import parse_toc_yaml

SOURCE_SUFFIXES = (".ipynb", ".md")


def toc_files(root: Path | str) -> list[Path]:
    """Source files of every page in ``root/_toc.yml``, relative to ``root``, in TOC order.

    Raises ``ValueError`` when the TOC is missing or names a page with no ``.ipynb``/``.md`` file.
    """
    root = Path(root)
    toc = root / "_toc.yml"
    if not toc.is_file():
        raise ValueError(f"root={str(root)!r} has no _toc.yml")
    site_map = parse_toc_yaml(toc)
    files, missing = [], []
    for docname in _in_order(site_map):
        found = [path for s in SOURCE_SUFFIXES if (path := root / f"{docname}{s}").exists()]
        if not found:
            missing.append(docname)
        else:
            files.append(found[0].relative_to(root))
    if missing:
        raise ValueError(f"_toc.yml lists pages with no .ipynb or .md file: {missing}")
    return files


def toc_notebooks(root: Path | str) -> list[Path]:
    """The ``.ipynb`` files listed in ``root/_toc.yml``, relative to ``root``, in TOC order."""
    return [path for path in toc_files(root) if path.suffix == ".ipynb"]


def _in_order(site_map) -> list[str]:
    """Depth-first walk from the root page, so pages come out in the order a reader meets them."""
    order: list[str] = []

    def visit(docname: str) -> None:
        order.append(docname)
        for subtree in site_map[docname].subtrees:
            for child in subtree.files():
                visit(child)

    visit(site_map.root.docname)
    return order
