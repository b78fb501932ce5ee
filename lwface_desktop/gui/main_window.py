"""The main window: tabs, menus, status bar, drag and drop; its own remembered settings
(geometry, last folder, model). Closing asks every worker to stop and awaits them, bounded."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QLineEdit, QMainWindow, QMessageBox, QTabWidget

from lwface_desktop import __version__
from lwface_desktop.core.detectors import Detectors
from lwface_desktop.core.export import exported_name
from lwface_desktop.core.images import JPEG_SUFFIXES, unused_path
from lwface_desktop.core.resources import resource_path
from lwface_desktop.gui import models, settings, workers
from lwface_desktop.gui.camera_tab import CameraTab
from lwface_desktop.gui.image_tab import ImageTab
from lwface_desktop.gui.model_download import ModelDownload
from lwface_desktop.gui.models_dialog import ModelsDialog
from lwface_desktop.gui.photo_view import add_zoom_actions
from lwface_desktop.gui.view_options import ViewOptions, offer_hiding_in_menu

OPEN_FILTER = "JPEG photos (" + " ".join(f"*{s} *{s.upper()}" for s in JPEG_SUFFIXES) + ");;All files (*)"
SAVE_FILTERS = {"JPEG image (*.jpg)": "jpg", "PNG image (*.png)": "png"}  # filter -> its suffix
MODEL_FILTER = "YOLOv5 models (*.pt);;All files (*)"
CLOSE_WAIT_MS = 5000  # a stuck network read cannot hold the window longer; it ends in the background
log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, weights: str | None = None):
        super().__init__()
        self.setWindowTitle("lwface-desktop")
        self.setAcceptDrops(True)  # the whole window takes a dropped photo
        # --weights wins over a model chosen earlier with File > Load model… (if still there)
        self.detectors = Detectors(weights or settings.load(settings.MODEL_WEIGHTS) or None)
        self._model_request = 0  # only the newest File > Load model… counts

        self.view_options = ViewOptions(self)  # Hide faces and Show landmarks, for both tabs
        self.tabs = QTabWidget()
        self.image_tab = ImageTab(self.detectors, self.view_options)  # each tab restores its own settings
        self.tabs.addTab(self.image_tab, "Open image")
        self.camera_tab = CameraTab(self.detectors, self.view_options)
        self.tabs.addTab(self.camera_tab, "Live camera")
        self.setCentralWidget(self.tabs)

        self.image_tab.status.connect(self.statusBar().showMessage)
        self.camera_tab.status.connect(self.statusBar().showMessage)
        self.image_tab.open_requested.connect(self.choose_photo)
        self.image_tab.save_requested.connect(self.choose_save_path)
        self.image_tab.saved.connect(self._remember_folder)
        self.model_download = ModelDownload(self)  # the tabs' banners offer it when no YOLOv5 model is found
        for banner in (self.image_tab.message, self.camera_tab.message):
            self.model_download.serve(banner)
        self.model_download.downloaded.connect(self.load_model)
        self.model_download.status.connect(self.statusBar().showMessage)
        self.models_dialog: ModelsDialog | None = None
        self._build_menus()
        self.statusBar().showMessage("Ready: drop a JPEG photo on the window, or press Ctrl+O")

        geometry = settings.load(settings.WINDOW_GEOMETRY)
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry()
            self.resize(min(1100, int(screen.width() * 0.85)), min(760, int(screen.height() * 0.85)))

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open, self.choose_photo)
        self._action(file_menu, "Open &folder…", QKeySequence("Ctrl+Shift+O"), self.choose_folder)
        self.export_action = self._action(file_menu, "&Export all…", QKeySequence("Ctrl+E"), self.choose_export_folder)
        self.export_action.setEnabled(False)
        self.image_tab.batch.list_changed.connect(self.export_action.setEnabled)
        self.image_tab.batch.strip.export_requested.connect(self.choose_export_folder)
        self.save_action = self._action(file_menu, "&Save annotated image…", QKeySequence.StandardKey.Save,
                                        self.choose_save_path)
        self.save_action.setEnabled(False)
        self.image_tab.result_changed.connect(self.save_action.setEnabled)
        self.image_tab.result_changed.connect(self.image_tab.save_button.setEnabled)
        file_menu.addSeparator()
        self._action(file_menu, "Load &model…", QKeySequence("Ctrl+M"), self.choose_model)
        self._action(file_menu, "Mo&dels…", QKeySequence("Ctrl+Shift+M"), self.show_models)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        view_menu = self.menuBar().addMenu("&View")
        self.hide_actions, self.landmarks_action = self.view_options.add_to_menu(view_menu)
        for changed in (self.tabs.currentChanged, self.image_tab.finds_faces_changed,
                        self.camera_tab.finds_faces_changed):
            changed.connect(self._offer_hiding)
        self._offer_hiding()
        view_menu.addSeparator()
        self.photo_actions = [*add_zoom_actions(view_menu, self.image_tab.view),
                              self.image_tab.pane.add_toggle_to(view_menu)]
        self.tabs.currentChanged.connect(self._offer_photo_actions)
        help_menu = self.menuBar().addMenu("&Help")
        self.self_test_action = self._action(help_menu, "Run the &self-test", None, self.run_self_test)
        self._action(help_menu, "&About lwface-desktop", None, self._about)

    def _offer_hiding(self) -> None:
        """View › Hide faces applies while the tab shown finds faces; else it says why not."""
        offer_hiding_in_menu(self.hide_actions, self.tabs.currentWidget().finds_faces())

    def _offer_photo_actions(self) -> None:
        """Zoom and the results panel are the Open image tab's: its keys do nothing on the other."""
        for action in self.photo_actions:
            action.setEnabled(self.tabs.currentWidget() is self.image_tab)

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
        self._remember_folder(path)
        self.image_tab.batch.opened_alone(path)  # the newest open wins over a folder still being listed
        self.image_tab.open_path(path)

    def open_paths(self, paths: list[str]) -> None:
        """One photo opens as before; several, or a folder, become the strip's list (photo_batch)."""
        if len(paths) == 1 and not Path(paths[0]).is_dir():
            self.open_path(paths[0])
            return
        first = Path(paths[0])
        self.tabs.setCurrentWidget(self.image_tab)
        settings.store(settings.LAST_FOLDER, str(first if first.is_dir() else first.parent))
        self.image_tab.batch.open_paths(paths)

    def choose_photo(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open photos", self._last_folder(), OPEN_FILTER)
        if paths:
            self.open_paths(paths)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of photos", self._last_folder())
        if folder:
            self.open_paths([folder])

    def choose_export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export all photos into…",
                                                  settings.load(settings.EXPORT_FOLDER) or self._last_folder())
        if folder:
            settings.store(settings.EXPORT_FOLDER, folder)
            self.image_tab.batch.export_to(folder)

    def choose_save_path(self) -> None:
        result = self.image_tab.result
        if result is None:
            return
        folder = Path(self._last_folder())
        # As Export all names it: astronaut-blurred.jpg where faces are hidden, else astronaut-faces.jpg.
        name = exported_name(result.path, result.label, self.view_options.hide, result.detections)
        dialog = SaveDialog(self, unused_path(folder, name, ".jpg"))
        if dialog.exec() and dialog.selectedFiles():
            self.image_tab.save_to(dialog.selectedFiles()[0])  # in a job; the folder is remembered once saved

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a YOLOv5 model", self._last_folder(), MODEL_FILTER)
        if path:
            self.load_model(path)

    def show_models(self) -> None:
        """File › Models…: one window, listed anew each time it is asked for."""
        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(self.detectors, self.model_download, self)
        else:
            self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.raise_()

    def load_model(self, path: str | Path) -> None:
        """Load this YOLOv5 file in the background; once it works, Objects use it (remembered)."""
        previous, self.detectors.weights = self.detectors.weights, str(path)
        self._model_request += 1
        detectors = self.detectors
        workers.start_job(lambda: models.load(detectors, "yolov5"), name="model load",
                          tag=(self._model_request, Path(path), previous),
                          succeeded=self._on_model_loaded, errored=self._on_model_failed)
        self.statusBar().showMessage(f"Loading {Path(path).name}…")

    def _on_model_loaded(self, job: workers.Job, model) -> None:
        request, path, _ = job.tag
        if request != self._model_request:
            return  # another model was asked for meanwhile
        settings.store(settings.MODEL_WEIGHTS, str(path))
        changed = self.image_tab.kind() != "yolov5"
        self.image_tab.set_kind("yolov5")  # a change of detector re-runs detection by itself
        if self.image_tab.has_photo() and not changed:
            self.image_tab.rerun()
        self.statusBar().showMessage(f"Model {path.name} loaded: {len(model.names)} classes")
        self.model_download.model_loaded(path, len(model.names))  # a download's banner says it is in use
        if self.models_dialog is not None:
            self.models_dialog.refresh()

    def _on_model_failed(self, job: workers.Job, message: str) -> None:
        request, _, previous = job.tag
        if request != self._model_request:
            return
        self.detectors.weights = previous  # keep using the model that worked
        self.image_tab.show_error(message)

    def _remember_folder(self, path: Path) -> None:
        settings.store(settings.LAST_FOLDER, str(Path(path).parent))

    def _last_folder(self) -> str:
        folder = settings.load(settings.LAST_FOLDER) or QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.PicturesLocation)
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not files:
            return
        event.acceptProposedAction()
        self.open_paths(files)

    def start_camera(self, source: int | str) -> None:
        """Open the Live camera tab on source and start it (`lwface-desktop --source`)."""
        self.tabs.setCurrentWidget(self.camera_tab)
        self.camera_tab.set_source(source)
        self.camera_tab.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask every worker to stop, then wait for them, at most CLOSE_WAIT_MS: the camera is
        released and saves are complete before the window goes. A worker stuck longer (a
        network read) goes on in the background; the app's exit waits for it again."""
        self.camera_tab.shutdown()
        self.image_tab.shutdown()
        settings.store(settings.WINDOW_GEOMETRY, self.saveGeometry())
        self.image_tab.save_settings()
        self.camera_tab.save_settings()
        self.view_options.save_settings()
        self.model_download.cancel()
        workers.stop_all()
        if not workers.await_workers(CLOSE_WAIT_MS):
            log.warning("closing with workers still running: %s", workers.live_workers())
        super().closeEvent(event)

    def run_self_test(self) -> None:
        """The --self-test checks on a pool thread (the model check runs YOLOv5 once), then
        their answer in a dialog; the menu entry waits meanwhile."""
        from lwface_desktop.core.selftest import run_checks

        self.self_test_action.setEnabled(False)
        self.statusBar().showMessage("Running the self-test…")
        workers.start_job(lambda: run_checks(self.detectors.weights), name="self-test",
                          succeeded=self._show_self_test, errored=lambda job, message: self._show_self_test(
                              job, [(False, message)]),
                          done=lambda job: self.self_test_action.setEnabled(True))

    def _show_self_test(self, job: workers.Job, results: list[tuple[bool, str]]) -> None:
        from lwface_desktop.core.selftest import summary

        passed = all(ok for ok, _ in results)
        self.statusBar().showMessage(summary(results, "the self-test's window"))
        lines = "".join(f"<p>{'✓' if ok else '✗'} {html.escape(sentence)}</p>" for ok, sentence in results)
        box = QMessageBox(QMessageBox.Icon.Information if passed else QMessageBox.Icon.Warning,
                          "Self-test", f"<p><b>{html.escape(summary(results, 'below'))}</b></p>{lines}",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("self-test")
        box.open()  # not exec(): the window goes on meanwhile

    def _about(self) -> None:
        QMessageBox.about(self, "About lwface-desktop", about_text())


def about_text() -> str:
    """Help › About: the version, what it does, and the licences of what it bundles."""
    yunet_licence = resource_path("models", "LICENSE-yunet.txt")
    return (f"<b>lwface-desktop {__version__}</b><p>Finds faces in photos and live video, offline, "
            "and hides them on request; finds people and 79 other kinds of objects.</p>"
            "<p><b>Bundled models and their licences</b></p>"
            "<p>YOLOv5n weights (Ultralytics): AGPL-3.0<br>"
            f"YuNet face detector (OpenCV Zoo): MIT — {html.escape(str(yunet_licence))}<br>"
            "scikit-image's face cascade (classic method): BSD-3-Clause</p>"
            "<p>The app's own licence is not declared yet. Qt (PySide6), PyTorch, OpenCV, NumPy and "
            "scikit-image keep their own licences.</p>")


class SaveDialog(QFileDialog):
    """Save as JPEG or PNG. A name typed without an extension gets the chosen filter's (.jpg
    or .png) as the dialog's default suffix, so the dialog itself asks "replace it?" about
    the name that will really be written, never about a name without one."""

    def __init__(self, parent, suggested: Path):
        super().__init__(parent, "Save annotated image", str(suggested.parent), ";;".join(SAVE_FILTERS))
        self.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        self.setFileMode(QFileDialog.FileMode.AnyFile)
        self.filterSelected.connect(self._use_suffix_of)  # also reaches a native dialog's choice
        self.selectNameFilter(next(f for f, suffix in SAVE_FILTERS.items() if f".{suffix}" == suggested.suffix))
        self.selectFile(suggested.name)

    def selectNameFilter(self, name_filter: str) -> None:
        super().selectNameFilter(name_filter)
        self._use_suffix_of(name_filter)

    def _use_suffix_of(self, name_filter: str) -> None:
        self.setDefaultSuffix(SAVE_FILTERS.get(name_filter, "jpg"))

    def accept(self) -> None:
        self._use_suffix_of(self.selectedNameFilter())  # the filter as chosen now, however it was chosen
        typed = self.findChild(QLineEdit, "fileNameEdit")  # Qt's own dialog (a native one has none)
        if typed is not None and typed.text() and "." not in Path(typed.text()).name:
            # A name typed without an extension: Qt's dialog may have selected an existing file
            # it completes to (with the suffix of the filter chosen before). The name typed,
            # with the suffix of the filter chosen now, is what is written and asked about.
            for view in self.findChildren(QAbstractItemView):
                if view.selectionModel() is not None:
                    view.selectionModel().clearSelection()
        super().accept()
