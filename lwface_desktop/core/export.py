"""Export: many photos into one folder, annotated (faces hidden if asked), with their detections
in one CSV and one JSON Lines file. File › Export all… and `detect --csv/--jsonl` write these.

Nothing is ever overwritten: every name comes from images.unused_path (photo-faces.jpg,
photo-faces-2.jpg, …) and every file is written under a temporary name and linked into place
only when complete (outputs.writing), so a second export into the same folder writes new
names beside the first one's files and leaves them as they were. Photos are done one at a
time (a 120-megapixel photo decodes to 360 MB), so memory does not grow with their number.
The two tables are written as the photos are done (each photo's rows on the disk before the
next photo is written) and put in place at the end, cancelled or not, holding a row for each
detection in the photos written. A photo that fails is said and the others go on; a full
disk stops the export, and what was written is still put in place and said.

The tables hold every file name as text any program can read: a name that is not valid
UTF-8 (bytes from another system, such as a Latin-1 caf\\xe9.jpg) has its odd bytes written
as \\xNN escapes, as Python shows bytes. In the CSV only, a cell that a spreadsheet would run
as a formula (one starting with = + - @, a tab or a carriage return: a file or class name
can) starts with a single quote, as OWASP advises; the JSON lines keep every value as it is.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lwface_desktop.core.anonymise import HIDDEN_WORDS, hidden_faces
from lwface_desktop.core.detection import Detection, Detector, count_text
from lwface_desktop.core.errors import UserError
from lwface_desktop.core.images import JPEG_MAX_SIDE, TooLargeForJpeg, open_photo, save_new, unused_path
from lwface_desktop.core.outputs import DiskFull, OutputError, write_error, writing
from lwface_desktop.core.pipeline import analyse_photo, render

FIELDS = ("photo", "label", "score", "x1", "y1", "x2", "y2", "width", "height", "detector", "min_score", "output")
TABLE_STEM = "detections"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet cell a formula
log = logging.getLogger(__name__)


def path_text(path: str | Path) -> str:
    """path as text that any file can hold: the bytes of a name that is not valid UTF-8 (which
    Python holds as lone surrogates, 'caf\\udce9.jpg') written as \\xNN ('caf\\xe9.jpg')."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def detection_rows(photo: Path, width: int, height: int, detections: Sequence[Detection], detector: Detector,
                   output: Path | None = None) -> list[dict]:
    """One row per detection (FIELDS): the photo's path (path_text), the label, the score (4
    places), the box in whole pixels of the full-resolution upright photo, that photo's size,
    the detector's kind and its lowest score, and the annotated file written (None: none)."""
    lowest = detector.lowest_score()
    setting = {"detector": detector.kind, "min_score": None if lowest is None else round(lowest, 4),
               "output": None if output is None else path_text(output)}
    rows = []
    for d in detections:
        entry = d.to_json()
        x1, y1, x2, y2 = entry["box"]
        rows.append({"photo": path_text(photo), "label": entry["label"], "score": entry["score"],
                     "x1": x1, "y1": y1, "x2": x2, "y2": y2, "width": width, "height": height, **setting})
    return rows


def spreadsheet_safe(value):
    """value, but for text a spreadsheet would run as a formula: that text after a single quote."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


class DetectionTables:
    """A CSV and/or a JSON Lines file of detections, rows added photo by photo, each file
    written through outputs.writing (in place only when closed without an error). Each is
    put in place on its own: one that cannot be leaves the other in place."""

    def __init__(self, csv_path: Path | None, jsonl_path: Path | None, overwrite: bool = False):
        self.csv_path, self.jsonl_path, self.overwrite = csv_path, jsonl_path, overwrite
        self.rows = 0
        self.problems: list[str] = []  # why a table could not be put in place (its path is then None)
        self._csv_text = io.StringIO()  # the csv module's rows, before they go to the file
        self._csv = csv.DictWriter(self._csv_text, FIELDS)
        self._streams: dict[Path, IO[bytes]] = {}
        self._sizes: dict[Path, int] = {}  # each table's bytes, up to the last photo's rows written whole
        self._closing: dict[Path, contextlib.ExitStack] = {}

    def __enter__(self) -> DetectionTables:
        with contextlib.ExitStack() as opening:
            for path in (self.csv_path, self.jsonl_path):
                if path is None:
                    continue
                with contextlib.ExitStack() as table:
                    temp = table.enter_context(writing(path, self.overwrite))
                    # Unbuffered: a write the disk refuses is cut back (_put), and close() has no
                    # buffered rest to fail on again, which would lose the whole table.
                    self._streams[path] = table.enter_context(open(temp, "wb", buffering=0))
                    self._sizes[path] = 0
                    self._closing[path] = table.pop_all()
                opening.push(self._closing[path])  # deleted if a later step fails
            if self.csv_path is not None:
                self._csv.writeheader()
                # A byte-order mark: spreadsheets then read names with accents correctly.
                self._put(self.csv_path, "\ufeff" + self._csv_rows())
            opening.pop_all()
        return self

    def __exit__(self, kind, error, traceback) -> None:
        """After the block: each table closed and put in place, then OutputError saying any that
        could not be (unless close() was called: its caller reads problems); after an error in
        the block: deleted."""
        if kind is None:
            if self._closing:
                self.close()
                if self.problems:
                    raise OutputError(" ".join(self.problems))
            return
        for table in self._closing.values():
            with contextlib.suppress(Exception):  # deleting it is all there is left to do
                table.__exit__(kind, error, traceback)

    def close(self) -> None:
        """Each table put in place; one that cannot be is said in problems and its path set to None."""
        closing, self._closing = self._closing, {}
        for path, table in closing.items():
            try:
                table.close()
            except OutputError as e:
                self.problems.append(str(e))
                if path == self.csv_path:
                    self.csv_path = None
                else:
                    self.jsonl_path = None

    def add(self, photo: Path, width: int, height: int, detections: Sequence[Detection], detector: Detector,
            output: Path | None = None) -> None:
        """The rows of one photo (detection_rows), on the disk when this returns; OutputError
        (DiskFull when the disk is full) if they cannot be written."""
        rows = detection_rows(photo, width, height, detections, detector, output)
        if self.csv_path is not None:
            self._csv.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
            self._put(self.csv_path, self._csv_rows())
        if self.jsonl_path is not None:
            self._put(self.jsonl_path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        self.rows += len(rows)

    def _csv_rows(self) -> str:
        text = self._csv_text.getvalue()
        self._csv_text.seek(0)
        self._csv_text.truncate()
        return text

    def _put(self, path: Path, text: str) -> None:
        """text on the disk (before the next photo's megabytes: a full disk then spares them),
        whole or not at all. Text that UTF-8 cannot hold (a lone surrogate) is written escaped."""
        stream, data = self._streams[path], text.encode("utf-8", "backslashreplace")
        try:
            done = 0
            while done < len(data):
                done += stream.write(data[done:])  # unbuffered: may take less than asked
        except OSError as e:
            with contextlib.suppress(OSError):  # the rows before stay whole, none of these
                stream.truncate(self._sizes[path])
                stream.seek(self._sizes[path])
            raise write_error(path, e) from None
        self._sizes[path] += len(data)


@dataclass
class ExportSummary:
    folder: Path
    written: list[Path] = field(default_factory=list)           # the annotated photos, in order
    failed: list[tuple[Path, str]] = field(default_factory=list)  # a photo and why, in words
    csv: Path | None = None       # None: not written (table_problems says why)
    jsonl: Path | None = None
    detections: int = 0
    label: str = "face"
    cancelled: bool = False
    stopped: str = ""             # why the export stopped before the end ("the disk is full"); "" if not
    not_tried: int = 0            # photos left when it stopped
    table_problems: list[str] = field(default_factory=list)  # why a table could not be put in place

    def text(self) -> str:
        """One sentence for the status bar: what was written, where, and what was not."""
        photos = f"{len(self.written)} photo{'' if len(self.written) == 1 else 's'}"
        text = f"Exported {photos} and {count_text(self.detections, self.label)} to {self.folder}"
        if self.failed:
            text += f"; {len(self.failed)} could not be exported"
        if self.stopped:
            text += f"; stopped: {self.stopped}, {self.not_tried} photo{'' if self.not_tried == 1 else 's'} not tried"
        for problem in self.table_problems:  # "Could not write …." as a clause of the sentence
            text += f"; {problem[:1].lower()}{problem[1:].rstrip('.')}"
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
    next one. A photo that cannot be read or written is listed in failed and the others go on;
    a full disk stops the export (stopped). A table that cannot be put in place at the end is
    said in table_problems. OutputError only if the folder cannot be made or the tables cannot
    be started at all."""
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
            _export_or_say_why(photo, folder, detector, hide, landmarks, known.get(photo), summary, tables)
            if progress is not None:
                progress(done, len(photos), photo)
            if summary.stopped:
                summary.not_tried = len(photos) - done
                break
        tables.close()  # each table in place, or why not: the summary is not lost for it
    summary.csv, summary.jsonl, summary.table_problems = tables.csv_path, tables.jsonl_path, tables.problems
    return summary


def _export_or_say_why(photo: Path, folder: Path, detector: Detector, hide: str, landmarks: bool,
                       detections: list[Detection] | None, summary: ExportSummary, tables: DetectionTables) -> None:
    """One photo exported and its rows added, or in summary.failed with why (and the export
    stopped if the disk is full)."""
    try:
        _export_one(photo, folder, detector, hide, landmarks, detections, summary, tables)
    except DiskFull as e:
        summary.failed.append((photo, str(e)))
        summary.stopped = "the disk is full"  # every next photo would be decoded and detected for nothing
    except TooLargeForJpeg as e:  # export writes JPEG only: "save it as PNG" is no advice here
        size = f"{e.width:,} pixels wide, too wide" if e.width > JPEG_MAX_SIDE \
            else f"{e.height:,} pixels high, too high"
        summary.failed.append((photo, f"{photo.name} is {size} for a JPEG file ({JPEG_MAX_SIDE:,} at most): "
                                      "it was not exported."))
    except UserError as e:
        summary.failed.append((photo, str(e)))
    except MemoryError:
        summary.failed.append((photo, f"{photo.name} needs more memory than is free."))
    except Exception as e:  # a bug of ours: said for this photo, and the others go on
        log.exception("exporting %s failed", photo)
        summary.failed.append((photo, f"unexpected error: {e}"))


def _export_one(photo: Path, folder: Path, detector: Detector, hide: str, landmarks: bool,
                detections: list[Detection] | None, summary: ExportSummary, tables: DetectionTables) -> None:
    if detections is None:
        analysis = analyse_photo(photo, detector, view_max_side=None, hide=hide, landmarks=landmarks)
        width, height, detections, image = analysis.width, analysis.height, analysis.detections, analysis.annotated
        assert image is not None  # drawn: draw=True
    else:
        decoded = open_photo(photo)
        width, height = decoded.width, decoded.height
        image = render(decoded.pixels, detections, hide, landmarks=landmarks)
        del decoded
    target = save_new(image, folder, exported_name(photo, detector.label, hide, detections), ".jpg")
    tables.add(photo, width, height, detections, detector, target)  # exported: the photo and its rows
    summary.written.append(target)
    summary.detections += len(detections)
