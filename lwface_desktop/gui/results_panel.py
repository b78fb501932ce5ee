"""The results panel beside the photo: what was found, counted per class with each class's
colour as the legend, then one row per detection (thumbnail, label, score, box in photo
pixels). Selecting a row highlights its box in the photo (and brings it into view when
zoomed in); clicking a box in the photo selects its row. PhotoPane holds the photo and the
panel side by side; whether the panel is shown and its width are remembered.

Thumbnails are cut in the photo job (thumbnail_images), from the view copy as drawn: hidden
faces stay hidden in them, and nothing is decoded or resized on the GUI thread but the
small frames around them.
"""

from __future__ import annotations

import html

import cv2
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMenu,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lwface_desktop.core.detection import Detection, count_text
from lwface_desktop.core.palette import colour_of, hex_colour
from lwface_desktop.core.thumbnails import SIDE, thumbnails
from lwface_desktop.gui import settings
from lwface_desktop.gui.banner import plain_label, plain_tip
from lwface_desktop.gui.photo_view import PhotoView
from lwface_desktop.gui.qimage import rgb_to_qimage

FRAME = 3            # pixels of class colour around a thumbnail: the row's swatch
PANEL_WIDTH = 340    # the panel's first width; the user's is remembered
COLUMNS = ("", "Found", "Score", "Box")
CELL_PADDING = 12    # pixels beside a column's widest text
WAITING = "What is found in a photo is listed here."


def thumbnail_images(analysis) -> tuple[QImage, ...]:
    """A thumbnail per detection of a PhotoAnalysis drawn at view size (core.thumbnails), in
    a FRAME of its class colour (the row's swatch, also round a hidden face, which has no box
    drawn), as QImages. Runs in the photo job: 300 of them take some 100 ms."""
    if analysis.annotated is None:
        return ()
    scale = analysis.annotated.shape[1] / analysis.width
    pictures = thumbnails(analysis.annotated, analysis.detections, scale)
    return tuple(rgb_to_qimage(cv2.copyMakeBorder(picture, FRAME, FRAME, FRAME, FRAME, cv2.BORDER_CONSTANT,
                                                  value=colour_of(det.label)))
                 for picture, det in zip(pictures, analysis.detections, strict=True))


def box_text(det: Detection, lines: int = 1) -> str:
    """"x1,y1 – x2,y2" in whole pixels; on two lines (for a narrow column) if lines is 2."""
    x1, y1, x2, y2 = (round(v) for v in det.box)
    return f"{x1},{y1} –{chr(10) if lines == 2 else ' '}{x2},{y2}"


class ResultsPanel(QWidget):
    row_selected = Signal(object)  # the index of the detection selected, or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._detections: list[Detection] = []
        self.heading = plain_label(WAITING)  # it names the photo: never HTML
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip("How many of each kind were found, in the colour their boxes are drawn in")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeaderItem(len(COLUMNS) - 1).setToolTip("x1,y1 – x2,y2: the box's corners in the "
                                                                      "photo's own pixels")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(SIDE + 2 * FRAME, SIDE + 2 * FRAME))
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(SIDE + 2 * FRAME + 4)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # Widths set per result from the texts there can be, not measured over every row:
        # measuring 300 rows' contents took 40 ms of the GUI thread.
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setToolTip("Select a row to highlight its box in the photo; click a box to select its row")
        self.table.itemSelectionChanged.connect(self._on_selection)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.legend)
        layout.addWidget(self.table, 1)
        self.clear()

    def clear(self, text: str = WAITING) -> None:
        self._detections = []
        self.table.setRowCount(0)
        self.heading.setText(text)
        self.legend.hide()
        self.table.hide()

    def show_result(self, detections: list[Detection], images: tuple[QImage, ...], label: str,
                    name: str) -> None:
        """List detections (found in the photo called name; one of them is called label) with
        their thumbnails. The row selected stays selected when the same detections come again
        (a redraw with faces hidden, say)."""
        selected = self.selected() if detections == self._detections else None
        self._detections = list(detections)
        if not detections:
            self.clear(f"{count_text(0, label).capitalize()} found in {name}")
            self.row_selected.emit(None)
            return
        self.heading.setText(f"{count_text(len(detections), label).capitalize()} found in {name}")
        counts: dict[str, int] = {}
        for det in detections:
            counts[det.label] = counts.get(det.label, 0) + 1
        self.legend.setText("&nbsp;&nbsp; ".join(
            f'<span style="color:{hex_colour(colour_of(kind))}">■</span>&nbsp;{html.escape(count_text(n, kind))}'
            for kind, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))))
        self.table.blockSignals(True)  # filling it is no selection by the user
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(detections))
        for row, det in enumerate(detections):
            swatch = QTableWidgetItem()
            # The thumbnail as it is (a QImage is drawn untinted when selected), or a plain swatch.
            swatch.setData(Qt.ItemDataRole.DecorationRole,
                           images[row] if row < len(images) else QColor(*colour_of(det.label)))
            tip = f"{det.label} {det.score:.2f} · box {box_text(det)} ({round(det.x2 - det.x1)} × " \
                  f"{round(det.y2 - det.y1)} px)"
            for column, item in enumerate((swatch, QTableWidgetItem(det.label), QTableWidgetItem(f"{det.score:.2f}"),
                                           QTableWidgetItem(box_text(det, lines=2)))):
                item.setToolTip(plain_tip(tip))
                if column == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self._fit_columns(counts)
        self.table.clearSelection()
        self.table.setUpdatesEnabled(True)
        self.table.blockSignals(False)
        self.legend.show()
        self.table.show()
        self.select(selected)
        if selected is None:
            self.row_selected.emit(None)

    def _fit_columns(self, labels) -> None:
        """Each column as wide as its heading or the widest text it can hold."""
        cells, heading = self.table.fontMetrics(), self.table.horizontalHeader().fontMetrics()
        self.table.setColumnWidth(0, SIDE + 2 * FRAME + CELL_PADDING)
        for column, texts in ((1, labels), (2, ["0.00"])):
            widest = max(heading.horizontalAdvance(COLUMNS[column]), *(cells.horizontalAdvance(t) for t in texts))
            self.table.setColumnWidth(column, widest + CELL_PADDING)

    def selected(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def select(self, index: int | None) -> None:
        """Select detection index's row (scrolled into view); None: no row."""
        if index is None or not 0 <= index < self.table.rowCount():
            self.table.clearSelection()
            return
        self.table.selectRow(index)
        self.table.scrollToItem(self.table.item(index, 0))

    def _on_selection(self) -> None:
        self.row_selected.emit(self.selected())


class PhotoPane(QSplitter):
    """The photo (PhotoView) and its ResultsPanel side by side, wired to each other."""

    panel_toggled = Signal(bool)  # the panel was shown or hidden

    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.view = PhotoView(placeholder)
        self.panel = ResultsPanel()
        self.addWidget(self.view)
        self.addWidget(self.panel)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self.setCollapsible(0, False)
        self.setCollapsible(1, False)  # hidden only by View › Results panel, which then says so
        self.setSizes([self.view.sizeHint().width(), PANEL_WIDTH])
        self.panel.row_selected.connect(self.view.set_highlight)
        self.view.box_clicked.connect(self.panel.select)
        self.restore_settings()

    def show_result(self, result, keep_view: bool) -> None:
        """Show an image_tab.PhotoResult: the photo (keep_view: the same photo again, so zoom
        and position stay) and its detections listed."""
        analysis = result.analysis
        self.view.set_photo(result.view_image, (analysis.width, analysis.height), analysis.detections, keep_view)
        self.panel.show_result(analysis.detections, result.thumbnails, analysis.label, analysis.path.name)

    def panel_shown(self) -> bool:
        return not self.panel.isHidden()

    def set_panel_shown(self, shown: bool) -> None:
        if shown != self.panel_shown():
            self.panel.setVisible(shown)
            self.panel_toggled.emit(shown)

    def add_toggle_to(self, menu: QMenu) -> QAction:
        """View › Results panel (F9), checked while the panel is shown."""
        action = menu.addAction("&Results panel")
        action.setCheckable(True)
        action.setChecked(self.panel_shown())
        action.setShortcut("F9")
        action.setToolTip("Show or hide the list of what was found beside the photo")
        action.toggled.connect(self.set_panel_shown)
        self.panel_toggled.connect(action.setChecked)
        return action

    def restore_settings(self) -> None:
        state = settings.load(settings.RESULTS_SPLIT)
        if state is not None:
            self.restoreState(state)  # the widths (a hidden panel's too), not whether it is hidden
            self.setCollapsible(1, False)  # whatever the state said
        self.set_panel_shown(settings.load(settings.RESULTS_SHOWN))

    def save_settings(self) -> None:
        settings.store(settings.RESULTS_SHOWN, self.panel_shown())
        settings.store(settings.RESULTS_SPLIT, self.saveState())
