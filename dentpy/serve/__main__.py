"""``python -m dentpy.serve --root FOLDER [--port 8000]``: serve the tool on 127.0.0.1."""

from __future__ import annotations

import argparse

import uvicorn

from dentpy.serve.app import create_app
from dentpy.serve.validate import DEFAULT_MAX_BYTES


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dentpy.serve", description=__doc__)
    parser.add_argument("--root", required=True, help="folder of datasets, jobs and results")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-upload-bytes", type=int, default=DEFAULT_MAX_BYTES)
    args = parser.parse_args(argv)
    app = create_app(args.root, max_upload_bytes=args.max_upload_bytes)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    _main()
