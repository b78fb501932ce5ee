"""File › Models…: the models the app finds, where, how big, how many classes, which licence,
and which one Objects use; with the Download button for the official YOLOv5n.

The list is made in a job (core.model_catalogue: it hashes each YOLOv5 file to tell an
official one and reads its classes with the safe checkpoint loader, which needs torch); the
table says "Looking…" until it comes. It is made again after a download and after a model load.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lwface_desktop.core.detectors import Detectors
from lwface_desktop.core.model_catalogue import ModelEntry, catalogue
from lwface_desktop.core.weights import model_files, size_text
from lwface_desktop.gui import models, workers
from lwface_desktop.gui.banner import Banner, plain_label, plain_tip
from lwface_desktop.gui.model_download import DOWNLOAD, ModelDownload

COLUMNS = ("Model", "Where", "Size", "Classes", "Licence", "Status", "File")
INTRO = ("YOLOv5 files are tried in this order, after one you choose with File › Load model…; "
         "the first found is the one Objects use. Faces need no YOLOv5 model.")

DOWNLOAD_TIP = ("Fetch the official YOLOv5n (AGPL-3.0) into your cache folder; it is checked against its "
                "published SHA-256 before it is kept")
DOWNLOADED_TIP = "The official YOLOv5n is in your cache folder already"


def find_models(detectors: Detectors) -> list[ModelEntry]:
    """catalogue() for the app's detectors, in a job: torch imported as for a model load, and
    only if there is a YOLOv5 file to read (faces alone never import it)."""
    if model_files(detectors.weights):
        models.import_torch()
    loaded = detectors.loaded_yolo()
    return catalogue(detectors.weights, (loaded.weights, loaded.names) if loaded is not None else None)


class ModelsDialog(QDialog):
    def __init__(self, detectors: Detectors, download: ModelDownload, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.detectors = detectors
        self.entries: list[ModelEntry] = []
        self._request = 0  # only the newest listing is shown
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        intro = plain_label(INTRO)
        intro.setWordWrap(True)
        self.looking = plain_label("Looking for models…")
        self.banner = Banner()
        download.serve(self.banner, offer_again=False)  # the dialog's own button offers it
        download.downloaded.connect(self.refresh)
        download.running_changed.connect(self._show_download_button)
        self._downloaded = False  # the official YOLOv5n is in the cache already
        self._download = download
        self.download_button = QPushButton(DOWNLOAD)
        self.download_button.setToolTip(DOWNLOAD_TIP)
        self.download_button.clicked.connect(lambda: download.start(self.banner))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.looking)
        layout.addWidget(self.banner)
        layout.addWidget(buttons)
        self.resize(980, 320)
        self.refresh()

    def refresh(self, *_args) -> None:
        """List the models again, in a job."""
        self._request += 1
        self.looking.setText("Looking for models…")
        self.looking.show()
        detectors = self.detectors
        workers.start_job(lambda: find_models(detectors), name="model list", tag=self._request,
                          succeeded=self._on_found, errored=self._on_failed)

    def _on_found(self, job: workers.Job, entries: list[ModelEntry]) -> None:
        if job.tag != self._request:
            return
        self.entries = entries
        self.table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            for column, (text, tip) in enumerate(_cells(entry)):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tip(tip or text))
                self.table.setItem(row, column, item)
        self._downloaded = any(e.name == "YOLOv5n (official)" and "cache" in e.where for e in entries)
        self._show_download_button()
        has_yolo = any(e.name.startswith("YOLOv5") for e in entries)
        self.looking.setText("" if has_yolo else "No YOLOv5 model was found: download the official YOLOv5n, "
                                                 "or choose a .pt file with File › Load model…")
        self.looking.setVisible(not has_yolo)

    def _show_download_button(self, *_args) -> None:
        """Offered while no download runs and the official file is not in the cache yet."""
        self.download_button.setEnabled(not self._downloaded and not self._download.is_running())
        self.download_button.setToolTip(DOWNLOADED_TIP if self._downloaded else DOWNLOAD_TIP)

    def _on_failed(self, job: workers.Job, message: str) -> None:
        if job.tag == self._request:
            self.looking.setText(f"The models could not be listed: {message}")


def _cells(entry: ModelEntry) -> list[tuple[str, str]]:
    """(text, tooltip) of each column of entry's row."""
    classes = str(entry.classes) if entry.classes is not None else "—"
    licence_tip = (f"The licence's text: {entry.licence_file}" if entry.licence_file else
                   "Weights from someone's own training: ask whoever made them. Weights trained with "
                   "Ultralytics' code are AGPL-3.0." if entry.licence.startswith("unknown") else entry.licence)
    return [(entry.name, entry.note), (entry.where, ""), (size_text(entry.size), f"{entry.size:,} bytes"),
            (classes, entry.note or ("1: face" if entry.classes == 1 else "")), (entry.licence, licence_tip),
            (entry.state or "—", ""), (str(entry.path), _folder_tip(entry.path))]


def _folder_tip(path: Path) -> str:
    return f"{path}\n(in {path.parent})"
