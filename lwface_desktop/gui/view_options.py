"""How detections are drawn, in both tabs at once: whether faces are hidden (and how), and
whether YuNet's landmarks are dotted on them. One object holds both; the View menu and each
tab's "Hide faces" combo are views of it, so they always agree, and the tabs redraw on
`changed`. Remembered (settings.HIDE_FACES, settings.SHOW_LANDMARKS) when the window closes.
Hide faces only applies where faces are found: a tab whose detector finds none (Objects)
disables its combo, and the View menu's entries while that tab is shown, saying why.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QComboBox, QMenu, QWidget

from lwface_desktop.core.anonymise import HIDDEN_WORDS, MODE_NAMES, MODES, hidden_faces
from lwface_desktop.core.detection import Detection
from lwface_desktop.gui import settings

HIDE_TIP = ("Hide every face found, in what is shown, saved and snapshotted: blurred, pixelated or "
            "under a solid box (a little larger than the face). Applies to both tabs.")

NO_FACES_TIP = "Objects (YOLOv5) finds no faces to hide: choose Faces to hide them"


def hidden_word(hide: str, detections: list[Detection]) -> str | None:
    """"blurred" (HIDDEN_WORDS) if drawing detections with hide hides any face; else None."""
    return HIDDEN_WORDS[hide] if hide != "off" and hidden_faces(detections) else None


def hidden_note(hide: str, detections: list[Detection]) -> str:
    """" · faces blurred" (and so on) for a status line when faces were found and hidden; else ""."""
    word = hidden_word(hide, detections)
    return f" · faces {word}" if word else ""


def offer_hiding(combo: QComboBox, finds_faces: bool) -> None:
    """A tab's Hide faces combo is for detectors that find faces; disabled, it says why."""
    combo.setEnabled(finds_faces)
    combo.setToolTip(HIDE_TIP if finds_faces else NO_FACES_TIP)


def offer_hiding_in_menu(group: QActionGroup, finds_faces: bool) -> None:
    """View › Hide faces' entries (add_to_menu) as offer_hiding() does a combo: for the tab
    shown, disabled while its detector finds no faces, and each says why (tooltip, status tip)."""
    for action in group.actions():
        action.setEnabled(finds_faces)
        tip = HIDE_TIP if finds_faces else NO_FACES_TIP
        action.setToolTip(tip)
        action.setStatusTip(tip)


class ViewOptions(QObject):
    changed = Signal()  # hide or landmarks changed

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.hide: str = settings.load(settings.HIDE_FACES)              # one of anonymise.MODES
        self.landmarks: bool = settings.load(settings.SHOW_LANDMARKS)

    def set_hide(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        if mode != self.hide:
            self.hide = mode
            self.changed.emit()

    def set_landmarks(self, shown: bool) -> None:
        if shown != self.landmarks:
            self.landmarks = shown
            self.changed.emit()

    def save_settings(self) -> None:
        settings.store(settings.HIDE_FACES, self.hide)
        settings.store(settings.SHOW_LANDMARKS, self.landmarks)

    def hide_combo(self, parent: QWidget | None = None) -> QComboBox:
        """A "Hide faces" combo for a tab's toolbar, kept in step with this object."""
        combo = QComboBox(parent)
        for mode in MODES:
            combo.addItem(MODE_NAMES[mode], mode)
        combo.setToolTip(HIDE_TIP)

        def show() -> None:
            combo.setCurrentIndex(combo.findData(self.hide))

        show()
        self.changed.connect(show)
        combo.activated.connect(lambda index: self.set_hide(combo.itemData(index)))
        return combo

    def add_to_menu(self, menu: QMenu) -> tuple[QActionGroup, QAction]:
        """View › Hide faces ▸ (one mode of MODES at a time) and View › Show landmarks (Ctrl+L)."""
        hide_menu = menu.addMenu("&Hide faces")
        hide_menu.setToolTipsVisible(True)
        group = QActionGroup(menu)
        group.setExclusive(True)
        for mode in MODES:
            action = hide_menu.addAction(MODE_NAMES[mode])
            action.setCheckable(True)
            action.setData(mode)
            group.addAction(action)
        group.triggered.connect(lambda action: self.set_hide(action.data()))
        landmarks = menu.addAction("Show &landmarks")
        landmarks.setCheckable(True)
        landmarks.setShortcut("Ctrl+L")
        landmarks.setToolTip("Dots on each face's eyes, nose tip and mouth corners (Faces, YuNet)")
        landmarks.toggled.connect(self.set_landmarks)

        def show() -> None:
            for action in group.actions():
                action.setChecked(action.data() == self.hide)
            landmarks.setChecked(self.landmarks)

        show()
        self.changed.connect(show)
        return group, landmarks
