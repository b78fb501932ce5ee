"""Hide faces and Show landmarks, as a user meets them: in the view, in the saved photo, in a
live snapshot. Saved files are read back: the face's pixels must differ from the plain drawing
(and from the photo), and far from the face they must be the plain drawing's."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from lwface_desktop.core.images import read_jpeg
from lwface_desktop.core.pipeline import annotate_photo, render
from lwface_desktop.gui import image_tab as image_tab_module
from tests.conftest import SHARED
from tests.gui.conftest import record_frames

TIMEOUT = 20_000
CROWD_PHOTO = SHARED / "faces" / "2008_004176.jpg"  # seven faces, some hard to find


def status(window) -> str:
    return window.statusBar().currentMessage()


def open_and_wait(qtbot, window, photo) -> None:
    window.open_path(photo)
    qtbot.waitUntil(lambda: window.image_tab.result is not None and not window.image_tab.is_busy(), timeout=TIMEOUT)


def count_detections(monkeypatch) -> list:
    """Every detection pass a photo job runs (a redraw runs none)."""
    passes = []
    configured = image_tab_module.configured
    monkeypatch.setattr(image_tab_module, "configured", lambda *args: passes.append(args[1]) or configured(*args))
    return passes


def face_and_far(image: np.ndarray, face) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the face's box, and of everything far from it (beyond its size again on each
    side, and the label above the box)."""
    x1, y1, x2, y2 = (round(v) for v in face.box)
    w, h = x2 - x1, y2 - y1
    inside = np.zeros(image.shape[:2], bool)
    inside[y1:y2, x1:x2] = True
    far = np.ones(image.shape[:2], bool)
    far[max(0, y1 - 2 * h):y2 + h, max(0, x1 - w):x2 + w] = False
    return inside, far


def difference(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """Mean absolute difference of two RGB images over a mask, in grey levels."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16))[where].mean())


def is_red(image: QImage, x: float, y: float) -> bool:
    c = image.pixelColor(round(x), round(y))
    return c.red() > 200 and c.green() < 80 and c.blue() < 80


@pytest.mark.parametrize("mode", ["blur", "pixelate", "box"])
def test_save_writes_the_faces_hidden_and_the_rest_as_drawn(qtbot, window, photos, tmp_path, mode):
    tab = window.image_tab
    open_and_wait(qtbot, window, photos["astronaut"])
    window.view_options.set_hide(mode)  # as View › Hide faces does
    qtbot.waitUntil(lambda: not tab.is_busy() and tab.result.request.hide == mode, timeout=TIMEOUT)
    assert status(window).endswith({"blur": "· faces blurred", "pixelate": "· faces pixelated",
                                    "box": "· faces boxed"}[mode])
    out = tmp_path / "astronaut-hidden.png"  # PNG: what is read back is exactly what was written
    with qtbot.waitSignal(tab.saved, timeout=TIMEOUT):
        tab.save_to(out)
    saved = np.asarray(Image.open(out).convert("RGB"))
    plain = annotate_photo(photos["astronaut"], tab.result.detections)  # boxes, nothing hidden
    original = read_jpeg(photos["astronaut"])
    [face] = tab.result.detections
    inside, far = face_and_far(saved, face)
    assert difference(saved, plain, inside) > 10 and difference(saved, original, inside) > 10
    assert np.array_equal(saved[far], plain[far])


def test_the_view_and_the_saved_name_follow_hide_faces(qtbot, window, photos, monkeypatch):
    tab = window.image_tab
    open_and_wait(qtbot, window, photos["astronaut"])
    plain = tab.view.image().copy()
    passes = count_detections(monkeypatch)
    window.view_options.set_hide("box")
    qtbot.waitUntil(lambda: tab.result.request.hide == "box" and not tab.is_busy(), timeout=TIMEOUT)
    [face] = tab.result.detections
    shown = tab.view.image()
    centre = shown.pixelColor(round((face.x1 + face.x2) / 2), round((face.y1 + face.y2) / 2))
    assert (centre.red(), centre.green(), centre.blue()) == (0, 0, 0)  # the solid box
    assert shown.pixelColor(5, 500) == plain.pixelColor(5, 500)  # far from the face, as before
    assert passes == []  # redrawn with the detections it had: nothing detected again


def test_a_change_of_hide_faces_during_detection_draws_what_that_detection_finds(qtbot, window, photos, gate,
                                                                               monkeypatch):
    tab = window.image_tab
    passes = count_detections(monkeypatch)
    monkeypatch.setattr(image_tab_module, "find_in_photo", gate.wrap(image_tab_module.find_in_photo))
    window.open_path(photos["astronaut"])
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)
    window.view_options.set_hide("blur")  # waits behind the detection, then only redraws
    gate.open()
    qtbot.waitUntil(lambda: tab.result is not None and tab.result.request.hide == "blur" and not tab.is_busy(),
                    timeout=TIMEOUT)
    assert passes == ["yunet"]  # one detection in all
    assert status(window).startswith("astronaut.jpg: 1 face found in ")


def test_show_landmarks_dots_the_face_and_toggles_back(qtbot, window, photos, monkeypatch):
    tab = window.image_tab
    open_and_wait(qtbot, window, photos["astronaut"])
    [face] = tab.result.detections
    assert len(face.landmarks) == 5
    assert not any(is_red(tab.view.image(), x, y) for x, y in face.landmarks)
    passes = count_detections(monkeypatch)
    window.landmarks_action.trigger()  # View › Show landmarks
    qtbot.waitUntil(lambda: tab.result.request.landmarks and not tab.is_busy(), timeout=TIMEOUT)
    assert all(is_red(tab.view.image(), x, y) for x, y in face.landmarks)
    window.landmarks_action.trigger()
    qtbot.waitUntil(lambda: not tab.result.request.landmarks and not tab.is_busy(), timeout=TIMEOUT)
    assert not any(is_red(tab.view.image(), x, y) for x, y in face.landmarks)
    assert passes == []


def test_the_face_score_chooses_which_faces_are_shown(qtbot, window):
    if not CROWD_PHOTO.is_file():
        pytest.skip(f"needs the dev set's {CROWD_PHOTO} (../shared/faces)")
    tab = window.image_tab
    open_and_wait(qtbot, window, CROWD_PHOTO)
    scores = sorted(d.score for d in tab.result.detections)
    assert len(scores) >= 5 and f"{len(scores)} faces found" in status(window)
    middle = round((scores[0] + scores[-1]) / 2, 2)  # some faces score below it, some above
    tab.conf.setValue(middle)  # one re-run after a short pause
    qtbot.waitUntil(lambda: tab.result.request.score == middle and not tab.is_busy(), timeout=TIMEOUT)
    kept = [d.score for d in tab.result.detections]
    assert 0 < len(kept) < len(scores) and min(kept) >= middle
    assert f"{len(kept)} face{'s' if len(kept) > 1 else ''} found" in status(window)


def first_frame_of(clip) -> np.ndarray:
    import cv2

    capture = cv2.VideoCapture(str(clip))
    ok, bgr = capture.read()
    capture.release()
    assert ok
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def test_a_snapshot_in_blur_mode_hides_the_face(qtbot, window, astronaut_clip, monkeypatch):
    camera = window.camera_tab  # finding faces, as on a first run
    window.view_options.set_hide("blur")
    frames = record_frames(monkeypatch)
    camera.set_source(str(astronaut_clip))
    camera.start()
    qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)
    with qtbot.waitSignal(camera.snapshot_saved, timeout=TIMEOUT) as saved:
        camera.snapshot()
    [(_, detections, _, _)] = [f for f in frames if f[3] is camera._last_annotated]
    [face] = detections
    snapshot = np.asarray(Image.open(saved.args[0]).convert("RGB"))
    frame = first_frame_of(astronaut_clip)  # every frame of the clip is this one
    plain = render(frame, detections)
    inside, far = face_and_far(snapshot, face)
    # A JPEG: far from the face it is the plain drawing but for the encoder's rounding.
    assert difference(snapshot, plain, inside) > 10 and difference(snapshot, frame, inside) > 10
    assert difference(snapshot, plain, far) < 3


def test_live_landmarks_follow_the_setting(qtbot, window, astronaut_clip, monkeypatch):
    camera = window.camera_tab
    frames = record_frames(monkeypatch)
    camera.set_source(str(astronaut_clip))
    camera.start()
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=TIMEOUT)

    def dotted(frame) -> bool:
        _, detections, _, annotated = frame
        image = QImage(annotated.data, annotated.shape[1], annotated.shape[0], annotated.strides[0],
                       QImage.Format.Format_RGB888)
        return all(is_red(image, x, y) for x, y in detections[0].landmarks)

    assert not dotted(frames[0])
    window.view_options.set_landmarks(True)
    qtbot.waitUntil(lambda: dotted(frames[-1]), timeout=TIMEOUT)


def test_after_a_photo_that_fails_hide_faces_redraws_the_one_shown(qtbot, window, photos, bad_files, monkeypatch):
    tab = window.image_tab
    open_and_wait(qtbot, window, photos["astronaut"])
    window.open_path(bad_files["truncated.jpg"])
    qtbot.waitUntil(lambda: tab.message.isVisible() and not tab.is_busy(), timeout=TIMEOUT)
    passes = count_detections(monkeypatch)
    window.view_options.set_hide("box")
    qtbot.waitUntil(lambda: tab.result.request.hide == "box" and not tab.is_busy(), timeout=TIMEOUT)
    assert tab.result.path == photos["astronaut"] and passes == []
    assert status(window).startswith("astronaut.jpg: 1 face found in ")


def test_hide_faces_is_offered_where_faces_are_found(window):
    image, camera = window.image_tab, window.camera_tab
    assert image.hide_choice.isEnabled() and camera.hide_choice.isEnabled()  # faces, on a first run
    image.set_kind("yolov5")
    camera.set_kind("yolov5")
    assert not image.hide_choice.isEnabled() and not camera.hide_choice.isEnabled()
    assert "finds no faces" in image.hide_choice.toolTip()
    camera.set_kind("faces+people")
    image.set_kind("cascade")
    assert image.hide_choice.isEnabled() and camera.hide_choice.isEnabled()
