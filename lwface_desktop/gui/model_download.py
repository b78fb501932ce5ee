"""The Download button for the official YOLOv5n, where the app finds no YOLOv5 model.

A tab's banner offers it when a job ended for want of a model (core.weights.ModelMissing, read
from job.error: the message alone would mean matching words), and File › Models… offers it too.
The download runs in a job (core.weights.download: into the cache, verified against the official
SHA-256, nothing kept unless whole and verified); the banner that asked shows its progress in
bytes and a Cancel button. Once verified, `downloaded` hands the file to the main window, which
loads it as File › Load model… does and reports back with model_loaded().
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lwface_desktop.core.weights import (
    DEFAULT_MODEL,
    OFFICIAL_BYTES,
    Cancel,
    DownloadCancelled,
    ModelMissing,
    download,
    size_text,
)
from lwface_desktop.gui import workers
from lwface_desktop.gui.banner import PROGRESS_STEPS, Banner

DOWNLOAD = f"Download YOLOv5n ({size_text(OFFICIAL_BYTES[DEFAULT_MODEL])})"
CANCEL = "Cancel"


NO_MODEL = ("No YOLOv5 model was found, so objects cannot be found yet. Download the official YOLOv5n, "
            "or choose a YOLOv5 .pt file (File › Load model…).")


def download_offer(job: workers.Job, message: str) -> tuple[str, str]:
    """What a tab's banner says when job ended with message, and its button's label: for want of
    a YOLOv5 model, the desktop's way to get one (not the CLI's command) and Download; else
    message and no button."""
    return (NO_MODEL, DOWNLOAD) if isinstance(job.error, ModelMissing) else (message, "")


class ModelDownload(QObject):
    """One download at a time, shown in every banner that asked for it. GUI thread only,
    except _report(), which the download calls from its pool thread."""

    progressed = Signal(int, int)  # bytes done, of total (0: not known); queued from the pool thread
    downloaded = Signal(object)    # the verified file's Path
    status = Signal(str)           # a line for the status bar
    running_changed = Signal(bool)  # a download started (True) or ended

    def __init__(self, parent: QObject | None = None, base_url: str | None = None):
        super().__init__(parent)
        self.base_url = base_url  # None: LWFACE_WEIGHTS_URL, or else the official release
        self.job: workers.Job | None = None
        self._cancel = Cancel()
        self._banners: list[Banner] = []  # where the download under way (or just ended) shows
        self._offering: set[Banner] = set()  # the banners whose button offers the download again
        self._reported = -1               # the last progress step sent to the GUI thread
        self._progress = (0, 0)           # the last bytes done, of total, shown
        self._path: Path | None = None    # the file downloaded, until the main window has loaded it
        self.progressed.connect(self._show_progress)

    def serve(self, banner: Banner, offer_again: bool = True) -> None:
        """Let banner's Download and Cancel buttons work (the tabs' banners, the dialog's).
        offer_again: after a failure or a cancel, its button offers the download again (the
        dialog has a Download button of its own)."""
        banner.action_clicked.connect(lambda action: self._on_action(banner, action))
        if offer_again:
            self._offering.add(banner)

    def is_running(self) -> bool:
        return self.job is not None

    def start(self, banner: Banner) -> None:
        """Download the official YOLOv5n into the cache, shown in banner (joining a download
        already under way rather than starting a second one)."""
        if banner not in self._banners:
            self._banners.append(banner)
        if self.job is not None:
            self._show_progress(*self._progress)
            return
        self._banners = [banner]
        self._cancel = Cancel()
        self._reported = -1
        cancel, base_url = self._cancel, self.base_url
        self.job = workers.start_job(
            lambda: download(DEFAULT_MODEL, base_url=base_url, progress=self._report, cancel=cancel),
            name="model download", succeeded=self._on_downloaded, errored=self._on_failed, done=self._on_done)
        self._show_progress(0, 0)
        self.running_changed.emit(True)
        self.status.emit(f"Downloading {DEFAULT_MODEL}.pt…")

    def cancel(self) -> None:
        """Ask the download to stop: its connection is cut, so it ends at once even while the
        server sends nothing (the banners say so until the job's end)."""
        if self.job is None or self._cancel.is_set():
            return
        self._cancel.set()
        for banner in self._banners:
            banner.show_progress("Cancelling the download…", 0, 0)

    def model_loaded(self, path: Path, classes: int) -> None:
        """The main window loaded path: if it is the file just downloaded, its banners say it is in use."""
        if self._path is None or Path(path) != self._path:
            return
        self._path = None
        self._say(f"YOLOv5n was downloaded (SHA-256 verified) and is in use: Objects find its {classes} "
                  f"kinds of things. It is kept in {path.parent}.", error=False)
        self._banners = []

    def _on_action(self, banner: Banner, action: str) -> None:
        if action == DOWNLOAD:
            self.start(banner)
        elif action == CANCEL:
            self.cancel()

    def _report(self, done: int, total: int) -> None:
        """download()'s progress, on the pool thread: sent on only when the bar would move."""
        step = done * PROGRESS_STEPS // total if total > 0 else done >> 20
        if step != self._reported:
            self._reported = step
            self.progressed.emit(done, total)

    def _show_progress(self, done: int, total: int) -> None:
        if self.job is None or self._cancel.is_set():
            return  # a late report of a download that ended or is being cancelled
        self._progress = (done, total)
        total = total or OFFICIAL_BYTES[DEFAULT_MODEL]
        text = f"Downloading YOLOv5n: {size_text(done) if done else '0 MB'} of {size_text(total)}…"
        for banner in self._banners:
            banner.show_progress(text, done, total, CANCEL)

    def _on_downloaded(self, _job: workers.Job, path: Path) -> None:
        self._path = path
        self._say(f"YOLOv5n was downloaded to {path} (SHA-256 verified). Loading it…", error=False)
        self.status.emit(f"Downloaded {path.name}; loading it…")
        self.downloaded.emit(path)

    def _on_failed(self, job: workers.Job, message: str) -> None:
        if isinstance(job.error, DownloadCancelled):
            self._say("The download was cancelled; nothing was kept.", error=False, action=DOWNLOAD)
            self.status.emit("Download cancelled.")
        else:
            self._say(message, error=True, action=DOWNLOAD)
            self.status.emit(message)
        self._banners = []

    def _on_done(self, _job: workers.Job) -> None:
        self.job = None
        self.running_changed.emit(False)

    def _say(self, text: str, error: bool, action: str = "") -> None:
        for banner in self._banners:
            banner.show_message(text, error, action if banner in self._offering else "")
