"""Many photos in the Open image tab: a list opened, counted in the background, stepped
through, and exported. The tab owns one PhotoBatch; the window's File menu and drops call it.

open_paths() walks what was dropped or opened (photo_folder.collect_photos, in a job: a big
tree on a slow disk takes time), shows the list in the strip, opens the first photo in the
tab and starts the queue. A change of detector or score counts the list again (the counts
always say which detector they are for). export_to() runs core.export in a job with a
progress dialog whose Cancel stops before the next photo, then says what it wrote in the
status bar and a message box; detections the queue already found with the tab's detector
and score are reused. The queue is paused while an export runs: with the tab's photo job,
at most two full-size decodes at once (120-megapixel photos take ~1 GB each).
"""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog

from lwface_desktop.core.photo_folder import PhotoList, collect_photos
from lwface_desktop.gui import models, workers
from lwface_desktop.gui.photo_queue import Finding, PhotoQueue
from lwface_desktop.gui.photo_strip import PhotoStrip

if TYPE_CHECKING:
    from lwface_desktop.core.export import ExportSummary
    from lwface_desktop.gui.image_tab import ImageTab

FAILURES_SHOWN = 10  # in the export's message box; the rest are counted


class ExportProgress(QObject):
    """Carries the export job's progress to the GUI thread (a queued signal)."""

    advanced = Signal(int, int, str)  # photos done, photos in all, the last photo's name


class PhotoBatch(QObject):
    list_changed = Signal(bool)   # whether there is a list of photos (to export)
    exported = Signal(object)     # the ExportSummary of an export that ended

    def __init__(self, tab: ImageTab):
        super().__init__(tab)
        self.tab = tab
        self.strip = PhotoStrip()
        self.queue = PhotoQueue(tab.detectors, self)
        self.found = PhotoList()
        self._collecting = 0          # numbers the open_paths() calls: only the newest counts
        self._export: workers.Job | None = None
        self._export_cancel = threading.Event()
        self._export_progress = ExportProgress(self)
        self._dialog: QProgressDialog | None = None
        self._recount = QTimer(self, singleShot=True, interval=300)  # once after a burst of score steps
        self._recount.timeout.connect(self.recount)

        self.strip.chosen.connect(tab.open_path)
        self.strip.cancel_requested.connect(self.queue.cancel)
        self.strip.thumbnails_wanted.connect(self.queue.remake)
        self.queue.counted.connect(self.strip.show_count)
        self.queue.failed.connect(self.strip.show_failure)
        self.queue.progress.connect(self.strip.show_progress)
        self.queue.finished.connect(self._on_queue_finished)
        self._export_progress.advanced.connect(self._on_export_advanced)
        tab.detector_choice.currentIndexChanged.connect(self._recount.start)
        tab.conf.valueChanged.connect(self._recount.start)
        tab.view_options.changed.connect(self._on_view_changed)
        tab.view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # a click on the photo, then ←/→
        self.strip.add_keys(tab.view)
        self.strip.add_keys(tab.results.table, arrows=False)  # the table's arrows move in the table

    def finding(self) -> Finding:
        return Finding(self.tab.kind(), self.tab.score() or 0.0, self.tab.view_options.hide)

    def open_paths(self, paths: list[str | Path]) -> workers.Job:
        """Find the photos in paths (files and folders) in a job, then list and count them."""
        self._collecting += 1
        self.tab.status.emit("Looking for photos…")
        return workers.start_job(lambda: collect_photos(paths), name="collect photos", tag=self._collecting,
                                 succeeded=self._on_collected, errored=self._on_collect_failed)

    def opened_alone(self, path: Path) -> None:
        """One photo was opened on its own: a listing still running ends unseen (it would
        otherwise replace that photo with its first one when it ends), and the strip marks that
        photo if it lists it, else none (Page Down then starts from the list's first)."""
        self._collecting += 1
        self.strip.mark(path)

    def recount(self) -> None:
        """Count the list again with the tab's detector and score, if they changed."""
        finding = self.finding()
        if self.queue.photos and (self.queue.finding.kind, self.queue.finding.score) != (finding.kind,
                                                                                          finding.score):
            self.strip.reset_counts()
            self.queue.start(self.queue.photos, finding)

    def is_busy(self) -> bool:
        return self.queue.is_running() or self._export is not None

    def shutdown(self) -> None:
        """Before the window closes: no further photo is counted or exported."""
        self.queue.stop()
        self._export_cancel.set()

    def _on_collected(self, job: workers.Job, found: PhotoList) -> None:
        if job.tag != self._collecting:
            return
        if not found.photos:
            first = f"; {found.skipped[0].path.name}: {found.skipped[0].reason}" if found.skipped else ""
            self.tab.show_error(f"No JPEG photos there ({found.skipped_count} skipped{first}).")
            return
        self.found = found
        self.strip.show_list(found)
        self.list_changed.emit(True)
        self.queue.start(found.photos, self.finding())
        self.strip.set_current(0)  # opens the first photo in the tab
        self.strip.list.setFocus()         # ←/→ move on at once
        self.tab.status.emit(f"Opened {found.summary()}; counting in the background")

    def _on_collect_failed(self, job: workers.Job, message: str) -> None:
        if job.tag == self._collecting:
            self.tab.show_error(message)

    def _on_view_changed(self) -> None:
        """Hide faces changed: no thumbnail shows a face the user now hides, even for a moment;
        the queue makes those in view again from the detections it has."""
        for row in self.queue.set_hide(self.tab.view_options.hide):
            self.strip.show_blank(row)
        self.strip.ask_for_thumbnails()  # those in view; the others when scrolled to

    def _on_queue_finished(self, cancelled: bool) -> None:
        done = len(self.queue.results)
        if cancelled:
            self.strip.show_cancelled(done)
            self.tab.status.emit(f"Counting cancelled: {done} of {len(self.queue.photos)} photos counted")
        else:
            unreadable = len(self.queue.photos) - done
            self.tab.status.emit(f"Counted {len(self.queue.photos)} photos"
                                 + (f" ({unreadable} could not be read)" if unreadable else ""))

    # Export
    def export_to(self, folder: str | Path) -> workers.Job | None:
        """Every photo of the list, annotated as the tab shows them, into folder (in a job)."""
        if self._export is not None:
            self.tab.status.emit("An export is running already: wait for it, or cancel it")
            return None
        if not self.found.photos:
            return None
        from lwface_desktop.core.export import export_photos

        folder, photos, finding = Path(folder), list(self.found.photos), self.finding()
        known, detectors = self.queue.known(finding), self.tab.detectors
        landmarks, progress, cancel = self.tab.view_options.landmarks, self._export_progress, threading.Event()
        self._export_cancel = cancel
        # One full-size decode beside the tab's photo job at most: the queue starts no photo
        # until the export ends, and the export waits for the photo the queue has in hand.
        in_hand = self.queue.pause()

        def export() -> ExportSummary:
            if in_hand is not None:
                in_hand.ended.wait()
            detector = models.load_for_photos(detectors, finding.kind, finding.score)
            return export_photos(photos, folder, detector, finding.hide, landmarks, known,
                                 lambda done, total, photo: progress.advanced.emit(done, total, photo.name),
                                 cancel)

        self._export = workers.start_job(export, name="export", succeeded=self._on_exported,
                                         errored=self._on_export_failed, done=self._on_export_done)
        self._dialog = QProgressDialog(f"Exporting {len(photos)} photos to {folder}…", "Cancel", 0, len(photos),
                                       self.tab)
        self._dialog.setWindowTitle("Export all")
        self._dialog.setObjectName("export-progress")
        self._dialog.setMinimumDuration(0)
        self._dialog.setAutoClose(False)
        self._dialog.setAutoReset(False)
        self._dialog.canceled.connect(cancel.set)
        self._dialog.setValue(0)
        self._dialog.show()  # not exec(): the window goes on meanwhile
        self.tab.status.emit(f"Exporting {len(photos)} photos to {folder}…")
        return self._export

    def _on_export_advanced(self, done: int, total: int, name: str) -> None:
        if self._dialog is not None:
            self._dialog.setValue(done)
            self._dialog.setLabelText(f"Exported {done} of {total}: {name}")

    def _on_exported(self, job: workers.Job, summary: ExportSummary) -> None:
        job.tag = summary  # `exported` says it once the export is over (_on_export_done)
        self.tab.status.emit(summary.text())
        tables = f"<p>Detections: {html.escape(summary.csv.name)} and {html.escape(summary.jsonl.name)}</p>" \
            if summary.csv is not None and summary.jsonl is not None else ""
        failures = "".join(f"<li>{html.escape(why if path.name in why else f'{path.name}: {why}')}</li>"
                           for path, why in summary.failed[:FAILURES_SHOWN])
        more = f"<p>…and {len(summary.failed) - FAILURES_SHOWN} more.</p>" if len(summary.failed) > FAILURES_SHOWN \
            else ""
        failed = f"<p>Not exported:</p><ul>{failures}</ul>{more}" if failures else ""
        box = QMessageBox(QMessageBox.Icon.Warning if summary.failed else QMessageBox.Icon.Information,
                          "Export all", f"<p>{html.escape(summary.text())}.</p>{tables}{failed}",
                          QMessageBox.StandardButton.Ok, self.tab)
        box.setObjectName("export-summary")
        box.open()

    def _on_export_failed(self, _job: workers.Job, message: str) -> None:
        self.tab.show_error(message)

    def _on_export_done(self, job: workers.Job) -> None:
        self._export = None
        self.queue.resume()
        if self._dialog is not None:
            self._dialog.close()
            self._dialog.deleteLater()
            self._dialog = None
        if job.tag is not None:
            self.exported.emit(job.tag)
