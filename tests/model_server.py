"""A loopback HTTP server that serves a model file as the release would (whole, cut short,
held mid-body, with a wrong Content-Length), and a machine with no YOLOv5 model: what every
download test runs against (tests/core/test_weights.py, tests/gui/test_model_download.py,
tests/gui/test_models_dialog.py). no_model and serve are fixtures for them to take with
pytest.fixture(...)."""

from __future__ import annotations

import http.server
import socket
import threading

from lwface_desktop.core import weights

FIRST_PART = 256 * 1024  # what a held server sends before it waits (several download blocks)


class ModelServer:
    """Serves body as /yolov5n.pt on 127.0.0.1. held: sends FIRST_PART (or the first_part
    given), then sends nothing more until release() or close(): a stalled server. cut_short:
    a third of body, then it hangs up. content_length: the header's text (default: the
    body's length)."""

    def __init__(self, body: bytes, held: bool = False, cut_short: bool = False, content_length: str | None = None,
                 first_part: int = FIRST_PART):
        self.requests = 0
        self.stalled = threading.Event()  # a held server has sent its first part and waits
        self._released = threading.Event()
        if not held:
            self._released.set()
        server = self
        sent = body[: len(body) // 3] if cut_short else body

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)) if content_length is None else content_length)
                self.end_headers()
                try:
                    self.wfile.write(sent[:first_part])
                    self.wfile.flush()
                    if not server._released.is_set():
                        server.stalled.set()
                        server._released.wait()
                    self.wfile.write(sent[first_part:])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the app hung up (a cancelled download)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def held(self) -> bool:
        """It still sends nothing beyond its first part."""
        return not self._released.is_set()

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()


def no_model(tmp_path, monkeypatch):
    """No YOLOv5 model anywhere: no LWFACE_WEIGHTS, an empty cache, no bundled file (it would be
    in tmp_path/no-bundle/models). The cache folder."""
    monkeypatch.delenv("LWFACE_WEIGHTS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(weights, "resource_path", lambda *parts: tmp_path.joinpath("no-bundle", *parts))
    return tmp_path / "cache" / "lwface-desktop" / "models"


def serve(monkeypatch):
    """serve(body, **options): a ModelServer (options as its own) the app downloads from
    (LWFACE_WEIGHTS_URL); closed after the test."""
    servers = []

    def start(body: bytes, **options) -> ModelServer:
        server = ModelServer(body, **options)
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
