"""Guards against Qt binding bugs that only show after hours of running."""

import sys

from PySide6.QtCore import QObject, QThread, Signal


class _Emitter(QObject):
    plain = Signal()
    frame = Signal(object, object, object)


def test_emitting_signals_does_not_leak_references_to_bools():
    # PySide6 6.12.0 lost one reference to True per emit(); the camera emits ~60 signals a
    # second, so on Python 3.11 the app crashed ("deallocating True or False") within minutes.
    emitter, thread = _Emitter(), QThread()
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(200):
        emitter.plain.emit()
        emitter.frame.emit(1, 2, 3)
        thread.isInterruptionRequested()
    assert (sys.getrefcount(True), sys.getrefcount(False)) == before
