"""Retakes the README's screenshots: the real window, driven as a user would, each picture taken
once what it shows is on screen (waiting on the app's state, never on a clock).

    python docs/screenshots.py SHARED OUT_DIR [--no-model]

Run it on an X server (`make screenshot` starts Xvfb) with a fresh settings folder. SHARED is
../shared (its face photos and YOLOv5n). --no-model starts with no YOLOv5 model anywhere and takes
only the Download offer (with XDG_CACHE_HOME and LWFACE_WEIGHTS pointing nowhere).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from lwface_desktop.gui.app import create_app
from lwface_desktop.gui.main_window import MainWindow

WINDOW = (1280, 800)
POLL_MS = 50
GIVE_UP_MS = 180_000  # a shot that never gets there says which one, instead of hanging


def wait_until(what: str, ready: Callable[[], bool]) -> None:
    """Run the event loop until ready() (checked every POLL_MS); SystemExit naming what if never."""
    loop, waited = QEventLoop(), [0]

    def check() -> None:
        waited[0] += POLL_MS
        if ready() or waited[0] > GIVE_UP_MS:
            loop.quit()

    timer = QTimer(interval=POLL_MS, timeout=check)
    timer.start()
    loop.exec()
    timer.stop()
    if not ready():
        raise SystemExit(f"screenshots: gave up waiting for {what}")


def settle() -> None:
    """Let pending repaints and layouts happen before a picture is taken."""
    for _ in range(5):
        QApplication.processEvents()


def save(widget: QWidget, out: Path, name: str) -> None:
    settle()
    path = out / name
    widget.grab().save(str(path))
    print(f"saved {path}", flush=True)


def photo_shown(window: MainWindow, name: str) -> Callable[[], bool]:
    tab = window.image_tab
    return lambda: tab.result is not None and tab.result.path.name == name and not tab.is_busy()


def choose_in_strip(window: MainWindow, name: str) -> None:
    strip = window.image_tab.batch.strip
    strip.set_current([p.name for p in strip.photos()].index(name))
    wait_until(f"{name} shown", photo_shown(window, name))


def face_clip(photo: Path, folder: Path) -> Path:
    """A 6 s, 15 fps 960x600 clip panning slowly across photo: a stand-in for a webcam."""
    image = cv2.imread(str(photo))
    height = image.shape[0]
    width = round(height * 1.6)
    path = folder / "faces.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 15, (960, 600))
    for i in range(90):
        left = round((image.shape[1] - width) * (0.5 + 0.5 * np.sin(i / 30)))
        writer.write(cv2.resize(image[:, max(0, left):max(0, left) + width], (960, 600)))
    writer.release()
    return path


def image_tab_shots(window: MainWindow, shared: Path, out: Path) -> None:
    tab = window.image_tab
    window.view_options.set_landmarks(True)
    window.open_paths([str(shared / "faces")])
    wait_until("the folder counted", lambda: tab.batch.strip.photos() and not tab.batch.is_busy())
    choose_in_strip(window, "2008_002470.jpg")
    save(window, out, "image-tab-faces.png")

    tab.results.select(2)
    for _ in range(4):
        tab.view.zoom_in()
    tab.view.show_box(2)
    save(window, out, "image-tab-zoom.png")
    tab.results.select(None)
    tab.view.fit()

    window.view_options.set_hide("blur")
    wait_until("the faces blurred, in the strip too",
               lambda: tab.result.request.hide == "blur" and not tab.is_busy() and not tab.batch.is_busy())
    save(window, out, "image-tab-blurred.png")
    window.view_options.set_hide("off")
    window.view_options.set_landmarks(False)

    tab.set_kind("yolov5")
    choose_in_strip(window, "2008_002079.jpg")
    wait_until("objects found and counted",
               lambda: tab.result.request.kind == "yolov5" and not tab.is_busy() and not tab.batch.is_busy())
    save(window, out, "image-tab-objects.png")

    window.show_models()
    dialog = window.models_dialog
    wait_until("the models listed", dialog.looking.isHidden)
    save(dialog, out, "models-dialog.png")
    dialog.close()


def live_tab_shot(window: MainWindow, shared: Path, out: Path, videos: Path) -> None:
    from lwface_desktop.gui import recorder

    recorder.recording_folder = lambda: videos  # the shot's recording is not the user's
    tab = window.camera_tab
    window.tabs.setCurrentWidget(tab)
    tab.set_kind("yunet")
    window.view_options.set_hide("off")
    window.view_options.set_landmarks(True)
    tab.set_source(str(face_clip(shared / "faces" / "2007_007763.jpg", videos)))
    tab.loop_check.setChecked(True)
    tab.start()
    wait_until("live frames", lambda: tab.is_running() and tab.view.image() is not None)
    tab.recording.start()
    wait_until("two seconds recorded", lambda: "0:02" in tab.recording.elapsed.text())
    save(window, out, "live-tab-faces.png")
    tab.recording.stop()
    tab.stop()
    wait_until("the camera stopped", lambda: tab.state() == "idle")


def download_offer_shot(window: MainWindow, shared: Path, out: Path) -> None:
    tab = window.image_tab
    tab.view_options.set_hide("off")
    tab.set_kind("yolov5")
    window.open_path(shared / "faces" / "2008_002079.jpg")
    wait_until("the offer", lambda: not tab.message.isHidden() and not tab.is_busy())
    save(window, out, "download-offer.png")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("shared", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--no-model", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    shared = args.shared.resolve()
    app = create_app()
    weights = None if args.no_model else str(shared / "models" / "yolov5n.pt")
    if args.no_model:  # a checkout where `make package` has put a model in resources/ still has none
        from lwface_desktop.core import weights as model_files

        nowhere = Path(tempfile.mkdtemp())
        model_files.resource_path = lambda *parts: nowhere.joinpath(*parts)
    window = MainWindow(weights)
    window.resize(*WINDOW)
    window.show()
    wait_until("the window shown", window.isVisible)
    with tempfile.TemporaryDirectory() as scratch:
        if args.no_model:
            download_offer_shot(window, shared, args.out)
        else:
            image_tab_shots(window, shared, args.out)
            live_tab_shot(window, shared, args.out, Path(scratch))
        window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    sys.exit(main())
