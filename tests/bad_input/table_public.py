"""Bad input of the readers of public panoramic sets and of the tooth numberings."""

from pathlib import Path

from bad_input import bad
from dentpy.data.dentex import DentexDataset
from dentpy.data.numbering import (
    dentex_to_fdi,
    fdi_to_dentex,
    fdi_to_universal,
    universal_to_fdi,
)
from dentpy.data.real import open_public, which_set
from dentpy.data.tufts import TuftsDataset

N = "dentpy.data.numbering."
DENTEX, TUFTS = "dentpy.data.dentex.DentexDataset", "dentpy.data.tufts.TuftsDataset"


def _file() -> Path:
    path = Path("a_file.txt")
    path.write_text("not a folder")
    return path


ROWS = [
    bad(N + "universal_to_fdi", "wrong type", lambda: universal_to_fdi(None), "codes must be"),
    bad(N + "universal_to_fdi", "out of range", lambda: universal_to_fdi(["0"]), "codes must be"),
    bad(N + "universal_to_fdi", "not an integer", lambda: universal_to_fdi([11.9]),
        "codes must be"),
    bad(N + "fdi_to_universal", "wrong type", lambda: fdi_to_universal("eleven"), "fdi must be"),
    bad(N + "fdi_to_universal", "wrong dtype", lambda: fdi_to_universal([11.9]),
        "fdi must be an array of integer values"),
    bad(N + "fdi_to_universal", "out of range", lambda: fdi_to_universal([10, 49]),
        r"fdi must hold FDI numbers .* got \[10, 49\]"),
    bad(N + "fdi_to_dentex", "out of range", lambda: fdi_to_dentex([85]), "no primary teeth"),
    bad(N + "fdi_to_dentex", "wrong type", lambda: fdi_to_dentex(None), "fdi must be"),
    bad(N + "dentex_to_fdi", "out of range", lambda: dentex_to_fdi([-1], [0]),
        "quadrant must hold 0-based"),
    bad(N + "dentex_to_fdi", "wrong dtype", lambda: dentex_to_fdi([0.5], [0]),
        "quadrant must be an array of integer values"),
    bad(N + "dentex_to_fdi", "mismatched lengths", lambda: dentex_to_fdi([0, 1], [2]),
        "same length"),
    bad(DENTEX, "bad path", lambda: DentexDataset("no_such_folder"), "root does not exist"),
    bad(DENTEX, "bad path", lambda: DentexDataset(_file()), "root must be a directory"),
    bad(DENTEX, "bad path", lambda: DentexDataset("."), "no train_quadrant_enumeration.json"),
    bad(DENTEX, "wrong type", lambda: DentexDataset(None), "root must be a path"),
    bad(DENTEX, "unknown option", lambda: DentexDataset(".", subset="diseases"),
        "subset must be one of"),
    bad(DENTEX, "unknown option", lambda: DentexDataset(".", labels="quadrant"),
        "labels must be one of"),
    bad(DENTEX, "out of range", lambda: DentexDataset(".", size=(8, 8)), r"size\[0\] must be"),
    bad(TUFTS, "bad path", lambda: TuftsDataset("no_such_folder"), "root does not exist"),
    bad(TUFTS, "bad path", lambda: TuftsDataset("."), "no radiographs in Radiographs/"),
    bad(TUFTS, "unknown option", lambda: TuftsDataset(".", teeth="primary"),
        "teeth must be one of"),
    bad(TUFTS, "unknown option", lambda: TuftsDataset(".", labels="class", teeth="all"),
        "covers permanent teeth only"),
    bad(TUFTS, "wrong type", lambda: TuftsDataset(".", size="256x512"), "size must be"),
    bad(TUFTS, "wrong type", lambda: TuftsDataset(".", transform="flip"),
        "transform must be a callable"),
]

EXEMPT = {
    "dentpy.data.real.PublishedSet": "a record of where a set is published, built by the module",
    "dentpy.data.real.LayoutError": "an exception class the readers raise",
}

ROWS += [
    bad("dentpy.data.real.which_set", "bad path", lambda: which_set("no_such_folder"),
        "root does not exist"),
    bad("dentpy.data.real.which_set", "bad path", lambda: which_set("."), "holds neither"),
    bad("dentpy.data.real.open_public", "wrong type", lambda: open_public(None),
        "root must be a path"),
]
