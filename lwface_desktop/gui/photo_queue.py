"""The background queue that counts what is in each photo of a list, one photo at a time.

One job at a time (gui.workers), never several: a 12-megapixel photo takes some 150 MB to
decode and detect in, a 120-megapixel one over 1 GB, so memory stays that of one photo
however long the list. Each job decodes at the smallest size its detector needs, detects,
and makes a small thumbnail (faces hidden if asked), so the strip shows thumbnails without a
decode on the GUI thread. Results come back on the GUI
thread as `counted`/`failed`; cancel() lets the photo in hand finish and starts no other.
A new list (or start() again) supersedes the old one: a job still running for it is let
finish and its answer dropped. Each PhotoCount says which detector and score found it.

Hide faces changed (set_hide): the thumbnails already made show faces the user now hides, so
the strip drops them and asks (remake) for those it shows; each is made again from the
detections already found (a small decode, no detection), in the same one-at-a-time jobs and
before any further photo is counted. A thumbnail that arrives made under the old setting is
never shown; it is queued to be made again. The strip also asks for thumbnails it dropped to
bound its memory, when they are scrolled to. pause() holds the queue between photos while an
export decodes full-size photos of its own (photo_batch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from lwface_desktop.core.anonymise import anonymise, hidden_faces
from lwface_desktop.core.detection import Detection
from lwface_desktop.core.detectors import Detectors
from lwface_desktop.core.images import Photo, open_photo
from lwface_desktop.gui import models, workers
from lwface_desktop.gui.qimage import rgb_to_qimage

THUMB_SIDE = 96  # the long side of the strip's thumbnails; made in the job


@dataclass(frozen=True)
class Finding:
    """What the queue looks for: a detector kind (detectors.KINDS), its minimum score, and how
    thumbnails hide faces (anonymise.MODES)."""

    kind: str
    score: float
    hide: str = "off"


@dataclass(frozen=True)
class PhotoCount:
    path: Path
    finding: Finding               # what found them: counts are only for this detector and score
    detections: list[Detection]    # full-resolution pixels
    label: str                     # "face", "object"
    width: int
    height: int
    thumbnail: QImage              # long side at most THUMB_SIDE, faces hidden as finding.hide


def count_photo(path: Path, finding: Finding, detectors: Detectors) -> PhotoCount:
    """Runs in a job: the detections of one photo, and its thumbnail with the faces hidden as
    finding.hide says (no boxes: at this size their labels would cover the photo)."""
    detector = models.load_for_photos(detectors, finding.kind, finding.score)
    needed = detector.decode_side  # None: the full decode YOLOv5's detections need
    photo = open_photo(path, min_side=None if needed is None else max(needed, THUMB_SIDE))
    detections = detector.detect_photo(photo)
    return PhotoCount(path, finding, detections, detector.label, photo.width, photo.height,
                      _thumbnail(photo, detections, finding.hide))


def redo_thumbnail(count: PhotoCount, finding: Finding) -> PhotoCount:
    """Runs in a job: count with its thumbnail made again as finding.hide says, from its
    detections (the smallest decode a thumbnail needs; nothing is detected)."""
    photo = open_photo(count.path, min_side=THUMB_SIDE)
    return replace(count, finding=finding, thumbnail=_thumbnail(photo, count.detections, finding.hide))


def _thumbnail(photo: Photo, detections: list[Detection], hide: str) -> QImage:
    decoded_height, decoded_width = photo.pixels.shape[:2]
    shrink = min(1.0, THUMB_SIDE / max(decoded_width, decoded_height))
    small = cv2.resize(photo.pixels, (max(1, round(decoded_width * shrink)), max(1, round(decoded_height * shrink))),
                       interpolation=cv2.INTER_AREA)
    scale = small.shape[1] / photo.width  # full-resolution pixels -> thumbnail pixels
    return rgb_to_qimage(anonymise(small, [d.scaled(scale) for d in detections], hide))


class PhotoQueue(QObject):
    counted = Signal(int, object)  # index in the list, PhotoCount (a null thumbnail: none to show yet)
    failed = Signal(int, str)      # index in the list, why (in words)
    progress = Signal(int, int)    # photos done, photos in the list
    finished = Signal(bool)        # the list is done (False) or was cancelled (True)

    def __init__(self, detectors: Detectors, parent: QObject | None = None):
        super().__init__(parent)
        self.detectors = detectors
        self.photos: list[Path] = []
        self.finding: Finding | None = None
        self.results: dict[Path, PhotoCount] = {}
        self._next = 0                  # index of the next photo to start
        self._done = 0
        self._job: workers.Job | None = None
        self._round = 0                 # numbers the lists: a job's answer for an older one is dropped
        self._cancelled = False
        self._reported = False          # whether `finished` was said for this list
        self._redo: dict[int, None] = {}  # indexes whose thumbnails are to be made again, in order
        self._paused = False

    def start(self, photos: list[Path], finding: Finding) -> None:
        """Count photos with finding, from the first; what was queued before is dropped."""
        self._round += 1
        self.photos, self.finding, self.results = list(photos), finding, {}
        self._next, self._done, self._cancelled, self._reported, self._redo = 0, 0, False, False, {}
        self.progress.emit(0, len(self.photos))
        if self._job is None:
            self._start_next()

    def set_hide(self, hide: str) -> list[int]:
        """Hide faces as hide says in the thumbnails from now on. Returns the indexes of the
        photos counted whose thumbnails show a face: the strip drops those and asks again
        (remake) for the ones it shows."""
        if self.finding is None or self.finding.hide == hide:
            return []
        self.finding = replace(self.finding, hide=hide)
        return [index for index, path in enumerate(self.photos)
                if (count := self.results.get(path)) is not None and hidden_faces(count.detections)]

    def remake(self, indexes: list[int]) -> None:
        """Make the thumbnails of these photos (counted ones only) again, before counting on."""
        self._redo.update((index, None) for index in indexes
                          if index < len(self.photos) and self.photos[index] in self.results)
        if self._job is None:
            self._start_next()

    def pause(self) -> workers.Job | None:
        """Start no other photo until resume(); the job in hand (returned) runs to its end."""
        self._paused = True
        return self._job

    def resume(self) -> None:
        self._paused = False
        if self._job is None:
            self._start_next()

    def cancel(self) -> None:
        """No other photo is counted; the one in hand finishes (and is counted). Thumbnails to
        make again are still made: they hide what the user asked to hide."""
        if self._counting() and not self._cancelled:
            self._cancelled = True
            if self._job is None:
                self._report()

    def stop(self) -> None:
        """No other job at all (the window closes): cancel, and no thumbnail made again."""
        self._redo.clear()
        self.cancel()

    def is_running(self) -> bool:
        return self._job is not None or bool(self._redo) or self._counting()

    def known(self, finding: Finding) -> dict[Path, list[Detection]]:
        """The detections found so far with finding's detector and score (hide does not matter)."""
        return {path: count.detections for path, count in self.results.items()
                if (count.finding.kind, count.finding.score) == (finding.kind, finding.score)}

    def _counting(self) -> bool:
        return not self._cancelled and self._next < len(self.photos)

    def _start_next(self) -> None:
        finding = self.finding
        if self._paused or finding is None:  # (None: no list yet)
            return
        if self._redo:  # thumbnails to make again come first: they hide faces asked to be hidden
            index = next(iter(self._redo))
            del self._redo[index]
            count = self.results[self.photos[index]]
            self._run(index, True, lambda: redo_thumbnail(count, finding))
        elif self._counting():
            index, path, detectors = self._next, self.photos[self._next], self.detectors
            self._next += 1
            self._run(index, False, lambda: count_photo(path, finding, detectors))

    def _run(self, index: int, redo: bool, work) -> None:
        self._job = workers.start_job(work, name="photo queue", tag=(self._round, index, redo),
                                      succeeded=self._on_counted, errored=self._on_failed, done=self._on_done)

    def _on_counted(self, job: workers.Job, count: PhotoCount) -> None:
        round_, index, _redo = job.tag
        if round_ != self._round:
            return
        self.results[count.path] = replace(count, thumbnail=QImage())  # the strip keeps its own copy
        assert self.finding is not None
        if count.finding.hide != self.finding.hide and hidden_faces(count.detections):
            # Made before Hide faces changed: never shown, made again.
            count = replace(count, thumbnail=QImage())
            self._redo[index] = None
        self.counted.emit(index, count)

    def _on_failed(self, job: workers.Job, message: str) -> None:
        round_, index, redo = job.tag
        if round_ == self._round and not redo:  # a thumbnail not made again leaves the blank one
            self.failed.emit(index, message)

    def _on_done(self, job: workers.Job) -> None:
        if job is not self._job:
            return
        self._job = None
        round_, _index, redo = job.tag
        if round_ == self._round and not redo:
            self._done += 1
            self.progress.emit(self._done, len(self.photos))
        if not self._counting() and not self._reported:
            self._report()
        self._start_next()

    def _report(self) -> None:
        self._reported = True
        self.finished.emit(self._cancelled)
