"""Remembered settings (gui/settings.py): one default per setting, each tab its own."""

import pytest
from PySide6.QtCore import QSettings

from lwface_desktop.core.yunet import MIN_SCORE
from lwface_desktop.gui import settings
from lwface_desktop.gui.camera_worker import LiveOptions


def test_a_first_run_uses_the_one_score_default_of_each_kind_in_both_tabs(window):
    tab = window.image_tab
    assert tab.kind() == "yunet" and tab.conf.value() == settings.FACE_SCORE_DEFAULT == MIN_SCORE
    assert tab.score("yolov5") == settings.SCORE_DEFAULT
    tab.set_kind("yolov5")
    assert tab.conf.value() == settings.SCORE_DEFAULT
    assert window.camera_tab._options().conf == settings.SCORE_DEFAULT
    assert window.camera_tab.conf_label.text() == f"{settings.SCORE_DEFAULT:.2f}"
    assert window.camera_tab.kind() == "yunet"  # a face app: the live tab finds faces first
    assert window.view_options.hide == "off" and not window.view_options.landmarks


def test_the_camera_tab_remembers_its_choices(qtbot, window, make_window, clip):
    camera = window.camera_tab
    camera.set_kind("faces+people")
    camera.conf.setValue(40)
    camera.size_choice.setCurrentIndex(camera.size_choice.findData(640))
    camera.class_choice.setCurrentIndex(camera.class_choice.findData(True))
    camera.set_source(str(clip))
    window.close()
    second = make_window(first_run=False)  # kept in a variable: the window must outlive its tab
    again = second.camera_tab
    assert again._options() == LiveOptions("faces+people", 640, 0.4, True)
    assert again.chosen_source() == str(clip)  # no camera here, so the last video is the choice
    assert again.source_choice.currentText() == "Video: clip.avi"


def test_the_image_tab_remembers_its_choices(qtbot, window, make_window):
    tab = window.image_tab
    tab.conf.setValue(0.7)  # YuNet's
    tab.set_kind("yolov5")
    assert tab.conf.value() == settings.SCORE_DEFAULT  # the objects' score is another
    tab.conf.setValue(0.5)
    window.close()
    second = make_window(first_run=False)
    again = second.image_tab
    assert again.kind() == "yolov5" and again.conf.value() == 0.5
    assert again.score("yunet") == 0.7


def test_the_cascade_has_no_score_to_choose(window):
    tab = window.image_tab
    assert tab.conf.isEnabled()  # YuNet's
    tab.set_kind("cascade")
    assert not tab.conf.isEnabled() and tab.score() is None
    tab.set_kind("yunet")
    assert tab.conf.isEnabled() and tab.conf.value() == settings.FACE_SCORE_DEFAULT


def test_hide_faces_and_landmarks_are_one_setting_for_both_tabs_and_remembered(window, make_window):
    image_combo, camera_combo = window.image_tab.hide_choice, window.camera_tab.hide_choice
    assert [image_combo.itemText(i) for i in range(image_combo.count())] == ["Off", "Blur", "Pixelate",
                                                                           "Solid box"]
    image_combo.setCurrentIndex(image_combo.findData("pixelate"))
    image_combo.activated.emit(image_combo.currentIndex())  # as a user's choice arrives
    assert window.view_options.hide == "pixelate" and camera_combo.currentData() == "pixelate"
    [blur] = [a for a in window.hide_actions.actions() if a.data() == "blur"]
    blur.trigger()  # View › Hide faces › Blur
    assert image_combo.currentData() == camera_combo.currentData() == "blur" and blur.isChecked()
    window.landmarks_action.trigger()  # View › Show landmarks
    assert window.view_options.landmarks and window.camera_tab._options().landmarks
    window.close()
    second = make_window(first_run=False)
    assert second.view_options.hide == "blur" and second.view_options.landmarks
    assert second.image_tab.hide_choice.currentData() == "blur" and second.landmarks_action.isChecked()
    assert [a.data() for a in second.hide_actions.actions() if a.isChecked()] == ["blur"]


def test_a_stream_url_is_not_remembered(window, make_window):
    window.camera_tab.set_source("rtsp://user:secret@camera.local/stream")
    window.close()
    assert "secret" not in repr({key: QSettings().value(key) for key in QSettings().allKeys()})


@pytest.mark.parametrize("setting, stored", [
    (settings.CAMERA_SCORE, "banana"), (settings.CAMERA_SCORE, 7), (settings.CAMERA_SIZE, 512),
    (settings.CAMERA_PEOPLE_ONLY, "perhaps"), (settings.CAMERA_VIDEO, "/no/such/video.avi"),
    (settings.IMAGE_SCORE, "-1"), (settings.MODEL_WEIGHTS, "/no/such/model.pt"),
    (settings.IMAGE_FACE_SCORE, "1.5"), (settings.HIDE_FACES, "smudge"), (settings.SHOW_LANDMARKS, "maybe"),
    (settings.CAMERA_KIND, "cascade"), (settings.IMAGE_DETECTOR, "haar"),
])
def test_an_unusable_stored_value_reads_as_the_default(window, setting, stored):
    QSettings().setValue(setting.key, stored)
    assert settings.load(setting) == setting.default


def test_every_setting_has_its_own_key():
    assert len({s.key for s in settings.ALL}) == len(settings.ALL)
