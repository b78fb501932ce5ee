"""The live tab finding faces (YuNet, bundled), faces and people, and switching between them.

Faces mode needs no YOLOv5 model: these tests run on the bundled YuNet model and real photos
(the astronaut; the dev set's group photos where ../shared is there). Faces + people needs the
official YOLOv5 model, which finds the people.
"""

import subprocess
import sys

import cv2
import pytest

from lwface_desktop.core.detection import Detection
from lwface_desktop.gui import models
from lwface_desktop.gui.camera_tab import IDLE, RUNNING, STOPPING, live_counts
from tests.conftest import SHARED, WEIGHTS, needs_official_model, open_files
from tests.gui.conftest import record_frames, still_clip

TIMEOUT = 20_000
GROUP_PHOTO = SHARED / "faces" / "2008_002506.jpg"  # three people, faces 90-110 px wide


@pytest.fixture
def faces(window):
    """The live tab in its first-run mode: Faces."""
    window.tabs.setCurrentWidget(window.camera_tab)
    return window.camera_tab


@pytest.fixture(scope="session")
def group_clip(tmp_path_factory):
    if not GROUP_PHOTO.is_file():
        pytest.skip(f"needs the dev set's {GROUP_PHOTO} (../shared/faces)")
    photo = cv2.cvtColor(cv2.imread(str(GROUP_PHOTO)), cv2.COLOR_BGR2RGB)
    return still_clip(photo, tmp_path_factory.mktemp("video") / "group.avi")


def test_faces_mode_finds_the_face_without_yolov5(qtbot, faces, astronaut_clip, monkeypatch):
    frames = record_frames(monkeypatch)
    torch_imports = []
    monkeypatch.setattr(models, "import_torch", lambda: torch_imports.append("torch"))
    assert faces.kind() == "yunet"
    assert not faces.size_choice.isEnabled() and not faces.class_choice.isEnabled()  # YOLOv5's
    faces.set_source(str(astronaut_clip))
    faces.start()
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=TIMEOUT)
    image, detections, stats, _ = frames[0]
    assert [d.label for d in detections] == ["face"]
    x1, y1, x2, y2 = detections[0].box
    assert 150 < x1 < x2 < 400 and 20 < y1 < y2 < 250  # her face, in the 640 x 480 frame
    assert stats["kind"] == "yunet" and stats["img_size"] is None and not stats["people_only"]
    qtbot.waitUntil(lambda: faces.stats.text().endswith("dropped · 1 face"), timeout=TIMEOUT)
    assert "fps" in faces.stats.text() and "object" not in faces.stats.text()
    assert torch_imports == [] and faces.detectors._yolo is None  # no YOLOv5 at all


def test_several_faces_are_counted(qtbot, faces, group_clip, monkeypatch):
    frames = record_frames(monkeypatch)
    faces.set_source(str(group_clip))
    faces.start()
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=TIMEOUT)
    assert [d.label for d in frames[0][1]] == ["face"] * 3
    qtbot.waitUntil(lambda: faces.stats.text().endswith("· 3 faces"), timeout=TIMEOUT)


def test_stop_in_faces_mode_only_asks_and_the_worker_s_end_cleans_up(qtbot, faces, astronaut_clip, gui_waits):
    faces.set_source(str(astronaut_clip))
    faces.start()
    qtbot.waitUntil(lambda: faces.last_frame is not None, timeout=TIMEOUT)
    with gui_waits:
        faces.stop()
        assert faces.state() == STOPPING and faces.toggle.text() == "Stopping…"
        qtbot.waitUntil(lambda: faces.state() == IDLE, timeout=TIMEOUT)
    assert gui_waits.calls == []
    assert faces.worker is None and faces.toggle.text() == "Start"
    assert str(astronaut_clip) not in open_files()


def test_what_is_found_can_change_while_it_runs(qtbot, faces, astronaut_clip, random_weights, monkeypatch):
    faces.detectors.weights = str(random_weights)
    frames = record_frames(monkeypatch)
    faces.set_source(str(astronaut_clip))
    faces.start()
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=TIMEOUT)
    worker = faces.worker
    faces.set_kind("yolov5")  # loads YOLOv5 in a job; the video goes on meanwhile
    qtbot.waitUntil(lambda: frames[-1][2]["kind"] == "yolov5", timeout=TIMEOUT)
    assert frames[-1][2]["img_size"] == faces._options().img_size
    assert faces.size_choice.isEnabled() and faces.class_choice.isEnabled()
    faces.set_kind("yunet")
    qtbot.waitUntil(lambda: frames[-1][2]["kind"] == "yunet", timeout=TIMEOUT)
    assert [d.label for d in frames[-1][1]] == ["face"]
    assert faces.worker is worker and faces.state() == RUNNING  # the same run throughout


def test_a_model_that_fails_to_load_while_running_leaves_faces_running(qtbot, faces, astronaut_clip, bad_files,
                                                                       monkeypatch):
    faces.detectors.weights = str(bad_files["notes.jpg"])
    frames = record_frames(monkeypatch)
    faces.set_source(str(astronaut_clip))
    faces.start()
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=TIMEOUT)
    faces.set_kind("faces+people")
    qtbot.waitUntil(faces.message.isVisible, timeout=TIMEOUT)
    assert "notes.jpg is not a PyTorch model file" in faces.message.text()
    assert faces.kind() == "yunet" and faces.state() == RUNNING
    shown = len(frames)
    qtbot.waitUntil(lambda: len(frames) > shown, timeout=TIMEOUT)
    assert frames[-1][2]["kind"] == "yunet"


@needs_official_model
def test_faces_and_people_finds_both(qtbot, faces, astronaut_clip, monkeypatch):
    faces.detectors.weights = str(WEIGHTS)
    frames = record_frames(monkeypatch)
    faces.set_kind("faces+people")
    assert faces.size_choice.isEnabled() and not faces.class_choice.isEnabled()  # people are implied
    faces.set_source(str(astronaut_clip))
    faces.start()
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=TIMEOUT)
    _, detections, stats, _ = frames[0]
    assert sorted(d.label for d in detections) == ["face", "person"]
    assert stats["kind"] == "faces+people" and stats["people_only"]
    qtbot.waitUntil(lambda: faces.stats.text().endswith("· 1 face, 1 person"), timeout=TIMEOUT)


def test_the_live_counts_say_what_each_kind_finds():
    face, person, cup = (Detection(0, 0, 1, 1, 0.9, label) for label in ("face", "person", "cup"))
    assert live_counts([face, face], "yunet") == "2 faces"
    assert live_counts([], "yunet") == "no faces"
    assert live_counts([face, person, person], "faces+people") == "1 face, 2 people"
    assert live_counts([person], "faces+people") == "no faces, 1 person"
    assert live_counts([person, person, cup], "yolov5") == "3 objects (2 × person, 1 × cup)"


# The app in a child process, started on a clip in its first-run mode (Faces): once a frame is
# shown, it says whether torch was ever imported, and closes.
FAST_START_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from lwface_desktop.cli import main
from lwface_desktop.gui.app import create_app
from lwface_desktop.gui.main_window import MainWindow

def watch():
    [window] = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    def look():
        if window.camera_tab.last_frame is not None:
            print("torch" in sys.modules, "lwface_desktop.core.yolo" in sys.modules, flush=True)
            window.close()
        elif window.camera_tab.message.isVisible():
            print(window.camera_tab.message.text(), flush=True)
            window.close()
        else:
            QTimer.singleShot(20, look)
    look()

create_app()
QTimer.singleShot(0, watch)
sys.exit(main(["--source", sys.argv[1]]))
"""


def test_faces_mode_starts_without_importing_torch(astronaut_clip, tmp_path):
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", FAST_START_SCRIPT, str(astronaut_clip)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout == "False False\n"
