"""Tests of data_scripts/make_synthetic.py on a few tiny items in a temporary folder."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from dentpy.data.io import read_coco, read_image, read_labels_csv, read_nifti
from dentpy.data.synthetic import make_panoramic, make_volume

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "make_synthetic", ROOT / "data_scripts" / "make_synthetic.py"
)
make_synthetic = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_synthetic)


def test_panoramic_dataset_on_disk_round_trips(tmp_path):
    out = tmp_path / "syn"
    rc = make_synthetic.main(
        ["--n", "3", "--seed", "4", "--size", "96", "160", "--out", str(out), "--quiet"]
    )
    assert rc == 0
    table = read_labels_csv(out / "labels.csv")
    assert len(table) == 3
    s = make_panoramic(1, seed=4, size=(96, 160), dtype="uint16")
    img = read_image(out / "images" / "000001.png")
    assert img.dtype == np.uint16 and np.array_equal(img, s.image)
    assert np.array_equal(read_image(out / "masks" / "000001_instance.png"), s.instance_mask)
    assert np.array_equal(read_image(out / "masks" / "000001_tooth.png"), s.tooth_mask)
    assert table.loc[1, "restoration_count"] == s.restoration_count
    coco = read_coco(out / "coco.json")
    assert coco is not None
    assert (out / make_synthetic.MARKER).is_file()
    # the script's own folder may be written again; nothing existing is overwritten
    assert (
        make_synthetic.main(["--n", "3", "--size", "96", "160", "--out", str(out), "--quiet"]) == 2
    )


def test_realistic_framing_on_disk(tmp_path):
    """--framing realistic writes make_panoramic(framing="realistic") and its positioning; the
    default stays the centred world."""
    out = tmp_path / "real"
    argv = ["--n", "2", "--seed", "3", "--size", "96", "160", "--quiet"]
    assert make_synthetic.main([*argv, "--framing", "realistic", "--out", str(out)]) == 0
    s = make_panoramic(1, seed=3, size=(96, 160), dtype="uint16", framing="realistic")
    assert np.array_equal(read_image(out / "images" / "000001.png"), s.image)
    assert np.array_equal(read_image(out / "masks" / "000001_tooth.png"), s.tooth_mask)
    table = read_labels_csv(out / "labels.csv")
    assert (table["framing"] == "realistic").all()
    np.testing.assert_allclose(table.loc[1, ["roi_x0", "roi_y0", "roi_x1", "roi_y1"]].to_numpy(
        float), s.roi_box, rtol=1e-6)
    assert table.loc[1, "pos_forward_mm"] == pytest.approx(s.positioning.forward_mm)
    assert table.loc[1, "pos_field_scale"] == pytest.approx(s.positioning.field_scale)
    assert bool(table.loc[1, "pos_child"]) == s.positioning.child
    centred = tmp_path / "centred"
    assert make_synthetic.main([*argv, "--out", str(centred)]) == 0
    c = make_panoramic(1, seed=3, size=(96, 160), dtype="uint16")
    assert np.array_equal(read_image(centred / "images" / "000001.png"), c.image)
    assert not np.array_equal(c.image, s.image)
    assert not any(col.startswith("pos_") for col in read_labels_csv(centred / "labels.csv"))
    # a framing for volumes, or an unknown one, is refused before anything is written
    vol = ["--kind", "volume", "--n", "1", "--size", "16", "24", "24", "--quiet"]
    assert make_synthetic.main([*vol, "--framing", "realistic", "--out", str(tmp_path / "v")]) == 2
    assert not (tmp_path / "v").exists()
    with pytest.raises(SystemExit):
        make_synthetic.main([*argv, "--framing", "tilted", "--out", str(tmp_path / "t")])


def test_volume_dataset_on_disk_keeps_the_affine(tmp_path):
    out = tmp_path / "cbct"
    assert (
        make_synthetic.main(
            [
                "--kind",
                "volume",
                "--n",
                "2",
                "--size",
                "16",
                "24",
                "24",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    v = make_volume(1, seed=0, size=(16, 24, 24))
    back = read_nifti(out / "volumes" / "000001.nii.gz")
    np.testing.assert_allclose(back.affine, v.affine, atol=1e-5)
    assert np.array_equal(np.asarray(back.data), v.image)
    canal = read_nifti(out / "volumes" / "000001_canal.nii.gz")
    assert np.array_equal(np.asarray(canal.data), v.canal_mask)


def test_refuses_foreign_folders_and_bad_arguments(tmp_path, capsys):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert make_synthetic.main(["--n", "1", "--size", "96", "160", "--out", str(foreign)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    for argv in (
        ["--n", "0"],
        ["--n", "1", "--size", "96"],
        ["--n", "1", "--size", "8", "8"],
        ["--n", "1", "--seed", "-1"],
    ):
        assert make_synthetic.main([*argv, "--out", str(tmp_path / "new")]) == 2
    assert not (tmp_path / "new").exists()
    with pytest.raises(SystemExit):
        make_synthetic.main(["--kind", "nope", "--n", "1", "--out", str(tmp_path / "x")])
