"""The live tab's Record toggle (Ctrl+R) and its "● Recording 0:12": what is shown, to MP4 files
in Videos/lwface-desktop, through core.recording.

The Recorder encodes on its own QThread, registered with gui.workers, so closing the window
(and Ctrl+C or SIGTERM, which close it) finishes the file before the app goes. The camera
worker only hands frames to it (Recorder.add never waits). Stop only asks: the button says
"Saving…" until the thread's end, the one place that says where the file is; a new
recording waits for that, so two never race for one name. The elapsed time is counted on
the GUI thread by a QTimer.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QThread, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from lwface_desktop.core.recording import Recorder, RecordingResult
from lwface_desktop.gui import workers
from lwface_desktop.gui.banner import plain_label

TICK_MS = 250  # how often the elapsed time is redrawn (it shows whole seconds)
RECORD_TIP = "Record what is shown (boxes, hidden faces) to an MP4 in your Videos folder (Ctrl+R)"


def recording_folder() -> Path:
    from PySide6.QtCore import QStandardPaths

    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return Path(movies or Path.home()) / "lwface-desktop"


def duration_text(seconds: float) -> str:
    """0:07, 12:34, 1:02:03."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def saved_text(result: RecordingResult) -> str:
    """What the status bar says when a recording is complete."""
    length = duration_text(result.seconds)
    if not result.paths:
        return "Recording stopped before any frame: nothing was saved."
    if len(result.paths) == 1:
        return f"Recording saved: {result.paths[0]} ({length})"
    return f"Recording saved in {len(result.paths)} parts, {result.paths[0]} to {result.paths[-1].name} ({length})"


class RecordingThread(QThread):
    """Recorder.run() on its own thread. request_stop() (what the registry calls when the
    window closes) finishes the file; it never drops what is queued."""

    saved = Signal(object)  # the RecordingResult
    failed = Signal(str)    # a message for the user

    def __init__(self, recorder: Recorder, parent=None):
        super().__init__(parent)
        self.recorder = recorder

    def request_stop(self) -> None:
        self.recorder.finish()

    def run(self) -> None:
        try:
            result = self.recorder.run()
        except Exception as e:  # never lost on stderr, never a traceback in the user's face
            self.failed.emit(workers.message_for(e, "The recording stopped because of an error"))
        else:
            self.saved.emit(result)


class RecordControl(QWidget):
    """[Record] ● Recording 0:12. Enabled while a camera worker runs (set_worker)."""

    status = Signal(str)   # news for the status bar
    error = Signal(str)    # a problem for the tab's banner; the live view goes on
    saved = Signal(object)  # the RecordingResult of a recording complete

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.button = QPushButton("Record")
        self.button.setCheckable(True)
        self.button.setToolTip(RECORD_TIP)
        self.button.setEnabled(False)
        self.button.clicked.connect(self._on_clicked)
        self.elapsed = plain_label()
        self.elapsed.setStyleSheet("QLabel { color: #c62828; font-weight: bold; }")
        self.elapsed.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(self.elapsed)
        self._worker = None
        self._thread: RecordingThread | None = None  # recording, or saving what it recorded
        self._clock = QElapsedTimer()
        self._tick = QTimer(self, interval=TICK_MS)
        self._tick.timeout.connect(self._show_elapsed)

    def is_recording(self) -> bool:
        return self._thread is not None and not self._thread.recorder.finishing

    def set_worker(self, worker) -> None:
        """The camera worker whose frames are recorded (None: nothing runs; a recording stops)."""
        if worker is self._worker:
            return
        if self.is_recording():
            self.stop()
        self._worker = worker
        self._show_state()

    def toggle(self) -> None:
        if self.is_recording():
            self.stop()
        else:
            self.start()

    def _on_clicked(self, checked: bool) -> None:
        if checked:
            self.start()
        else:
            self.stop()

    def start(self) -> None:
        """Start a recording of the worker's frames; at once (the file is opened on its thread)."""
        if self._worker is None or self._thread is not None:
            self._show_state()
            return
        recorder = Recorder(recording_folder(), self._worker.recording_fps())
        self._thread = thread = RecordingThread(recorder)
        thread.saved.connect(self._on_saved)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_finished)
        workers.start_thread(thread)
        self._worker.recorder = recorder
        self._clock.start()
        self._tick.start()
        self._show_state()
        self.status.emit(f"Recording to {recorder.folder}…")

    def stop(self) -> None:
        """Stop recording: the file is completed on the recording's thread (saved says where)."""
        if not self.is_recording():
            return
        recorder = self._thread.recorder
        if self._worker is not None and self._worker.recorder is recorder:
            self._worker.recorder = None
        recorder.finish()
        self._tick.stop()
        self._show_state()

    def _on_saved(self, result: RecordingResult) -> None:
        if result.problem:
            self.error.emit(result.problem)
        self.status.emit(saved_text(result))
        self.saved.emit(result)

    def _on_failed(self, message: str) -> None:
        self.error.emit(message)

    def _on_finished(self) -> None:
        if self.sender() is not self._thread:
            return
        recorder = self._thread.recorder
        if self._worker is not None and self._worker.recorder is recorder:  # it failed while recording
            self._worker.recorder = None
        self._thread = None
        self._tick.stop()
        self._show_state()

    def _show_state(self) -> None:
        recording, saving = self.is_recording(), self._thread is not None and not self.is_recording()
        self.button.setChecked(recording)
        self.button.setText("Saving…" if saving else "Stop recording" if recording else "Record")
        self.button.setEnabled(self._worker is not None and not saving or recording)
        self.elapsed.setVisible(recording)
        self._show_elapsed()

    def _show_elapsed(self) -> None:
        if self.is_recording():
            self.elapsed.setText(f"● Recording {duration_text(self._clock.elapsed() / 1000)}")
