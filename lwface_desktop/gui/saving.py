"""What the Save and Snapshot buttons write. Runs in jobs (gui.workers), never on the GUI thread.

Both write through core.images (save_image; save_new for a snapshot's new name), so through
core.outputs.writing(): under a temporary name beside the target, renamed into place only when
complete, so a crash leaves the whole file or nothing, never half of one.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from lwface_desktop.core.detection import Detection
from lwface_desktop.core.images import save_image, save_new
from lwface_desktop.core.outputs import OutputError, check_outputs
from lwface_desktop.core.pipeline import annotate_photo


def save_annotated(photo: Path, detections: list[Detection], target: Path, hide: str = "off",
                   landmarks: bool = False) -> Path:
    """The full-resolution photo drawn as shown (pipeline.render: faces hidden by hide, boxes,
    landmarks if asked), as JPEG or PNG (by target's extension;
    save_image refuses any other). Never onto the photo itself, nor a hard or symbolic link
    to it (OutputError). The user has already agreed to replace any other existing target
    in the save dialog, which asked about this very name (main_window.SaveDialog)."""
    check_outputs([target], [photo])
    save_image(annotate_photo(photo, detections, hide, landmarks), target, overwrite=True)  # through writing()
    return target


def snapshot_folder() -> Path:
    from PySide6.QtCore import QStandardPaths

    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    return Path(pictures or Path.home()) / "lwface-desktop"


def save_snapshot(image: np.ndarray, folder: Path) -> Path:
    """image (HxWx3 uint8 RGB) as a new JPEG in folder, named after the time; never over an
    existing file (images.save_new: snapshots taken at the same second get -2, -3…)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"Could not create {folder} for the snapshot: {e.strerror or e}.") from None
    return save_new(image, folder, f"snapshot-{datetime.now():%Y%m%d-%H%M%S}", ".jpg")
