"""fetch() against a local HTTP server on 127.0.0.1 serving files this test writes."""

import functools
import hashlib
import http.server
import json
import socket
import threading

import pytest

from dentpy.data.fetch import REGISTRY, DatasetEntry, list_datasets, load_registry, sha256_of
from dentpy.data.fetch import fetch as fetch_file

PAYLOAD = b"panoramic radiograph archive " * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture()
def server(tmp_path):
    """Serve ``tmp_path/served`` on a free loopback port; yields the base URL."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "data.zip").write_bytes(PAYLOAD)
    handler = functools.partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


SIZE = len(PAYLOAD)


def entry(url, *, sha256=SHA, size=SIZE, filename="data.zip"):
    return DatasetEntry(name="demo", filename=filename, homepage="http://example.invalid/",
                        licence="CC0", citation="test", url=url, sha256=sha256, size=size)


def no_leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")] == []


@pytest.fixture(autouse=True)
def online(monkeypatch):
    monkeypatch.delenv("DENTPY_OFFLINE", raising=False)


def test_good_checksum_downloads_atomically(server, tmp_path):
    dest = tmp_path / "dest"
    path = fetch_file("demo", dest, registry={"demo": entry(f"{server}/data.zip")})
    assert path == dest / "data.zip" and path.read_bytes() == PAYLOAD
    assert sha256_of(path) == SHA and no_leftovers(dest)
    # second call: the verified file is reused, even offline
    mtime = path.stat().st_mtime_ns
    again = fetch_file("demo", dest, registry={"demo": entry("http://127.0.0.1:9/none")})
    assert again == path and path.stat().st_mtime_ns == mtime


def test_bad_checksum_leaves_nothing(server, tmp_path):
    registry = {"demo": entry(f"{server}/data.zip", sha256="0" * 64)}
    with pytest.raises(RuntimeError, match="sha256 mismatch.*removed"):
        fetch_file("demo", tmp_path / "d", registry=registry)
    assert list((tmp_path / "d").iterdir()) == []


def test_wrong_size_leaves_nothing(server, tmp_path):
    registry = {"demo": entry(f"{server}/data.zip", size=5)}
    with pytest.raises(RuntimeError, match="expected 5"):
        fetch_file("demo", tmp_path, registry=registry)
    assert not (tmp_path / "data.zip").exists() and no_leftovers(tmp_path)


def test_existing_different_file_is_kept(server, tmp_path):
    (tmp_path / "data.zip").write_bytes(b"my own notes")
    with pytest.raises(FileExistsError, match="not replaced"):
        fetch_file("demo", tmp_path, registry={"demo": entry(f"{server}/data.zip")})
    assert (tmp_path / "data.zip").read_bytes() == b"my own notes"


def test_unverified_entries(server, tmp_path):
    registry = {"demo": entry(f"{server}/data.zip", sha256=None, size=None)}
    with pytest.raises(RuntimeError, match="no recorded sha256.*allow_unverified"):
        fetch_file("demo", tmp_path, registry=registry)
    assert not (tmp_path / "data.zip").exists()
    path = fetch_file("demo", tmp_path, registry=registry, allow_unverified=True)
    assert path.read_bytes() == PAYLOAD
    with pytest.raises(FileExistsError, match="no recorded"):
        fetch_file("demo", tmp_path, registry=registry)
    assert fetch_file("demo", tmp_path, registry=registry, allow_unverified=True) == path


def test_http_error_names_url(server, tmp_path):
    url = f"{server}/missing.zip"
    with pytest.raises(RuntimeError, match=r"HTTP 404.*missing\.zip"):
        fetch_file("demo", tmp_path, registry={"demo": entry(url)})
    assert no_leftovers(tmp_path) and not (tmp_path / "data.zip").exists()


def test_server_down_is_connection_error(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/data.zip"
    with pytest.raises(ConnectionError, match=f"could not download {url}.*offline"):
        fetch_file("demo", tmp_path, registry={"demo": entry(url)}, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_offline_env_refuses_at_once(server, tmp_path, monkeypatch):
    monkeypatch.setenv("DENTPY_OFFLINE", "1")
    with pytest.raises(ConnectionError, match="DENTPY_OFFLINE"):
        fetch_file("demo", tmp_path / "d", registry={"demo": entry(f"{server}/data.zip")})
    assert not (tmp_path / "d").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'nope'.*dentex"):
        fetch_file("nope", tmp_path)
    with pytest.raises(ValueError, match="timeout"):
        fetch_file("demo", tmp_path, registry={"demo": entry("http://x/")}, timeout=0)
    with pytest.raises(ValueError, match="sha256"):
        entry("http://x/", sha256="abc")
    with pytest.raises(ValueError, match="bare file name"):
        entry("http://x/", filename="../up.zip")
    with pytest.raises(ValueError, match="size"):
        entry("http://x/", size=-1)


def test_builtin_registry_is_honest(tmp_path):
    names = [e.name for e in list_datasets()]
    assert names == sorted(REGISTRY) and len(names) >= 2
    for item in list_datasets():
        assert item.licence and item.citation and item.homepage.startswith("http")
        assert item.url is not None or item.sha256 is None
    with pytest.raises(RuntimeError, match="by hand from https://doi.org/10.5281/zenodo"):
        fetch_file("dentex", tmp_path)


def test_load_registry_json(tmp_path):
    path = tmp_path / "reg.json"
    path.write_text(json.dumps({"demo": {"filename": "a.zip", "homepage": "http://h/",
                                         "licence": "CC0", "citation": "c", "url": "http://u/",
                                         "sha256": SHA, "size": 3}}))
    loaded = load_registry(path)
    assert loaded["demo"].sha256 == SHA and list_datasets(path)[0].name == "demo"
    path.write_text("{broken")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_registry(path)
    path.write_text(json.dumps({"demo": {"filename": "a.zip", "colour": "red"}}))
    with pytest.raises(ValueError, match="malformed"):
        load_registry(path)
    with pytest.raises(FileNotFoundError):
        load_registry(tmp_path / "none.json")
