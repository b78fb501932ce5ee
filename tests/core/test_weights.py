"""Where model files come from, and downloads that are verified and never half-written."""

import hashlib
import http.server
import socket
import threading

import pytest

from lwface_desktop.core import weights
from lwface_desktop.core.yolo.checkpoint import ModelError

MODEL_BYTES = b"pretend model weights " * 5000


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Bundled and cache folders in tmp_path, no LWFACE_WEIGHTS."""
    bundled = tmp_path / "bundled"
    monkeypatch.setattr(weights, "resource_path", lambda *parts: bundled.joinpath(*parts[1:]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("LWFACE_WEIGHTS", raising=False)
    return {"bundled": bundled / "yolov5n.pt", "cache": tmp_path / "cache" / "lwface-desktop" / "models" / "yolov5n.pt",
            "env": tmp_path / "env.pt", "explicit": tmp_path / "mine.pt"}


def make(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_resolution_order(places, monkeypatch):
    with pytest.raises(ModelError, match="weights download yolov5n"):
        weights.resolve_weights()
    make(places["cache"])
    assert weights.resolve_weights() == places["cache"]
    make(places["bundled"])
    assert weights.resolve_weights() == places["bundled"]
    monkeypatch.setenv("LWFACE_WEIGHTS", str(make(places["env"])))
    assert weights.resolve_weights() == places["env"]
    assert weights.resolve_weights(make(places["explicit"])) == places["explicit"]


def test_wrong_paths_are_reported_not_skipped(places, monkeypatch):
    make(places["bundled"])
    with pytest.raises(ModelError, match="mine.pt was not found"):
        weights.resolve_weights(places["explicit"])
    monkeypatch.setenv("LWFACE_WEIGHTS", str(places["env"]))
    with pytest.raises(ModelError, match="LWFACE_WEIGHTS points to .*env.pt, which does not exist"):
        weights.resolve_weights()


class _Server:
    """A loopback HTTP server that serves MODEL_BYTES, whole or cut short."""

    def __init__(self, cut_short: bool = False):
        body = MODEL_BYTES

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 3] if cut_short else body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def official_is_our_bytes(monkeypatch):
    monkeypatch.setitem(weights.OFFICIAL, "yolov5n", hashlib.sha256(MODEL_BYTES).hexdigest())


def test_download_verifies_and_reports_progress(tmp_path, official_is_our_bytes):
    server = _Server()
    seen = []
    try:
        path = weights.download("yolov5n", tmp_path, server.url, progress=lambda d, t: seen.append((d, t)))
    finally:
        server.close()
    assert path == tmp_path / "yolov5n.pt" and path.read_bytes() == MODEL_BYTES
    assert seen[-1] == (len(MODEL_BYTES), len(MODEL_BYTES)) and len(seen) > 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["yolov5n.pt"]


def test_a_file_that_is_not_the_official_one_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setitem(weights.OFFICIAL, "yolov5n", "0" * 64)
    server = _Server()
    try:
        with pytest.raises(ModelError, match="not the official file"):
            weights.download("yolov5n", tmp_path, server.url)
    finally:
        server.close()
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_download_leaves_nothing_that_looks_valid(tmp_path, official_is_our_bytes):
    server = _Server(cut_short=True)
    try:
        with pytest.raises(ModelError, match="stopped early"):
            weights.download("yolov5n", tmp_path, server.url)
    finally:
        server.close()
    assert list(tmp_path.iterdir()) == []


def test_no_network_says_so(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ModelError, match="no connection to the internet"):
        weights.download("yolov5n", tmp_path, f"http://127.0.0.1:{port}/", timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_unknown_model_name(tmp_path):
    with pytest.raises(ModelError, match="Unknown model 'yolov9'"):
        weights.download("yolov9", tmp_path)


def test_a_cancelled_download_stops_and_keeps_nothing(tmp_path, official_is_our_bytes):
    server = _Server()
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        cancel.set()  # the user presses Cancel after the first block

    try:
        with pytest.raises(weights.DownloadCancelled, match="cancelled; nothing was kept"):
            weights.download("yolov5n", tmp_path, server.url, progress=progress, cancel=cancel)
    finally:
        server.close()
    assert seen == [weights.BLOCK] and len(MODEL_BYTES) > weights.BLOCK  # it stopped at the next block
    assert list(tmp_path.iterdir()) == []


def test_a_server_sending_more_than_the_official_file_is_cut_off(tmp_path, official_is_our_bytes, monkeypatch):
    monkeypatch.setitem(weights.OFFICIAL_BYTES, "yolov5n", len(MODEL_BYTES) - 1)
    server = _Server()
    try:
        with pytest.raises(ModelError, match="more than the official yolov5n.pt"):
            weights.download("yolov5n", tmp_path, server.url)
    finally:
        server.close()
    assert list(tmp_path.iterdir()) == []


def test_the_official_sizes_match_the_file_in_shared():
    from tests.conftest import WEIGHTS

    if not WEIGHTS.is_file():
        pytest.skip(f"missing the official yolov5n.pt at {WEIGHTS}")
    assert WEIGHTS.stat().st_size == weights.OFFICIAL_BYTES["yolov5n"]
    assert weights.sha256(WEIGHTS) == weights.OFFICIAL["yolov5n"]
    assert weights.size_text(weights.OFFICIAL_BYTES["yolov5n"]) == "3.9 MB"  # as the release page says


def test_nothing_found_is_a_model_missing_error_and_wrong_paths_are_not(places, monkeypatch):
    with pytest.raises(weights.ModelMissing):
        weights.resolve_weights()
    with pytest.raises(ModelError) as wrong:
        weights.resolve_weights(places["explicit"])
    assert not isinstance(wrong.value, weights.ModelMissing)  # a path given that is wrong: no download offer


def test_model_files_lists_what_exists_in_search_order(places, monkeypatch):
    assert weights.model_files() == []
    make(places["cache"])
    make(places["bundled"])
    monkeypatch.setenv("LWFACE_WEIGHTS", str(places["env"]))  # set, but no file there: not listed
    found = weights.model_files(make(places["explicit"]))
    assert [(f.where, f.path, f.size) for f in found] == [
        ("chosen file", places["explicit"], 1), ("bundled", places["bundled"], 1), ("cache", places["cache"], 1)]
    assert [(f.where, f.path) for f in weights.model_files(places["cache"])] == [
        ("chosen file, cache", places["cache"]), ("bundled", places["bundled"])]
