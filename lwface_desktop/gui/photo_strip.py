"""The film strip under the photo: every photo of a dropped or opened list, with what was found
in it, filled in as the background queue (photo_queue.py) works through them.

Each photo is a thumbnail (drawn by the queue's job, never decoded here) with its name and its
count ("3 faces", "…" while waiting, "cannot be read"); the files that were skipped follow, greyed,
each with its reason. Choosing a photo (a click, ←/→ or Page Up/Down in the strip or on the
photo) emits `chosen`; the tab opens it as any photo. Above the strip: what the list holds, a
progress bar while the queue runs, Cancel, and Export all….

A QListView over a StripModel (strip_model.py), not a QListWidget: a list of 10,000 photos
is shown, counted again and stepped through in a few list operations, and only a bounded
number of thumbnails is kept. When the strip settles after a scroll or a resize (and when
Hide faces changes, photo_batch) it asks for the thumbnails of the photos in view that have
none (`thumbnails_wanted`); the queue makes them again from what it found.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListView,
    QProgressBar,
    QPushButton,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from lwface_desktop.core.detection import count_text
from lwface_desktop.core.detectors import KINDS
from lwface_desktop.core.photo_folder import PhotoList
from lwface_desktop.gui.banner import plain_label
from lwface_desktop.gui.photo_queue import THUMB_SIDE, PhotoCount
from lwface_desktop.gui.strip_model import PATH_ROLE, StripModel

ITEM_SIZE = QSize(THUMB_SIDE + 40, THUMB_SIDE + 38)  # a thumbnail and two lines of text under it
NEXT_KEYS = (Qt.Key.Key_PageDown, Qt.Key.Key_Right)
PREVIOUS_KEYS = (Qt.Key.Key_PageUp, Qt.Key.Key_Left)
SETTLE_MS = 150  # after the last scroll step, the thumbnails in view are asked for


class PhotoStrip(QWidget):
    chosen = Signal(object)        # the Path of the photo chosen
    cancel_requested = Signal()
    export_requested = Signal()
    thumbnails_wanted = Signal(list)  # rows in view whose thumbnails are not kept (or stale)

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

        self.list = QListView()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setMovement(QListView.Movement.Static)
        # Every item one size, said once (no item is measured: a Python sizeHint, or data(),
        # per row cost 0.6 s of layout at 10,000 rows); the delegate says which.
        self.list.setUniformItemSizes(True)
        self.list.setItemDelegate(_OneSizeDelegate(self.list))
        self.list.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        self.list.setGridSize(ITEM_SIZE)
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setFixedHeight(ITEM_SIZE.height() + self.list.horizontalScrollBar().sizeHint().height() + 8)
        self.model = StripModel(_blank_icon(self.list.iconSize()), self)
        self.list.setModel(self.model)
        self.list.selectionModel().currentChanged.connect(self._on_current_changed)
        self._reselecting = False  # choosing again, after a reset, the photo already shown
        self._settled = QTimer(self, singleShot=True, interval=SETTLE_MS)  # once a scroll settles
        self._settled.timeout.connect(self.ask_for_thumbnails)
        # (start() without arguments: the signals' ints would become its interval)
        self.list.horizontalScrollBar().valueChanged.connect(lambda _value: self._settled.start())
        self.list.horizontalScrollBar().rangeChanged.connect(lambda *_range: self._settled.start())  # resized
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
        self.model.show_list(found)  # a reset: no current row, so nothing is chosen
        self._found = found.summary()
        self.show_progress(0, len(found.photos))
        self.export_button.setEnabled(bool(found.photos))
        self.show()

    def photos(self) -> list[Path]:
        return self.model.photos()

    def reset_counts(self) -> None:
        """Every photo waits to be counted again (another detector or score). The photo chosen
        stays chosen (a reset of the model forgets it): Page Down goes on from it, and it is not
        opened again (the tab finds anew in it by itself)."""
        path = self.current_path()
        self.model.reset_counts()
        if path is not None:
            self.mark(path)

    def show_count(self, row: int, count: PhotoCount) -> None:
        """What the queue found in row's photo; its thumbnail, unless null (a stale one, being
        made again: the blank one meanwhile)."""
        found = count_text(len(count.detections), count.label)
        score = f", min. score {count.finding.score:.2f}" if count.finding.kind != "cascade" else ""
        self.model.set_found(row, found, f"{count.path}\n{found} ({KINDS[count.finding.kind]}{score}), "
                                         f"{count.width} × {count.height}")
        thumbnail = count.thumbnail
        self.model.set_thumbnail(row, None if thumbnail.isNull() else QIcon(QPixmap.fromImage(thumbnail)))
        self.model.drop_thumbnails(keep=self.rows_in_view())

    def show_blank(self, row: int) -> None:
        """The blank thumbnail at row, until its new one comes."""
        self.model.set_thumbnail(row, None)

    def show_failure(self, row: int, message: str) -> None:
        path = self.model.path(row)
        self.model.set_found(row, "cannot be read", f"{path}\n{message}")

    def rows_in_view(self) -> range:
        """The rows the strip shows now, partly shown ones included: one grid cell per row,
        left to right, from the scroll position (no item is looked at)."""
        cell = self.list.gridSize().width()
        left = self.list.horizontalScrollBar().value()
        last = min((left + self.list.viewport().width() - 1) // cell, self.model.rowCount() - 1)
        return range(left // cell, last + 1)

    def ask_for_thumbnails(self) -> None:
        """Ask for the thumbnails of the photos in view that have none kept (`thumbnails_wanted`)."""
        wanted = [row for row in self.rows_in_view()
                  if row < self.model.photo_count() and not self.model.has_thumbnail(row)]
        if wanted:
            self.thumbnails_wanted.emit(wanted)

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
        """Choose the photo by places after (or before) the current one, if there is one. The
        photos are the first rows (the skipped files follow): no list to build."""
        photos = self.model.photo_count()
        if not photos:
            return
        current = self.list.currentIndex().row()
        row = current + by if 0 <= current < photos else 0
        if 0 <= row < photos:
            self.set_current(row)

    def set_current(self, row: int) -> None:
        self.list.setCurrentIndex(self.model.index(row))

    def mark(self, path: Path) -> None:
        """Show path as the photo chosen, if listed, else none, without opening it again (it
        was opened some other way)."""
        photos = self.model.photos()
        self._reselecting = True
        if path in photos:
            self.set_current(photos.index(path))
        else:
            self.list.setCurrentIndex(QModelIndex())
        self._reselecting = False

    def current_path(self) -> Path | None:
        return self.model.path(self.list.currentIndex().row())

    # What each row shows, as a user sees it (tests, the screenshots, benchmarks)
    def count(self) -> int:
        return self.model.rowCount()

    def text(self, row: int) -> str:
        return self.model.data(self.model.index(row))

    def tool_tip(self, row: int) -> str:
        return self.model.data(self.model.index(row), Qt.ItemDataRole.ToolTipRole)

    def icon(self, row: int) -> QIcon:
        return self.model.data(self.model.index(row), Qt.ItemDataRole.DecorationRole) or QIcon()

    def is_enabled(self, row: int) -> bool:
        return bool(self.model.flags(self.model.index(row)) & Qt.ItemFlag.ItemIsEnabled)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        path = current.data(PATH_ROLE) if current.isValid() else None
        if path is not None:
            self.list.scrollTo(current)
            if not self._reselecting:
                self.chosen.emit(path)


class _OneSizeDelegate(QStyledItemDelegate):
    """Items the size of a grid cell, whatever their text: the strip lays them out unmeasured."""

    def sizeHint(self, option, index) -> QSize:
        return ITEM_SIZE


def _blank_icon(size: QSize) -> QIcon:
    pixmap = QPixmap(size)
    pixmap.fill(Qt.GlobalColor.lightGray)
    return QIcon(pixmap)
