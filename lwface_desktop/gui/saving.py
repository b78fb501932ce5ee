"""What the Save and Snapshot buttons write. Runs in jobs (gui.workers), never on the GUI thread.

Both write through core.images.save_image, so through core.outputs.writing(): under a temporary name
beside the target, renamed into place only when complete, so a crash leaves the whole file or
nothing, never half of one.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from lwface_desktop.core.detection import Detection
from lwface_desktop.core.images import save_image, unused_path
from lwface_desktop.core.outputs import OutputError, check_outputs
from lwface_desktop.core.pipeline import annotate_photo

NAME_ATTEMPTS = 100  # snapshots taken at the same second race for a name: try the next one


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
    existing file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"Could not create {folder} for the snapshot: {e.strerror or e}.") from None
    stem = f"snapshot-{datetime.now():%Y%m%d-%H%M%S}"
    for _ in range(NAME_ATTEMPTS):
        target = unused_path(folder, stem, ".jpg")
        try:
            save_image(image, target, overwrite=False)  # through writing(): refused if the name is taken
            return target
        except OutputError:
            if not target.exists():
                raise
            # another snapshot took this name between unused_path() and the rename: next one
    raise OutputError(f"Could not find a free name for the snapshot in {folder}.")
