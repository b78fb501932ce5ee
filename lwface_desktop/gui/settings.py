"""Every remembered setting of the app: its QSettings key, its type and its default, in one place.

Each tab restores and saves its own settings through load() and store(); the main window
only its own (geometry, last folder, model). Tabs save their choices when the window closes,
not as they change: each store() writes the settings file on the GUI thread, usually in
under a millisecond but measured at 30-45 ms here while other programs wrote to the disk,
which is too long for a Start or a slider step (benchmarks/gui_stall.py). One-off choices
made through a dialog (a video, a folder, a model) are stored at once.
A value that is missing, of the wrong type or out of range reads as the default, so a
hand-edited or old settings file never breaks a start. Stream URLs are deliberately not
remembered: they often carry a user name and password.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from lwface_desktop.core.anonymise import MODES
from lwface_desktop.core.detectors import KINDS, LIVE_KINDS
from lwface_desktop.core.yunet import MIN_SCORE

SCORE_DEFAULT = 0.25                 # the minimum score for objects, in both tabs (as `detect --conf`)
FACE_SCORE_DEFAULT = MIN_SCORE       # YuNet's measured threshold (as `detect --min-score`)
SCORE_RANGE = (0.05, 0.95)
CAMERA_SIZES = (320, 640)


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    parse: Callable[[Any], Any]          # stored value -> value; raises (or returns None) when unusable


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _score(value: Any) -> float:
    score = float(value)
    if not SCORE_RANGE[0] <= score <= SCORE_RANGE[1]:
        raise ValueError(value)
    return score


def _flag(value: Any) -> bool:
    # The INI format stores booleans as the strings "true"/"false".
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise ValueError(value)


def _one_of(choices) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(value)
        return value
    return parse


def _camera_size(value: Any) -> int:
    size = int(value)
    if size not in CAMERA_SIZES:
        raise ValueError(value)
    return size


def _existing_file(value: Any) -> str:
    path = _text(value)
    return path if path and Path(path).is_file() else ""


def _source_kind(value: Any) -> str:
    text = _text(value)
    kind, _, index = text.partition(":")
    if text in ("file", "url") or (kind == "camera" and index.isdigit()):
        return text
    raise ValueError(value)


def _geometry(value: Any) -> QByteArray | None:
    return value if isinstance(value, (QByteArray, bytes)) else None


WINDOW_GEOMETRY = Setting("window/geometry", None, _geometry)
LAST_FOLDER = Setting("files/last_folder", "", _text)
EXPORT_FOLDER = Setting("files/export_folder", "", _text)     # where File › Export all… last wrote
MODEL_WEIGHTS = Setting("model/weights", "", _existing_file)   # a model loaded with File > Load model…
IMAGE_DETECTOR = Setting("detect/kind", "yunet", _one_of(KINDS))
IMAGE_SCORE = Setting("detect/conf", SCORE_DEFAULT, _score)              # objects (YOLOv5)
IMAGE_FACE_SCORE = Setting("detect/face_score", FACE_SCORE_DEFAULT, _score)  # faces (YuNet)
HIDE_FACES = Setting("view/hide_faces", "off", _one_of(MODES))          # both tabs: anonymise.MODES
SHOW_LANDMARKS = Setting("view/landmarks", False, _flag)                # both tabs
CAMERA_KIND = Setting("camera/kind", "yunet", _one_of(LIVE_KINDS))      # what the live tab finds
CAMERA_SCORE = Setting("camera/conf", SCORE_DEFAULT, _score)
CAMERA_SIZE = Setting("camera/img_size", CAMERA_SIZES[0], _camera_size)
CAMERA_PEOPLE_ONLY = Setting("camera/people_only", False, _flag)
CAMERA_VIDEO = Setting("camera/video", "", _existing_file)     # the last video file played
CAMERA_SOURCE = Setting("camera/source", "", _source_kind)    # "camera:0", "file" or "url" (never the URL)
CAMERA_LOOP = Setting("camera/loop", False, _flag)            # a video file that ends starts again
RESULTS_SHOWN = Setting("view/results_panel", True, _flag)      # the Open image tab's results panel
RESULTS_SPLIT = Setting("view/results_split", None, _geometry)  # its width (the splitter's state)

ALL = (WINDOW_GEOMETRY, LAST_FOLDER, EXPORT_FOLDER, MODEL_WEIGHTS, IMAGE_DETECTOR, IMAGE_SCORE, IMAGE_FACE_SCORE,
       HIDE_FACES, SHOW_LANDMARKS, CAMERA_KIND, CAMERA_SCORE, CAMERA_SIZE, CAMERA_PEOPLE_ONLY, CAMERA_VIDEO,
       CAMERA_SOURCE, CAMERA_LOOP, RESULTS_SHOWN, RESULTS_SPLIT)


def load(setting: Setting) -> Any:
    """The remembered value, or the default when there is none or it cannot be used."""
    value = QSettings().value(setting.key)
    if value is None:
        return setting.default
    try:
        parsed = setting.parse(value)
    except (TypeError, ValueError):
        return setting.default
    return setting.default if parsed is None else parsed


def store(setting: Setting, value: Any) -> None:
    QSettings().setValue(setting.key, value)
