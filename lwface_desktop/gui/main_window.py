"""The main window: tabs, menus, status bar, drag and drop, remembered settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QTabWidget

from lwface_desktop import __version__
from lwface_desktop.core.images import JPEG_SUFFIXES
from lwface_desktop.gui.image_tab import ImageTab

OPEN_FILTER = "JPEG photos (" + " ".join(f"*{s} *{s.upper()}" for s in JPEG_SUFFIXES) + ");;All files (*)"
SAVE_FILTER = "JPEG image (*.jpg);;PNG image (*.png)"


class MainWindow(QMainWindow):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("lwface-desktop")
        self.setAcceptDrops(True)  # the whole window takes a dropped photo
        self.settings = QSettings()

        self.tabs = QTabWidget()
        self.image_tab = ImageTab()
        self.tabs.addTab(self.image_tab, "Open image")
        self.setCentralWidget(self.tabs)

        self.image_tab.status.connect(lambda text: self.statusBar().showMessage(text))
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
        suggested = _unused_name(folder, f"{result.path.stem}-faces", ".jpg")
        path, _ = QFileDialog.getSaveFileName(self, "Save annotated image", str(suggested), SAVE_FILTER)
        if path:
            if not Path(path).suffix:
                path += ".jpg"
            if self.image_tab.save_to(path):
                self.settings.setValue("files/last_folder", str(Path(path).parent))

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

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        super().closeEvent(event)

    def _about(self) -> None:
        QMessageBox.about(self, "About lwface-desktop",
                          f"<b>lwface-desktop {__version__}</b><p>Finds faces in photos, offline, "
                          "with scikit-image's frontal-face cascade.</p>")


def _unused_name(folder: Path, stem: str, suffix: str) -> Path:
    """folder/stem.suffix, or stem-2, stem-3… if taken: a suggestion never points at an existing file."""
    candidate, n = folder / f"{stem}{suffix}", 2
    while candidate.exists():
        candidate, n = folder / f"{stem}-{n}{suffix}", n + 1
    return candidate
