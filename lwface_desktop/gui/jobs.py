"""One-shot background jobs (decode and detect one photo) on Qt's thread pool."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, Signal

from lwface_desktop.core.errors import UserError

log = logging.getLogger(__name__)


class JobSignals(QObject):
    finished = Signal(object)  # the function's return value
    errored = Signal(str)      # a message for the user


class Job(QRunnable):
    """Runs fn() on a pool thread; its result or a readable error comes back as a signal."""

    def __init__(self, fn: Callable[[], object]):
        super().__init__()
        self._fn = fn
        self.signals = JobSignals()

    def run(self) -> None:
        try:
            result = self._fn()
        except UserError as e:
            self.signals.errored.emit(str(e))
        except MemoryError:
            self.signals.errored.emit("Not enough memory to open this photo.")
        except Exception as e:  # never lost on stderr, never a traceback in the user's face
            log.exception("background job failed")
            self.signals.errored.emit(f"Something went wrong: {e}")
        else:
            self.signals.finished.emit(result)
