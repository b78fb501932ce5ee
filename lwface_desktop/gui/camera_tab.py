"""The "Live camera" tab: pick a source and what to find (faces, objects, or faces and
people), Start (Space), see them boxed (or faces hidden) in real time.

Start never waits: it sends the model load to a job and, once the model is there, starts a
CameraWorker, which opens the capture and loops. A camera waits for the camera search too (so
the worker does not open a camera the search holds), but at most SEARCH_WAIT_MS: a search
that hangs on one device must not keep another from starting. A file or a URL never waits.
Stop only asks: during the load it just forgets the load's result; while the worker runs it
asks it to stop and shows "Stopping…" until the worker's finished signal, the one place that
returns the toggle to Start. Choosing what to find while it runs loads that detector in a
job, and the worker takes it up from the next frame (the video goes on meanwhile).

What is shown and snapshotted always follows Hide faces and Show landmarks as they are now:
the tab keeps the last frame as captured (a LiveFrame, one frame's memory), a snapshot draws
it in its save job, and a change of either setting that the frame shown does not follow yet
(stopped, or between two frames) draws it again, in a job, for the view.

Record (Ctrl+R, gui.recorder) writes what is shown to MP4 while it runs; a camera or a stream
that stops is opened again with backoff ("Reconnecting in 4 s…", the recording goes on), a
video file starts again if Loop is on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QPushButton, QSlider, QVBoxLayout, QWidget

from lwface_desktop.core.detection import Detection, Detector, count_text, summary_text
from lwface_desktop.core.detectors import LIVE_KINDS, Detectors
from lwface_desktop.core.sources import describe_source, find_cameras
from lwface_desktop.gui import models, settings, workers
from lwface_desktop.gui.banner import Banner, plain_label
from lwface_desktop.gui.camera_worker import CameraWorker, LiveFrame, LiveOptions, view_image
from lwface_desktop.gui.image_view import ImageView
from lwface_desktop.gui.model_download import download_offer
from lwface_desktop.gui.recorder import RecordControl
from lwface_desktop.gui.saving import save_snapshot, snapshot_folder
from lwface_desktop.gui.source_choice import SourceChoice
from lwface_desktop.gui.view_options import ViewOptions, hidden_note, offer_hiding

IDLE, STARTING, RUNNING, STOPPING = "idle", "starting", "running", "stopping"
SEARCH_WAIT_MS = 3000  # how long a camera's Start waits for the camera search before trying anyway
KIND_TIP = ("Faces: OpenCV's YuNet, fast (no YOLOv5 model needed). Objects: YOLOv5, people and 79 other "
            "kinds of things. Faces + people: both at once.")
OBJECT_TIPS = {  # the YOLOv5 controls, by what is found
    "yunet": "Faces use YuNet's own input size and measured threshold: this applies to Objects",
    "faces+people": "YOLOv5's setting, for the people (faces use YuNet's own)",
    "yolov5": "",
}
SNAPSHOT_TIPS = {  # by whether what is found includes faces
    True: "Save the current frame as shown (faces hidden if Hide faces says so) to your Pictures folder",
    False: "Save the current frame as shown to your Pictures folder (Objects finds no faces: none are hidden)",
}


@dataclass(eq=False)
class StartRequest:
    """A Start that waits for its model (and, for a camera, for the camera search to end)."""

    source: int | str
    kind: str                    # detectors.LIVE_KINDS: what the model loaded finds
    model: Detector | None = None
    search_waited: bool = False  # SEARCH_WAIT_MS have passed: a camera goes on without the search

    def waits_for_search(self) -> bool:
        return isinstance(self.source, int) and not self.search_waited


class CameraTab(QWidget):
    status = Signal(str)
    running_changed = Signal(bool)   # True from Start until the toggle is back to Start
    snapshot_saved = Signal(object)  # the new file's Path
    finds_faces_changed = Signal(bool)  # what to find changed: whether it finds faces (to hide)

    def __init__(self, detectors: Detectors, view_options: ViewOptions, parent: QWidget | None = None):
        super().__init__(parent)
        self.detectors = detectors
        self.view_options = view_options
        self.worker: CameraWorker | None = None
        self.last_frame: QImage | None = None        # as shown (scaled to the view)
        self.live_frame: LiveFrame | None = None     # the same frame as captured, and what was found
        self._shown_as: tuple[str, bool] | None = None  # (hide, landmarks) last_frame is drawn with
        self._unpainted = False                      # a worker's frame is waiting to be painted
        self._redrawing: workers.Job | None = None   # the one redraw of the last frame running
        self._state = IDLE
        self._request: StartRequest | None = None  # while STARTING
        self._probing = True                       # the camera search has not ended yet
        self._search_wait = QTimer(self, singleShot=True)
        self._search_wait.timeout.connect(self._on_search_wait_over)

        self.sources = SourceChoice()
        self.source_choice = self.sources.combo
        self.loop_check = QCheckBox("Loop")
        self.loop_check.setToolTip("Start a video file again when it ends")

        self.kind_choice = QComboBox()
        for kind, title in LIVE_KINDS.items():
            self.kind_choice.addItem(title, kind)
        self.kind_choice.setToolTip(KIND_TIP)

        self.toggle = QPushButton("Start")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip("Start or stop detection (Space)")
        self.toggle.clicked.connect(self._on_toggle_clicked)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.toggle_running,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self.conf = QSlider(Qt.Orientation.Horizontal)
        self.conf.setRange(round(settings.SCORE_RANGE[0] * 100), round(settings.SCORE_RANGE[1] * 100))
        self.conf.setMaximumWidth(140)
        self.conf.setMinimumWidth(80)  # still a slider in a narrow window
        self.conf_label = plain_label()
        self.size_choice = QComboBox()
        for size, title in zip(settings.CAMERA_SIZES, ("320 (fast)", "640 (accurate)"), strict=True):
            self.size_choice.addItem(title, size)
        self.class_choice = QComboBox()
        self.class_choice.addItem("All objects", False)
        self.class_choice.addItem("People only", True)
        self.hide_choice = view_options.hide_combo()
        self.snapshot_button = QPushButton("Snapshot")
        self.snapshot_button.setEnabled(False)
        self.snapshot_button.clicked.connect(self.snapshot)
        self.recording = RecordControl()
        self.recording.status.connect(self.status)
        self.recording.error.connect(self._show_error)
        QShortcut(QKeySequence("Ctrl+R"), self, self.recording.toggle,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self.view = ImageView("Choose a camera or a video, then press Start (Space)")
        self.view.painted.connect(self._on_painted)
        self.stats = plain_label()
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = Banner()

        source_row = QHBoxLayout()
        source_row.addWidget(self.sources, 1)
        for widget in (self.loop_check, plain_label("Find:"), self.kind_choice, self.toggle, self.recording):
            source_row.addWidget(widget)
        controls = QHBoxLayout()
        for widget in (plain_label("Min. score"), self.conf, self.conf_label, plain_label("Input"),
                       self.size_choice, self.class_choice, plain_label("Hide faces:"), self.hide_choice,
                       self.snapshot_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(source_row)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.stats)

        self.restore_settings()
        for control in (self.conf.valueChanged, self.size_choice.currentIndexChanged,
                        self.class_choice.currentIndexChanged, view_options.changed, self.loop_check.toggled):
            control.connect(self._apply_options)
        self.kind_choice.currentIndexChanged.connect(self._on_kind_changed)
        self._show_controls()
        self._apply_options()
        workers.start_job(lambda: find_cameras(), name="camera search",
                          succeeded=self._on_cameras_found, done=self._on_probe_done)

    # --- settings ------------------------------------------------------------------------
    def restore_settings(self) -> None:
        self.set_kind(settings.load(settings.CAMERA_KIND))
        self.conf.setValue(round(settings.load(settings.CAMERA_SCORE) * 100))
        self.size_choice.setCurrentIndex(self.size_choice.findData(settings.load(settings.CAMERA_SIZE)))
        self.class_choice.setCurrentIndex(self.class_choice.findData(settings.load(settings.CAMERA_PEOPLE_ONLY)))
        self.loop_check.setChecked(settings.load(settings.CAMERA_LOOP))

    def save_settings(self) -> None:
        options = self._options()
        settings.store(settings.CAMERA_KIND, options.kind)
        settings.store(settings.CAMERA_SCORE, options.conf)
        settings.store(settings.CAMERA_SIZE, options.img_size)
        settings.store(settings.CAMERA_PEOPLE_ONLY, options.people_only)
        settings.store(settings.CAMERA_LOOP, options.loop)
        settings.store(settings.CAMERA_SOURCE, self.sources.remembered())

    def kind(self) -> str:
        """What the tab is set to find (detectors.LIVE_KINDS)."""
        return self.kind_choice.currentData()

    def set_kind(self, kind: str) -> None:
        index = self.kind_choice.findData(kind)
        if index >= 0:
            self.kind_choice.setCurrentIndex(index)

    # --- sources -------------------------------------------------------------------------
    def set_source(self, source: int | str) -> None:
        """Select a camera index, a video file or a URL (from --source or a test)."""
        self.sources.set_source(source)

    def chosen_source(self) -> int | str | None:
        return self.sources.source()

    def _on_cameras_found(self, _job, indices: list[int]) -> None:
        self.sources.add_cameras(indices, select=self._state == IDLE)

    def _on_probe_done(self, _job) -> None:
        self._probing = False
        self._search_wait.stop()
        self._launch_if_ready()  # a camera's Start pressed during the search goes on now

    def _on_search_wait_over(self) -> None:
        request = self._request
        if request is None or not self._probing:
            return
        request.search_waited = True
        if request.model is not None:
            self.status.emit(f"The camera search is taking long; trying {describe_source(request.source)} anyway…")
        self._launch_if_ready()

    # --- running -------------------------------------------------------------------------
    def state(self) -> str:
        """IDLE, STARTING (model load or camera search pending), RUNNING or STOPPING."""
        return self._state

    def is_running(self) -> bool:
        """Started and not asked to stop (the toggle says Stop)."""
        return self._state in (STARTING, RUNNING)

    def toggle_running(self) -> None:
        if self.is_running():
            self.stop()
        elif self._state == IDLE:
            self.start()

    def _on_toggle_clicked(self, checked: bool) -> None:
        if checked:
            self.start()
        else:
            self.stop()

    def start(self) -> None:
        """Load the model in a job; the worker starts when it is loaded. Returns at once."""
        if self._state != IDLE:
            self._show_state()  # a click on the toggle while stopping: keep what it shows
            return
        source = self.chosen_source()
        if source is None:
            self._show_error("Choose a camera, a video file or type a stream URL first.")
            self._show_state()
            return
        self.message.hide()
        self._request = request = StartRequest(source, self.kind())
        self._set_state(STARTING)
        detectors = self.detectors
        workers.start_job(lambda: models.load(detectors, request.kind, live=True), name="model load", tag=request,
                          succeeded=self._on_model_loaded, errored=self._on_model_failed)
        waiting = " (loading the model)" if not detectors.is_loaded(request.kind) else ""
        if self._probing and request.waits_for_search():
            waiting = " (looking for cameras)"
            self._search_wait.start(SEARCH_WAIT_MS)
        self.status.emit(f"Starting {describe_source(request.source)}{waiting}…")

    def stop(self) -> None:
        """Ask to stop; returns at once. The camera is released when the worker ends."""
        if self._state == STARTING:
            self._request = None  # the model load goes on; its result is not used (the model is kept)
            self._search_wait.stop()
            self._set_state(IDLE)
            self.status.emit("Stopped.")
        elif self._state == RUNNING:
            self.recording.set_worker(None)  # the file is completed now, not after the camera lets go
            self.worker.request_stop()
            self._set_state(STOPPING)
            self.status.emit("Stopping…")

    def shutdown(self) -> None:
        """Before the window closes: stop without waiting (the window awaits the registry)."""
        self.stop()

    def _on_model_loaded(self, job: workers.Job, model: Detector) -> None:
        if job.tag is self._request:
            self._request.model = model
            self._launch_if_ready()

    def _on_model_failed(self, job: workers.Job, message: str) -> None:
        if job.tag is self._request:
            self._request = None
            self._set_state(IDLE)
            self._show_error(*download_offer(job, message))

    def _launch_if_ready(self) -> None:
        request = self._request
        if request is None or request.model is None or (self._probing and request.waits_for_search()):
            return
        self._request = None
        self._search_wait.stop()
        options = replace(self._options(), kind=request.kind)
        self.worker = worker = CameraWorker(request.source, request.model, options)
        worker.view_size = self.view.device_size()  # frames come scaled to it: the GUI thread only paints
        worker.opened.connect(self._on_opened)
        worker.frame_ready.connect(self._on_frame)
        worker.failed.connect(self._on_worker_message)
        worker.notice.connect(self._on_worker_message)
        worker.ended.connect(self._on_ended)
        worker.reconnecting.connect(self._on_reconnecting)
        worker.reconnected.connect(self._on_reconnected)
        worker.finished.connect(self._on_worker_finished)
        self._set_state(RUNNING)
        workers.start_thread(worker)
        if self.kind() != request.kind:  # chosen while the model loaded
            self._switch_kind()

    def _on_kind_changed(self) -> None:
        self._show_controls()
        if self._state == RUNNING:
            self._switch_kind()
        # STARTING: the worker starts with the kind asked for, then switches (_launch_if_ready)

    def _switch_kind(self) -> None:
        """Load what the tab is now set to find, in a job; the running worker takes it up."""
        kind, worker, detectors = self.kind(), self.worker, self.detectors
        workers.start_job(lambda: models.load(detectors, kind, live=True), name="model load", tag=(worker, kind),
                          succeeded=self._on_switch_loaded, errored=self._on_switch_failed)
        if not detectors.is_loaded(kind):
            self.status.emit(f"Loading the model for {LIVE_KINDS[kind]}…")

    def _switch_is_current(self, job: workers.Job) -> bool:
        worker, kind = job.tag
        return worker is self.worker and self._state == RUNNING and kind == self.kind()

    def _on_switch_loaded(self, job: workers.Job, model: Detector) -> None:
        if self._switch_is_current(job):
            self.worker.use(self._options(), model)
            self.message.hide()
            self.status.emit(f"Live: {LIVE_KINDS[self.kind()]}")

    def _on_switch_failed(self, job: workers.Job, message: str) -> None:
        if self._switch_is_current(job):  # the worker goes on with what it finds now, and says so
            self.kind_choice.blockSignals(True)
            self.set_kind(self.worker.options.kind)
            self.kind_choice.blockSignals(False)
            self._show_controls()
            self._show_error(*download_offer(job, message))

    def _on_opened(self, name: str) -> None:
        if self.sender() is self.worker and self._state == RUNNING:
            self.status.emit(f"Live: {name}")

    def _on_worker_message(self, text: str) -> None:
        if self._state == RUNNING:  # once Stop was pressed, a failing stream is no news
            self._show_error(text)

    def _on_reconnecting(self, seconds: int) -> None:
        if self.sender() is not self.worker or self._state != RUNNING:
            return
        source = self.worker.source
        name = f"Camera {source}" if isinstance(source, int) else f"The stream {describe_source(source)}"
        waiting = f"Reconnecting in {seconds} s…" if seconds else "Reconnecting…"
        self._show_message(f"{name} stopped sending pictures. {waiting}", error=False)

    def _on_reconnected(self, name: str) -> None:
        if self.sender() is self.worker and self._state == RUNNING:
            self.message.hide()
            self.status.emit(f"Reconnected: {name}")

    def _on_ended(self, text: str) -> None:
        if self._state == RUNNING:
            self._show_message(text, error=False)

    def _on_worker_finished(self) -> None:
        """The one cleanup path: back to Start (the registry deletes the QThread)."""
        if self.sender() is not self.worker:
            return
        stopped = self._state == STOPPING
        self.worker = None
        self.recording.set_worker(None)
        self._set_state(IDLE)
        if stopped:
            self.status.emit("Stopped.")

    def _set_state(self, state: str) -> None:
        was_active = self._state != IDLE
        self._state = state
        self._show_state()
        if was_active != (state != IDLE):
            self.running_changed.emit(state != IDLE)

    def _show_state(self) -> None:
        state = self._state
        self.toggle.setChecked(state != IDLE)
        self.toggle.setText({IDLE: "Start", STOPPING: "Stopping…"}.get(state, "Stop"))
        self.toggle.setEnabled(state != STOPPING)
        self.sources.set_changeable(state == IDLE)

    # --- frames --------------------------------------------------------------------------
    def _on_frame(self, image: QImage, detections, stats: dict, live: LiveFrame) -> None:
        if self.sender() is not self.worker or self._state != RUNNING:
            return  # a late frame from a worker asked to stop
        self.worker.view_size = self.view.device_size()  # for the next frame (the view may have changed)
        self.live_frame = live
        self._show(image, (live.hide, live.landmarks))
        self._unpainted = True
        self.snapshot_button.setEnabled(True)
        self.recording.set_worker(self.worker)  # from its first frame: its size and rate are known
        self._redraw_if_stale()  # drawn before a change of the settings reached the worker
        ms = {k: stats[k] * 1000 for k in ("capture", "inference", "drawing")}
        self.stats.setText(
            f"{stats['fps']:.1f} fps · capture {ms['capture']:.0f} ms · inference {ms['inference']:.0f} ms · "
            f"drawing {ms['drawing']:.0f} ms · {stats['dropped']} dropped · {live_counts(detections, stats['kind'])}")
        if not self.view.isVisible():
            self.worker.frame_consumed()  # nothing will paint: do not hold the worker

    def _on_painted(self) -> None:
        if self.worker is not None and self._unpainted:  # a redraw's paint is no frame consumed
            self._unpainted = False
            self.worker.frame_consumed()

    def _show(self, image: QImage, drawn_as: tuple[str, bool]) -> None:
        self.last_frame, self._shown_as = image, drawn_as
        self.view.set_image(image)

    def _drawing(self) -> tuple[str, bool]:
        """How frames are to be drawn now: (hide, landmarks)."""
        return self.view_options.hide, self.view_options.landmarks

    def _redraw_if_stale(self) -> None:
        """If the frame shown is not drawn as the settings now say, draw it again from its
        LiveFrame, in a job (a 4K frame takes a while); one at a time, and only its last
        request counts: a newer frame or another change of the settings drops its result."""
        live, drawing = self.live_frame, self._drawing()
        if live is None or self._redrawing is not None or self._shown_as == drawing:
            return
        size = self.view.device_size()
        self._redrawing = workers.start_job(lambda: view_image(live, *drawing, size), name="redraw",
                                            tag=(live, drawing), succeeded=self._on_redrawn,
                                            done=self._on_redraw_done)

    def _on_redrawn(self, job: workers.Job, image: QImage) -> None:
        live, drawing = job.tag
        if live is self.live_frame and drawing == self._drawing():
            self._show(image, drawing)

    def _on_redraw_done(self, job: workers.Job) -> None:
        if job is self._redrawing:
            self._redrawing = None
            self._redraw_if_stale()  # the settings (or the frame) changed while it drew

    def _options(self) -> LiveOptions:
        return LiveOptions(self.kind(), self.size_choice.currentData(), self.conf.value() / 100,
                           self.class_choice.currentData(), self.view_options.hide, self.view_options.landmarks,
                           self.loop_check.isChecked())

    def _apply_options(self) -> None:
        self.conf_label.setText(f"{self.conf.value() / 100:.2f}")
        if self.worker is not None:  # the worker's kind changes only with its model (_on_switch_loaded)
            self.worker.use(replace(self._options(), kind=self.worker.options.kind))
        self._redraw_if_stale()

    def _show_controls(self) -> None:
        """The YOLOv5 controls apply to Objects, and to the people of Faces + people (people
        only is implied there); Faces uses none of them. Hide faces needs faces."""
        kind = self.kind()
        offer_hiding(self.hide_choice, self.finds_faces())
        for control in (self.conf, self.conf_label, self.size_choice, self.class_choice):
            control.setEnabled(kind != "yunet" and not (control is self.class_choice and kind == "faces+people"))
            control.setToolTip(OBJECT_TIPS[kind])
        if kind == "faces+people":
            self.class_choice.setToolTip("Faces + people finds people only: choose Objects for all objects")
        self.snapshot_button.setToolTip(SNAPSHOT_TIPS[self.finds_faces()])
        self.finds_faces_changed.emit(self.finds_faces())

    def finds_faces(self) -> bool:
        """Whether what the tab is set to find includes faces (so Hide faces applies)."""
        return self.kind() != "yolov5"

    def snapshot(self) -> workers.Job | None:
        """Save the last frame, drawn as Hide faces and Show landmarks say now (whatever the
        view shows at this instant), at the camera's full resolution (not the view's), as a
        new JPEG in Pictures/lwface-desktop, in a job; snapshot_saved (and the status bar,
        with which faces were hidden, if any) says where."""
        live = self.live_frame
        if live is None:
            return None
        folder, (hide, landmarks) = snapshot_folder(), self._drawing()
        return workers.start_job(lambda: save_snapshot(live.render(hide, landmarks), folder), name="snapshot",
                                 tag=hidden_note(hide, live.detections + live.kept),
                                 succeeded=self._on_snapshot_saved, errored=self._on_snapshot_failed)

    def _on_snapshot_saved(self, job: workers.Job, path: Path) -> None:
        self.status.emit(f"Snapshot saved: {path}{job.tag}")
        self.snapshot_saved.emit(path)

    def _on_snapshot_failed(self, _job, message: str) -> None:
        self._show_error(message)

    def _show_error(self, text: str, action: str = "") -> None:
        self._show_message(text, error=True, action=action)

    def _show_message(self, text: str, error: bool, action: str = "") -> None:
        self.message.show_message(text, error, action)
        self.status.emit(text)


def live_counts(detections: list[Detection], kind: str) -> str:
    """What a live frame holds: '2 faces', '3 objects (2 × person, 1 × cup)', '2 faces, 1 person'."""
    if kind == "yolov5":
        return summary_text(detections, "object")
    labels = ("face", "person") if kind == "faces+people" else ("face",)
    counts = [sum(d.label == label for d in detections) for label in labels]
    return ", ".join(count_text(n, label) for n, label in zip(counts, labels, strict=True))
