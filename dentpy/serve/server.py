"""Start and stop the real web tool: uvicorn serving :func:`~dentpy.serve.app.create_app` on
127.0.0.1, in a background thread of the calling process.

``start_server(root)`` picks a free port (or takes ``port``), starts uvicorn and returns once
the server answers ``/api/health``; ``handle.stop()`` runs uvicorn's graceful shutdown (which
stops the job worker) and waits for the thread to end. Use the handle as a context manager, or
call ``stop()`` in a ``finally``. A thread rather than a child process keeps start-up to a
second (torch is already imported); ``python -m dentpy.serve --root FOLDER`` runs the same
server as a process of its own.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from dentpy import _checks
from dentpy.serve.app import create_app
from dentpy.serve.validate import DEFAULT_MAX_BYTES

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerHandle:
    """A running server: its ``url``, ``root`` folder and ``app``."""

    url: str
    root: Path
    app: FastAPI = field(repr=False)
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def running(self) -> bool:
        """Whether the server thread is still alive."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Shut the server down gracefully and wait up to ``timeout`` s for it to end."""
        timeout = _checks.number("timeout", timeout, low=0)
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"the server at {self.url} did not stop within {timeout} s")

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(root: str | os.PathLike, port: int = 0, *,
                 max_upload_bytes: int = DEFAULT_MAX_BYTES, timeout: float = 30.0
                 ) -> ServerHandle:
    """Serve the tool over ``root`` on ``http://127.0.0.1:port`` (``port=0``: a free one).

    Waits up to ``timeout`` seconds for the server to answer; raises ``RuntimeError`` if it
    fails or does not answer in time (the server is stopped again).
    """
    port = _checks.integer("port", port, low=0, high=65535) or free_port()
    timeout = _checks.number("timeout", timeout, low=0, low_open=True)
    app = create_app(root, max_upload_bytes=max_upload_bytes)
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"dentpy-serve-{port}", daemon=True)
    handle = ServerHandle(f"http://{HOST}:{port}", Path(root), app, server, thread)
    thread.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and thread.is_alive():
        try:
            if httpx.get(f"{handle.url}/api/health", timeout=1.0).status_code == 200:
                return handle
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    handle.stop()
    raise RuntimeError(f"the server on port {port} did not start within {timeout} s "
                       "(is the port taken?)")
