"""torch Datasets over the synthetic dental world, one per task of the course.

Every dataset is lazy: item ``i`` is generated on demand from ``(seed, i)``, so it is the same
in every worker process and on every machine, and nothing is stored. Items are dicts of
tensors; images are float32 ``(1, H, W)`` in [0, 1] (volumes ``(1, D, H, W)`` in HU-like units).
A ``transform`` callable, when given, receives the item dict and returns the dict to use.

=========================  ===============================================================
dataset                    item keys besides ``image`` and ``index``
=========================  ===============================================================
RestorationDataset         ``label`` (0..4 DAC class), ``count`` (restored teeth)
RoIDataset                 ``box`` (4,) float32 xyxy pixels of the dental region
SegmentationDataset        ``mask`` (C, H, W) float32, one channel per name in ``masks``;
                           ``instance`` (H, W) int64
DetectionDataset           ``boxes`` (N, 4) float32 xyxy, ``labels`` (N,) int64, ``fdi`` (N,)
                           int64, ``restoration`` (N,) bool (teeth and/or restorations)
OsteoporosisDataset        ``label`` (0/1), ``t_score``, ``cortical_width_mm``
VolumeDataset              ``mask`` (1, D, H, W) float32 canal, ``affine`` (4, 4), ``spacing``
=========================  ===============================================================

Every panoramic dataset takes ``framing="centred"`` (the default) or ``"realistic"`` (patients
positioned like real ones, the dental region well off-centre; see
:func:`dentpy.data.synthetic.make_panoramic`) and passes it to the generator.

Detection items have a different number of boxes each: pass ``collate_fn=detection_collate``
to the ``DataLoader``. Bad arguments raise errors naming the argument (:mod:`dentpy._checks`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from dentpy import _checks
from dentpy._checks import ArgumentError, ArgumentTypeError, describe
from dentpy.data.synthetic import (
    FRAMINGS,
    MIN_PANORAMIC_SIZE,
    MIN_VOLUME_SIZE,
    PanoramicSample,
    make_panoramic,
    make_volume,
)
from dentpy.data.synthetic._common import check_seed, check_size

__all__ = [
    "FDI_ORDER",
    "DetectionDataset",
    "OsteoporosisDataset",
    "RestorationDataset",
    "RoIDataset",
    "SegmentationDataset",
    "VolumeDataset",
    "class_to_fdi",
    "detection_collate",
    "fdi_to_class",
    "restoration_boxes",
]

Transform = Callable[[dict], dict]
_MASKS = {
    "tooth": "tooth_mask",
    "restoration": "restoration_mask",
    "lesion": "lesion_mask",
    "mandible": "mandible_mask",
    "cortex": "cortex_mask",
}
#: The 32 FDI numbers in class order (class c + 1 is FDI_ORDER[c]; 0 is the background).
FDI_ORDER = tuple(10 * q + k for q in (1, 2, 3, 4) for k in range(1, 9))
_FDI_LUT = np.zeros(49, np.int64)
_FDI_LUT[list(FDI_ORDER)] = np.arange(1, 33)


def _codes(name: str, value: object) -> torch.Tensor:
    """Integer codes of any shape as an int64 tensor; floats raise instead of being truncated
    (an empty list, which NumPy makes float, is accepted)."""
    array = _checks.array(name, value, kind="number", nonempty=False)
    if array.size and array.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{name} must hold integers (floats are not truncated), got "
                                f"{describe(value)}")
    return torch.as_tensor(array.astype(np.int64, copy=False))


def fdi_to_class(fdi: Sequence[int] | np.ndarray | torch.Tensor) -> torch.Tensor:
    """FDI numbers 11..48 to contiguous detection classes 1..32 (0 stays free for background).

    ``fdi``: integers of any shape (an empty input gives an empty result); floats raise rather
    than being truncated.
    """
    f = _codes("fdi", fdi)
    ok = (f >= 11) & (f <= 48) & (f % 10 >= 1) & (f % 10 <= 8)
    if not bool(ok.all()):
        raise ArgumentError(
            f"fdi must hold FDI tooth numbers 11..18, 21..28, 31..38, 41..48, got {fdi}"
        )
    return torch.from_numpy(_FDI_LUT)[f]


def class_to_fdi(cls: Sequence[int] | np.ndarray | torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`fdi_to_class`: classes 1..32 (integers, any shape) to FDI numbers."""
    c = _codes("cls", cls)
    if not bool(((c >= 1) & (c <= 32)).all()):
        raise ArgumentError(f"cls must hold classes 1..32, got {cls}")
    return torch.tensor(FDI_ORDER, dtype=torch.int64)[c - 1]


def _image_tensor(sample: PanoramicSample) -> torch.Tensor:
    img = sample.image.astype(np.float32) / np.float32(sample.max_value)
    return torch.from_numpy(img)[None]


class _Synthetic(Dataset):
    """Shared length, seed, size, framing and transform handling."""

    _min_size: tuple[int, ...] = MIN_PANORAMIC_SIZE

    def __init__(
        self,
        n: int,
        *,
        seed: int = 0,
        size: Sequence[int] = (256, 512),
        framing: str = "centred",
        transform: Transform | None = None,
    ) -> None:
        n = _checks.integer("n", n, low=0)
        if transform is not None and not callable(transform):
            raise ArgumentTypeError(f"transform must be callable or None, got "
                                    f"{describe(transform)}")
        # fail here, not in the first worker
        self.n, self.seed, self.size = n, check_seed(seed), check_size(size, self._min_size)
        self.framing = _checks.choice("framing", framing, FRAMINGS)
        self.transform = transform

    def __len__(self) -> int:
        return self.n

    def _index(self, i: int) -> int:
        return _checks.item_index("index", i, self.n)

    def sample(self, i: int) -> PanoramicSample:
        """The full :class:`PanoramicSample` of item ``i`` (all labels, numpy arrays)."""
        return make_panoramic(
            self._index(i), seed=self.seed, size=self.size, framing=self.framing
        )

    def _item(self, s: PanoramicSample) -> dict:
        raise NotImplementedError

    def __getitem__(self, i: int) -> dict:
        s = self.sample(i)
        item = {"image": _image_tensor(s), "index": torch.tensor(self._index(i)), **self._item(s)}
        return self.transform(item) if self.transform is not None else item


class RestorationDataset(_Synthetic):
    """Restoration-count classification (the DAC paper's task): ``label`` is the class 0..4."""

    def _item(self, s: PanoramicSample) -> dict:
        return {
            "label": torch.tensor(s.restoration_class, dtype=torch.int64),
            "count": torch.tensor(s.restoration_count, dtype=torch.int64),
        }


class RoIDataset(_Synthetic):
    """Dental-region localisation: ``box`` is the (4,) float32 xyxy RoI in pixels."""

    def _item(self, s: PanoramicSample) -> dict:
        return {"box": torch.from_numpy(s.roi_box.copy())}


class SegmentationDataset(_Synthetic):
    """Semantic masks stacked as channels (float32 0/1), plus the tooth instance mask."""

    def __init__(
        self,
        n: int,
        *,
        seed: int = 0,
        size: Sequence[int] = (256, 512),
        masks: Sequence[str] = ("tooth",),
        framing: str = "centred",
        transform: Transform | None = None,
    ) -> None:
        super().__init__(n, seed=seed, size=size, framing=framing, transform=transform)
        expected = f"a non-empty sequence of {sorted(_MASKS)}"
        if isinstance(masks, str | bytes | Mapping) or not isinstance(masks, Sequence):
            raise ArgumentTypeError(f"masks must be {expected}, got {describe(masks)}")
        if not masks:
            raise ArgumentError(f"masks must be {expected}, got {masks!r}")
        for number, mask in enumerate(masks):
            _checks.choice(f"masks[{number}]", mask, tuple(_MASKS))
        self.masks = tuple(masks)

    def _item(self, s: PanoramicSample) -> dict:
        stack = np.stack([getattr(s, _MASKS[m]) for m in self.masks]).astype(np.float32)
        return {
            "mask": torch.from_numpy(stack),
            "instance": torch.from_numpy(s.instance_mask.astype(np.int64)),
        }


def restoration_boxes(
    instance_mask: np.ndarray, restoration_mask: np.ndarray, tooth_fdi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One box per restored tooth: the bounding box of ``restoration_mask & (instance_mask ==
    k)`` for each tooth instance ``k`` (1..N) that has restoration pixels.

    ``instance_mask`` (H, W) int (0 background, ``k`` the tooth ``tooth_fdi[k - 1]``),
    ``restoration_mask`` (H, W) bool or 0/1, ``tooth_fdi`` (N,). Returns ``boxes`` (R, 4)
    float32 xyxy pixel edges (as the tooth boxes: ``x1 = last column + 1``) and ``fdi`` (R,)
    int64 of the restored teeth, in instance order. Restoration pixels outside every tooth
    (bridge pontics, which replace a missing tooth) give no box.
    """
    inst = _checks.array("instance_mask", instance_mask, ndim=2, kind="integer",
                         nonempty=False)
    rest = _checks.array("restoration_mask", restoration_mask, kind="number", nonempty=False)
    fdi = _codes("tooth_fdi", tooth_fdi).numpy().reshape(-1)
    if rest.shape != inst.shape or rest.dtype.kind not in "biu":
        raise ArgumentError(f"restoration_mask must be a bool/0-1 array of shape {inst.shape}, "
                            f"got {rest.dtype} {rest.shape}")
    if inst.size and int(inst.min()) < 0:
        raise ArgumentError(f"instance_mask must hold ids >= 0 (0 is the background), got "
                            f"{int(inst.min())}")
    if inst.size and int(inst.max()) > fdi.size:
        raise ArgumentError(f"tooth_fdi has {fdi.size} entries but instance_mask has id "
                            f"{int(inst.max())}")
    ids = inst[(rest != 0) & (inst > 0)]
    boxes, numbers = [], []
    for k in np.unique(ids):
        rows, cols = np.nonzero((inst == k) & (rest != 0))
        boxes.append((cols.min(), rows.min(), cols.max() + 1, rows.max() + 1))
        numbers.append(fdi[k - 1])
    return (np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(numbers, np.int64))


class DetectionDataset(_Synthetic):
    """Detection of teeth and/or restorations: ``boxes`` (N, 4) float32 xyxy pixels.

    ``objects`` chooses the boxes: ``"teeth"`` (every present tooth), ``"restorations"`` (one
    box per restored tooth around its restoration, :func:`restoration_boxes`) or ``"both"``
    (teeth first, then restorations). Every box also carries ``fdi`` (N,) int64, the FDI
    number of its tooth, and ``restoration`` (N,) bool, whether it is a restoration box.

    ``labels`` chooses ``labels`` (N,) int64: ``"fdi"`` the FDI numbers (11..48);
    ``"class"`` classes 1..32 by :func:`fdi_to_class` (torchvision's convention, 0 is the
    background) and, with ``objects="both"``, 33 for restorations; ``"object"`` 1 for a tooth
    and 2 for a restoration (what the box is, not which tooth).
    """

    LABELS = ("fdi", "class", "object")
    OBJECTS = ("teeth", "restorations", "both")

    def __init__(
        self,
        n: int,
        *,
        seed: int = 0,
        size: Sequence[int] = (256, 512),
        labels: str = "fdi",
        objects: str = "teeth",
        framing: str = "centred",
        transform: Transform | None = None,
    ) -> None:
        super().__init__(n, seed=seed, size=size, framing=framing, transform=transform)
        self.labels = _checks.choice("labels", labels, self.LABELS)
        self.objects = _checks.choice("objects", objects, self.OBJECTS)

    def _item(self, s: PanoramicSample) -> dict:
        parts = []  # (boxes, fdi, is_restoration)
        if self.objects in ("teeth", "both"):
            parts.append((s.tooth_boxes, s.tooth_fdi.astype(np.int64), False))
        if self.objects in ("restorations", "both"):
            boxes, fdi = restoration_boxes(s.instance_mask, s.restoration_mask, s.tooth_fdi)
            parts.append((boxes, fdi, True))
        boxes = torch.from_numpy(np.concatenate([p[0] for p in parts]).astype(np.float32))
        fdi = torch.from_numpy(np.concatenate([p[1] for p in parts]))
        restoration = torch.cat([torch.full((len(p[1]),), p[2]) for p in parts])
        if self.labels == "fdi":
            labels = fdi.clone()
        elif self.labels == "object":
            labels = 1 + restoration.long()
        else:
            labels = fdi_to_class(fdi) if len(fdi) else fdi.clone()
            if self.objects == "both":
                labels[restoration] = 33
        return {"boxes": boxes, "labels": labels, "fdi": fdi, "restoration": restoration}


class OsteoporosisDataset(_Synthetic):
    """Osteoporosis from the panoramic: ``label`` 0/1, the ``t_score`` and cortical width."""

    def _item(self, s: PanoramicSample) -> dict:
        return {
            "label": torch.tensor(s.osteoporotic, dtype=torch.int64),
            "t_score": torch.tensor(s.t_score, dtype=torch.float32),
            "cortical_width_mm": torch.tensor(s.cortical_width_mm, dtype=torch.float32),
        }


class VolumeDataset(_Synthetic):
    """CBCT-like volumes with the nerve-canal mask: ``image`` and ``mask`` are (1, D, H, W).

    Volumes have no panoramic framing: ``framing`` is not an argument here.
    """

    _min_size = MIN_VOLUME_SIZE

    def __init__(
        self,
        n: int,
        *,
        seed: int = 0,
        size: Sequence[int] = (64, 96, 96),
        transform: Transform | None = None,
    ) -> None:
        super().__init__(n, seed=seed, size=size, transform=transform)

    def __getitem__(self, i: int) -> dict:
        v = make_volume(self._index(i), seed=self.seed, size=self.size)
        item = {
            "image": torch.from_numpy(v.image)[None],
            "mask": torch.from_numpy(v.canal_mask.astype(np.float32))[None],
            "affine": torch.from_numpy(v.affine),
            "spacing": torch.from_numpy(v.spacing),
            "index": torch.tensor(self._index(i)),
        }
        return self.transform(item) if self.transform is not None else item


def detection_collate(batch: Sequence[dict]) -> tuple[torch.Tensor, list[dict]]:
    """Collate detection items: images stacked to (B, 1, H, W), targets kept as a list of dicts.

    Each target dict holds that item's variable-length ``boxes`` and ``labels`` (and any other
    non-image keys), the form torchvision's detection models take.
    """
    if isinstance(batch, str | bytes | Mapping) or not isinstance(batch, Sequence):
        raise ArgumentTypeError(f"batch must be a sequence of item dicts, got {describe(batch)}")
    if len(batch) == 0:
        raise ArgumentError("batch must hold at least one item, got an empty sequence")
    for number, item in enumerate(batch):
        if not isinstance(item, Mapping) or not isinstance(item.get("image"), torch.Tensor):
            raise ArgumentTypeError(f"batch[{number}] must be an item dict with an 'image' "
                                    f"tensor, got {describe(item)}")
    shapes = {tuple(b["image"].shape) for b in batch}
    if len(shapes) > 1:
        raise ArgumentError(f"batch images must all have the same shape to be stacked, got "
                            f"{sorted(shapes)}")
    images = torch.stack([b["image"] for b in batch])
    targets = [{k: v for k, v in b.items() if k != "image"} for b in batch]
    return images, targets
