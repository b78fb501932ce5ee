"""Where YOLOv5 model files come from, and fetching the official ones on request.

Resolution order: an explicit path (--weights, File > Load model…), the LWFACE_WEIGHTS
environment variable, the model baked into the package (resources/models/), the user's
cache folder. Nothing is ever downloaded unless the user asks (`weights download`, or the
app's Download button): the file is checked against the official SHA-256 before it is kept.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lwface_desktop.core.errors import ModelError
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
BLOCK = 1 << 16  # bytes read between two looks at the cancel flag


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


def download(model: str, folder: Path | None = None, base_url: str | None = None,
             progress: Callable[[int, int], None] | None = None, timeout: float = 30,
             cancel: threading.Event | None = None) -> Path:
    """Fetch an official model into folder (the cache by default), verified by SHA-256.

    Written to a .partial file and renamed only once complete and verified, so an
    interrupted download never leaves a file that looks valid. progress(done, total).
    cancel, once set, stops it within one block: DownloadCancelled, and nothing is kept.
    """
    if model not in OFFICIAL:
        raise ModelError(f"Unknown model '{model}'; choose one of: {', '.join(OFFICIAL)}.")
    folder = Path(folder) if folder else cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{model}.pt"
    partial = folder / f".{model}.pt.partial"
    url = (base_url or os.environ.get("LWFACE_WEIGHTS_URL") or RELEASE_URL) + f"{model}.pt"
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while block := response.read(BLOCK):
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"The download of {model} was cancelled; nothing was kept.")
                if done + len(block) > OFFICIAL_BYTES[model]:  # longer than the official file: not it
                    raise ModelError(f"The server sent more than the official {model}.pt "
                                     f"({size_text(OFFICIAL_BYTES[model])}); it was not kept.")
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress:
                    progress(done, total)
        if total and done != total:
            raise ModelError(f"The download of {model} stopped early ({done} of {total} bytes). Try again.")
        if digest.hexdigest() != OFFICIAL[model]:
            raise ModelError(f"The downloaded {model}.pt is not the official file (SHA-256 mismatch); "
                             "it was not kept.")
        os.replace(partial, target)
    except http.client.IncompleteRead:
        raise ModelError(f"The download of {model} stopped early. Try again.") from None
    except urllib.error.HTTPError as e:
        raise ModelError(f"The server refused the download of {model} (HTTP {e.code}).") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as e:
        reason = getattr(e, "reason", e)
        raise ModelError(f"Could not download {model}: no connection to the internet ({reason}). "
                         f"Copy {model}.pt (or another YOLOv5 .pt file) from a computer that has one, "
                         "then open it with File > Load model… (or --weights PATH).") from None
    finally:
        partial.unlink(missing_ok=True)
    return target
