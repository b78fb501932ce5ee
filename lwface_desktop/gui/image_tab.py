"""The "Open image" tab: a photo in, its faces (or objects) boxed out, and listed beside it.

Photo jobs run one at a time: a photo of 120 megapixels takes some 0.5-1 GB to decode and
detect in, so quick opens (or drops, or changes of detector) must not run side by side. While
one runs, the newest request waits in a single pending slot (replacing any older one there);
when the running job ends its result is dropped if it is no longer the newest, and the pending
request starts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from lwface_desktop.core.detection import Detection, Detector, summary_text
from lwface_desktop.core.detectors import FACE_KINDS, KINDS, Detectors
from lwface_desktop.core.pipeline import PhotoAnalysis, analyse_photo
from lwface_desktop.gui import models, settings, workers
from lwface_desktop.gui.banner import Banner, plain_label
from lwface_desktop.gui.model_download import download_offer
from lwface_desktop.gui.photo_batch import PhotoBatch
from lwface_desktop.gui.qimage import rgb_to_qimage
from lwface_desktop.gui.results_panel import PhotoPane, thumbnail_images
from lwface_desktop.gui.saving import save_annotated
from lwface_desktop.gui.view_options import ViewOptions, hidden_note, offer_hiding

VIEW_MAX_SIDE = 2560  # the on-screen copy; bigger only costs memory and resize time
SCORE_TIPS = {
    "yunet": "Faces scoring below this are not shown (YuNet's own measured threshold is "
             f"{settings.FACE_SCORE_DEFAULT:.2f})",
    "yolov5": "Objects scoring below this are not shown",
    "cascade": "The classic cascade gives no score to choose by",
}


@dataclass(frozen=True)
class PhotoRequest:
    number: int      # the tab's request counter: only the newest one's answer is shown
    path: Path
    kind: str
    score: float     # the minimum score (YuNet's or YOLOv5's; the cascade has none)
    hide: str        # anonymise.MODES
    landmarks: bool
    known: PhotoResult | None = None  # found with these settings already: only redraw it

    def finds_as(self, other: PhotoRequest) -> bool:
        """Whether both ask for the same detections (they may draw them differently)."""
        return (self.path, self.kind, self.score) == (other.path, other.kind, other.score)


@dataclass(frozen=True)
class PhotoResult:
    analysis: PhotoAnalysis  # boxes in full-resolution pixels; annotated is the view copy
    view_image: QImage       # analysis.annotated as the view shows it
    seconds: float           # decode + detect + draw, without a one-off model load
    request: PhotoRequest    # what it answers
    thumbnails: tuple[QImage, ...] = ()  # one per detection, cut from view_image (the results panel)

    @property
    def path(self) -> Path:
        return self.analysis.path

    @property
    def label(self) -> str:
        return self.analysis.label

    @property
    def detections(self) -> list[Detection]:
        return self.analysis.detections


class KnownDetections(Detector):
    """Detections already found in a photo, as a detector: analyse_photo() with it decodes at
    the view's size and draws, and finds nothing anew. A change of Hide faces or Show
    landmarks redraws this way: a decode and a drawing, no detection."""

    decode_side = 0  # the view's size is all the drawing needs

    def __init__(self, detections: list[Detection], label: str):
        self.detections = detections
        self.label = label

    def detect_photo(self, photo) -> list[Detection]:
        return list(self.detections)


def find_in_photo(request: PhotoRequest, detectors: Detectors) -> PhotoResult:
    """The photo pipeline with the tab's settings. Runs on a pool thread: no widgets here.
    With request.known, a redraw only (its detections, and its detection time to show)."""
    known = request.known
    if known is not None:
        detector: Detector = KnownDetections(known.detections, known.label)
    else:
        detector = models.load_for_photos(detectors, request.kind, request.score)
    analysis = analyse_photo(request.path, detector, VIEW_MAX_SIDE, hide=request.hide, landmarks=request.landmarks)
    seconds = known.seconds if known is not None else sum(analysis.timing.values())
    return PhotoResult(analysis, rgb_to_qimage(analysis.annotated), seconds, replace(request, known=None),
                       thumbnail_images(analysis))


class ImageTab(QWidget):
    status = Signal(str)           # one line for the window's status bar
    result_changed = Signal(bool)  # whether there is an annotated photo to save
    saved = Signal(object)         # the Path an annotated photo was saved to
    open_requested = Signal()
    save_requested = Signal()
    finds_faces_changed = Signal(bool)  # the detector chosen changed: whether it finds faces (to hide)

    def __init__(self, detectors: Detectors, view_options: ViewOptions, parent: QWidget | None = None):
        super().__init__(parent)
        self.detectors = detectors
        self.view_options = view_options
        self.result: PhotoResult | None = None
        self._path: Path | None = None  # the photo last asked for
        self._request = 0                # numbers the requests: only the newest one's result is shown
        self._wanted: PhotoRequest | None = None      # the newest request
        self._found: PhotoResult | None = None        # what the job running found, shown or not
        self._detecting: workers.Job | None = None    # the one photo job running
        self._pending: PhotoRequest | None = None     # the newest request, waiting for it
        self._saving: set[workers.Job] = set()
        self._doing = ""                 # what the busy indicator says about detection
        # The minimum score of each kind that has one; the spin box shows the chosen kind's.
        self._scores = {"yunet": settings.FACE_SCORE_DEFAULT, "yolov5": settings.SCORE_DEFAULT}

        open_button = QPushButton("Open photo…")
        open_button.setToolTip("Open a JPEG photo, or several (Ctrl+O); a folder with Ctrl+Shift+O. "
                               "You can also drop photos or a folder on the window.")
        open_button.clicked.connect(self.open_requested)
        self.save_button = QPushButton("Save as…")
        self.save_button.setToolTip("Save the photo as shown (boxes, hidden faces) as a new file (Ctrl+S)")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_requested)

        self.detector_choice = QComboBox()
        for kind, title in KINDS.items():
            self.detector_choice.addItem(title, kind)
        self.detector_choice.setToolTip("Faces (YuNet): OpenCV's face detector. Faces (cascade, classic): "
                                        "scikit-image's classic method. Objects: YOLOv5, "
                                        "people and 79 other kinds of things.")
        self.conf = QDoubleSpinBox()
        self.conf.setRange(*settings.SCORE_RANGE)
        self.conf.setSingleStep(0.05)
        self.conf.setPrefix("min. score ")
        self.hide_choice = view_options.hide_combo()
        self._rerun = QTimer(self, singleShot=True, interval=300)  # one re-run after a burst of clicks
        self._rerun.timeout.connect(self.rerun)
        self.restore_settings()
        self._show_score()
        self.detector_choice.currentIndexChanged.connect(self._on_detector_changed)
        self.conf.valueChanged.connect(self._on_score_changed)
        view_options.changed.connect(self.redraw)

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: detection has no meaningful percentage
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.setMinimumWidth(32)  # nor does the bar: in a narrow window it is short
        self.busy_bar.setTextVisible(False)
        self.busy_label = plain_label()
        self.busy_label.setMinimumWidth(1)  # its text never widens the window (a narrow one cuts it)
        self._show_busy()

        self.message = Banner()

        self.pane = PhotoPane("Drop JPEG photos or a folder here\nor press Ctrl+O to open them")  # photo + results
        self.view, self.results = self.pane.view, self.pane.panel
        self.view.zoom_changed.connect(lambda zoom: self.status.emit(f"Zoom {zoom}"))
        self.batch = PhotoBatch(self)  # many photos: the strip under the view, their queue, the export

        controls = QHBoxLayout()
        for widget in (open_button, self.save_button, plain_label("Find:"), self.detector_choice, self.conf,
                       plain_label("Hide faces:"), self.hide_choice):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.busy_label)
        controls.addWidget(self.busy_bar)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(self.pane, 1)
        layout.addWidget(self.batch.strip)

    def restore_settings(self) -> None:
        self.set_kind(settings.load(settings.IMAGE_DETECTOR))
        self._scores = {"yunet": settings.load(settings.IMAGE_FACE_SCORE),
                        "yolov5": settings.load(settings.IMAGE_SCORE)}

    def save_settings(self) -> None:
        settings.store(settings.IMAGE_DETECTOR, self.kind())
        settings.store(settings.IMAGE_FACE_SCORE, self._scores["yunet"])
        settings.store(settings.IMAGE_SCORE, self._scores["yolov5"])
        self.pane.save_settings()

    def kind(self) -> str:
        return self.detector_choice.currentData()

    def set_kind(self, kind: str) -> None:
        index = self.detector_choice.findData(kind)
        if index >= 0:
            self.detector_choice.setCurrentIndex(index)

    def finds_faces(self) -> bool:
        """Whether the detector chosen finds faces (so Hide faces applies)."""
        return self.kind() in FACE_KINDS

    def score(self, kind: str | None = None) -> float | None:
        """The minimum score used for kind (the chosen one by default); None for the cascade."""
        return self._scores.get(kind or self.kind())

    def open_path(self, path: str | Path) -> None:
        """Decode and detect in the background; the view updates when it is done."""
        self._path = Path(path)
        self.rerun()

    def rerun(self) -> None:
        """Detect again in the photo last asked for (after a change of detector or score)."""
        if self._path is not None:
            self._submit(self._new_request(self._path, self.kind(), self.score()))

    def redraw(self) -> None:
        """Draw again as the View options now say (faces hidden, landmarks): the photo on its
        way, or else the one shown. The detections shown are reused when they are the ones
        asked for: then only a decode at the view's size and a drawing, in a job."""
        base = self._wanted if self._detecting is not None else (self.result.request if self.result else None)
        if base is None:
            return
        request = self._new_request(base.path, base.kind, base.score)
        if self.result is not None and self.result.request.finds_as(request):
            request = replace(request, known=self.result)
        self._submit(request)

    def _new_request(self, path: Path, kind: str, score: float | None) -> PhotoRequest:
        self._request += 1
        return PhotoRequest(self._request, path, kind, score or 0.0, self.view_options.hide,
                            self.view_options.landmarks)

    def _submit(self, request: PhotoRequest) -> None:
        """Run request now, or after the running job (replacing any older request waiting)."""
        self._wanted = request
        if self._detecting is None:
            self._start_detecting(request)
        else:
            self._pending = request
        self.message.hide()
        if request.known is not None:
            self._doing = "Drawing…"
            self._show_busy()
            return
        loading = not self.detectors.is_loaded(request.kind)
        self._doing = "Loading the YOLOv5 model…" if loading else "Detecting…"
        self._show_busy()
        self.status.emit(f"{'Loading the model and finding' if loading else 'Finding'} "
                         f"{'faces' if request.kind in FACE_KINDS else 'objects'} in {request.path.name}…")

    def _start_detecting(self, request: PhotoRequest) -> None:
        detectors = self.detectors
        self._detecting = workers.start_job(
            lambda: find_in_photo(request, detectors), name="photo",
            tag=request.number, succeeded=self._on_found, errored=self._on_failed, done=self._on_photo_done)

    def _on_photo_done(self, job: workers.Job) -> None:
        if job is not self._detecting:
            return
        self._detecting, pending, self._pending = None, self._pending, None
        found, self._found = self._found, None
        if pending is not None and pending.known is None and found is not None and found.request.finds_as(pending):
            pending = replace(pending, known=found)  # the job just found what the request asks for: redraw it
        if pending is not None:
            self._start_detecting(pending)

    def warm_up(self) -> None:
        """Load the current detector in the background so the first photo is not slower."""
        kind, detectors = self.kind(), self.detectors
        workers.start_job(lambda: models.load(detectors, kind), name="warm-up", errored=self._on_warm_up_failed)

    def has_photo(self) -> bool:
        return self._path is not None

    def is_busy(self) -> bool:
        return self._detecting is not None or self._pending is not None or bool(self._saving)

    def shutdown(self) -> None:
        """Before the window closes: a request still waiting is not started (the running job ends)."""
        self._pending = None
        self.batch.shutdown()

    def save_to(self, path: str | Path) -> workers.Job | None:
        """Write the annotated photo to path in a job; never onto the photo it came from (nor a
        link to it). `saved` and the status bar say when it is written; a banner says why not."""
        if self.result is None:
            return None
        path, photo, detections = Path(path), self.result.path, self.result.detections
        hide, landmarks = self.view_options.hide, self.view_options.landmarks  # as shown (or about to be)
        job = workers.start_job(lambda: save_annotated(photo, detections, path, hide, landmarks), name="save",
                                succeeded=self._on_saved, errored=self._on_save_failed, done=self._on_save_done)
        self._saving.add(job)
        self._show_busy()
        self.status.emit(f"Saving {path.name}…")
        return job

    def show_error(self, text: str, action: str = "") -> None:
        """text in the banner (with a button labelled action, if any) and the status bar."""
        self.message.show_message(text, action=action)
        self.status.emit(text)

    def _on_detector_changed(self) -> None:
        self._show_score()
        self.rerun()

    def _show_score(self) -> None:
        """The spin box shows the chosen kind's minimum score; the cascade has none. Hide
        faces is offered to the face detectors."""
        offer_hiding(self.hide_choice, self.finds_faces())
        self.finds_faces_changed.emit(self.finds_faces())
        score = self.score()
        self.conf.setEnabled(score is not None)
        self.conf.setToolTip(SCORE_TIPS.get(self.kind(), ""))
        if score is not None:
            self.conf.blockSignals(True)  # showing a score is no change of it
            self.conf.setValue(score)
            self.conf.blockSignals(False)

    def _on_score_changed(self, value: float) -> None:
        if self.kind() in self._scores:
            self._scores[self.kind()] = value
            self._rerun.start()

    def _on_warm_up_failed(self, job: workers.Job, message: str) -> None:
        self.show_error(*download_offer(job, message))

    def _on_saved(self, _job, path: Path) -> None:
        self.status.emit(f"Saved {path}")
        self.saved.emit(path)

    def _on_save_failed(self, _job, message: str) -> None:
        self.show_error(message)

    def _on_save_done(self, job: workers.Job) -> None:
        self._saving.discard(job)
        self._show_busy()

    def _detection_done(self, job: workers.Job) -> bool:
        """True if the job answers the newest request (older answers are dropped)."""
        if job.tag != self._request:
            return False
        self._doing = ""
        self._show_busy()
        return True

    def _on_found(self, job: workers.Job, result: PhotoResult) -> None:
        self._found = result  # even an older answer may serve the newest request (_on_photo_done)
        if not self._detection_done(job):
            return
        same_photo = self.result is not None and self.result.path == result.path  # zoom and position stay
        self.result = result
        self.pane.show_result(result, keep_view=same_photo)
        self.result_changed.emit(True)
        found = summary_text(result.detections, result.label)
        hidden = hidden_note(result.request.hide, result.detections)
        self.status.emit(f"{result.path.name}: {found} found in {result.seconds:.2f} s{hidden}")

    def _on_failed(self, job: workers.Job, message: str) -> None:
        if not self._detection_done(job):
            return
        text, action = download_offer(job, message)
        shown = f" The photo shown is still {self.result.path.name}." if self.result else ""
        self.show_error(f"{text}{shown}", action)

    def _show_busy(self) -> None:
        doing = self._doing or ("Saving…" if self._saving else "")
        self.busy_label.setText(doing)
        self.busy_bar.setVisible(bool(doing))
        self.busy_label.setVisible(bool(doing))
