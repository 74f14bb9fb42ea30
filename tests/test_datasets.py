"""Tests of the synthetic torch Datasets in dentpy.data.datasets."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from dentpy.data.datasets import (
    FDI_ORDER,
    DetectionDataset,
    OsteoporosisDataset,
    RestorationDataset,
    RoIDataset,
    SegmentationDataset,
    VolumeDataset,
    class_to_fdi,
    detection_collate,
    fdi_to_class,
)
from dentpy.data.synthetic import make_panoramic

SIZE = (96, 160)


def test_classification_item_matches_the_generator():
    ds = RestorationDataset(4, seed=2, size=SIZE)
    item, s = ds[1], make_panoramic(1, seed=2, size=SIZE)
    assert len(ds) == 4
    assert item["image"].shape == (1, *SIZE) and item["image"].dtype == torch.float32
    torch.testing.assert_close(item["image"][0], torch.from_numpy(s.image))
    assert (
        item["label"].item() == s.restoration_class and item["count"].item() == s.restoration_count
    )
    assert item["label"].dtype == torch.int64 and item["index"].item() == 1
    torch.testing.assert_close(ds[-1]["image"], ds[3]["image"])
    with pytest.raises(IndexError):
        ds[4]


def test_roi_segmentation_osteoporosis_items():
    box = RoIDataset(2, size=SIZE)[0]["box"]
    assert box.shape == (4,) and box.dtype == torch.float32 and bool((box[2:] > box[:2]).all())
    seg = SegmentationDataset(2, size=SIZE, masks=("tooth", "restoration", "mandible"))[0]
    assert seg["mask"].shape == (3, *SIZE) and seg["mask"].dtype == torch.float32
    assert set(seg["mask"].unique().tolist()) <= {0.0, 1.0}
    assert seg["instance"].dtype == torch.int64
    torch.testing.assert_close((seg["instance"] > 0).float(), seg["mask"][0])
    ost = OsteoporosisDataset(2, size=SIZE)[1]
    assert ost["label"].item() == int(ost["t_score"].item() <= -2.5)
    assert ost["cortical_width_mm"].dtype == torch.float32


def test_detection_labels_and_collate():
    ds = DetectionDataset(3, seed=1, size=SIZE)
    item = ds[0]
    n = item["boxes"].shape[0]
    assert item["boxes"].shape == (n, 4) and item["labels"].shape == (n,)
    assert item["labels"].min() >= 11 and item["labels"].max() <= 48
    cls = DetectionDataset(3, seed=1, size=SIZE, labels="class")[0]["labels"]
    assert cls.min() >= 1 and cls.max() <= 32
    torch.testing.assert_close(class_to_fdi(cls), item["labels"])
    images, targets = next(iter(DataLoader(ds, batch_size=3, collate_fn=detection_collate)))
    assert images.shape == (3, 1, *SIZE) and len(targets) == 3
    assert [t["boxes"].shape[0] for t in targets] == [ds[i]["boxes"].shape[0] for i in range(3)]


def test_fdi_mapping_round_trip_and_errors():
    fdi = torch.tensor(FDI_ORDER)
    torch.testing.assert_close(fdi_to_class(fdi), torch.arange(1, 33))
    torch.testing.assert_close(class_to_fdi(fdi_to_class(fdi)), fdi)
    for bad in ([10], [19], [51], [0]):
        with pytest.raises(ValueError, match="fdi"):
            fdi_to_class(bad)
    with pytest.raises(ValueError, match="cls"):
        class_to_fdi([0])


def test_transform_hook_and_volume_dataset():
    def flip(item):
        item["image"] = item["image"].flip(-1)
        return item

    plain, flipped = RoIDataset(1, size=SIZE)[0], RoIDataset(1, size=SIZE, transform=flip)[0]
    torch.testing.assert_close(flipped["image"], plain["image"].flip(-1))
    v = VolumeDataset(1, size=(16, 24, 24))[0]
    assert v["image"].shape == (1, 16, 24, 24) and v["mask"].shape == (1, 16, 24, 24)
    assert v["affine"].shape == (4, 4) and v["spacing"].shape == (3,)
    assert v["mask"].sum() > 0


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_workers_give_identical_batches(workers):
    ds = RestorationDataset(4, seed=5, size=SIZE)
    batches = list(DataLoader(ds, batch_size=2, num_workers=workers))
    images = torch.cat([b["image"] for b in batches])
    expected = torch.stack(
        [torch.from_numpy(make_panoramic(i, seed=5, size=SIZE).image)[None] for i in range(4)]
    )
    assert torch.equal(images, expected)
    assert torch.cat([b["label"] for b in batches]).shape == (4,)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": -1}, "n must"),
        ({"n": 2.5}, "n must"),
        ({"n": 2, "seed": 0.5}, "seed"),
        ({"n": 2, "size": (32, 32)}, "size"),
        ({"n": 2, "transform": 3}, "transform"),
        ({"n": 2, "framing": "tilted"}, "framing"),
        ({"n": 2, "framing": None}, "framing"),
    ],
)
def test_bad_dataset_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RestorationDataset(**kwargs)


def test_bad_specialised_arguments():
    with pytest.raises(ValueError, match="masks"):
        SegmentationDataset(2, size=SIZE, masks=("teeth",))
    with pytest.raises(ValueError, match="masks"):
        SegmentationDataset(2, size=SIZE, masks="tooth")
    with pytest.raises(ValueError, match="labels"):
        DetectionDataset(2, size=SIZE, labels="names")
    with pytest.raises(ValueError, match="size"):
        VolumeDataset(2, size=(4, 4, 4))
    with pytest.raises(ValueError, match="batch"):
        detection_collate([])
    assert np.isfinite(OsteoporosisDataset(1, size=SIZE)[0]["t_score"].item())


@pytest.mark.parametrize(
    "cls", [RestorationDataset, RoIDataset, SegmentationDataset, DetectionDataset,
            OsteoporosisDataset]
)
def test_every_panoramic_dataset_passes_the_framing_on(cls):
    for framing in ("centred", "realistic"):
        ds = cls(3, seed=4, size=SIZE, framing=framing)
        assert ds.framing == framing
        s = make_panoramic(2, seed=4, size=SIZE, framing=framing)
        assert ds.sample(2).positioning == s.positioning
        torch.testing.assert_close(ds[2]["image"][0], torch.from_numpy(s.image))
    assert cls(1, size=SIZE).framing == "centred"


def test_realistic_roi_dataset_gives_the_generators_box():
    ds = RoIDataset(4, seed=1, size=SIZE, framing="realistic")
    for i in range(4):
        s = make_panoramic(i, seed=1, size=SIZE, framing="realistic")
        torch.testing.assert_close(ds[i]["box"], torch.from_numpy(s.roi_box))
    with pytest.raises(ValueError, match="framing"):
        DetectionDataset(2, size=SIZE, framing="Realistic")
