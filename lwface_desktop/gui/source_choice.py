"""Where the live tab's frames come from: a camera the search found, a video file, or a stream
URL. A combo and a URL field; the last video played is remembered (settings.CAMERA_VIDEO),
stream URLs never are (they often carry a password). Which kind of source was chosen is
remembered too (settings.CAMERA_SOURCE: "camera:1", "file" or "url"): a camera is chosen
again when the search finds it, the video at once, and for a stream the URL field comes
back empty, ready for the URL to be typed again."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLineEdit, QWidget

from lwface_desktop.gui import settings
from lwface_desktop.gui.banner import plain_label

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.webm *.mov *.m4v);;All files (*)"
FILE_ITEM, URL_ITEM = "file", "url"


class SourceChoice(QWidget):
    """"Source: [combo] [URL]". Cameras found are listed first; one is selected when found
    unless the user (or --source) has chosen a source in this session."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.video_path: str | None = None
        self.chosen = False  # by the user (or --source) in this session
        self.preferred_camera: int | None = None  # the camera chosen last time, selected if found
        self.combo = QComboBox()
        self.combo.setToolTip("A camera, a video file, or a network stream")
        self.combo.addItem("Video file…", FILE_ITEM)
        self.combo.addItem("Network stream (URL)", URL_ITEM)
        self.combo.activated.connect(self._on_activated)
        self.url = QLineEdit()
        self.url.setPlaceholderText("rtsp://… or http://…")
        self.url.setEnabled(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(plain_label("Source:"))
        row.addWidget(self.combo)
        row.addWidget(self.url, 1)
        video = settings.load(settings.CAMERA_VIDEO)
        if video:  # offered again, but a camera found at start is still the first choice
            self._set_video(video, chosen=False)
        self._restore(settings.load(settings.CAMERA_SOURCE))

    def _restore(self, remembered: str) -> None:
        if remembered.startswith("camera:"):
            self.preferred_camera = int(remembered.partition(":")[2])
        elif remembered == FILE_ITEM and self.video_path:
            self.chosen = True  # the video again, whatever cameras the search finds
        elif remembered == URL_ITEM:
            self.combo.setCurrentIndex(self.combo.findData(URL_ITEM))
            self.url.setEnabled(True)
            self.chosen = True

    def remembered(self) -> str:
        """What settings.CAMERA_SOURCE keeps of the source chosen: never a URL."""
        data = self.combo.currentData()
        if isinstance(data, int):
            return f"camera:{data}"
        return data if data == URL_ITEM or (data == FILE_ITEM and self.video_path) else ""

    def set_source(self, source: int | str) -> None:
        """Select a camera index, a video file or a URL (from --source or a test)."""
        self.chosen = True
        if isinstance(source, int) or str(source).isdigit():
            self.add_cameras([int(source)], select=False)
            self.combo.setCurrentIndex(self.combo.findData(int(source)))
        elif "://" in str(source):
            self.combo.setCurrentIndex(self.combo.findData(URL_ITEM))
            self.url.setText(str(source))
            self.url.setEnabled(self.combo.isEnabled())
        else:
            self._set_video(str(source))

    def source(self) -> int | str | None:
        """The camera index, video path or URL chosen; None if there is none yet."""
        data = self.combo.currentData()
        if data == URL_ITEM:
            return self.url.text().strip() or None
        if data == FILE_ITEM:
            return self.video_path
        return data

    def add_cameras(self, indices: list[int], select: bool) -> None:
        """Put found cameras at the top, in order; with select, the first, unless a source was chosen."""
        for index in sorted(indices):
            if self.combo.findData(index) < 0:
                cameras = [self.combo.itemData(i) for i in range(self.combo.count())]
                position = sum(isinstance(c, int) and c < index for c in cameras)
                self.combo.insertItem(position, f"Camera {index}", index)
        if indices and select and not self.chosen:
            camera = self.preferred_camera if self.preferred_camera in indices else min(indices)
            self.combo.setCurrentIndex(self.combo.findData(camera))
        if not indices and self.combo.findData(0) < 0:
            self.combo.setToolTip("No camera was found; choose a video file or a stream URL")

    def set_changeable(self, changeable: bool) -> None:
        """Only while nothing runs."""
        self.combo.setEnabled(changeable)
        self.url.setEnabled(changeable and self.combo.currentData() == URL_ITEM)

    def _on_activated(self) -> None:
        self.chosen = True
        data = self.combo.currentData()
        self.url.setEnabled(data == URL_ITEM)
        if data == FILE_ITEM:
            folder = str(Path(self.video_path).parent) if self.video_path else ""
            path, _ = QFileDialog.getOpenFileName(self, "Choose a video", folder, VIDEO_FILTER)
            if path:
                self._set_video(path)

    def _set_video(self, path: str, chosen: bool = True) -> None:
        self.video_path = path
        index = self.combo.findData(FILE_ITEM)
        self.combo.setItemText(index, f"Video: {Path(path).name}")
        self.combo.setCurrentIndex(index)
        if chosen:
            self.chosen = True
            settings.store(settings.CAMERA_VIDEO, path)
