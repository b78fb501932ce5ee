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
from lwface_desktop.gui import models as models_module
from lwface_desktop.gui.camera_tab import IDLE
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
    load_for_photos = models_module.load_for_photos
    monkeypatch.setattr(models_module, "load_for_photos",
                        lambda *args: passes.append(args[1]) or load_for_photos(*args))
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
                                    "box": "· faces covered"}[mode])
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
    [(_, detections, _, _)] = [f for f in frames if f[3] is camera.live_frame]
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
        _, detections, _, live = frame
        annotated = live.drawn()
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


def as_array(image: QImage) -> np.ndarray:
    """A QImage (as the view shows it) as HxWx3 uint8 RGB."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def run_until_a_frame(qtbot, camera, clip, monkeypatch) -> list:
    """Start the camera tab on clip; the frames recorded (record_frames), once one is shown."""
    frames = record_frames(monkeypatch)
    camera.set_source(str(clip))
    camera.start()
    qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)
    return frames


def stop_and_wait(qtbot, camera) -> None:
    camera.stop()
    qtbot.waitUntil(lambda: camera.state() == IDLE, timeout=TIMEOUT)


def snapshot_of(qtbot, camera) -> np.ndarray:
    with qtbot.waitSignal(camera.snapshot_saved, timeout=TIMEOUT) as saved:
        camera.snapshot()
    return np.asarray(Image.open(saved.args[0]).convert("RGB"))


def assert_face_hidden(snapshot: np.ndarray, frame: np.ndarray, detections) -> None:
    """The face differs from the plain drawing of frame; far from it the snapshot is that drawing."""
    [face] = [d for d in detections if d.label == "face"]
    plain = render(frame, detections)
    inside, far = face_and_far(snapshot, face)
    assert difference(snapshot, plain, inside) > 10 and difference(snapshot, frame, inside) > 10
    assert difference(snapshot, plain, far) < 3  # a JPEG: but for the encoder's rounding


def test_hide_faces_turned_on_after_stop_reaches_the_view_and_the_snapshot(qtbot, window, astronaut_clip,
                                                                            monkeypatch):
    """Reviewer's scenario A: frames drawn with Hide faces off, Stop, then Blur, then Snapshot."""
    camera = window.camera_tab  # finding faces, as on a first run
    window.tabs.setCurrentWidget(camera)
    window.view_options.set_hide("off")
    frames = run_until_a_frame(qtbot, camera, astronaut_clip, monkeypatch)
    stop_and_wait(qtbot, camera)
    detections = frames[-1][1]  # every frame is the astronaut: the same face in each
    plain_view = as_array(camera.last_frame)
    window.view_options.set_hide("blur")  # no frame will come: the tab draws the last one again
    wait_until_the_view_hides(qtbot, camera, plain_view, detections)
    assert_face_hidden(snapshot_of(qtbot, camera), first_frame_of(astronaut_clip), detections)
    assert status(window).endswith("· faces blurred")


def wait_until_the_view_hides(qtbot, camera, plain_view: np.ndarray, detections) -> None:
    """Until the view shows the face changed from plain_view (the view's copy of the frame
    with the face in clear), and the rest as it was."""
    [face] = detections
    inside, far = face_and_far(plain_view, face.scaled(plain_view.shape[1] / 640))
    qtbot.waitUntil(lambda: difference(as_array(camera.last_frame), plain_view, inside) > 10, timeout=TIMEOUT)
    # Not exact: while running, a later frame shown can differ from plain_view everywhere by about
    # 2 levels (seen in 1 run in 4 on a busy machine, cause not found yet); a face left in clear
    # differs by far more than 3 inside, which the line above asserts.
    assert difference(as_array(camera.last_frame), plain_view, far) < 3
    assert camera.view.image() is camera.last_frame


def test_a_snapshot_taken_right_after_hide_faces_is_turned_on_hides_the_face(qtbot, window, astronaut_clip,
                                                                              monkeypatch):
    """Reviewer's scenario B: Blur chosen while running, Snapshot before the next frame."""
    camera = window.camera_tab
    window.view_options.set_hide("off")
    frames = run_until_a_frame(qtbot, camera, astronaut_clip, monkeypatch)
    plain_view = as_array(camera.last_frame)  # the face in clear
    window.view_options.set_hide("blur")
    snapshot = snapshot_of(qtbot, camera)  # asked for in the same GUI event as the change
    detections = frames[0][1]
    assert_face_hidden(snapshot, first_frame_of(astronaut_clip), detections)
    wait_until_the_view_hides(qtbot, camera, plain_view, detections)
    stop_and_wait(qtbot, camera)


def test_show_landmarks_after_stop_redraws_the_last_frame(qtbot, window, astronaut_clip, monkeypatch):
    camera = window.camera_tab
    frames = run_until_a_frame(qtbot, camera, astronaut_clip, monkeypatch)
    stop_and_wait(qtbot, camera)
    before = camera.last_frame
    [face] = frames[0][1]
    window.view_options.set_landmarks(True)
    qtbot.waitUntil(lambda: camera.last_frame is not before, timeout=TIMEOUT)
    scale = camera.last_frame.width() / 640
    assert all(is_red(camera.last_frame, x * scale, y * scale) for x, y in face.landmarks)


def test_a_face_missed_in_the_last_frame_is_still_hidden_when_hiding_comes_on_later(qtbot, window, astronaut_clip,
                                                                                   monkeypatch):
    """The face was seen in an earlier frame while Hide faces was off, and the detector
    missed it in the last one: turned on after Stop, hiding covers it where it was."""
    from lwface_desktop.core.detection import Detector
    from lwface_desktop.core.detectors import Detectors

    class FaceOnce(Detector):  # YuNet's faces in the first frame only
        label = "face"

        def __init__(self, model):
            self.model, self.calls = model, 0

        def detect(self, frame):
            self.calls += 1
            return self.model.detect(frame) if self.calls == 1 else []

    camera = window.camera_tab
    window.view_options.set_hide("off")
    real_get = Detectors.get
    monkeypatch.setattr(Detectors, "get", lambda self, kind, live=False: FaceOnce(real_get(self, kind, live)))
    frames = run_until_a_frame(qtbot, camera, astronaut_clip, monkeypatch)
    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=TIMEOUT)
    stop_and_wait(qtbot, camera)
    [face] = frames[0][1]
    assert frames[-1][1] == []  # the last frame shown: the face missed
    window.view_options.set_hide("box")
    snapshot = snapshot_of(qtbot, camera)
    centre = snapshot[round((face.y1 + face.y2) / 2), round((face.x1 + face.x2) / 2)]
    assert centre.max() < 30  # under the solid box (a JPEG: nearly black)


def test_in_objects_mode_hide_faces_does_not_claim_to_apply(qtbot, window, random_weights, astronaut_clip,
                                                            monkeypatch):
    from lwface_desktop.gui.view_options import NO_FACES_TIP

    window.detectors.weights = str(random_weights)
    camera = window.camera_tab
    window.tabs.setCurrentWidget(camera)
    window.view_options.set_hide("blur")
    assert all(a.isEnabled() for a in window.hide_actions.actions())  # Faces: it applies
    camera.set_kind("yolov5")
    assert not any(a.isEnabled() for a in window.hide_actions.actions())
    assert all(a.toolTip() == a.statusTip() == NO_FACES_TIP for a in window.hide_actions.actions())
    assert "none are hidden" in camera.snapshot_button.toolTip()
    frames = run_until_a_frame(qtbot, camera, astronaut_clip, monkeypatch)
    snapshot_of(qtbot, camera)
    assert "faces" not in status(window)  # "Snapshot saved: …", nothing said hidden
    assert not any(d.label == "face" for d in frames[0][1])
    stop_and_wait(qtbot, camera)


def test_view_hide_faces_applies_while_the_tab_shown_finds_faces(window):
    from lwface_desktop.gui.view_options import HIDE_TIP

    def offered() -> bool:
        states = {a.isEnabled() for a in window.hide_actions.actions()}
        assert len(states) == 1
        return states.pop()

    image, camera = window.image_tab, window.camera_tab
    window.tabs.setCurrentWidget(image)
    assert offered() and window.hide_actions.actions()[0].toolTip() == HIDE_TIP
    image.set_kind("yolov5")
    assert not offered()
    window.tabs.setCurrentWidget(camera)  # still finding faces there
    assert offered()
    camera.set_kind("yolov5")
    assert not offered()
    camera.set_kind("faces+people")
    assert offered()
    window.tabs.setCurrentWidget(image)
    assert not offered()
    image.set_kind("cascade")
    assert offered()


def suggested_save_name(window, monkeypatch) -> str:
    """The name File › Save suggests for the photo shown (the dialog answers Cancel)."""
    from lwface_desktop.gui import main_window

    names = []

    class Dialog:
        def __init__(self, parent, path):
            names.append(path.name)

        def exec(self) -> bool:
            return False

    monkeypatch.setattr(main_window, "SaveDialog", Dialog)
    window.choose_save_path()
    [name] = names
    return name


def test_the_suggested_name_says_what_the_save_hides(qtbot, window, photos, random_weights, monkeypatch):
    tab = window.image_tab
    window.view_options.set_hide("blur")
    open_and_wait(qtbot, window, photos["astronaut"])
    assert suggested_save_name(window, monkeypatch) == "astronaut-blurred.jpg"  # her face is hidden
    window.view_options.set_hide("off")
    assert suggested_save_name(window, monkeypatch) == "astronaut-faces.jpg"
    window.view_options.set_hide("box")
    open_and_wait(qtbot, window, photos["coffee"])  # no face in it
    assert tab.result.detections == [] and suggested_save_name(window, monkeypatch) == "coffee-faces.jpg"
    window.detectors.weights = str(random_weights)
    tab.set_kind("yolov5")  # Objects: no face is found, so none is hidden
    qtbot.waitUntil(lambda: tab.result.request.kind == "yolov5" and not tab.is_busy(), timeout=60_000)
    assert suggested_save_name(window, monkeypatch) == "coffee-objects.jpg"
    window.open_path(photos["astronaut"])
    qtbot.waitUntil(lambda: tab.result.path == photos["astronaut"] and not tab.is_busy(), timeout=60_000)
    assert suggested_save_name(window, monkeypatch) == "astronaut-objects.jpg"
