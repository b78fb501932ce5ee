"""What File › Models… lists: every model file the app finds, with its size, classes and licence.

The YOLOv5 files are those core.weights would consider (a chosen file, LWFACE_WEIGHTS, bundled,
cache), in the order it tries them. A file is called official when its SHA-256 is one of the
release's; only then is its licence known (Ultralytics' AGPL-3.0). Its classes are read from the
checkpoint itself, with the same safe loader as a model load (core.yolo.checkpoint): that reads
the whole file and needs torch, so catalogue() runs in a job, never on the GUI thread. The face
models are listed too: YuNet (bundled, MIT) and scikit-image's cascade (BSD-3-Clause).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lwface_desktop.core import weights
from lwface_desktop.core.errors import UserError
from lwface_desktop.core.outputs import same_file

UNOFFICIAL_LICENCE = "unknown: not an official file"  # weights of someone's own training: ask its author
YUNET_LICENCE = "MIT"
USED_NEXT = "used when needed"
CASCADE_LICENCE = "BSD-3-Clause"


@dataclass(frozen=True)
class ModelEntry:
    name: str            # "YOLOv5n (official)", "YOLOv5 (mine.pt)", "YuNet", "Face cascade"
    where: str           # bundled, cache, LWFACE_WEIGHTS, chosen file, scikit-image
    path: Path
    size: int            # bytes on disk
    classes: int | None  # None: the file could not be read (note says why)
    licence: str
    licence_file: Path | None = None
    state: str = ""      # "in use" (loaded for Objects), USED_NEXT (the one a load would take), ""
    note: str = ""       # why classes are unknown, or what the file is


def catalogue(explicit: str | Path | None = None, loaded: tuple[Path, list[str]] | None = None) -> list[ModelEntry]:
    """Every model found. explicit: the model chosen (File › Load model…, --weights); loaded:
    the YOLOv5 model in memory (its path and class names: it is not read again)."""
    entries = []
    for number, found in enumerate(weights.model_files(explicit)):
        in_use = loaded is not None and same_file(loaded[0], found.path)
        used_next = number == 0 and not in_use  # the file a load takes (Detectors reloads when it changes)
        entries.append(_yolo_entry(found, loaded[1] if in_use and loaded else None,
                                   "in use" if in_use else USED_NEXT if used_next else ""))
    return entries + _face_entries()


def _yolo_entry(found: weights.ModelFile, names: list[str] | None, state: str) -> ModelEntry:
    try:
        digest = weights.sha256(found.path)
    except OSError as e:
        return ModelEntry("YOLOv5", found.where, found.path, found.size, None, UNOFFICIAL_LICENCE, state=state,
                          note=f"cannot be read: {e.strerror or e}")
    official = next((model for model, sha in weights.OFFICIAL.items() if sha == digest), None)
    note = ""
    if names is None:
        try:
            from lwface_desktop.core.yolo.checkpoint import load_checkpoint

            names = load_checkpoint(found.path).names
        except UserError as e:
            note = str(e)
    name = f"YOLOv5{official[len('yolov5'):]} (official)" if official else f"YOLOv5 ({found.path.name})"
    licence = f"{weights.OFFICIAL_LICENCE} (Ultralytics)" if official else UNOFFICIAL_LICENCE
    return ModelEntry(name, found.where, found.path, found.size, len(names) if names is not None else None,
                      licence, state=state, note=note)


def _face_entries() -> list[ModelEntry]:
    from skimage.data import lbp_frontal_face_cascade_filename

    from lwface_desktop.core.resources import resource_path
    from lwface_desktop.core.yunet import model_path

    entries = []
    for name, where, path, licence, licence_file in (
            ("YuNet (faces)", "bundled", model_path(), YUNET_LICENCE, resource_path("models", "LICENSE-yunet.txt")),
            ("Face cascade (classic)", "scikit-image", Path(lbp_frontal_face_cascade_filename()), CASCADE_LICENCE,
             None)):
        try:
            size = path.stat().st_size
        except OSError:
            continue  # a broken install: the self-test says so; here it is just not found
        entries.append(ModelEntry(name, where, path, size, 1, licence, licence_file))
    return entries

