"""Labels that show text from outside the app (file names, error messages, class names):
always plain text, so a file called "<img src=x>.jpg" is shown as its name, never rendered.

The Banner is the message strip both tabs show above their picture: an error in red, news in blue.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

_STYLE = "QLabel {{ background: {}; color: {}; border: 1px solid {}; border-radius: 6px; padding: 8px; }}"
ERROR_STYLE = _STYLE.format("#fde8e8", "#8a1c1c", "#f3b4b4")
INFO_STYLE = _STYLE.format("#e8f0fd", "#1c3d8a", "#b4c8f3")


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that never interprets its text as HTML (QLabel's default guesses)."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


class Banner(QLabel):
    """Hidden until there is something to say; word-wrapped, selectable for copying, plain text."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str, error: bool = True) -> None:
        self.setStyleSheet(ERROR_STYLE if error else INFO_STYLE)
        self.setText(text)
        self.show()
