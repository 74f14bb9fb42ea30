"""Download a public dental dataset, checked by sha256: the command-line face of ``fetch``.

    python data_scripts/fetch_public.py --list
    python data_scripts/fetch_public.py dentex --dest data/
    python data_scripts/fetch_public.py mine --dest data/ --registry my_registry.json

Exit status: 0 on success, 1 on a download or checksum problem, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dentpy.data.fetch import fetch, list_datasets


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so the docs and tests can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="fetch_public.py",
        description="Download a public dental dataset with checksum verification.",
    )
    parser.add_argument("name", nargs="?", help="dataset name (see --list)")
    parser.add_argument("--list", action="store_true", help="list known datasets and exit")
    parser.add_argument("--dest", type=Path, default=Path("data"),
                        help="folder to save into (default: ./data)")
    parser.add_argument("--registry", type=Path, default=None,
                        help="JSON registry to use instead of the built-in one")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="network timeout in seconds (default: 60)")
    parser.add_argument("--allow-unverified", action="store_true",
                        help="fetch even when no sha256 is recorded for the file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
