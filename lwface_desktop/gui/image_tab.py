"""The "Open image" tab: a photo in, its faces (or objects) boxed in red out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from lwface_desktop.core.detection import Detection, summary_text
from lwface_desktop.core.detectors import KINDS, Detectors
from lwface_desktop.core.images import ImageError, save_image
from lwface_desktop.core.pipeline import PhotoAnalysis, analyse_photo, annotate_photo
from lwface_desktop.gui.banner import Banner
from lwface_desktop.gui.image_view import ImageView
from lwface_desktop.gui.jobs import Job
from lwface_desktop.gui.qimage import rgb_to_qimage

VIEW_MAX_SIDE = 2560  # the on-screen copy; bigger only costs memory and resize time


@dataclass(frozen=True)
class PhotoResult:
    analysis: PhotoAnalysis  # boxes in full-resolution pixels; annotated is the view copy
    view_image: QImage       # analysis.annotated as the view shows it
    seconds: float           # decode + detect + draw, without a one-off model load

    @property
    def path(self) -> Path:
        return self.analysis.path

    @property
    def label(self) -> str:
        return self.analysis.label

    @property
    def detections(self) -> list[Detection]:
        return self.analysis.detections


def find_in_photo(path: Path, detectors: Detectors, kind: str, conf: float) -> PhotoResult:
    """The photo pipeline with the tab's settings. Runs on a pool thread: no widgets here."""
    detector = detectors.get(kind)  # loads the model the first time
    if kind == "yolov5":
        from lwface_desktop.core.yolo.detector import PHOTO_PRECISION

        # The shared model keeps its own settings (the live camera's precision among them).
        detector = detector.with_options(conf=conf, precision=PHOTO_PRECISION)
    analysis = analyse_photo(path, detector, VIEW_MAX_SIDE)
    return PhotoResult(analysis, rgb_to_qimage(analysis.annotated), sum(analysis.timing.values()))


class ImageTab(QWidget):
    status = Signal(str)           # one line for the window's status bar
    result_changed = Signal(bool)  # whether there is an annotated photo to save
    open_requested = Signal()
    save_requested = Signal()

    def __init__(self, detectors: Detectors, parent: QWidget | None = None):
        super().__init__(parent)
        self.detectors = detectors
        self.result: PhotoResult | None = None
        self._path: Path | None = None  # the photo last asked for
        self._request = 0                # only the newest request's result is shown
        self._jobs: dict[int, Job] = {}  # keeps each job's signals alive until it reports

        open_button = QPushButton("Open photo…")
        open_button.setToolTip("Open a JPEG photo (Ctrl+O). You can also drop one on the window.")
        open_button.clicked.connect(self.open_requested)
        self.save_button = QPushButton("Save annotated…")
        self.save_button.setToolTip("Save the photo with its boxes as a new file (Ctrl+S)")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_requested)

        self.detector_choice = QComboBox()
        for kind, title in KINDS.items():
            self.detector_choice.addItem(title, kind)
        self.detector_choice.setToolTip("Faces: scikit-image's face cascade. Objects: YOLOv5, "
                                        "people and 79 other kinds of things.")
        self.conf = QDoubleSpinBox()
        self.conf.setRange(0.05, 0.95)
        self.conf.setSingleStep(0.05)
        self.conf.setValue(0.25)
        self.conf.setPrefix("min. score ")
        self.conf.setToolTip("Objects scoring below this are not shown")
        self._rerun = QTimer(self, singleShot=True, interval=300)  # one re-run after a burst of clicks
        self._rerun.timeout.connect(self.rerun)
        self.detector_choice.currentIndexChanged.connect(self._on_detector_changed)
        self.conf.valueChanged.connect(self._rerun.start)
        self._on_detector_changed()

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: detection has no meaningful percentage
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.setTextVisible(False)
        self.busy_label = QLabel()
        self._set_busy(None)

        self.message = Banner()

        self.view = ImageView("Drop a JPEG photo here\nor press Ctrl+O to open one")

        controls = QHBoxLayout()
        for widget in (open_button, self.save_button, QLabel("Find:"), self.detector_choice, self.conf):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.busy_label)
        controls.addWidget(self.busy_bar)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)

    def kind(self) -> str:
        return self.detector_choice.currentData()

    def set_kind(self, kind: str) -> None:
        index = self.detector_choice.findData(kind)
        if index >= 0:
            self.detector_choice.setCurrentIndex(index)

    def open_path(self, path: str | Path) -> None:
        """Decode and detect in the background; the view updates when it is done."""
        self._path = Path(path)
        self.rerun()

    def rerun(self) -> None:
        """Detect again in the photo last asked for (after a change of detector or score)."""
        if self._path is None:
            return
        path, kind, conf = self._path, self.kind(), self.conf.value()
        self._request += 1
        request = self._request
        job = Job(lambda: find_in_photo(path, self.detectors, kind, conf))
        job.signals.finished.connect(lambda result: self._on_found(request, result))
        job.signals.errored.connect(lambda message: self._on_failed(request, message))
        self._jobs[request] = job
        self.message.hide()
        loading = not self.detectors.is_loaded(kind)
        self._set_busy("Loading the YOLOv5 model…" if loading else "Detecting…")
        self.status.emit(f"{'Loading the model and finding' if loading else 'Finding'} "
                         f"{'faces' if kind == 'cascade' else 'objects'} in {path.name}…")
        QThreadPool.globalInstance().start(job)

    def warm_up(self) -> None:
        """Load the current detector in the background so the first photo is not slower."""
        kind = self.kind()
        self._warm_up = Job(lambda: self.detectors.get(kind))  # the attribute keeps its signals alive
        self._warm_up.signals.errored.connect(self.show_error)
        QThreadPool.globalInstance().start(self._warm_up)

    def has_photo(self) -> bool:
        return self._path is not None

    def is_busy(self) -> bool:
        return bool(self._jobs)

    def save_to(self, path: str | Path) -> bool:
        """Write the annotated photo to path; never onto the photo it came from."""
        path = Path(path)
        if self.result is None:
            return False
        try:
            if path.resolve() == self.result.path.resolve():
                raise ImageError(f"{path.name} is the original photo; choose a new name so it is kept.")
            save_image(annotate_photo(self.result.path, self.result.detections), path)
        except ImageError as e:
            self.show_error(str(e))
            return False
        self.status.emit(f"Saved {path}")
        return True

    def show_error(self, text: str) -> None:
        self.message.show_message(text)
        self.status.emit(text)

    def _on_detector_changed(self) -> None:
        self.conf.setEnabled(self.kind() == "yolov5")
        self.rerun()

    def _on_found(self, request: int, result: PhotoResult) -> None:
        self._jobs.pop(request, None)
        if request != self._request:
            return
        self._set_busy(None)
        self.result = result
        self.view.set_image(result.view_image)
        self.result_changed.emit(True)
        found = summary_text(result.detections, result.label)
        self.status.emit(f"{result.path.name}: {found} found in {result.seconds:.2f} s")

    def _on_failed(self, request: int, message: str) -> None:
        self._jobs.pop(request, None)
        if request != self._request:
            return
        self._set_busy(None)
        shown = f" The photo shown is still {self.result.path.name}." if self.result else ""
        self.show_error(f"{message}{shown}")

    def _set_busy(self, doing: str | None) -> None:
        self.busy_label.setText(doing or "")
        self.busy_bar.setVisible(doing is not None)
        self.busy_label.setVisible(doing is not None)
