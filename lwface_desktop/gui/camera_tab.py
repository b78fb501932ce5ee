"""The "Live camera" tab: pick a source, Start (Space), see people boxed in real time."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSlider,
                               QVBoxLayout, QWidget)

from lwface_desktop.core.detection import summary_text
from lwface_desktop.core.detectors import Detectors
from lwface_desktop.core.images import unused_path
from lwface_desktop.gui.banner import Banner
from lwface_desktop.gui.camera_worker import CameraWorker
from lwface_desktop.gui.image_view import ImageView
from lwface_desktop.gui.jobs import Job

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.webm *.mov *.m4v);;All files (*)"
FILE_ITEM, URL_ITEM = "file", "url"
STOP_WAIT_MS = 1500
PROBE_WAIT_S = 3.0


def find_cameras(indices: range = range(4)) -> list[int]:
    """Camera indices that open. Quick when there are none (< 1 ms each): runs on a pool thread."""
    from lwface_desktop.core.pipeline import FrameSource, SourceError

    found = []
    for index in indices:
        try:
            FrameSource(index).release()
            found.append(index)
        except SourceError:
            pass
    return found


class CameraTab(QWidget):
    status = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, detectors: Detectors, parent: QWidget | None = None):
        super().__init__(parent)
        self.detectors = detectors
        self.worker: CameraWorker | None = None
        self._stopping: list[CameraWorker] = []  # workers asked to stop that have not ended yet
        self.last_frame: QImage | None = None
        self.video_path: str | None = None

        self.source_choice = QComboBox()
        self.source_choice.setToolTip("A camera, a video file, or a network stream")
        self.source_choice.addItem("Video file…", FILE_ITEM)
        self.source_choice.addItem("Network stream (URL)", URL_ITEM)
        self.source_choice.activated.connect(self._on_source_activated)
        self.url = QLineEdit()
        self.url.setPlaceholderText("rtsp://… or http://…")
        self.url.setEnabled(False)

        self.toggle = QPushButton("Start")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Start or stop detection (Space)")
        self.toggle.clicked.connect(lambda checked: self.start() if checked else self.stop())
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.toggle_running,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self.conf = QSlider(Qt.Orientation.Horizontal)
        self.conf.setRange(5, 95)
        self.conf.setValue(25)
        self.conf.setMaximumWidth(140)
        self.conf_label = QLabel()
        self.size_choice = QComboBox()
        self.size_choice.addItem("320 (fast)", 320)
        self.size_choice.addItem("640 (accurate)", 640)
        self.class_choice = QComboBox()
        self.class_choice.addItem("All objects", False)
        self.class_choice.addItem("People only", True)
        for control in (self.conf.valueChanged, self.size_choice.currentIndexChanged,
                        self.class_choice.currentIndexChanged):
            control.connect(self._apply_options)
        self.snapshot_button = QPushButton("Snapshot")
        self.snapshot_button.setToolTip("Save the current annotated frame to your Pictures folder")
        self.snapshot_button.setEnabled(False)
        self.snapshot_button.clicked.connect(self.snapshot)

        self.view = ImageView("Choose a camera or a video, then press Start (Space)")
        self.view.painted.connect(self._on_painted)
        self.stats = QLabel("")
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = Banner()

        source_row = QHBoxLayout()
        for widget in (QLabel("Source:"), self.source_choice):
            source_row.addWidget(widget)
        source_row.addWidget(self.url, 1)
        source_row.addWidget(self.toggle)
        controls = QHBoxLayout()
        for widget in (QLabel("Min. score"), self.conf, self.conf_label, QLabel("Input"), self.size_choice,
                       self.class_choice, self.snapshot_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(source_row)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.stats)
        self._apply_options()
        self._probe_done = threading.Event()  # a worker must not open a camera the probe holds
        self._probe = Job(self._find_cameras)  # the attribute keeps its signals alive
        self._probe.signals.finished.connect(self._add_cameras)
        QThreadPool.globalInstance().start(self._probe)

    def _find_cameras(self) -> list[int]:
        try:
            return find_cameras()
        finally:
            self._probe_done.set()

    # --- sources -------------------------------------------------------------------------
    def set_source(self, source: int | str) -> None:
        """Select a camera index, a video file or a URL (from --source or a test)."""
        if isinstance(source, int) or str(source).isdigit():
            self._add_cameras([int(source)])
            self.source_choice.setCurrentIndex(self.source_choice.findData(int(source)))
        elif "://" in str(source):
            self.source_choice.setCurrentIndex(self.source_choice.findData(URL_ITEM))
            self.url.setText(str(source))
            self.url.setEnabled(True)
        else:
            self._set_video(str(source))

    def chosen_source(self) -> int | str | None:
        data = self.source_choice.currentData()
        if data == URL_ITEM:
            return self.url.text().strip() or None
        if data == FILE_ITEM:
            return self.video_path
        return data

    def _add_cameras(self, indices: list[int]) -> None:
        """Put found cameras at the top, in order; select the first if nothing else was chosen."""
        for index in sorted(indices):
            if self.source_choice.findData(index) < 0:
                cameras = [self.source_choice.itemData(i) for i in range(self.source_choice.count())]
                position = sum(isinstance(c, int) and c < index for c in cameras)
                self.source_choice.insertItem(position, f"Camera {index}", index)
        untouched = self.source_choice.currentData() == FILE_ITEM and self.video_path is None
        if indices and untouched and not self.is_running():
            self.source_choice.setCurrentIndex(self.source_choice.findData(min(indices)))
        if not indices and self.source_choice.findData(0) < 0:
            self.source_choice.setToolTip("No camera was found; choose a video file or a stream URL")

    def _on_source_activated(self) -> None:
        data = self.source_choice.currentData()
        self.url.setEnabled(data == URL_ITEM)
        if data == FILE_ITEM:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a video", "", VIDEO_FILTER)
            if path:
                self._set_video(path)

    def _set_video(self, path: str) -> None:
        self.video_path = path
        index = self.source_choice.findData(FILE_ITEM)
        self.source_choice.setItemText(index, f"Video: {Path(path).name}")
        self.source_choice.setCurrentIndex(index)

    # --- running -------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.worker is not None

    def toggle_running(self) -> None:
        if self.is_running():
            self.stop()
        else:
            self.start()

    def start(self) -> None:
        if self.worker is not None:
            return
        source = self.chosen_source()
        if source is None:
            self._show_error("Choose a camera, a video file or type a stream URL first.")
            self._set_running(False)
            return
        self.message.hide()
        self._probe_done.wait(PROBE_WAIT_S)
        self.worker = worker = CameraWorker(source, self.detectors, self._options())
        worker.opened.connect(lambda name: self.status.emit(f"Live: {name}"))
        worker.frame_ready.connect(self._on_frame)
        worker.failed.connect(self._show_error)
        worker.notice.connect(self._show_error)
        worker.ended.connect(lambda text: self._show_message(text, error=False))
        worker.finished.connect(lambda: self._on_finished(worker))
        self._set_running(True)
        loading = "" if self.detectors.is_loaded("yolov5") else " (loading the model)"
        self.status.emit(f"Starting {source}{loading}…")
        worker.start()

    def stop(self) -> None:
        """Ask the worker to stop and wait briefly; the camera is released when it ends."""
        worker = self.worker
        if worker is None:
            return
        worker.requestInterruption()
        worker.frame_consumed()  # it may be waiting for the view
        if not worker.wait(STOP_WAIT_MS):  # a stuck network read: let it end in the background
            self._stopping.append(worker)
        self._on_finished(worker)

    def shutdown(self) -> None:
        """Stop and wait for every worker: before the window closes."""
        self.stop()
        for worker in self._stopping:
            worker.wait()

    def _on_finished(self, worker: CameraWorker) -> None:
        if worker.isFinished():
            if worker in self._stopping:
                self._stopping.remove(worker)
            worker.deleteLater()  # fifty Start/Stop clicks must not leave fifty QThreads
        if worker is self.worker:
            self.worker = None
            self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.toggle.setChecked(running)
        self.toggle.setText("Stop" if running else "Start")
        self.source_choice.setEnabled(not running)
        self.url.setEnabled(not running and self.source_choice.currentData() == URL_ITEM)
        self.running_changed.emit(running)

    # --- frames --------------------------------------------------------------------------
    def _on_frame(self, image: QImage, detections, stats: dict) -> None:
        if self.sender() is not self.worker:
            return  # a late frame from a worker already stopped
        self.last_frame = image
        self.snapshot_button.setEnabled(True)
        self.view.set_image(image)
        ms = {k: stats[k] * 1000 for k in ("capture", "inference", "drawing")}
        self.stats.setText(
            f"{stats['fps']:.1f} fps · capture {ms['capture']:.0f} ms · inference {ms['inference']:.0f} ms · "
            f"drawing {ms['drawing']:.0f} ms · {stats['dropped']} dropped · {summary_text(detections, 'object')}")
        if not self.view.isVisible():
            self.worker.frame_consumed()  # nothing will paint: do not hold the worker

    def _on_painted(self) -> None:
        if self.worker is not None:
            self.worker.frame_consumed()

    def _options(self) -> dict:
        return {"img_size": self.size_choice.currentData(), "conf": self.conf.value() / 100,
                "people_only": self.class_choice.currentData()}

    def _apply_options(self) -> None:
        self.conf_label.setText(f"{self.conf.value() / 100:.2f}")
        if self.worker is not None:
            self.worker.options = self._options()  # replaced whole: the worker sees old or new

    def snapshot(self) -> Path | None:
        """Save the last annotated frame as a new JPEG in Pictures/lwface-desktop."""
        if self.last_frame is None:
            return None
        pictures = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
                        or Path.home()) / "lwface-desktop"
        try:
            pictures.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self._show_error(f"Could not create {pictures} for the snapshot: {e.strerror or e}.")
            return None
        path = unused_path(pictures, f"snapshot-{datetime.now():%Y%m%d-%H%M%S}", ".jpg")
        if not self.last_frame.save(str(path), "JPG", 92):
            self._show_error(f"Could not save the snapshot in {pictures}.")
            return None
        self.status.emit(f"Snapshot saved: {path}")
        return path

    def _show_error(self, text: str) -> None:
        self._show_message(text, error=True)

    def _show_message(self, text: str, error: bool) -> None:
        self.message.show_message(text, error)
        self.status.emit(text)
