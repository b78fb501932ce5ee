"""Export: many photos into one folder, annotated (faces hidden if asked), with their detections
in one CSV and one JSON Lines file. File › Export all… and `detect --csv/--jsonl` write these.

Nothing is ever overwritten: every name comes from images.unused_path (photo-faces.jpg,
photo-faces-2.jpg, …) and every file is written under a temporary name and linked into place
only when complete (outputs.writing), so a second export into the same folder writes new
names beside the first one's files and leaves them as they were. Photos are done one at a
time (a 120-megapixel photo decodes to 360 MB), so memory does not grow with their number.
The two tables are written as the photos are done and put in place at the end, cancelled or
not, holding a row for each detection in the photos written.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lwface_desktop.core.anonymise import HIDDEN_WORDS, hidden_faces
from lwface_desktop.core.detection import Detection, Detector, count_text
from lwface_desktop.core.errors import UserError
from lwface_desktop.core.images import open_photo, save_image, unused_path
from lwface_desktop.core.outputs import OutputError, writing
from lwface_desktop.core.pipeline import analyse_photo, render

FIELDS = ("photo", "label", "score", "x1", "y1", "x2", "y2", "width", "height")
TABLE_STEM = "detections"
NAME_ATTEMPTS = 100  # another program taking the very name chosen, again and again: give up
log = logging.getLogger(__name__)


def detection_rows(photo: Path, width: int, height: int, detections: Sequence[Detection]) -> list[dict]:
    """One row per detection (FIELDS): the photo's path, the label, the score (4 places), the
    box in whole pixels of the full-resolution upright photo, and that photo's size."""
    rows = []
    for d in detections:
        entry = d.to_json()
        x1, y1, x2, y2 = entry["box"]
        rows.append({"photo": str(photo), "label": entry["label"], "score": entry["score"],
                     "x1": x1, "y1": y1, "x2": x2, "y2": y2, "width": width, "height": height})
    return rows


class DetectionTables:
    """A CSV and/or a JSON Lines file of detections, rows added photo by photo, each file
    written through outputs.writing (in place only when closed without an error)."""

    def __init__(self, csv_path: Path | None, jsonl_path: Path | None, overwrite: bool = False):
        self.csv_path, self.jsonl_path, self.overwrite = csv_path, jsonl_path, overwrite
        self.rows = 0
        self._csv: csv.DictWriter | None = None
        self._jsonl: IO[str] | None = None
        self._closing = contextlib.ExitStack()

    def __enter__(self) -> DetectionTables:
        with contextlib.ExitStack() as opening:
            if self.csv_path is not None:
                temp = opening.enter_context(writing(self.csv_path, self.overwrite))
                # utf-8-sig: spreadsheets then read names with accents correctly
                stream = opening.enter_context(open(temp, "w", newline="", encoding="utf-8-sig"))
                self._csv = csv.DictWriter(stream, FIELDS)
                self._csv.writeheader()
            if self.jsonl_path is not None:
                temp = opening.enter_context(writing(self.jsonl_path, self.overwrite))
                self._jsonl = opening.enter_context(open(temp, "w", encoding="utf-8"))
            self._closing = opening.pop_all()
        return self

    def __exit__(self, *exc) -> bool | None:
        return self._closing.__exit__(*exc)  # closes the files, then renames them (or deletes on error)

    def add(self, photo: Path, width: int, height: int, detections: Sequence[Detection]) -> None:
        for row in detection_rows(photo, width, height, detections):
            if self._csv is not None:
                self._csv.writerow(row)
            if self._jsonl is not None:
                self._jsonl.write(json.dumps(row, ensure_ascii=False) + "\n")
            self.rows += 1


@dataclass
class ExportSummary:
    folder: Path
    written: list[Path] = field(default_factory=list)           # the annotated photos, in order
    failed: list[tuple[Path, str]] = field(default_factory=list)  # a photo and why, in words
    csv: Path | None = None
    jsonl: Path | None = None
    detections: int = 0
    label: str = "face"
    cancelled: bool = False

    def text(self) -> str:
        """One sentence for the status bar: what was written, where, and what was not."""
        photos = f"{len(self.written)} photo{'' if len(self.written) == 1 else 's'}"
        text = f"Exported {photos} and {count_text(self.detections, self.label)} to {self.folder}"
        if self.failed:
            text += f"; {len(self.failed)} could not be exported"
        return text + (" (cancelled)" if self.cancelled else "")


def exported_name(photo: Path, label: str, hide: str, detections: Sequence[Detection]) -> str:
    """photo-blurred when faces were hidden in it, else photo-faces (photo-objects)."""
    what = HIDDEN_WORDS[hide] if hide in HIDDEN_WORDS and hidden_faces(detections) else f"{label}s"
    return f"{photo.stem}-{what}"


def export_photos(photos: Sequence[Path], folder: Path, detector: Detector, hide: str = "off",
                  landmarks: bool = False, known: Mapping[Path, list[Detection]] | None = None,
                  progress: Callable[[int, int, Path], None] | None = None,
                  cancel: threading.Event | None = None) -> ExportSummary:
    """Each photo annotated at full resolution (pipeline.render: faces hidden by hide) as a new
    JPEG in folder, and every detection in folder/detections.csv and detections.jsonl (new
    names too). known: detections already found with this detector's settings, reused instead
    of detecting again. progress(done, total, photo) after each photo; cancel stops before the
    next one. A photo that cannot be read or written is listed in failed and the others go on.
    OutputError if the folder cannot be made or the tables cannot be written at all."""
    known = known or {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"The folder {folder} cannot be made: {e.strerror or e}.") from None
    summary = ExportSummary(folder, label=detector.label, csv=unused_path(folder, TABLE_STEM, ".csv"),
                            jsonl=unused_path(folder, TABLE_STEM, ".jsonl"))
    with DetectionTables(summary.csv, summary.jsonl) as tables:
        for done, photo in enumerate(photos, 1):
            if cancel is not None and cancel.is_set():
                summary.cancelled = True
                break
            try:
                width, height, detections = _export_one(photo, folder, detector, hide, landmarks,
                                                        known.get(photo), summary)
            except UserError as e:
                summary.failed.append((photo, str(e)))
            except MemoryError:
                summary.failed.append((photo, f"{photo.name} needs more memory than is free."))
            except Exception as e:  # a bug of ours: said for this photo, and the others go on
                log.exception("exporting %s failed", photo)
                summary.failed.append((photo, f"unexpected error: {e}"))
            else:
                tables.add(photo, width, height, detections)
                summary.detections += len(detections)
            if progress is not None:
                progress(done, len(photos), photo)
    return summary


def _export_one(photo: Path, folder: Path, detector: Detector, hide: str, landmarks: bool,
                detections: list[Detection] | None, summary: ExportSummary) -> tuple[int, int, list[Detection]]:
    if detections is None:
        analysis = analyse_photo(photo, detector, view_max_side=None, hide=hide, landmarks=landmarks)
        width, height, detections, image = analysis.width, analysis.height, analysis.detections, analysis.annotated
        assert image is not None  # drawn: draw=True
    else:
        decoded = open_photo(photo)
        width, height = decoded.width, decoded.height
        image = render(decoded.pixels, detections, hide, landmarks=landmarks)
        del decoded
    for _ in range(NAME_ATTEMPTS):
        target = unused_path(folder, exported_name(photo, detector.label, hide, detections), ".jpg")
        try:
            save_image(image, target, overwrite=False)  # refused if the name was taken meanwhile
        except OutputError:
            if not target.exists():
                raise
            continue  # another program took the name between unused_path and the rename: the next one
        summary.written.append(target)
        return width, height, detections
    raise OutputError(f"Could not find a free name for {photo.name} in {folder}.")
