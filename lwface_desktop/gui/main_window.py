"""The main window: tabs, menus, status bar, drag and drop, remembered settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QThreadPool
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QTabWidget

from lwface_desktop import __version__
from lwface_desktop.core.detectors import Detectors
from lwface_desktop.core.images import JPEG_SUFFIXES, unused_path
from lwface_desktop.gui.camera_tab import CameraTab
from lwface_desktop.gui.image_tab import ImageTab
from lwface_desktop.gui.jobs import Job

OPEN_FILTER = "JPEG photos (" + " ".join(f"*{s} *{s.upper()}" for s in JPEG_SUFFIXES) + ");;All files (*)"
SAVE_FILTER = "JPEG image (*.jpg);;PNG image (*.png)"
MODEL_FILTER = "YOLOv5 models (*.pt);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, weights: str | None = None):
        super().__init__()
        self.setWindowTitle("lwface-desktop")
        self.setAcceptDrops(True)  # the whole window takes a dropped photo
        self.settings = QSettings()
        # --weights wins over a model chosen earlier with File > Load model… (if still there)
        chosen = str(self.settings.value("model/weights", ""))
        self.detectors = Detectors(weights or (chosen if chosen and Path(chosen).is_file() else None))

        self.tabs = QTabWidget()
        self.image_tab = ImageTab(self.detectors)
        self.image_tab.set_kind(str(self.settings.value("detect/kind", "cascade")))
        self.image_tab.conf.setValue(float(self.settings.value("detect/conf", 0.25)))
        self.tabs.addTab(self.image_tab, "Open image")
        self.camera_tab = CameraTab(self.detectors)
        self.tabs.addTab(self.camera_tab, "Live camera")
        self.setCentralWidget(self.tabs)

        self.image_tab.status.connect(lambda text: self.statusBar().showMessage(text))
        self.camera_tab.status.connect(lambda text: self.statusBar().showMessage(text))
        self.image_tab.open_requested.connect(self.choose_photo)
        self.image_tab.save_requested.connect(self.choose_save_path)
        self._build_menus()
        self.statusBar().showMessage("Ready: drop a JPEG photo on the window, or press Ctrl+O")

        geometry = self.settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry()
            self.resize(min(1100, int(screen.width() * 0.85)), min(760, int(screen.height() * 0.85)))

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open, self.choose_photo)
        self.save_action = self._action(file_menu, "&Save annotated image…", QKeySequence.StandardKey.Save,
                                        self.choose_save_path)
        self.save_action.setEnabled(False)
        self.image_tab.result_changed.connect(self.save_action.setEnabled)
        self.image_tab.result_changed.connect(self.image_tab.save_button.setEnabled)
        file_menu.addSeparator()
        self._action(file_menu, "Load &model…", QKeySequence("Ctrl+M"), self.choose_model)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&About lwface-desktop", None, self._about)

    def _action(self, menu, text: str, shortcut, slot) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    # Opening: the menu, the button, a drop and the command line all end in open_path.
    def open_path(self, path: str | Path) -> None:
        path = Path(path)
        self.tabs.setCurrentWidget(self.image_tab)
        self.settings.setValue("files/last_folder", str(path.parent))
        self.image_tab.open_path(path)

    def choose_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", self._last_folder(), OPEN_FILTER)
        if path:
            self.open_path(path)

    def choose_save_path(self) -> None:
        result = self.image_tab.result
        if result is None:
            return
        folder = Path(self._last_folder())
        suggested = unused_path(folder, f"{result.path.stem}-{result.label}s", ".jpg")
        path, _ = QFileDialog.getSaveFileName(self, "Save annotated image", str(suggested), SAVE_FILTER)
        if path:
            if not Path(path).suffix:
                path += ".jpg"
            if self.image_tab.save_to(path):
                self.settings.setValue("files/last_folder", str(Path(path).parent))

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a YOLOv5 model", self._last_folder(), MODEL_FILTER)
        if path:
            self.load_model(path)

    def load_model(self, path: str | Path) -> None:
        """Load this YOLOv5 file in the background; once it works, Objects use it (remembered)."""
        previous, self.detectors.weights = self.detectors.weights, str(path)
        self._model_job = job = Job(lambda: self.detectors.get("yolov5"))  # kept until it reports
        job.signals.finished.connect(lambda model: self._on_model_loaded(Path(path), model))
        job.signals.errored.connect(lambda message: self._on_model_failed(previous, message))
        self.statusBar().showMessage(f"Loading {Path(path).name}…")
        QThreadPool.globalInstance().start(job)

    def _on_model_loaded(self, path: Path, model) -> None:
        self.settings.setValue("model/weights", str(path))
        changed = self.image_tab.kind() != "yolov5"
        self.image_tab.set_kind("yolov5")  # a change of detector re-runs detection by itself
        if self.image_tab.has_photo() and not changed:
            self.image_tab.rerun()
        self.statusBar().showMessage(f"Model {path.name} loaded: {len(model.names)} classes")

    def _on_model_failed(self, previous: str | None, message: str) -> None:
        self.detectors.weights = previous  # keep using the model that worked
        self.image_tab.show_error(message)

    def _last_folder(self) -> str:
        default = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        folder = str(self.settings.value("files/last_folder", default))
        return folder if Path(folder).is_dir() else str(Path.home())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not files:
            return
        event.acceptProposedAction()
        self.open_path(files[0])
        if len(files) > 1:
            self.statusBar().showMessage(f"{len(files)} files dropped: opening the first, {Path(files[0]).name}")

    def start_camera(self, source: int | str) -> None:
        """Open the Live camera tab on source and start it (`lwface-desktop --source`)."""
        self.tabs.setCurrentWidget(self.camera_tab)
        self.camera_tab.set_source(source)
        self.camera_tab.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.camera_tab.shutdown()  # release the camera before the window goes
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("detect/kind", self.image_tab.kind())
        self.settings.setValue("detect/conf", self.image_tab.conf.value())
        super().closeEvent(event)

    def _about(self) -> None:
        QMessageBox.about(self, "About lwface-desktop",
                          f"<b>lwface-desktop {__version__}</b><p>Finds faces in photos, offline, "
                          "with scikit-image's frontal-face cascade, and people and 79 other kinds "
                          "of objects with YOLOv5 (Ultralytics' weights, AGPL-3.0).</p>")
