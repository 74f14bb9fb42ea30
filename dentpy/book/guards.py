"""Rules every committed notebook must follow (see DESIGN.md, "Testing").

Each check returns a list of human-readable violations, each naming the rule it breaks, so a test
or the notebook runner can report exactly what to fix.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 1_000_000

# (rule name, pattern in code-cell source)
FORBIDDEN_CODE = (
    ("no-cuda-call", re.compile(r"\.cuda\(")),
    ("no-getpass", re.compile(r"\bgetpass\b")),
    ("no-pip-in-notebook", re.compile(r"^\s*[!%]\s*pip\b", re.MULTILINE)),
    ("no-absolute-path",
     re.compile(r"""["'](/(home|root|Users|content|tmp|mnt|work)/|[A-Za-z]:\\)""")),
    ("no-network", re.compile(r"\b(urlopen|urlretrieve|requests\.(get|post)|wget|curl)\b")),
)


def parameters_cell_index(nb: nbformat.NotebookNode) -> int | None:
    """Index of the code cell tagged ``parameters``, or ``None`` when there is none."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def check_parameters(nb: nbformat.NotebookNode) -> list[str]:
    """The first code cell is tagged ``parameters`` and assigns ``PROFILE``."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if not code:
        return ["parameters-cell: the notebook has no code cell"]
    first = code[0]
    if "parameters" not in first.get("metadata", {}).get("tags", []):
        return ["parameters-cell: the first code cell must be tagged 'parameters'"]
    if not re.search(r"^PROFILE\s*=", first.source, re.MULTILINE):
        return ["parameters-cell: the 'parameters' cell must set PROFILE (e.g. PROFILE = \"auto\")"]
    return []


def check_stripped(nb: nbformat.NotebookNode) -> list[str]:
    """No outputs and no execution counts are committed."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"outputs-stripped: cell {index} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"outputs-stripped: cell {index} has an execution count")
    return problems


def check_code(nb: nbformat.NotebookNode) -> list[str]:
    """No ``.cuda(``, ``getpass``, ``!pip``, absolute paths or network calls in code cells."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for rule, pattern in FORBIDDEN_CODE:
            match = pattern.search(cell.source)
            if match:
                problems.append(f"{rule}: cell {index} contains {match.group(0)!r}")
    return problems


GLUE_ROLE = re.compile(r"\{glue(?::(?:text|any|md))?\}`([^`]+)`")


def glue_references(nb: nbformat.NotebookNode) -> list[str]:
    """Keys that markdown cells paste with ``{glue:text}`key:fmt``` and friends, in order."""
    keys = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for content in GLUE_ROLE.findall(cell.source):
                keys.append(content.rsplit(":", 1)[0] if ":" in content else content)
    return keys


def check_glue(nb: nbformat.NotebookNode) -> list[str]:
    """Every key the prose pastes is glued by name in a code cell (``glue("key", ...)``)."""
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    return [f"glue-key: markdown pastes {key!r} but no code cell glues it by that name"
            for key in dict.fromkeys(glue_references(nb))
            if not re.search(r"""glue\(\s*f?["']""" + re.escape(key) + r"""["']""", code)]


def check_notebook(path: Path | str) -> list[str]:
    """Every rule above plus the size limit, for the notebook file at ``path``."""
    path = Path(path)
    size = path.stat().st_size
    problems = []
    if size > MAX_NOTEBOOK_BYTES:
        problems.append(f"size: {size} bytes > {MAX_NOTEBOOK_BYTES} (strip outputs, drop images)")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several types for broken JSON/schema
        return [*problems, f"valid-notebook: cannot read it ({error})"]
    return (problems + check_parameters(nb) + check_stripped(nb) + check_code(nb)
            + check_glue(nb))
