"""Download a public dental dataset, checked by sha256: the command-line face of ``fetch``.

    python data_scripts/fetch_public.py --list
    python data_scripts/fetch_public.py dentex --dest data/
    python data_scripts/fetch_public.py mine --dest data/ --registry my_registry.json
    python data_scripts/fetch_public.py --how               # where and how to get each set
    python data_scripts/fetch_public.py --check dentex DIR  # read a folder, change nothing

Exit status: 0 on success, 1 on a download or checksum problem, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dentpy.data.fetch import fetch, list_datasets
from dentpy.data.real import PUBLISHED


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so the docs and tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="fetch_public.py",
        description="Download a public dental dataset with checksum verification.",
    )
    parser.add_argument("name", nargs="?", help="dataset name (see --list)")
    parser.add_argument("--list", action="store_true", help="list known datasets and exit")
    parser.add_argument("--how", action="store_true",
                        help="print where and how to obtain the sets the readers take "
                        f"({', '.join(PUBLISHED)}), their licences and expected layouts")
    parser.add_argument("--check", nargs=2, metavar=("SET", "DIR"),
                        help=f"read an unpacked folder of SET ({', '.join(PUBLISHED)}) with "
                        "the course's reader and summarise it, without modifying it")
    parser.add_argument("--dest", type=Path, default=Path("data"),
                        help="folder to save into (default: ./data)")
    parser.add_argument("--registry", type=Path, default=None,
                        help="JSON registry to use instead of the built-in one")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="network timeout in seconds (default: 60)")
    parser.add_argument("--allow-unverified", action="store_true",
                        help="fetch even when no sha256 is recorded for the file")
    return parser


def how_to_get(key: str) -> str:
    """Where and how to obtain a set, its licence and the folder layout its reader expects."""
    if key not in PUBLISHED:
        raise ValueError(f"set must be one of {tuple(PUBLISHED)}, got {key!r}")
    published = PUBLISHED[key]
    return (f"{published.name}\n  where:   {published.homepage}\n  how:     {published.how}\n"
            f"  licence: {published.licence}\n  layout:\n    "
            + published.layout.replace("\n", "\n    ") + "\n")


def check_folder(key: str, root: str) -> str:
    """A summary of an unpacked folder as the reader sees it (it only reads files)."""
    if key not in PUBLISHED:
        raise ValueError(f"set must be one of {tuple(PUBLISHED)}, got {key!r}")
    if key == "tufts":
        from dentpy.data.tufts import TuftsDataset

        readers = {"all teeth": TuftsDataset(root, teeth="all")}
    else:
        from dentpy.data.dentex import SUBSETS, DentexDataset
        from dentpy.data.real import LayoutError

        readers = {}
        for subset in SUBSETS:
            try:
                readers[subset] = DentexDataset(root, subset=subset)
            except LayoutError as error:
                if "no train_" not in str(error):
                    raise
        if not readers:
            DentexDataset(root)  # raises the layout error for the main set
    lines = [f"{PUBLISHED[key].name} in {root}: readable"]
    for name, reader in readers.items():
        first = reader[0]
        numbers = "quadrants" if "fdi" not in first else "FDI numbers"
        values = first.get("fdi", first["labels"]).tolist()
        lines.append(f"  {name}: {len(reader)} images; the first, {first['image_id']}, is "
                     f"{tuple(first['image'].shape[-2:])} px with {len(first['boxes'])} boxes, "
                     f"{numbers} {sorted(set(values))}"
                     + ("; masks: " + ", ".join(k for k in ("mask", "region") if k in first)
                        if key == "tufts" else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.how:
            for key in [args.name] if args.name else list(PUBLISHED):
                print(how_to_get(key))
            return 0
        if args.check:
            print(check_folder(*args.check))
            return 0
        if args.list:
            for entry in list_datasets(args.registry):
                how = "direct" if entry.url else "by hand"
                checked = "sha256" if entry.sha256 else "unverified"
                print(f"{entry.name:20s} {how:8s} {checked:10s} {entry.licence}")
                print(f"{'':20s} {entry.homepage}")
            return 0
        if not args.name:
            parser.error("give a dataset name, or --list")
        path = fetch(args.name, args.dest, registry=args.registry, timeout=args.timeout,
                     allow_unverified=args.allow_unverified)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (RuntimeError, ConnectionError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
