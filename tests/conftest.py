"""Shared fixtures: real scikit-image photos as JPEG files, and broken files of every kind."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from benchmarks.photos import write_photos

# The official yolov5n.pt and the official implementation's detections live outside the repo.
SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "reference" / "yolov5n_detections.json"
JPEG_REFERENCE = SHARED / "reference" / "yolov5n_jpeg_detections.json"
WEIGHTS = Path(os.environ.get("LWFACE_TEST_WEIGHTS", SHARED / "models" / "yolov5n.pt"))
_WHERE_WEIGHTS = "set LWFACE_TEST_WEIGHTS; `make test` passes ../shared/models/yolov5n.pt"
_MISSING = [what for what, present in (
    (f"the official yolov5n.pt at {WEIGHTS} ({_WHERE_WEIGHTS})", WEIGHTS.is_file()),
    (f"the official implementation's detections at {REFERENCE}", REFERENCE.is_file())) if not present]
needs_weights = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"missing {' and '.join(_MISSING)}. These tests need the official model because they compare "
           "labels with the official detections (the mechanics run on random_weights).")
needs_official_model = pytest.mark.skipif(
    not WEIGHTS.is_file(),
    reason=f"missing the official yolov5n.pt at {WEIGHTS} ({_WHERE_WEIGHTS}). "
           "This test needs the official file itself: it checks its SHA-256.")


COCO_NAMES = ["person"] + [f"class{i}" for i in range(1, 80)]


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory) -> Path:
    """A yolov5n-shaped checkpoint with random weights, in the official format: the camera,
    pipeline and CLI mechanics run on it without ../shared. Its detections mean nothing."""
    from tests.checkpoints import architecture_of, random_network, save_checkpoint

    path = tmp_path_factory.mktemp("models") / "random-yolov5n.pt"
    architecture = architecture_of(len(COCO_NAMES))
    save_checkpoint(random_network(architecture, [8, 16, 32]), path, architecture, COCO_NAMES, [8, 16, 32])
    return path


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> dict[str, Path]:
    """astronaut, coffee, chelsea, camera (greyscale) and astronaut-12mp, as JPEG files."""
    return write_photos(tmp_path_factory.mktemp("photos"))


def jpeg_bytes(image: np.ndarray, **save_options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=92, **save_options)
    return buffer.getvalue()


def with_jpeg_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with the frame size in its SOF0 header replaced: a huge image, cheaply."""
    sof = jpeg.index(b"\xff\xc0")
    header = bytearray(jpeg)
    header[sof + 5:sof + 7] = height.to_bytes(2, "big")
    header[sof + 7:sof + 9] = width.to_bytes(2, "big")
    return bytes(header)


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory) -> dict[str, Path]:
    """One file per way a 'photo' can be unusable; name -> path."""
    folder = tmp_path_factory.mktemp("bad")
    astronaut = data.astronaut()
    good = jpeg_bytes(astronaut)
    png = io.BytesIO()
    Image.fromarray(astronaut).save(png, "PNG")
    contents = {
        "png-renamed.jpg": png.getvalue(),
        "empty.jpg": b"",
        "truncated.jpg": good[: len(good) // 2],
        "notes.jpg": b"These are my holiday notes, not a photo.\n" * 10,
        "huge.jpg": with_jpeg_size(good, 20000, 20000),
    }
    paths = {}
    for name, content in contents.items():
        paths[name] = folder / name
        paths[name].write_bytes(content)
    paths["missing.jpg"] = folder / "missing.jpg"
    paths["folder.jpg"] = folder / "folder.jpg"
    paths["folder.jpg"].mkdir()
    return paths


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    """A 640x480 MJPG video at 15 fps: 15 frames each of astronaut, coffee, chelsea, camera."""
    import cv2

    path = tmp_path_factory.mktemp("video") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (640, 480))
    for photo in (data.astronaut(), data.coffee(), data.chelsea(), np.repeat(data.camera()[..., None], 3, 2)):
        frame = cv2.cvtColor(cv2.resize(photo, (640, 480)), cv2.COLOR_RGB2BGR)
        for _ in range(CLIP_FRAMES_PER_PHOTO):
            writer.write(frame)
    writer.release()
    return path


CLIP_FRAMES_PER_PHOTO = 15


def open_files(pid: int | str = "self") -> set[str]:
    """Paths a process (this one by default) has open: a released capture must not be among them."""
    fds = Path(f"/proc/{pid}/fd")
    found = set()
    for fd in fds.iterdir():
        try:
            found.add(os.readlink(fd))
        except OSError:
            pass
    return found


def temporaries(folder: Path) -> list[str]:
    """The names of the temporary files outputs.writing() left in folder: there must be none."""
    from lwface_desktop.core.outputs import TEMP_PREFIX

    return sorted(p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))
