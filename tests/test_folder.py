"""ImageFolderCSV: a folder of PNGs plus a CSV, written by the test itself."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader

from dentpy.data.folder import ImageFolderCSV
from dentpy.data.io import write_image, write_labels_csv


@pytest.fixture()
def root(tmp_path):
    (tmp_path / "images").mkdir()
    write_image(tmp_path / "images" / "a.png", np.full((4, 6), 255, np.uint8))
    write_image(tmp_path / "images" / "b.png", np.full((4, 6), 65535 // 2, np.uint16))
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 1] = 255
    write_image(tmp_path / "images" / "c.png", rgb)
    table = pd.DataFrame({
        "file": ["images/a.png", "images/b.png", "images/c.png"],
        "restorations": [3, 0, 7],
        "t_score": [-2.8, 0.1, -1.0],
        "device": ["A", "B", "A"],
    })
    write_labels_csv(tmp_path / "labels.csv", table)
    return tmp_path


def test_items_shapes_scaling_and_labels(root):
    data = ImageFolderCSV(root)
    assert len(data) == 3
    item = data[0]
    assert item["image"].shape == (1, 4, 6) and item["image"].dtype == torch.float32
    torch.testing.assert_close(item["image"], torch.ones(1, 4, 6))
    assert item["restorations"].dtype == torch.int64 and int(item["restorations"]) == 3
    assert item["t_score"].dtype == torch.float32
    torch.testing.assert_close(item["t_score"], torch.tensor(-2.8))
    assert item["device"] == "A" and item["file"] == "images/a.png"
    torch.testing.assert_close(data[1]["image"], torch.full((1, 4, 6), (65535 // 2) / 65535))
    torch.testing.assert_close(data[2]["image"], torch.full((1, 4, 6), 0.587))  # luma of green
    assert data[-1]["file"] == "images/c.png"


def test_label_columns_max_value_and_dataframe(root):
    table = pd.read_csv(root / "labels.csv")
    data = ImageFolderCSV(root, table, label_columns=["restorations"], max_value=128)
    item = data[1]
    assert set(item) == {"image", "file", "restorations"}
    assert float(item["image"].max()) == 1.0  # clipped after scaling by 128


def test_transform_and_dataloader(root):
    def flip(item):
        item["image"] = item["image"].flip(-1)
        item["flipped"] = True
        return item

    data = ImageFolderCSV(root, "labels.csv", label_columns=["restorations", "t_score"],
                          transform=flip)
    assert data[0]["flipped"] is True
    batch = next(iter(DataLoader(data, batch_size=3)))
    assert batch["image"].shape == (3, 1, 4, 6)
    assert batch["restorations"].tolist() == [3, 0, 7]


def test_errors(root):
    with pytest.raises(ValueError, match="image_column 'path'"):
        ImageFolderCSV(root, image_column="path")
    with pytest.raises(ValueError, match=r"label_columns \['dac'\]"):
        ImageFolderCSV(root, label_columns=["dac"])
    with pytest.raises(FileNotFoundError, match="root folder"):
        ImageFolderCSV(root / "nowhere")
    with pytest.raises(FileNotFoundError):
        ImageFolderCSV(root, "other.csv")
    with pytest.raises(ValueError, match="max_value"):
        ImageFolderCSV(root, max_value=0)
    with pytest.raises(ValueError, match="transform"):
        ImageFolderCSV(root, transform=3)
    with pytest.raises(ValueError, match="no rows"):
        ImageFolderCSV(root, pd.DataFrame({"file": []}))
    (root / "images" / "b.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 listed image\(s\) missing.*b\.png"):
        ImageFolderCSV(root)
    data = ImageFolderCSV(root, pd.DataFrame({"file": ["images/a.png"]}))
    with pytest.raises(IndexError):
        data[1]


def test_max_value_from_a_column(root):
    table = pd.read_csv(root / "labels.csv").assign(max_value=[255, 65535 // 2, 255])
    data = ImageFolderCSV(root, table, max_value="max_value")
    torch.testing.assert_close(data[1]["image"], torch.ones(1, 4, 6))  # its own maximum
    torch.testing.assert_close(data[0]["image"], torch.ones(1, 4, 6))
    with pytest.raises(ValueError, match="max_value column 'peak'"):
        ImageFolderCSV(root, table, max_value="peak")
    with pytest.raises(ValueError, match="positive numbers"):
        ImageFolderCSV(root, table.assign(max_value=[255, 0, 255]), max_value="max_value")


def test_synthetic_folder_with_mixed_bit_depths_reads_back_in_range(tmp_path):
    """make_synthetic.py mixes 12- and 16-bit devices: the per-row column puts both in [0, 1]."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[1] / "data_scripts" / "make_synthetic.py"
    subprocess.run([sys.executable, str(script), "--n", "6", "--seed", "0", "--size", "96", "160",
                    "--out", str(tmp_path / "syn")], check=True, capture_output=True)
    data = ImageFolderCSV(tmp_path / "syn", "labels.csv", image_column="image",
                          label_columns=["restoration_class"], max_value="max_value")
    peaks = [float(data[i]["image"].max()) for i in range(len(data))]
    assert min(peaks) > 0.5 and max(peaks) <= 1.0
