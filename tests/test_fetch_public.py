"""data_scripts/fetch_public.py: the command line over fetch(), with a registry override."""

import functools
import hashlib
import http.server
import importlib.util
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "data_scripts" / "fetch_public.py"
PAYLOAD = b"cbct volume bytes " * 500


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def load_script():
    spec = importlib.util.spec_from_file_location("fetch_public", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def registry(tmp_path, monkeypatch):
    """A loopback server with one file, and a registry JSON pointing at it."""
    monkeypatch.delenv("DENTPY_OFFLINE", raising=False)
    served = tmp_path / "served"
    served.mkdir()
    (served / "vol.zip").write_bytes(PAYLOAD)
    handler = functools.partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    path = tmp_path / "registry.json"
    common = {"homepage": "http://example.invalid/", "licence": "CC0", "citation": "test"}
    path.write_text(json.dumps({
        "good": {"filename": "vol.zip", "url": f"{url}/vol.zip",
                 "sha256": hashlib.sha256(PAYLOAD).hexdigest(), **common},
        "corrupt": {"filename": "bad.zip", "url": f"{url}/vol.zip", "sha256": "1" * 64,
                    **common},
    }))
    yield path
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_fetch_via_cli(registry, tmp_path, capsys):
    main = load_script().main
    dest = tmp_path / "out"
    assert main(["good", "--dest", str(dest), "--registry", str(registry)]) == 0
    assert capsys.readouterr().out.strip() == str(dest / "vol.zip")
    assert (dest / "vol.zip").read_bytes() == PAYLOAD
    assert main(["corrupt", "--dest", str(dest), "--registry", str(registry)]) == 1
    assert "sha256 mismatch" in capsys.readouterr().err
    assert not (dest / "bad.zip").exists()


def test_list_and_errors(registry, capsys):
    main = load_script().main
    assert main(["--list", "--registry", str(registry)]) == 0
    out = capsys.readouterr().out
    assert "good" in out and "sha256" in out and "direct" in out
    assert main(["--list"]) == 0
    assert "dentex" in capsys.readouterr().out
    assert main(["nope", "--registry", str(registry)]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert main(["dentex", "--dest", str(registry.parent / "d")]) == 1
    assert "by hand" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])


def test_runs_as_a_script(registry, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DENTPY_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "good", "--dest", str(tmp_path / "o"),
         "--registry", str(registry)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert result.returncode == 1 and "DENTPY_OFFLINE" in result.stderr
