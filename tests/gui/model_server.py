"""A loopback HTTP server that serves a model file as the release would, and a machine with no
YOLOv5 model: what the download tests (test_model_download, test_models_dialog) run against. no_model and
serve are fixtures for them to take with pytest.fixture(...)."""

from __future__ import annotations

import http.server
import socket
import threading

from lwface_desktop.core import weights
from tests.gui.conftest import SETTLE_MS

FIRST_PART = 256 * 1024  # what a held server sends before it waits (several download blocks)


class ModelServer:
    """Serves body as /yolov5n.pt on 127.0.0.1; held: sends FIRST_PART, then waits for release()."""

    def __init__(self, body: bytes, held: bool = False):
        self.requests = 0
        self._released = threading.Event()
        if not held:
            self._released.set()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body[:FIRST_PART])
                    self.wfile.flush()
                    server._released.wait(SETTLE_MS / 1000)
                    self.wfile.write(body[FIRST_PART:])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the app hung up (a cancelled download)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()


def no_model(tmp_path, monkeypatch):
    """No YOLOv5 model anywhere: no LWFACE_WEIGHTS, an empty cache, no bundled file. The cache folder."""
    monkeypatch.delenv("LWFACE_WEIGHTS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(weights, "resource_path", lambda *parts: tmp_path.joinpath("no-bundle", *parts))
    return tmp_path / "cache" / "lwface-desktop" / "models"


def serve(monkeypatch):
    """serve(body, held=False): a ModelServer the app downloads from (LWFACE_WEIGHTS_URL)."""
    servers = []

    def start(body: bytes, held: bool = False) -> ModelServer:
        server = ModelServer(body, held)
        servers.append(server)
        monkeypatch.setenv("LWFACE_WEIGHTS_URL", server.url)
        return server

    yield start
    for server in servers:
        server.close()


def closed_port() -> int:
    """A loopback port nobody listens on: a connection to it is refused (as offline)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
