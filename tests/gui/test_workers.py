"""The registry of workers (gui/workers.py) and closing the window while they run."""

import threading
import weakref

from lwface_desktop.core.errors import UserError
from lwface_desktop.gui import image_tab as image_tab_module
from lwface_desktop.gui import main_window as main_window_module
from lwface_desktop.gui import workers
from tests.gui.conftest import SETTLE_MS

TIMEOUT = 20_000


def test_a_job_is_registered_until_its_end_reaches_the_gui_thread(qtbot, gate):
    results = []
    job = workers.start_job(gate.wrap(lambda: threading.current_thread()), name="test",
                            succeeded=lambda job, result: results.append(result))
    assert workers.live_workers() == [job]
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)
    assert not workers.await_workers(0)  # still running: the bounded wait says so, it does not hang
    gate.open()
    qtbot.waitUntil(lambda: not workers.live_workers(), timeout=TIMEOUT)
    assert results[0] is not threading.main_thread() and job.ended.is_set()


def test_a_job_s_errors_come_back_as_messages(qtbot):
    def refuse():
        raise UserError("That file is not a model.")

    def crash():
        raise RuntimeError("a bug")

    messages = []
    for fn in (refuse, crash):
        workers.start_job(fn, name=fn.__name__, errored=lambda job, message: messages.append(message))
    qtbot.waitUntil(lambda: not workers.live_workers(), timeout=TIMEOUT)
    assert sorted(messages) == ["Something went wrong: a bug", "That file is not a model."]


def test_a_failed_job_keeps_its_error_but_not_the_frames_of_its_failure(qtbot):
    class Held:
        pass

    held = []

    def refuse():
        photo = Held()  # a local of the failing frame: a decoded photo, say
        held.append(weakref.ref(photo))
        try:
            raise KeyError("inner")
        except KeyError:
            raise UserError("That file is not a model.") from None

    job = workers.start_job(refuse, name="refuse")
    qtbot.waitUntil(lambda: not workers.live_workers(), timeout=TIMEOUT)
    assert isinstance(job.error, UserError) and str(job.error) == "That file is not a model."
    assert job.error.__traceback__ is None and job.error.__context__ is None
    assert held[0]() is None  # nothing kept the failed frame's locals alive


def test_closing_the_window_awaits_a_running_job(qtbot, window, photos, gate, monkeypatch):
    # A bound no machine reaches: the job's end is awaited however slowly it comes.
    monkeypatch.setattr(main_window_module, "CLOSE_WAIT_MS", 10 * SETTLE_MS)
    monkeypatch.setattr(image_tab_module, "find_in_photo", gate.wrap(image_tab_module.find_in_photo))
    window.open_path(photos["astronaut"])
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)  # detection is under way
    [job] = [w for w in workers.live_workers() if getattr(w, "name", "") == "photo"]
    await_workers, bounds = workers.await_workers, []

    def release_then_await(timeout_ms):  # the job ends while closeEvent waits for it
        bounds.append((timeout_ms, job.ended.is_set()))
        gate.open()
        return await_workers(timeout_ms)

    monkeypatch.setattr(workers, "await_workers", release_then_await)
    window.close()
    # Held at the gate until closeEvent's wait began, over when close() returns: it was awaited.
    assert bounds == [(10 * SETTLE_MS, False)] and job.ended.is_set() and not window.isVisible()
    qtbot.waitUntil(lambda: not workers.live_workers(), timeout=TIMEOUT)  # its late result harms nothing


def test_a_stuck_job_cannot_hold_the_window(qtbot, window, photos, gate, monkeypatch):
    # CLOSE_WAIT_MS stands for "the bound has passed" (5 s of a dead network stream).
    monkeypatch.setattr(main_window_module, "CLOSE_WAIT_MS", 0)
    monkeypatch.setattr(image_tab_module, "find_in_photo", gate.wrap(image_tab_module.find_in_photo))
    window.open_path(photos["astronaut"])
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)
    [job] = [w for w in workers.live_workers() if getattr(w, "name", "") == "photo"]
    window.close()
    assert not window.isVisible() and not job.ended.is_set()  # closed; the job goes on in the background
    gate.open()
    qtbot.waitUntil(lambda: not workers.live_workers(), timeout=TIMEOUT)
