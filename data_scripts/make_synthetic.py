"""Write a synthetic dental dataset to disk in the formats real datasets use.

    python data_scripts/make_synthetic.py --n 100 --seed 0 --size 256 512 --out data/syn
    python data_scripts/make_synthetic.py --n 100 --framing realistic --out data/syn_realistic
    python data_scripts/make_synthetic.py --kind volume --n 10 --size 64 96 96 --out data/cbct

Panoramic: ``images/<id>.png`` (16-bit, the device's range), ``masks/<id>_<name>.png``
(8-bit 0/1 tooth, restoration, lesion, mandible masks and the 16-bit instance mask),
``labels.csv`` (one row per image: every scalar label and the RoI box) and ``coco.json``
(tooth boxes, categories = FDI numbers). ``--framing realistic`` positions each patient as
real panoramics do (``make_panoramic(framing="realistic")``: off-centre, forward or back, tilted,
child arches, edentulous spans); ``labels.csv`` then also holds the drawn positioning (columns
``pos_*``). The default ``centred`` writes the course's usual world. Volume:
``volumes/<id>.nii.gz`` and ``volumes/<id>_canal.nii.gz`` with their affine, and ``labels.csv``.

The output folder must be new or empty, or one this script wrote before (it holds the marker
file ``.dentpy-synthetic``); files already there are never overwritten.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from dentpy.data.io import write_coco, write_image, write_labels_csv, write_nifti
from dentpy.data.synthetic import FRAMINGS, make_panoramic, make_volume

MARKER = ".dentpy-synthetic"
_MASKS = ("tooth", "restoration", "lesion", "mandible")


def _prepare(out: Path, settings: dict) -> None:
    """Create ``out`` (or accept an empty one) and write the marker; refuse foreign folders."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"out {str(out)!r} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ValueError(
            f"out {str(out)!r} is not empty and was not written by this script (no {MARKER}); "
            "choose a new or empty folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(json.dumps(settings, indent=1) + "\n")


def _positioning_columns(pos) -> dict:
    """The drawn positioning as flat ``pos_*`` columns (spans as "11 12;34 35", offset as two)."""
    cols = {}
    for key, value in pos.__dict__.items():
        if key == "framing":
            continue
        if key == "edentulous":
            value = ";".join(" ".join(str(f) for f in span) for span in value)
        if key == "offset":
            cols["pos_offset_x"], cols["pos_offset_y"] = value
            continue
        cols[f"pos_{key}"] = value
    return cols


def write_panoramic(
    out: Path,
    n: int,
    seed: int,
    size: tuple[int, int],
    progress: bool,
    framing: str = "centred",
) -> None:
    """Write ``n`` panoramic samples of the given framing and their labels under ``out``."""
    (out / "images").mkdir(exist_ok=True)
    (out / "masks").mkdir(exist_ok=True)
    rows, images, targets = [], [], {}
    for i in tqdm(range(n), desc="panoramic", disable=not progress):
        s = make_panoramic(i, seed=seed, size=size, dtype="uint16", framing=framing)
        name = f"{i:06d}"
        write_image(out / "images" / f"{name}.png", s.image)
        for m in _MASKS:
            write_image(out / "masks" / f"{name}_{m}.png", getattr(s, f"{m}_mask"))
        write_image(out / "masks" / f"{name}_instance.png", s.instance_mask.astype(np.uint16))
        rows.append(
            {
                "image": f"images/{name}.png",
                "patient_id": s.patient_id,
                "device": s.device,
                "max_value": s.max_value,
                "restoration_count": s.restoration_count,
                "restoration_class": s.restoration_class,
                "osteoporotic": s.osteoporotic,
                "t_score": s.t_score,
                "cortical_width_mm": s.cortical_width_mm,
                "px_per_mm": s.px_per_mm,
                "roi_x0": s.roi_box[0],
                "roi_y0": s.roi_box[1],
                "roi_x1": s.roi_box[2],
                "roi_y1": s.roi_box[3],
                "n_teeth": len(s.tooth_fdi),
                "framing": framing,
                **(_positioning_columns(s.positioning) if framing != "centred" else {}),
            }
        )
        images.append(
            {"id": i + 1, "file_name": f"images/{name}.png", "width": size[1], "height": size[0]}
        )
        targets[i + 1] = {"boxes": s.tooth_boxes, "labels": s.tooth_fdi}
    fdi = [10 * q + k for q in (1, 2, 3, 4) for k in range(1, 9)]
    write_coco(out / "coco.json", images, targets, {f: str(f) for f in fdi})
    write_labels_csv(out / "labels.csv", pd.DataFrame(rows))


def write_volumes(out: Path, n: int, seed: int, size: tuple[int, int, int], progress: bool) -> None:
    """Write ``n`` CBCT-like volumes, their canal masks and a label table under ``out``."""
    (out / "volumes").mkdir(exist_ok=True)
    rows = []
    for i in tqdm(range(n), desc="volume", disable=not progress):
        v = make_volume(i, seed=seed, size=size)
        name = f"{i:06d}"
        write_nifti(out / "volumes" / f"{name}.nii.gz", v.image, v.affine)
        write_nifti(out / "volumes" / f"{name}_canal.nii.gz", v.canal_mask, v.affine)
        sx, sy, sz = v.spacing
        rows.append(
            {
                "volume": f"volumes/{name}.nii.gz",
                "canal": f"volumes/{name}_canal.nii.gz",
                "patient_id": v.patient_id,
                "spacing_0": sx,
                "spacing_1": sy,
                "spacing_2": sz,
                "canal_voxels": int(v.canal_mask.sum()),
            }
        )
    write_labels_csv(out / "labels.csv", pd.DataFrame(rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--kind", choices=("panoramic", "volume"), default="panoramic")
    ap.add_argument("--n", type=int, required=True, help="number of items")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, nargs="+", help="H W (panoramic) or D H W (volume)")
    ap.add_argument("--framing", choices=FRAMINGS, default="centred",
                    help="panoramic only: the course's centred framing or realistic positioning")
    ap.add_argument("--out", type=Path, required=True, help="new or empty output folder")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    size = (
        tuple(args.size)
        if args.size
        else ((256, 512) if args.kind == "panoramic" else (64, 96, 96))
    )
    want = 2 if args.kind == "panoramic" else 3
    try:
        if args.n < 1:
            raise ValueError(f"--n must be a positive integer, got {args.n}")
        if len(size) != want:
            raise ValueError(f"--size must give {want} integers for --kind {args.kind}, got {size}")
        settings = {"kind": args.kind, "n": args.n, "seed": args.seed, "size": size}
        if args.kind == "panoramic":
            # checks seed and size before anything is written
            make_panoramic(0, seed=args.seed, size=size, framing=args.framing)
            _prepare(args.out, {**settings, "framing": args.framing})
            write_panoramic(args.out, args.n, args.seed, size, not args.quiet, args.framing)
        else:
            if args.framing != "centred":
                raise ValueError(f"--framing {args.framing} is for --kind panoramic only")
            make_volume(0, seed=args.seed, size=size)
            _prepare(args.out, settings)
            write_volumes(args.out, args.n, args.seed, size, not args.quiet)
    except (ValueError, FileExistsError) as err:
        print(f"make_synthetic: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
