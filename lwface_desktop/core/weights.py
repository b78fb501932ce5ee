"""Where YOLOv5 model files come from, and fetching the official ones on request.

Resolution order: an explicit path (--weights, File > Load model…), the LWFACE_WEIGHTS
environment variable, the model baked into the package (resources/models/), the user's
cache folder. Nothing is ever downloaded unless the user asks (`weights download`, or the
app's Download button): the file is checked against the official SHA-256 before it is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lwface_desktop.core.errors import ModelError
from lwface_desktop.core.outputs import writing
from lwface_desktop.core.resources import resource_path

DEFAULT_MODEL = "yolov5n"
RELEASE_URL = "https://github.com/ultralytics/yolov5/releases/download/v7.0/"
# SHA-256 of the official release files (AGPL-3.0, Ultralytics). The v7.0 release serves the
# same yolov5n.pt as v6.1 (the file in ../shared/models has this digest).
OFFICIAL = {
    "yolov5n": "4f180cf23ba0717ada0badd6c685026d73d48f184d00fc159c2641284b2ac0a3",
    "yolov5s": "8b3b748c1e592ddd8868022e8732fde20025197328490623cc16c6f24d0782ee",
    "yolov5m": "61d933360ba5a7733a36764996c800287d973889d875227f5beedd2473a97a56",
}
# Their sizes in bytes: what the Download button says, and where a download that goes on
# longer stops (a server sending endless bytes fills no disk).
OFFICIAL_BYTES = {"yolov5n": 4_062_133, "yolov5s": 14_808_437, "yolov5m": 42_806_829}
OFFICIAL_LICENCE = "AGPL-3.0"  # every Ultralytics YOLOv5 weight file
HOW_TO_GET_ONE = ("Get one with `lwface-desktop weights download yolov5n`, or point to a YOLOv5 .pt "
                  "file with --weights PATH (in the app: File > Load model…) or LWFACE_WEIGHTS=PATH.")
BLOCK = 1 << 16  # the most read at once (read1: whatever has arrived, up to this)
# A download that stalls or trickles ends with a message rather than for ever. Nothing at all
# for SOCKET_TIMEOUT_S: stalled (a working link, even a poor mobile one, sends something every
# second; 10 s rides out a hand-over). Under MIN_RATE over any RATE_WINDOW_S: too slow. 8 KB/s
# (64 kbit/s) is below 2G EDGE, and at it yolov5n takes 8 minutes and yolov5m 87; a server
# sending a byte now and then (which resets the socket's timeout every time) is stopped within
# a window, and no download can last longer than its size at MIN_RATE plus one window.
SOCKET_TIMEOUT_S = 10
MIN_RATE = 8 << 10  # bytes a second
RATE_WINDOW_S = 30  # long enough to ride out a pause of the network, short enough to wait for
_COPY_INSTEAD = ("Copy {model}.pt (or another YOLOv5 .pt file) from a computer that has one, "
                 "then open it with File > Load model… (or --weights PATH).")


class ModelMissing(ModelError):
    """No YOLOv5 model anywhere the search looks: the app offers to download the official one."""


class DownloadCancelled(ModelError):
    """The user cancelled a download; nothing of it was kept."""


@dataclass(frozen=True)
class ModelFile:
    """A YOLOv5 file the search finds: where from (as candidates() names it), its path and size."""

    where: str
    path: Path
    size: int


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lwface-desktop" / "models"


def candidates(model: str = DEFAULT_MODEL) -> list[tuple[str, Path]]:
    """(where, path) in the order they are tried, after an explicit path."""
    found = []
    if os.environ.get("LWFACE_WEIGHTS"):
        found.append(("LWFACE_WEIGHTS", Path(os.environ["LWFACE_WEIGHTS"])))
    found.append(("bundled", resource_path("models", f"{model}.pt")))
    found.append(("cache", cache_dir() / f"{model}.pt"))
    return found


def resolve_weights(explicit: str | Path | None = None, model: str = DEFAULT_MODEL) -> Path:
    """The model file to use; ModelError saying how to get one when there is none."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ModelError(f"The model file {path} was not found. {HOW_TO_GET_ONE}")
        return path
    for where, path in candidates(model):
        if path.is_file():
            return path
        if where == "LWFACE_WEIGHTS":  # asked for by name: a wrong setting must not pass silently
            raise ModelError(f"LWFACE_WEIGHTS points to {path}, which does not exist.")
    raise ModelMissing(f"No YOLOv5 model was found. {HOW_TO_GET_ONE}")


def model_files(explicit: str | Path | None = None, model: str = DEFAULT_MODEL) -> list[ModelFile]:
    """Every YOLOv5 file the search would consider that exists, the one resolve_weights()
    uses first: the explicit path ("chosen file"), then candidates() in their order. A file
    found twice is listed once, with both places ("chosen file, cache")."""
    places = [("chosen file", Path(explicit).expanduser())] if explicit else []
    found: dict[Path, ModelFile] = {}  # by real path: a file chosen from the cache is listed once
    for where, path in places + candidates(model):
        try:
            if not path.is_file():
                continue
            real = path.resolve()
            earlier = found.get(real)
            found[real] = (ModelFile(f"{earlier.where}, {where}", earlier.path, earlier.size) if earlier
                           else ModelFile(where, path, path.stat().st_size))
        except OSError:  # unreadable folder: not a model the app can use either
            continue
    return list(found.values())


def size_text(size: int) -> str:
    """3.9 MB, 227 KB: a file size in the units of the release page and most file managers
    (1 MB = 1024 KB = 1,048,576 bytes)."""
    return f"{size / (1 << 20):.1f} MB" if size >= 1 << 20 else f"{max(1, round(size / 1024))} KB"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Cancel(threading.Event):
    """The flag a download's Cancel sets. Given to download(), set() also shuts its connection
    down, so a read that waits for a stalled or trickling server returns at once instead of at
    its timeout. set() never waits: any thread (the GUI's) may call it."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()  # a connection is never shut down after it was closed
        self._connections: set[socket.socket] = set()

    def set(self) -> None:
        super().set()
        with self._lock:
            for connection in self._connections:
                _hang_up(connection)

    @contextlib.contextmanager
    def cutting(self, fileno: int) -> Iterator[None]:
        """While the block runs, set() shuts down the connection whose socket is fileno."""
        connection = socket.socket(fileno=os.dup(fileno))  # ours to close; the same connection
        with self._lock:
            self._connections.add(connection)
            if self.is_set():
                _hang_up(connection)
        try:
            yield
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()


def _hang_up(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # the server hung up first
        connection.shutdown(socket.SHUT_RDWR)


def download(model: str, folder: Path | None = None, base_url: str | None = None,
             progress: Callable[[int, int], None] | None = None, timeout: float = SOCKET_TIMEOUT_S,
             cancel: threading.Event | None = None, clock: Callable[[], float] = time.monotonic) -> Path:
    """Fetch an official model into folder (the cache by default), verified by SHA-256.

    Written under a temporary name of its own (outputs.writing: two downloads at once never
    share one), and renamed into place only once the file as written has the official SHA-256,
    so an interrupted download never leaves a file that looks valid. progress(done, total),
    total 0 when the server does not say it. cancel, once set, stops it before its next read,
    and at once if it is a Cancel: DownloadCancelled, and nothing is kept. timeout: seconds with
    nothing at all from the server; clock: seconds, for the slowest rate accepted (MIN_RATE).
    """
    if model not in OFFICIAL:
        raise ModelError(f"Unknown model '{model}'; choose one of: {', '.join(OFFICIAL)}.")
    folder = Path(folder) if folder else cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{model}.pt"
    url = (base_url or os.environ.get("LWFACE_WEIGHTS_URL") or RELEASE_URL) + f"{model}.pt"
    response = _open(url, model, timeout, cancel)  # no temporary file while it connects
    cutting = cancel.cutting(response.fileno()) if isinstance(cancel, Cancel) else contextlib.nullcontext()
    # The cache's own file: a verified copy may replace it.
    with response, cutting, writing(target, overwrite=True) as temp:
        with temp.open("wb") as out:
            total = content_length(response.headers.get("Content-Length"))
            done = _copy(response, out, model, total, progress, timeout, cancel, clock)
        if total and done != total:
            raise ModelError(f"The download of {model} stopped early ({done} of {total} bytes). Try again.")
        if sha256(temp) != OFFICIAL[model]:  # the file as written, whoever else wrote beside it
            raise ModelError(f"The downloaded {model}.pt is not the official file (SHA-256 mismatch); "
                             "it was not kept.")
    return target


def _open(url: str, model: str, timeout: float, cancel: threading.Event | None) -> http.client.HTTPResponse:
    """The response to a GET of url (its headers read), or a ModelError saying why not. Cancel
    cannot cut a connection still being made: that takes at most timeout."""
    try:
        return urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as e:
        raise ModelError(f"The server refused the download of {model} (HTTP {e.code}).") from None
    except (OSError, http.client.HTTPException) as e:  # URLError, refused, timed out, reset
        if cancel is not None and cancel.is_set():
            raise DownloadCancelled(_cancelled(model)) from None
        reason = getattr(e, "reason", e)
        raise ModelError(f"Could not download {model}: no connection to the internet ({reason}). "
                         f"{_COPY_INSTEAD.format(model=model)}") from None


def _copy(response: http.client.HTTPResponse, out: BinaryIO, model: str, total: int,
          progress: Callable[[int, int], None] | None, timeout: float, cancel: threading.Event | None,
          clock: Callable[[], float]) -> int:
    """The body into out, as it arrives; the bytes copied."""
    done = 0
    window_start, window_done = clock(), 0
    while not (cancel is not None and cancel.is_set()):
        try:
            block = response.read1(BLOCK)  # what has arrived: never waits for a whole block
        except (OSError, http.client.HTTPException) as e:
            if cancel is not None and cancel.is_set():
                break  # the connection was cut by Cancel
            if isinstance(e, TimeoutError):
                raise ModelError(f"The download of {model} stalled: nothing arrived for {timeout:g} seconds, "
                                 "so it was stopped and nothing was kept. Try again.") from None
            raise ModelError(f"The download of {model} stopped early. Try again.") from None
        if not block:
            break
        if done + len(block) > OFFICIAL_BYTES[model]:  # longer than the official file: not it
            raise ModelError(f"The server sent more than the official {model}.pt "
                             f"({size_text(OFFICIAL_BYTES[model])}); it was not kept.")
        out.write(block)
        done += len(block)
        if progress:
            progress(done, total)
        now = clock()
        if now - window_start >= RATE_WINDOW_S:
            if done - window_done < MIN_RATE * (now - window_start):
                raise ModelError(f"The download of {model} is too slow (under {MIN_RATE >> 10} KB/s for "
                                 f"{RATE_WINDOW_S} seconds), so it was stopped and nothing was kept. Try again "
                                 f"later or on another connection. {_COPY_INSTEAD.format(model=model)}")
            window_start, window_done = now, done
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(_cancelled(model))
    return done


def content_length(text: str | None) -> int:
    """A Content-Length header in bytes; 0 (not known) when missing or not a whole number:
    the download goes on, and its SHA-256 still decides whether it is kept."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() else 0


def _cancelled(model: str) -> str:
    return f"The download of {model} was cancelled; nothing was kept."
