"""Labels that show text from outside the app (file names, error messages, class names):
always plain text, so a file called "<img src=x>.jpg" is shown as its name, never rendered.

The Banner is the message strip both tabs show above their picture: an error in red, news in blue.
It can carry one button that offers the way out of what it says ("Download YOLOv5n (3.9 MB)"),
and a progress bar while that runs (the button then cancels it). The banner only shows: what a
click does is up to whoever listens to action_clicked.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

_STYLE = ("QFrame#banner {{ background: {0}; border: 1px solid {2}; border-radius: 6px; }} "
          "QFrame#banner QLabel {{ color: {1}; background: transparent; border: none; }}")
ERROR_STYLE = _STYLE.format("#fde8e8", "#8a1c1c", "#f3b4b4")
INFO_STYLE = _STYLE.format("#e8f0fd", "#1c3d8a", "#b4c8f3")
PROGRESS_STEPS = 1000


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that never interprets its text as HTML (QLabel's default guesses)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def plain_tip(text: str) -> str:
    """text as a tooltip shown as written: Qt renders a tooltip that looks like HTML as HTML, so
    text from outside the app (a file name, a model's class name) is escaped, lines kept."""
    return f"<p style='white-space:pre'>{html.escape(text)}</p>"


class Banner(QFrame):
    """Hidden until there is something to say; word-wrapped, selectable for copying, plain text."""

    action_clicked = Signal(str)  # the text of the button clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = plain_label()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(12)
        self.button = QPushButton()
        self.button.clicked.connect(lambda: self.action_clicked.emit(self.button.text()))
        row = QHBoxLayout()
        row.addWidget(self.label, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        self.progress.hide()
        self.button.hide()
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def textFormat(self) -> Qt.TextFormat:  # noqa: N802  (QLabel's name: the banner reads like one)
        return self.label.textFormat()

    def action(self) -> str:
        """The button's text, or "" when the banner offers none."""
        return self.button.text() if not self.button.isHidden() else ""

    def show_message(self, text: str, error: bool = True, action: str = "") -> None:
        """text, in red (error) or blue; with a button labelled action, if given."""
        self.setStyleSheet(ERROR_STYLE if error else INFO_STYLE)
        self.label.setText(text)
        self.progress.hide()
        self._offer(action)
        self.show()

    def show_progress(self, text: str, done: int, total: int, action: str = "") -> None:
        """Work under way: text (in blue), a bar at done of total (moving to and fro while total
        is unknown, 0), and a button (e.g. "Cancel")."""
        self.setStyleSheet(INFO_STYLE)
        self.label.setText(text)
        self.progress.setRange(0, PROGRESS_STEPS if total > 0 else 0)  # steps: a byte count overflows int
        if total > 0:
            self.progress.setValue(min(done, total) * PROGRESS_STEPS // total)
        self.progress.show()
        self._offer(action)
        self.show()

    def _offer(self, action: str) -> None:
        self.button.setText(action)
        self.button.setVisible(bool(action))
