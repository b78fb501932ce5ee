"""What the film strip shows, as a list model: a strip of 10,000 photos is 10,000 names and
counts in Python lists, not 10,000 widgets' items, and its thumbnails are bounded.

Showing a list, counting it again (reset_counts) and finding the next photo are a few list
operations; Qt asks data() only for the rows it paints. The texts are a QStringListModel's,
so the row count Qt asks for tens of thousands of times while laying out the strip is
answered in C++ (a Python rowCount() cost 30-80 ms per layout at 10,000 rows). Thumbnails (each a 96 px pixmap,
~27 KB) are kept for the THUMBNAILS_KEPT rows painted or made most recently, the rows in
view never dropped: memory stays flat however long the list. A row whose thumbnail was
dropped shows the blank one until the strip asks the queue to make it again (a small decode).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QStringListModel, Qt
from PySide6.QtGui import QIcon

from lwface_desktop.core.photo_folder import PhotoList, Skipped
from lwface_desktop.gui.banner import plain_tip

PENDING = "…"
PATH_ROLE = Qt.ItemDataRole.UserRole  # a photo's Path; None for a skipped file
THUMBNAILS_KEPT = 200                 # ~5 MB of 96 px pixmaps, a strip many times the window's width

Index = QModelIndex | QPersistentModelIndex


class StripModel(QStringListModel):
    """The photos of a PhotoList (rows 0..photo_count()-1), then the files skipped, greyed."""

    def __init__(self, blank: QIcon, parent=None):
        super().__init__(parent)
        self.blank = blank                  # the thumbnail of a photo that has none (yet)
        self._photos: list[Path] = []
        self._skipped: list[Skipped] = []
        self._waiting: list[str] = []       # every row's text before anything is counted
        self._tips: dict[int, str] = {}     # rows with more to say than their path
        self._thumbnails: OrderedDict[int, QIcon] = OrderedDict()  # least recently used first

    def show_list(self, found: PhotoList) -> None:
        self._photos, self._skipped = list(found.photos), list(found.skipped)
        self._waiting = [item_text(path, PENDING) for path in self._photos] + \
            [item_text(skipped.path, f"skipped: {skipped.reason}") for skipped in self._skipped]
        self._tips, self._thumbnails = {}, OrderedDict()
        self.setStringList(self._waiting)  # a reset

    def reset_counts(self) -> None:
        """Every photo waits to be counted again; no thumbnail is kept."""
        self._tips, self._thumbnails = {}, OrderedDict()
        self.setStringList(self._waiting)

    def photo_count(self) -> int:
        return len(self._photos)

    def photos(self) -> list[Path]:
        return list(self._photos)

    def path(self, row: int) -> Path | None:
        return self._photos[row] if 0 <= row < len(self._photos) else None

    def set_found(self, row: int, found: str, tip: str) -> None:
        self._tips[row] = plain_tip(tip)
        self.setData(self.index(row), item_text(self._photos[row], found))  # says dataChanged

    def set_thumbnail(self, row: int, icon: QIcon | None) -> None:
        """row's thumbnail (None: the blank one until it is made again)."""
        if icon is None:
            self._thumbnails.pop(row, None)
        else:
            self._thumbnails[row] = icon
            self._thumbnails.move_to_end(row)
        self._changed(row)

    def has_thumbnail(self, row: int) -> bool:
        return row in self._thumbnails

    def thumbnails_kept(self) -> int:
        return len(self._thumbnails)

    def drop_thumbnails(self, keep: range) -> None:
        """Down to THUMBNAILS_KEPT, the least recently used first; rows in keep stay."""
        excess = len(self._thumbnails) - THUMBNAILS_KEPT
        if excess <= 0:
            return
        dropped = [row for row in self._thumbnails if row not in keep][:excess]
        for row in dropped:
            del self._thumbnails[row]
            self._changed(row)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if index.row() < len(self._photos):
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.NoItemFlags  # a skipped file: greyed, nothing to open

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        row = index.row()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole) or not index.isValid():
            return super().data(index, role)
        if row >= len(self._photos):
            skipped = self._skipped[row - len(self._photos)]
            if role == Qt.ItemDataRole.ToolTipRole:
                return plain_tip(f"{skipped.path}\nskipped: {skipped.reason}")
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            icon = self._thumbnails.get(row)
            if icon is None:
                return self.blank
            self._thumbnails.move_to_end(row)  # painted: recently used
            return icon
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tips.get(row) or plain_tip(str(self._photos[row]))
        if role == PATH_ROLE:
            return self._photos[row]
        return None

    def _changed(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index)


def item_text(path: Path, what: str) -> str:
    return f"{path.name}\n{what}"
