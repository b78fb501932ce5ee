"""How long the GUI thread stalls around Start and Stop of the live tab.

A 5 ms QTimer heartbeat on the GUI thread records how late each tick comes: the lateness is
time the GUI thread could not run (a click or a repaint would have waited as long). Three
scenarios, each Start then Stop after a varying delay, then waiting until every worker ended:

- cold_start: the first Start of the session, which imports torch (once; the import of a large
  C extension holds the GIL, so this is a one-off stall no thread can avoid);
- load: the model not loaded yet (a fresh Detectors each time): Stop lands during the load
  (or, for the longer delays, just after it, while the capture opens or runs);
- open: the model loaded: Stop lands while the worker opens the video or on its first frames;
- stuck_stream: a stream server that accepts the connection and never answers, so the capture
  open hangs until OpenCV's 5 s timeout; Stop during it shows "Stopping…" until then;
- live_4k: a 3840 x 2160 video running for LIVE_4K_MS: the worker scales each frame to the
  view, so the GUI thread only paints (smooth-scaling 4K frames there stalled it 39-70 ms each);
- live_faces: the 640 x 480 clip in Faces mode (YuNet, no YOLOv5) for LIVE_4K_MS, faces blurred
  and landmarks shown: a frame every ~33 ms for the GUI thread to paint.

The other scenarios find objects (YOLOv5): the model loads are what they measure.

Also the time the start() and stop() calls themselves take.

    python -m benchmarks.gui_stall WEIGHTS [REPS]      # prints one JSON line, times in ms
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402

from benchmarks.clips import write_clip  # noqa: E402
from lwface_desktop.core.detectors import Detectors  # noqa: E402
from lwface_desktop.gui import workers  # noqa: E402
from lwface_desktop.gui.app import create_app  # noqa: E402
from lwface_desktop.gui.camera_tab import IDLE  # noqa: E402
from lwface_desktop.gui.main_window import MainWindow  # noqa: E402

HEARTBEAT_MS = 5
TARGET_MS = 50
LOAD_DELAYS_MS = (0, 20, 50, 100, 150, 200, 300, 400, 600)
OPEN_DELAYS_MS = (0, 1, 2, 5, 10, 20, 40, 80)
LIVE_4K_MS = 3000


def write_4k_clip(path: str, frames: int = 60, fps: int = 15) -> None:
    """A 3840 x 2160 MJPG clip of the astronaut (a 4K camera's frame size)."""
    import cv2
    from skimage import data

    frame = cv2.cvtColor(cv2.resize(data.astronaut(), (3840, 2160)), cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (3840, 2160))
    for _ in range(frames):
        writer.write(frame)
    writer.release()


class Heartbeat:
    """Lateness of each tick of a HEARTBEAT_MS timer, while recording."""

    def __init__(self):
        self.lateness: dict[str, list[float]] = {}
        self.scenario: str | None = None
        self._last = time.perf_counter()
        self._timer = QTimer(interval=HEARTBEAT_MS, timerType=Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._beat)
        self._timer.start()

    def _beat(self) -> None:
        now = time.perf_counter()
        if self.scenario is not None:
            self.lateness.setdefault(self.scenario, []).append(max(0.0, now - self._last - HEARTBEAT_MS / 1000))
        self._last = now

    def record(self, scenario: str | None) -> None:
        self.scenario = scenario
        self._last = time.perf_counter()


def spin(ms: float) -> None:
    """Run the event loop for ms (the heartbeat keeps ticking)."""
    loop = QEventLoop()
    QTimer.singleShot(max(0, round(ms)), loop.quit)
    loop.exec()


def wait_until(predicate, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the camera tab did not come back to Start")
        spin(2)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def silent_stream_server() -> str:
    """An HTTP 'stream' that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []

    def accept():
        while True:
            held.append(server.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}/live.mjpg"


def run(weights: str, reps: int) -> dict:
    load_average = [round(x, 2) for x in os.getloadavg()]
    app = create_app()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # never the user's own settings
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    window = MainWindow(weights)
    window.show()
    tab = window.camera_tab
    window.tabs.setCurrentWidget(tab)  # as the user sees it: frames are painted
    tab.set_kind("yolov5")
    heart = Heartbeat()
    calls: dict[str, dict[str, list[float]]] = {}
    clip = str(Path(tempfile.mkdtemp()) / "clip.avi")
    write_clip(clip, 20, 30)
    wait_until(lambda: not workers.live_workers())  # the camera search at start-up
    spin(200)

    def cycle(scenario: str, source: str, delay_ms: float) -> None:
        tab.set_source(source)
        heart.record(scenario)
        timings = calls.setdefault(scenario, {"start": [], "stop": [], "stop_to_idle": []})
        timings["start"].append(timed(tab.start))
        spin(delay_ms)
        stopped = time.perf_counter()
        timings["stop"].append(timed(tab.stop))
        wait_until(lambda: tab.state() == IDLE and not workers.live_workers())
        timings["stop_to_idle"].append(time.perf_counter() - stopped)
        heart.record(None)
        spin(20)

    tab.detectors = Detectors(weights)
    cycle("cold_start", clip, 1000)
    for i in range(reps):
        tab.detectors = Detectors(weights)  # not loaded: Start loads it again
        cycle("load", clip, LOAD_DELAYS_MS[i % len(LOAD_DELAYS_MS)])
    tab.detectors = window.detectors
    tab.detectors.get("yolov5")
    for i in range(reps):
        cycle("open", clip, OPEN_DELAYS_MS[i % len(OPEN_DELAYS_MS)])
    clip_4k = str(Path(tempfile.mkdtemp()) / "clip-4k.avi")
    write_4k_clip(clip_4k)
    for _ in range(2):
        cycle("live_4k", clip_4k, LIVE_4K_MS)
    tab.set_kind("yunet")
    window.view_options.set_hide("blur")
    window.view_options.set_landmarks(True)
    for _ in range(2):
        cycle("live_faces", clip, LIVE_4K_MS)
    tab.set_kind("yolov5")
    stream = silent_stream_server()
    for _ in range(3):  # each takes OpenCV's 5 s open timeout
        cycle("stuck_stream", stream, 100)
    window.close()
    app.processEvents()

    result: dict = {"reps": reps, "heartbeat_ms": HEARTBEAT_MS, "target_ms": TARGET_MS,
                    "load_average_before": load_average}  # other programs' share of the CPUs
    for scenario, late in heart.lateness.items():
        late = sorted(late)
        timings = calls[scenario]
        result[scenario] = {
            "max_stall_ms": round(late[-1] * 1000, 1),
            "p99_stall_ms": round(late[int(len(late) * 0.99)] * 1000, 1),
            "median_stall_ms": round(late[len(late) // 2] * 1000, 2),
            "ticks": len(late),
            "start_call_max_ms": round(max(timings["start"]) * 1000, 2),
            "stop_call_max_ms": round(max(timings["stop"]) * 1000, 2),
            "stop_to_idle_max_ms": round(max(timings["stop_to_idle"]) * 1000, 1),
        }
    warm = sorted(x for scenario, late in heart.lateness.items() if scenario != "cold_start" for x in late)
    result["max_stall_ms_after_cold_start"] = round(warm[-1] * 1000, 1)
    result["p99_stall_ms_after_cold_start"] = round(warm[int(len(warm) * 0.99)] * 1000, 1)
    return result


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(json.dumps(run(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 27)))
