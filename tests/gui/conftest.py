"""GUI fixtures: offscreen Qt, settings in a temporary folder, windows whose jobs are waited for."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QThreadPool, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def isolated_settings(qapp, tmp_path_factory):
    """Each test session gets its own settings file, never the developer's."""
    from lwface_desktop.gui.app import create_app

    from PySide6.QtCore import QStandardPaths

    create_app()
    QStandardPaths.setTestModeEnabled(True)  # snapshots go to a test Pictures folder
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path_factory.mktemp("settings")))


def wait_for_jobs() -> None:
    QThreadPool.globalInstance().waitForDone(30_000)


@pytest.fixture
def window(qtbot):
    from lwface_desktop.gui.main_window import MainWindow

    QSettings().clear()  # each test starts as a first run
    win = MainWindow()
    qtbot.addWidget(win, before_close_func=lambda w: (w.camera_tab.shutdown(), wait_for_jobs()))
    win.show()
    qtbot.waitExposed(win)
    return win


def drop_files(widget, *paths) -> bool:
    """Drag file URLs from a 'file manager' onto widget, as Qt delivers it; True if accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    enter = drag_enter_event(pos, mime)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def drag_enter_event(pos: QPointF, mime: QMimeData) -> QDragEnterEvent:
    """Qt 6.12 takes a QPointF (and deprecates QPoint); earlier versions only a QPoint."""
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        return QDragEnterEvent(pos, *args)
    except TypeError:
        return QDragEnterEvent(pos.toPoint(), *args)
