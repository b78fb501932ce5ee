"""Starting the GUI: QApplication, icon, window, clean exit on Ctrl+C and SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from lwface_desktop import __version__
from lwface_desktop.core.resources import resource_path
from lwface_desktop.gui import workers
from lwface_desktop.gui.main_window import MainWindow

EXIT_WAIT_MS = 10_000  # after the window's own bounded wait: a worker stuck in a read gets this long
log = logging.getLogger(__name__)


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setOrganizationName("lwface")
    app.setApplicationName("lwface-desktop")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("lwface-desktop")
    icon = resource_path("icons", "lwface-desktop.png")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def run_gui(image: str | None = None, weights: str | None = None, source: str | None = None) -> int:
    app = create_app()
    window = MainWindow(weights)
    window.show()
    if source is not None:
        QTimer.singleShot(0, lambda: window.start_camera(source))
    if image:
        QTimer.singleShot(0, lambda: window.open_path(image))
    elif source is None:
        QTimer.singleShot(300, window.image_tab.warm_up)  # after the first paint
    # Ctrl+C and SIGTERM close the window like the user would. Python runs signal handlers
    # only between bytecodes, so a timer wakes the interpreter while Qt's loop runs. The
    # handler only posts the close: run inside it, close() could wait for a lock the code it
    # interrupted holds (an Event's, while frame_consumed() sets it) and hang the app.
    previous = {sig: signal.signal(sig, lambda *_: QTimer.singleShot(0, window.close))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    wake = QTimer()
    wake.start(200)
    wake.timeout.connect(lambda: None)
    try:
        status = app.exec()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not workers.await_workers(EXIT_WAIT_MS):
        # A thread stuck in native code (a dead network stream) cannot be interrupted, and
        # Qt aborts if a running QThread is destroyed: leave without running destructors.
        log.warning("exiting with workers still running: %s", workers.live_workers())
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status
