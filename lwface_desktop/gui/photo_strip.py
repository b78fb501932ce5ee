"""The film strip under the photo: every photo of a dropped or opened list, with what was found
in it, filled in as the background queue (photo_queue.py) works through them.

Each photo is a thumbnail (drawn by the queue's job, never decoded here) with its name and its
count ("3 faces", "…" while waiting, "not readable"); the files that were skipped follow, greyed,
each with its reason. Choosing a photo (a click, ←/→ or Page Up/Down in the strip or on the
photo) emits `chosen`; the tab opens it as any photo. Above the strip: what the list holds, a
progress bar while the queue runs, Cancel, and Export all….
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lwface_desktop.core.detection import count_text
from lwface_desktop.core.detectors import KINDS
from lwface_desktop.core.photo_folder import PhotoList
from lwface_desktop.gui.banner import plain_label, plain_tip
from lwface_desktop.gui.photo_queue import THUMB_SIDE, PhotoCount

PENDING = "…"
PATH_ROLE = Qt.ItemDataRole.UserRole        # a photo's Path; None for a skipped file
ITEM_SIZE = QSize(THUMB_SIDE + 40, THUMB_SIDE + 38)  # a thumbnail and two lines of text under it
NEXT_KEYS = (Qt.Key.Key_PageDown, Qt.Key.Key_Right)
PREVIOUS_KEYS = (Qt.Key.Key_PageUp, Qt.Key.Key_Left)


class PhotoStrip(QWidget):
    chosen = Signal(object)        # the Path of the photo chosen
    cancel_requested = Signal()
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = plain_label()
        self.summary.setMinimumWidth(1)  # a long summary never widens the window
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.setFormat("%v of %m")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop counting: the photo in hand is finished, no other is started")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.export_button = QPushButton("Export all…")
        self.export_button.setToolTip("Write every photo of the list, annotated, into a folder, with a CSV "
                                      "and a JSON Lines file of all detections (Ctrl+E)")
        self.export_button.clicked.connect(self.export_requested)

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        self.list.setGridSize(ITEM_SIZE)
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setFixedHeight(ITEM_SIZE.height() + self.list.horizontalScrollBar().sizeHint().height() + 8)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self._pending_icon = _blank_icon(self.list.iconSize())
        self.add_keys(self.list)

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.summary, 1)
        header.addWidget(self.progress)
        header.addWidget(self.cancel_button)
        header.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.list)
        self._found = ""   # the list's summary (photo_folder.PhotoList.summary)
        self.hide()        # until a list is opened

    def add_keys(self, widget: QWidget, arrows: bool = True) -> None:
        """Page Up/Down and ←/→ (Page Up/Down only, unless arrows) on widget (and its children)
        move between photos. Only where added: the tab's combo boxes and spin box keep their
        arrows, a table its rows and columns."""
        for keys, step in ((NEXT_KEYS, 1), (PREVIOUS_KEYS, -1)):
            for key in keys if arrows else keys[:1]:
                shortcut = QShortcut(QKeySequence(key), widget)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(lambda step=step: self.step(step))

    def show_list(self, found: PhotoList) -> None:
        """The photos of found, each waiting to be counted, then what was skipped and why."""
        self.list.blockSignals(True)  # filling it chooses nothing
        self.list.clear()
        for path in found.photos:
            item = QListWidgetItem(self._pending_icon, _item_text(path, PENDING))
            item.setData(PATH_ROLE, path)
            item.setToolTip(plain_tip(str(path)))
            self.list.addItem(item)
        for skipped in found.skipped:
            item = QListWidgetItem(_item_text(skipped.path, f"skipped: {skipped.reason}"))
            item.setToolTip(plain_tip(f"{skipped.path}\nskipped: {skipped.reason}"))
            item.setFlags(Qt.ItemFlag.NoItemFlags)  # greyed; nothing to open
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._found = found.summary()
        self.show_progress(0, len(found.photos))
        self.export_button.setEnabled(bool(found.photos))
        self.show()

    def photos(self) -> list[Path]:
        return [path for row in range(self.list.count()) if (path := self.list.item(row).data(PATH_ROLE))]

    def reset_counts(self) -> None:
        """Every photo waits to be counted again (another detector or score)."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(PATH_ROLE) is not None:
                item.setText(_item_text(item.data(PATH_ROLE), PENDING))
                item.setIcon(self._pending_icon)

    def show_count(self, row: int, count: PhotoCount) -> None:
        item = self.list.item(row)
        found = count_text(len(count.detections), count.label)
        item.setText(_item_text(count.path, found))
        item.setIcon(self._pending_icon if count.thumbnail.isNull() else QIcon(QPixmap.fromImage(count.thumbnail)))
        score = f", min. score {count.finding.score:.2f}" if count.finding.kind != "cascade" else ""
        item.setToolTip(plain_tip(f"{count.path}\n{found} ({KINDS[count.finding.kind]}{score}), "
                                  f"{count.width} × {count.height}"))

    def show_blank(self, row: int) -> None:
        """The blank thumbnail at row, until its new one comes."""
        self.list.item(row).setIcon(self._pending_icon)

    def show_failure(self, row: int, message: str) -> None:
        item = self.list.item(row)
        item.setText(_item_text(item.data(PATH_ROLE), "cannot be read"))
        item.setToolTip(plain_tip(f"{item.data(PATH_ROLE)}\n{message}"))

    def show_progress(self, done: int, total: int) -> None:
        running = done < total
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.summary.setText(f"{self._found}: counting…" if running else self._found)

    def show_cancelled(self, done: int) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.summary.setText(f"{self._found}: counting cancelled after {done}")

    def step(self, by: int) -> None:
        """Choose the photo by places after (or before) the current one, if there is one."""
        photos = [row for row in range(self.list.count()) if self.list.item(row).data(PATH_ROLE) is not None]
        if not photos:
            return
        current = self.list.currentRow()
        index = photos.index(current) + by if current in photos else 0
        if 0 <= index < len(photos):
            self.list.setCurrentRow(photos[index])

    def current_path(self) -> Path | None:
        item = self.list.currentItem()
        return item.data(PATH_ROLE) if item is not None else None

    def _on_current_changed(self, item: QListWidgetItem | None, _previous) -> None:
        if item is not None and item.data(PATH_ROLE) is not None:
            self.list.scrollToItem(item)
            self.chosen.emit(item.data(PATH_ROLE))


def _item_text(path: Path, what: str) -> str:
    return f"{path.name}\n{what}"


def _blank_icon(size: QSize) -> QIcon:
    pixmap = QPixmap(size)
    pixmap.fill(Qt.GlobalColor.lightGray)
    return QIcon(pixmap)
