"""The one registry of everything that runs beside the GUI thread.

Two kinds of workers:

- Job: a one-shot function (detect in a photo, load a model, save a file, look for cameras)
  on the registry's thread pool. Its result comes back as `succeeded(job, result)`, a readable
  error as `errored(job, message)` (the exception itself in job.error, for a slot that acts on
  its kind), and `done(job)`, the job's end, follows either: exceptions
  are caught and emitted, never lost on stderr. Pass the slots to start_job(): it connects them before the
  job starts (a fast job can end before start_job() returns).
- A long-lived QThread (the camera loop), started with start_thread().

Each is in the registry from the moment it is started until its own end is reported on
the GUI thread (`done` for a job, QThread.finished for a thread): that is the one cleanup
path, and nothing else removes it. Nothing here waits on the GUI thread, except
await_workers(), which the main window calls once, with a bound, when it closes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal

from lwface_desktop.core.errors import UserError

log = logging.getLogger(__name__)
POOL_THREADS = 4  # a model load, a photo, a save and the camera search never queue behind each other


class JobSignals(QObject):
    succeeded = Signal(object, object)  # the job, fn's return value
    errored = Signal(object, str)       # the job, a message for the user
    done = Signal(object)               # the job's end, after succeeded or errored


class Job(QRunnable):
    """fn() on a pool thread. `tag` is free for the caller (e.g. which request it answers)."""

    def __init__(self, fn: Callable[[], Any], name: str = "job", tag: Any = None):
        super().__init__()
        self.setAutoDelete(False)  # Python owns it: the registry keeps it until `done`
        self.name = name
        self.tag = tag
        self.signals = JobSignals()
        self.ended = threading.Event()  # set when run() is over; what await_workers() waits on
        self.thread: threading.Thread | None = None  # where it ran (tests check: never the GUI's)
        self.error: BaseException | None = None  # what fn raised (_without_frames), before `errored`
        self._fn = fn

    def run(self) -> None:
        self.thread = threading.current_thread()
        try:
            result = self._fn()
        except UserError as e:
            self.error = _without_frames(e)
            self.signals.errored.emit(self, str(e))
        except MemoryError as e:
            self.error = _without_frames(e)
            self.signals.errored.emit(self, "Not enough memory for this.")
        except Exception as e:  # never lost on stderr, never a traceback in the user's face
            log.exception("background job %s failed", self.name)
            self.error = _without_frames(e)
            self.signals.errored.emit(self, f"Something went wrong: {e}")
        else:
            self.signals.succeeded.emit(self, result)
        finally:
            self.ended.set()
            self.signals.done.emit(self)

    def __repr__(self) -> str:
        return f"<Job {self.name}{' (ended)' if self.ended.is_set() else ''}>"


class Registry(QObject):
    """All live jobs and threads. Used from the GUI thread only."""

    def __init__(self):
        super().__init__()
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max(POOL_THREADS, QThread.idealThreadCount()))
        self._jobs: set[Job] = set()
        self._threads: set[QThread] = set()

    def start_job(self, fn: Callable[[], Any], name: str = "job", tag: Any = None, *,
                  succeeded: Callable | None = None, errored: Callable | None = None,
                  done: Callable | None = None) -> Job:
        """Run fn on the pool. The slots are connected before it starts: a job can end before
        start_job() returns, and a signal emitted before a connection never reaches it."""
        job = Job(fn, name, tag)
        for signal, slot in ((job.signals.succeeded, succeeded), (job.signals.errored, errored),
                             (job.signals.done, done)):
            if slot is not None:
                signal.connect(slot)
        job.signals.done.connect(self._job_done)
        self._jobs.add(job)
        self.pool.start(job)
        return job

    def start_thread(self, thread: QThread) -> QThread:
        """Start a QThread and keep it until its finished signal; then it is deleted."""
        thread.finished.connect(self._thread_finished)
        self._threads.add(thread)
        thread.start()
        return thread

    def live(self) -> list[Job | QThread]:
        """What is still running, or ended without its end having reached the GUI thread yet."""
        return [*self._threads, *self._jobs]

    def stop_all(self) -> None:
        """Ask every thread to stop (request_stop() if it has one, else requestInterruption()).
        Jobs are short and run to their end."""
        for thread in list(self._threads):
            getattr(thread, "request_stop", thread.requestInterruption)()

    def await_workers(self, timeout_ms: int) -> bool:
        """Wait up to timeout_ms for every live worker to end; True if all did. This blocks:
        only for closing, never while the window is in use."""
        deadline = time.monotonic() + timeout_ms / 1000
        for thread in list(self._threads):
            if not thread.wait(_remaining_ms(deadline)):
                return False
        for job in list(self._jobs):
            if not job.ended.wait(_remaining_ms(deadline) / 1000):
                return False
        return True

    def _job_done(self, job: Job) -> None:
        self._jobs.discard(job)

    def _thread_finished(self) -> None:
        thread = self.sender()
        if thread in self._threads:
            self._threads.discard(thread)
            thread.deleteLater()  # fifty Start/Stop clicks must not leave fifty QThreads


def message_for(error: Exception, failed: str) -> str:
    """What a thread tells the user about error, caught in its run(): a UserError's own words;
    anything else is logged with its traceback (call it in the except block) and said as
    failed, e.g. "The camera stopped because of an error", and the error's text."""
    if isinstance(error, UserError):
        return str(error)
    log.exception("%s", failed)
    return f"{failed}: {error}"


def _without_frames(error: BaseException) -> BaseException:
    """error without its traceback and chained errors: their frames would keep the failed
    job's locals (a decoded photo) alive as long as the job is referenced."""
    error.__traceback__ = error.__context__ = error.__cause__ = None
    return error


def _remaining_ms(deadline: float) -> int:
    return max(0, int((deadline - time.monotonic()) * 1000))


_registry: Registry | None = None


def registry() -> Registry:
    global _registry
    if _registry is None:
        _registry = Registry()
    return _registry


def start_job(fn: Callable[[], Any], name: str = "job", tag: Any = None, **slots: Callable) -> Job:
    """Registry.start_job: slots are succeeded=, errored=, done= (connected before it starts)."""
    return registry().start_job(fn, name, tag, **slots)


def start_thread(thread: QThread) -> QThread:
    return registry().start_thread(thread)


def live_workers() -> list[Job | QThread]:
    return registry().live()


def stop_all() -> None:
    registry().stop_all()


def await_workers(timeout_ms: int) -> bool:
    return registry().await_workers(timeout_ms)
