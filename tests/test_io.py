"""Round trips and bad input for dentpy.data.io (PNG/JPEG, DICOM, NIfTI, COCO, CSV)."""

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from dentpy.data.io import (
    atomic_path,
    make_affine,
    read_coco,
    read_dicom,
    read_image,
    read_labels_csv,
    read_nifti,
    write_coco,
    write_image,
    write_labels_csv,
    write_nifti,
)

RNG = np.random.default_rng(0)


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")]


# ----------------------------------------------------------------------------- atomic writes
def test_atomic_path_moves_into_place_and_cleans_up(tmp_path):
    target = tmp_path / "a.txt"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith("a.txt")
        temporary.write_text("hello")
        assert not target.exists()
    assert target.read_text() == "hello" and leftovers(tmp_path) == []


def test_atomic_path_failure_leaves_nothing(tmp_path):
    target = tmp_path / "a.txt"
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("boom")
    assert not target.exists() and leftovers(tmp_path) == []


def test_atomic_path_refuses_existing_unless_overwrite(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(FileExistsError, match="overwrite=True"), atomic_path(target):
        pass
    with atomic_path(target, overwrite=True) as temporary:
        temporary.write_text("new")
    assert target.read_text() == "new"


def test_atomic_path_detects_file_created_meanwhile(tmp_path):
    target = tmp_path / "a.txt"
    with pytest.raises(FileExistsError, match="appeared"), atomic_path(target) as temporary:
        temporary.write_text("mine")
        target.write_text("theirs")
    assert target.read_text() == "theirs" and leftovers(tmp_path) == []


def test_atomic_path_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"), atomic_path(
        tmp_path / "nope" / "a.txt"
    ):
        pass


# ----------------------------------------------------------------------------- images
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_png_round_trip_gray(tmp_path, dtype):
    image = RNG.integers(0, np.iinfo(dtype).max, size=(7, 11), endpoint=True).astype(dtype)
    image[0, 0], image[-1, -1] = 0, np.iinfo(dtype).max
    path = write_image(tmp_path / "x.png", image)
    back = read_image(path)
    assert back.dtype == dtype and back.shape == (7, 11)
    np.testing.assert_array_equal(back, image)
    # Pillow, read independently, agrees on the 16-bit values
    np.testing.assert_array_equal(np.asarray(Image.open(path)).astype(dtype), image)


def test_png_round_trip_rgb(tmp_path):
    image = RNG.integers(0, 256, size=(5, 6, 3)).astype(np.uint8)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "c.png", image)), image)


def test_jpeg_is_lossy_but_close(tmp_path):
    yy, xx = np.mgrid[0:32, 0:48]
    image = (xx * 4 + yy * 2).astype(np.uint8)  # smooth ramp: JPEG keeps it well
    back = read_image(write_image(tmp_path / "r.jpg", image, quality=95))
    assert back.dtype == np.uint8 and back.shape == image.shape
    assert np.abs(back.astype(int) - image).mean() < 2


def test_read_image_palette_and_alpha(tmp_path):
    Image.fromarray(np.zeros((4, 4, 4), np.uint8), "RGBA").save(tmp_path / "a.png")
    Image.fromarray(np.full((4, 4), 3, np.uint8)).convert("P").save(tmp_path / "p.png")
    assert read_image(tmp_path / "a.png").shape == (4, 4, 3)
    assert read_image(tmp_path / "p.png").shape == (4, 4, 3)


def test_write_image_refuses_overwrite(tmp_path):
    path = write_image(tmp_path / "x.png", np.zeros((3, 3), np.uint8))
    with pytest.raises(FileExistsError):
        write_image(path, np.ones((3, 3), np.uint8))
    assert read_image(path).max() == 0
    write_image(path, np.ones((3, 3), np.uint8), overwrite=True)
    assert read_image(path).max() == 1


@pytest.mark.parametrize(
    ("name", "image", "match"),
    [
        ("f.png", np.zeros((3, 3), np.float32), "uint8 or uint16.*scale"),
        ("b.png", np.zeros((3, 3), bool), "uint8 or uint16"),
        ("s.png", np.zeros((3, 3, 4), np.uint8), r"\(H, W\) or \(H, W, 3\)"),
        ("e.png", np.zeros((0, 3), np.uint8), "empty"),
        ("c.png", np.zeros((3, 3, 3), np.uint16), "RGB image must be uint8"),
        ("j.jpg", np.zeros((3, 3), np.uint16), "8-bit"),
        ("x.tif", np.zeros((3, 3), np.uint8), "must end with"),
    ],
)
def test_write_image_bad_input(tmp_path, name, image, match):
    with pytest.raises(ValueError, match=match):
        write_image(tmp_path / name, image)
    assert leftovers(tmp_path) == [] and not (tmp_path / name).exists()


def test_read_image_bad_input(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match="not a readable"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "missing.png")
    (tmp_path / "x.bmp").write_bytes(b"BM")
    with pytest.raises(ValueError, match="must end with"):
        read_image(tmp_path / "x.bmp")
    with pytest.raises(ValueError, match="quality"):
        write_image(tmp_path / "q.jpg", np.zeros((3, 3), np.uint8), quality=0)


# ----------------------------------------------------------------------------- DICOM
def write_tiny_dicom(path, pixels, *, slope=None, intercept=None, spacing=None, imager=None):
    """A minimal valid DICOM file, written with pydicom's own API."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # digital X-ray
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientID, ds.Manufacturer = "PX", "P001", "Acme"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    if spacing is not None:
        ds.PixelSpacing = list(spacing)
    if imager is not None:
        ds.ImagerPixelSpacing = list(imager)
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_read_dicom_rescale_spacing_metadata(tmp_path):
    raw = RNG.integers(0, 4096, size=(6, 9)).astype(np.uint16)
    path = write_tiny_dicom(tmp_path / "x.dcm", raw, slope=2.0, intercept=-1024.0,
                            spacing=(0.1, 0.2))
    image = read_dicom(path)
    assert image.pixels.dtype == np.float32 and image.pixels.shape == (6, 9)
    np.testing.assert_allclose(image.pixels, raw * 2.0 - 1024.0)
    assert image.spacing == (0.1, 0.2)
    assert image.metadata["Modality"] == "PX" and image.metadata["PatientID"] == "P001"
    assert image.metadata["Rows"] == 6 and image.metadata["BitsStored"] == 12
    assert json.loads(json.dumps(image.metadata))["RescaleSlope"] == 2.0


def test_read_dicom_defaults_and_imager_spacing(tmp_path):
    raw = np.arange(12, dtype=np.uint16).reshape(3, 4)
    image = read_dicom(write_tiny_dicom(tmp_path / "y.dcm", raw, imager=(0.1, 0.1)))
    np.testing.assert_array_equal(image.pixels, raw.astype(np.float32))
    assert image.spacing == (0.1, 0.1)
    bare = read_dicom(write_tiny_dicom(tmp_path / "z.dcm", raw))
    assert bare.spacing is None


def test_read_dicom_bad_input(tmp_path):
    (tmp_path / "junk.dcm").write_bytes(b"\0" * 10)
    with pytest.raises(ValueError, match="not a readable DICOM"):
        read_dicom(tmp_path / "junk.dcm")
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(tmp_path / "np.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientID = "P2"
    ds.save_as(tmp_path / "np.dcm", enforce_file_format=True)
    with pytest.raises(ValueError, match="no pixel data"):
        read_dicom(tmp_path / "np.dcm")


# ----------------------------------------------------------------------------- NIfTI
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.float32])
def test_nifti_round_trip_keeps_data_dtype_orientation(tmp_path, suffix, dtype):
    data = RNG.integers(0, 200, size=(5, 4, 3)).astype(dtype)
    affine = make_affine((0.3, 0.3, 0.5), direction=np.diag([-1.0, -1.0, 1.0]),
                         origin=(10.0, -5.0, 2.0))
    path = write_nifti(tmp_path / f"v{suffix}", data, affine)
    volume = read_nifti(path)
    assert volume.data.dtype == dtype
    np.testing.assert_array_equal(volume.data, data)
    np.testing.assert_allclose(volume.affine, affine)
    assert volume.axcodes == ("L", "P", "S")
    np.testing.assert_allclose(volume.spacing, (0.3, 0.3, 0.5))
    # nibabel on its own reads the same orientation (qform and sform both set)
    img = nib.load(path)
    np.testing.assert_allclose(img.get_qform(), affine, atol=1e-5)
    assert nib.aff2axcodes(img.affine) == ("L", "P", "S")


def test_make_affine_values():
    affine = make_affine((1.0, 2.0, 3.0), direction=np.diag([-1.0, -1.0, 1.0]), origin=(4, 5, 6))
    expected = np.array([[-1, 0, 0, 4], [0, -2, 0, 5], [0, 0, 3, 6], [0, 0, 0, 1]], float)
    np.testing.assert_array_equal(affine, expected)
    with pytest.raises(ValueError, match="spacing"):
        make_affine((1.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="orthonormal"):
        make_affine((1, 1, 1), direction=np.ones((3, 3)))
    with pytest.raises(ValueError, match="origin"):
        make_affine((1, 1, 1), origin=(0, np.nan, 0))


def test_nifti_bad_input(tmp_path):
    good = np.zeros((2, 2, 2), np.int16)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        write_nifti(tmp_path / "a.nii.gz", np.zeros((2, 2)), np.eye(4))
    with pytest.raises(ValueError, match="float32"):
        write_nifti(tmp_path / "a.nii.gz", good.astype(bool), np.eye(4))
    with pytest.raises(ValueError, match="4x4"):
        write_nifti(tmp_path / "a.nii.gz", good, np.eye(3))
    with pytest.raises(ValueError, match="invertible"):
        write_nifti(tmp_path / "a.nii.gz", good, np.diag([1.0, 0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="must end with"):
        write_nifti(tmp_path / "a.mha", good, np.eye(4))
    (tmp_path / "bad.nii.gz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable NIfTI"):
        read_nifti(tmp_path / "bad.nii.gz")
    path = write_nifti(tmp_path / "v.nii.gz", good, np.eye(4))
    with pytest.raises(FileExistsError):
        write_nifti(path, good + 1, np.eye(4))
    assert read_nifti(path).data.max() == 0 and leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- COCO
IMAGES = [{"id": 1, "file_name": "a.png", "width": 64, "height": 32},
          {"id": 2, "file_name": "b.png", "width": 64, "height": 32},
          {"id": 7, "file_name": "c.png", "width": 64, "height": 32}]
CATEGORIES = {1: "tooth", 2: "restoration"}
TARGETS = {1: {"boxes": np.array([[1.0, 2.0, 11.0, 7.0], [20, 5, 30, 25]]),
               "labels": np.array([1, 2])},
           7: {"boxes": np.array([[0.5, 0.5, 3.5, 4.5]]), "labels": np.array([1])}}


def test_coco_round_trip_and_xywh_on_disk(tmp_path):
    path = write_coco(tmp_path / "coco.json", IMAGES, TARGETS, CATEGORIES)
    on_disk = json.loads(path.read_text())
    assert on_disk["annotations"][0]["bbox"] == [1.0, 2.0, 10.0, 5.0]
    assert on_disk["annotations"][0]["area"] == 50.0
    back = read_coco(path)
    assert back["categories"] == CATEGORIES and back["images"] == IMAGES
    for image_id, target in TARGETS.items():
        np.testing.assert_allclose(back["targets"][image_id]["boxes"], target["boxes"])
        np.testing.assert_array_equal(back["targets"][image_id]["labels"], target["labels"])
    assert back["targets"][2]["boxes"].shape == (0, 4)
    assert back["targets"][2]["labels"].dtype == np.int64


def test_coco_agrees_with_pycocotools(tmp_path):
    coco_api = pytest.importorskip("pycocotools.coco")
    path = write_coco(tmp_path / "coco.json", IMAGES, TARGETS, CATEGORIES)
    reference = coco_api.COCO(str(path))
    ours = read_coco(path)
    for image_id in reference.getImgIds():
        anns = reference.loadAnns(reference.getAnnIds(imgIds=[image_id]))
        xyxy = [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]
        np.testing.assert_allclose(ours["targets"][image_id]["boxes"].reshape(-1, 4),
                                   np.asarray(xyxy, dtype=float).reshape(-1, 4))
        assert list(ours["targets"][image_id]["labels"]) == [a["category_id"] for a in anns]


def test_write_coco_bad_input(tmp_path):
    path = tmp_path / "c.json"
    with pytest.raises(ValueError, match=r"x2 >= x1"):
        write_coco(path, IMAGES, {1: {"boxes": [[5, 5, 1, 9]], "labels": [1]}}, CATEGORIES)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        write_coco(path, IMAGES, {1: {"boxes": [[5, 5, 1]], "labels": [1]}}, CATEGORIES)
    with pytest.raises(ValueError, match="not in categories"):
        write_coco(path, IMAGES, {1: {"boxes": [[0, 0, 1, 1]], "labels": [9]}}, CATEGORIES)
    with pytest.raises(ValueError, match="labels"):
        write_coco(path, IMAGES, {1: {"boxes": [[0, 0, 1, 1]], "labels": [1, 1]}}, CATEGORIES)
    with pytest.raises(ValueError, match="not in images"):
        write_coco(path, IMAGES, {99: {"boxes": [[0, 0, 1, 1]], "labels": [1]}}, CATEGORIES)
    with pytest.raises(ValueError, match="lacks"):
        write_coco(path, [{"id": 1}], {}, CATEGORIES)
    with pytest.raises(ValueError, match="distinct"):
        write_coco(path, IMAGES + IMAGES[:1], {}, CATEGORIES)
    with pytest.raises(ValueError, match="finite"):
        write_coco(path, IMAGES, {1: {"boxes": [[0, 0, np.nan, 1]], "labels": [1]}}, CATEGORIES)
    with pytest.raises(ValueError, match=".json"):
        write_coco(tmp_path / "c.txt", IMAGES, {}, CATEGORIES)
    assert not path.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ("{not json", "not valid JSON"),
        ('{"images": []}', "must hold lists"),
        ('{"images": [{"id": 1}], "annotations": [], "categories": []}', "malformed"),
        ('{"images": [{"id": 1, "file_name": "a", "width": 2, "height": 2}], '
         '"annotations": [{"image_id": 5, "category_id": 1, "bbox": [0, 0, 1, 1]}], '
         '"categories": [{"id": 1, "name": "t"}]}', "image_id 5"),
        ('{"images": [{"id": 1, "file_name": "a", "width": 2, "height": 2}], '
         '"annotations": [{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1]}], '
         '"categories": [{"id": 1, "name": "t"}]}', "category_id 3"),
        ('{"images": [{"id": 1, "file_name": "a", "width": 2, "height": 2}], '
         '"annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1]}], '
         '"categories": [{"id": 1, "name": "t"}]}', "w, h >= 0"),
        ('{"images": [{"id": 1, "file_name": "a", "width": 2, "height": 2}], '
         '"annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0]}], '
         '"categories": [{"id": 1, "name": "t"}]}', r"bbox \[x, y, w, h\]"),
    ],
)
def test_read_coco_bad_files(tmp_path, record, match):
    (tmp_path / "c.json").write_text(record)
    with pytest.raises(ValueError, match=match):
        read_coco(tmp_path / "c.json")


# ----------------------------------------------------------------------------- CSV
def test_csv_round_trip(tmp_path):
    table = pd.DataFrame({"file": ["a.png", "b.png"], "restorations": [3, 0],
                          "t_score": [-2.6, 0.4]})
    path = write_labels_csv(tmp_path / "labels.csv", table)
    back = read_labels_csv(path, required=["file", "restorations"])
    pd.testing.assert_frame_equal(back, table)
    with pytest.raises(FileExistsError):
        write_labels_csv(path, table)
    write_labels_csv(path, table.iloc[:1], overwrite=True)
    assert len(read_labels_csv(path)) == 1


def test_csv_bad_input(tmp_path):
    (tmp_path / "labels.csv").write_text("file,label\na.png,1\n")
    with pytest.raises(ValueError, match=r"lacks columns \['osteoporosis'\]"):
        read_labels_csv(tmp_path / "labels.csv", required=["osteoporosis"])
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="not a readable CSV"):
        read_labels_csv(tmp_path / "empty.csv")
    (tmp_path / "ragged.csv").write_text('a,b\n1,2\n3,4,5,6\n')
    with pytest.raises(ValueError, match="not a readable CSV"):
        read_labels_csv(tmp_path / "ragged.csv")
    with pytest.raises(ValueError, match="DataFrame"):
        write_labels_csv(tmp_path / "x.csv", {"a": [1]})
    with pytest.raises(ValueError, match=".csv"):
        write_labels_csv(tmp_path / "x.tsv", pd.DataFrame({"a": [1]}))
