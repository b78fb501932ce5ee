"""Remembered settings (gui/settings.py): one default per setting, each tab its own."""

import pytest
from PySide6.QtCore import QSettings

from lwface_desktop.gui import settings


def test_a_first_run_uses_the_one_score_default_in_both_tabs(window):
    assert window.image_tab.conf.value() == settings.SCORE_DEFAULT
    assert window.camera_tab._options()["conf"] == settings.SCORE_DEFAULT
    assert window.camera_tab.conf_label.text() == f"{settings.SCORE_DEFAULT:.2f}"


def test_the_camera_tab_remembers_its_choices(qtbot, window, make_window, clip):
    camera = window.camera_tab
    camera.conf.setValue(40)
    camera.size_choice.setCurrentIndex(camera.size_choice.findData(640))
    camera.class_choice.setCurrentIndex(camera.class_choice.findData(True))
    camera.set_source(str(clip))
    window.close()
    second = make_window(first_run=False)  # kept in a variable: the window must outlive its tab
    again = second.camera_tab
    assert again._options() == {"img_size": 640, "conf": 0.4, "people_only": True}
    assert again.chosen_source() == str(clip)  # no camera here, so the last video is the choice
    assert again.source_choice.currentText() == "Video: clip.avi"


def test_the_image_tab_remembers_its_choices(qtbot, window, make_window):
    window.image_tab.set_kind("yolov5")
    window.image_tab.conf.setValue(0.5)
    window.close()
    second = make_window(first_run=False)
    assert second.image_tab.kind() == "yolov5" and second.image_tab.conf.value() == 0.5


def test_a_stream_url_is_not_remembered(window, make_window):
    window.camera_tab.set_source("rtsp://user:secret@camera.local/stream")
    window.close()
    assert "secret" not in repr({key: QSettings().value(key) for key in QSettings().allKeys()})


@pytest.mark.parametrize("setting, stored", [
    (settings.CAMERA_SCORE, "banana"), (settings.CAMERA_SCORE, 7), (settings.CAMERA_SIZE, 512),
    (settings.CAMERA_PEOPLE_ONLY, "perhaps"), (settings.CAMERA_VIDEO, "/no/such/video.avi"),
    (settings.IMAGE_SCORE, "-1"), (settings.MODEL_WEIGHTS, "/no/such/model.pt"),
])
def test_an_unusable_stored_value_reads_as_the_default(window, setting, stored):
    QSettings().setValue(setting.key, stored)
    assert settings.load(setting) == setting.default


def test_every_setting_has_its_own_key():
    assert len({s.key for s in settings.ALL}) == len(settings.ALL)
