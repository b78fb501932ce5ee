"""The live tab remembers its source (a camera, the video, or that a stream was chosen, never
its URL) and Loop, like its other options (test_settings.py)."""

from PySide6.QtCore import QSettings

from lwface_desktop.gui import settings
from lwface_desktop.gui.source_choice import URL_ITEM, SourceChoice


def test_a_video_and_loop_are_remembered_and_the_video_stays_chosen_when_a_camera_is_found(window, make_window,
                                                                                          clip):
    window.camera_tab.set_source(str(clip))
    window.camera_tab.loop_check.setChecked(True)
    window.close()
    second = make_window(first_run=False)  # kept: the window must outlive its tab
    again = second.camera_tab
    assert again.chosen_source() == str(clip) and again.loop_check.isChecked() and again._options().loop
    again.sources.add_cameras([0], select=True)  # what the camera search does when it finds one
    assert again.chosen_source() == str(clip)


def test_a_stream_is_remembered_without_its_url(window, make_window):
    url = "rtsp://admin:hunter2@cam.local/live?token=abc"
    window.camera_tab.set_source(url)
    window.close()
    stored = open(QSettings().fileName(), encoding="utf-8").read()
    assert "hunter2" not in stored and "cam.local" not in stored and "rtsp" not in stored
    second = make_window(first_run=False)  # kept: the window must outlive its tab
    again = second.camera_tab
    assert again.source_choice.currentData() == URL_ITEM and again.sources.url.text() == ""
    assert again.sources.url.isEnabled()  # ready for the URL to be typed again
    again.sources.add_cameras([0], select=True)
    assert again.source_choice.currentData() == URL_ITEM  # a camera found does not replace the choice
    again.start()
    assert again.message.text() == "Choose a camera, a video file or type a stream URL first."


def test_a_camera_is_chosen_again_when_the_search_finds_it(window, make_window):
    window.camera_tab.sources.add_cameras([0, 2], select=True)
    window.camera_tab.set_source(2)
    window.close()
    assert settings.load(settings.CAMERA_SOURCE) == "camera:2"
    second = make_window(first_run=False)  # kept: the window must outlive its tab
    again = second.camera_tab
    again.sources.add_cameras([0, 2], select=True)
    assert again.chosen_source() == 2


def test_a_remembered_camera_that_is_not_found_gives_way_to_the_first_found(window):
    settings.store(settings.CAMERA_SOURCE, "camera:5")
    choice = SourceChoice()
    choice.add_cameras([1, 3], select=True)
    assert choice.source() == 1 and choice.remembered() == "camera:1"


def test_a_damaged_remembered_source_is_ignored(window):
    for value in ("camera:x", "http://cam/live", "Video: clip.avi", 7):
        settings.store(settings.CAMERA_SOURCE, value)
        assert settings.load(settings.CAMERA_SOURCE) == ""
