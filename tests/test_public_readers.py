"""Readers of DENTEX and the Tufts Dental Database, on fakes written in the published layouts."""

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from public_fakes import write_dentex, write_tufts

from dentpy.data.dentex import DentexDataset
from dentpy.data.numbering import (
    FDI_NUMBERS,
    dentex_to_fdi,
    fdi_to_dentex,
    fdi_to_universal,
    universal_to_fdi,
)
from dentpy.data.real import LayoutError, open_public, which_set
from dentpy.data.splits import train_val_test_split
from dentpy.data.tufts import TuftsDataset

SCRIPT = Path(__file__).resolve().parents[1] / "data_scripts" / "fetch_public.py"


def test_universal_and_fdi_round_trip_with_known_teeth() -> None:
    codes = fdi_to_universal(FDI_NUMBERS)
    assert sorted(codes, key=lambda c: (c.isalpha(), c.zfill(2))) == (
        [str(u) for u in range(1, 33)] + [chr(ord("A") + k) for k in range(20)])
    assert universal_to_fdi(codes).tolist() == list(FDI_NUMBERS)
    # landmarks: 1 = upper right third molar, 8/9 = central incisors, 17 = lower left third
    # molar, 32 = lower right third molar; A = upper right, T = lower right second primary molar
    known = {"1": 18, "8": 11, "9": 21, "16": 28, "17": 38, "24": 31, "25": 41, "32": 48,
             "A": 55, "E": 51, "F": 61, "J": 65, "K": 75, "O": 71, "P": 81, "T": 85}
    assert universal_to_fdi(list(known)).tolist() == list(known.values())
    assert universal_to_fdi([1, " a "]).tolist() == [18, 55]


def test_dentex_indices_are_zero_based() -> None:
    assert dentex_to_fdi([0, 1, 2, 3], [0, 7, 3, 5]).tolist() == [11, 28, 34, 46]
    q, t = fdi_to_dentex([11, 28, 34, 46])
    assert q.tolist() == [0, 1, 2, 3] and t.tolist() == [0, 7, 3, 5]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: universal_to_fdi(["33"]), "codes must be Universal tooth codes"),
    (lambda: universal_to_fdi(["U"]), "codes must be Universal tooth codes"),
    (lambda: universal_to_fdi([1.0]), "codes must be Universal tooth codes"),
    (lambda: fdi_to_universal([19]), r"fdi must hold FDI numbers .* got \[19\]"),
    (lambda: fdi_to_dentex([55]), "DENTEX has no primary teeth"),
    (lambda: dentex_to_fdi([4], [0]), "quadrant must hold 0-based indices 0-3"),
    (lambda: dentex_to_fdi([0], [8]), "tooth must hold 0-based indices 0-7"),
    (lambda: dentex_to_fdi([0, 1], [0]), "quadrant and tooth must have the same length"),
])
def test_numbering_rejects_what_is_not_a_tooth(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("one_based", [False, True])
def test_dentex_items_give_back_the_generators_teeth(tmp_path, one_based) -> None:
    made = write_dentex(tmp_path, n=3, one_based=one_based)
    data = DentexDataset(tmp_path)
    assert len(data) == 3 and data.patient_ids == ["train_0", "train_1", "train_2"]
    for item, sample in zip(data, made, strict=True):
        assert item["image"].shape == (1, 128, 256) and item["image"].dtype == torch.float32
        assert item["fdi"].tolist() == sample.tooth_fdi.tolist()
        np.testing.assert_allclose(item["boxes"].numpy(), sample.tooth_boxes, atol=1e-4)
        assert item["labels"].equal(item["fdi"]) and not item["restoration"].any()
        np.testing.assert_allclose(item["box"][:2], sample.tooth_boxes[:, :2].min(0), atol=1e-4)


def test_dentex_without_category_lists_reads_zero_based_ids(tmp_path) -> None:
    made = write_dentex(tmp_path, n=1)
    path = tmp_path / "training_data" / "quadrant_enumeration" / "train_quadrant_enumeration.json"
    coco = json.loads(path.read_text())
    del coco["categories_1"], coco["categories_2"]
    path.write_text(json.dumps(coco))
    assert DentexDataset(tmp_path)[0]["fdi"].tolist() == made[0].tooth_fdi.tolist()


def test_dentex_disease_and_quadrant_sets(tmp_path) -> None:
    write_dentex(tmp_path, n=2, folder="quadrant-enumeration-disease", subset="disease")
    item = DentexDataset(tmp_path, subset="disease", labels="class")[1]
    assert item["diagnosis"].tolist() == [k % 4 for k in range(len(item["boxes"]))]
    assert item["labels"].min() >= 1 and item["labels"].max() <= 32
    with pytest.raises(LayoutError, match="no train_quadrant_enumeration.json"):
        DentexDataset(tmp_path)


def test_dentex_resize_scales_boxes(tmp_path) -> None:
    made = write_dentex(tmp_path, n=1)
    item = DentexDataset(tmp_path, size=(64, 128))[0]
    assert item["image"].shape == (1, 64, 128)
    np.testing.assert_allclose(item["boxes"].numpy(), made[0].tooth_boxes / 2, atol=1e-4)


def test_dentex_layout_and_file_errors_say_what_was_expected(tmp_path) -> None:
    with pytest.raises(LayoutError, match=r"(?s)no train_quadrant_enumeration.json.*zenodo"):
        DentexDataset(tmp_path)
    write_dentex(tmp_path, n=2)
    base = tmp_path / "training_data" / "quadrant_enumeration"
    (base / "xrays" / "train_1.png").unlink()
    with pytest.raises(LayoutError, match="lists 'train_1.png', not found"):
        DentexDataset(tmp_path)
    (base / "train_quadrant_enumeration.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not a DENTEX COCO file"):
        DentexDataset(tmp_path)


def test_dentex_rejects_bad_boxes_and_unknown_categories(tmp_path) -> None:
    write_dentex(tmp_path, n=1)
    path = tmp_path / "training_data" / "quadrant_enumeration" / "train_quadrant_enumeration.json"
    coco = json.loads(path.read_text())
    coco["annotations"][0]["bbox"][2] = -3
    path.write_text(json.dumps(coco))
    with pytest.raises(ValueError, match="non-positive width/height"):
        DentexDataset(tmp_path)
    coco["annotations"][0]["bbox"][2] = 3
    coco["annotations"][0]["category_id_2"] = 9
    path.write_text(json.dumps(coco))
    with pytest.raises(ValueError, match="missing or unknown category"):
        DentexDataset(tmp_path)


def test_tufts_items_give_back_teeth_masks_and_region(tmp_path) -> None:
    made = write_tufts(tmp_path, n=2)
    data = TuftsDataset(tmp_path)
    assert data.image_ids == ["1", "2"]
    for item, sample in zip(data, made, strict=True):
        assert item["fdi"].tolist() == sample.tooth_fdi.tolist()
        np.testing.assert_allclose(item["boxes"].numpy(), sample.tooth_boxes, atol=1e-4)
        teeth = sample.tooth_mask > 0
        agree = (item["mask"][0].numpy().astype(bool) == teeth).mean()
        assert agree > 0.97  # JPEG edges aside, the mask is the generator's
        np.testing.assert_allclose(item["box"].numpy(), np.round(sample.roi_box), atol=1.0)


def test_tufts_primary_teeth_and_box_convention(tmp_path) -> None:
    write_tufts(tmp_path, n=1)
    path = tmp_path / "Segmentation" / "teeth_bbox.json"
    rows = json.loads(path.read_text())
    rows[0]["Label"]["objects"].append({"title": "A", "bounding box": [1, 2, 5, 9]})
    path.write_text(json.dumps(rows))
    permanent, everything = TuftsDataset(tmp_path)[0], TuftsDataset(tmp_path, teeth="all")[0]
    assert len(everything["fdi"]) == len(permanent["fdi"]) + 1
    assert everything["fdi"][-1] == 55 and everything["boxes"][-1].tolist() == [1, 2, 5, 9]
    rows[0]["Label"]["objects"][-1]["bounding box"] = [5, 2, 1, 9]  # x_max < x_min
    path.write_text(json.dumps(rows))
    with pytest.raises(ValueError, match=r"\[x_min, y_min, x_max, y_max\]"):
        TuftsDataset(tmp_path, teeth="all")
    rows[0]["Label"]["objects"][-1]["title"] = "Z"
    path.write_text(json.dumps(rows))
    with pytest.raises(ValueError, match="Universal tooth codes"):
        TuftsDataset(tmp_path, teeth="all")


def test_tufts_layout_errors(tmp_path) -> None:
    with pytest.raises(LayoutError, match=r"(?s)no radiographs in Radiographs/.*tdd.ece.tufts"):
        TuftsDataset(tmp_path)
    write_tufts(tmp_path, n=1)
    (tmp_path / "Segmentation" / "teeth_bbox.json").unlink()
    with pytest.raises(LayoutError, match="no Segmentation/teeth_bbox.json"):
        TuftsDataset(tmp_path)


def test_patient_level_split_keeps_patients_apart(tmp_path) -> None:
    write_tufts(tmp_path, n=4)
    data = TuftsDataset(tmp_path)
    train, val, test = train_val_test_split(np.zeros(len(data)), val=0.25, test=0.25,
                                            groups=data.patient_ids, stratify=False)
    parts = [{data.patient_ids[i] for i in part} for part in (train, val, test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
            digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()


def _script():
    spec = importlib.util.spec_from_file_location("fetch_public", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fetch_script_says_how_and_checks_without_changing_the_folder(tmp_path, capsys) -> None:
    script = _script()
    write_dentex(tmp_path / "dentex", n=2)
    write_tufts(tmp_path / "tufts", n=2)
    before = _tree_digest(tmp_path)
    assert script.main(["--how"]) == 0
    how = capsys.readouterr().out
    assert "zenodo.org/records/7812323" in how and "tdd.ece.tufts.edu" in how
    assert "CC BY-NC-SA 4.0" in how and "teeth_bbox.json" in how
    for key in ("dentex", "tufts"):
        assert script.main(["--check", key, str(tmp_path / key)]) == 0
        out = capsys.readouterr().out
        assert "readable" in out and "2 images" in out
    assert script.main(["--check", "tufts", str(tmp_path / "dentex")]) == 2
    assert "no radiographs in Radiographs/" in capsys.readouterr().err
    assert _tree_digest(tmp_path) == before


def test_open_public_tells_the_sets_apart(tmp_path) -> None:
    write_dentex(tmp_path / "d", n=1)
    write_tufts(tmp_path / "t", n=1)
    assert which_set(tmp_path / "d") == "dentex" and which_set(tmp_path / "t") == "tufts"
    assert isinstance(open_public(tmp_path / "d", size=(64, 128)), DentexDataset)
    assert isinstance(open_public(tmp_path / "t", teeth="all"), TuftsDataset)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds neither the Tufts Dental Database"):
        open_public(tmp_path / "empty")
