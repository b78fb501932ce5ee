"""Many photos in the Open image tab: a folder of mixed files dropped, the strip filled by the
background queue, cancel, next/previous with keys, and Export all (files, CSV, JSONL, nothing
overwritten). Real photos, real detection (YuNet), no sleeps."""

import csv
import json
import shutil
import sys
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from lwface_desktop.gui import photo_queue, settings, workers
from tests.conftest import temporaries
from tests.gui.conftest import SETTLE_MS, drop_files


@pytest.fixture
def holiday(tmp_path, photos, bad_files):
    root = tmp_path / "holiday"
    (root / "day 2").mkdir(parents=True)
    shutil.copy(photos["astronaut"], root / "IMG_10.jpg")
    shutil.copy(photos["coffee"], root / "IMG_2.jpg")
    shutil.copy(photos["chelsea"], root / "day 2" / "cat.jpg")
    shutil.copy(bad_files["truncated.jpg"], root / "day 2" / "damaged.jpg")
    (root / "notes.txt").write_text("not a photo")
    (root / "clip.mp4").write_bytes(b"not a photo either")
    return root


def texts(strip):
    return [strip.text(row) for row in range(strip.count())]


def open_folder(qtbot, window, folder):
    batch = window.image_tab.batch
    assert drop_files(window, folder)
    qtbot.waitUntil(lambda: bool(batch.found.photos) and not batch.queue.is_running(), timeout=SETTLE_MS)
    return batch


def test_a_dropped_folder_of_mixed_files_fills_the_strip_with_counts(qtbot, window, holiday):
    batch = open_folder(qtbot, window, holiday)
    strip = batch.strip
    assert strip.isVisible()
    assert texts(strip) == ["cat.jpg\nno faces", "damaged.jpg\ncannot be read", "IMG_2.jpg\nno faces",
                            "IMG_10.jpg\n1 face", "clip.mp4\nskipped: not a JPEG",
                            "notes.txt\nskipped: not a JPEG"]
    assert strip.summary.text() == "4 photos, 2 skipped"
    assert "not a complete JPEG file" in strip.tool_tip(1)
    assert "Faces (YuNet), min. score 0.55" in strip.tool_tip(3)
    assert not strip.is_enabled(4)  # skipped: greyed, nothing to open
    # The first photo is opened in the tab, as any photo; the folder is remembered.
    qtbot.waitUntil(lambda: window.image_tab.result is not None, timeout=SETTLE_MS)
    assert window.image_tab.result.path == holiday / "day 2" / "cat.jpg"
    assert settings.load(settings.LAST_FOLDER) == str(holiday)
    # The counts are the queue's detections; the strip shows a small thumbnail of each.
    assert len(batch.queue.results[holiday / "IMG_10.jpg"].detections) == 1
    icon = strip.icon(3).availableSizes()[0]
    assert max(icon.width(), icon.height()) == 96
    assert window.export_action.isEnabled()


def test_the_queue_runs_one_photo_at_a_time_and_cancel_stops_it(qtbot, window, holiday, gate, monkeypatch):
    started = []
    gated = gate.wrap(photo_queue.count_photo)

    def count_photo(path, *args):
        started.append(path.name)
        return gated(path, *args)

    monkeypatch.setattr(photo_queue, "count_photo", count_photo)
    batch = window.image_tab.batch
    drop_files(window, holiday)
    qtbot.waitUntil(gate.entered.is_set, timeout=SETTLE_MS)  # the first photo is in hand
    assert [getattr(w, "name", "") for w in workers.live_workers()].count("photo queue") == 1
    assert batch.strip.cancel_button.isVisible() and batch.strip.progress.isVisible()
    assert batch.strip.summary.text() == "4 photos, 2 skipped: counting…"
    with qtbot.waitSignal(batch.queue.finished, timeout=SETTLE_MS) as finished:
        batch.strip.cancel_button.click()
        gate.open()
    assert finished.args == [True]
    assert started == ["cat.jpg"]  # no other photo was started
    assert texts(batch.strip)[:4] == ["cat.jpg\nno faces", "damaged.jpg\n…", "IMG_2.jpg\n…", "IMG_10.jpg\n…"]
    assert batch.strip.summary.text() == "4 photos, 2 skipped: counting cancelled after 1"
    assert not batch.strip.cancel_button.isVisible()
    assert "Counting cancelled: 1 of 4 photos counted" in window.statusBar().currentMessage()


def test_keys_move_between_photos_where_the_photos_are_and_not_in_the_combo_boxes(qtbot, window, holiday):
    batch = open_folder(qtbot, window, holiday)
    tab, strip = window.image_tab, batch.strip

    def shown(name):
        qtbot.waitUntil(lambda: tab.result is not None and tab.result.path.name == name and not tab.is_busy(),
                        timeout=SETTLE_MS)

    shown("cat.jpg")
    qtbot.keyClick(strip.list, Qt.Key.Key_Right)
    assert strip.current_path().name == "damaged.jpg"
    qtbot.waitUntil(tab.message.isVisible, timeout=SETTLE_MS)  # the broken one says why, as any photo
    qtbot.keyClick(strip.list, Qt.Key.Key_PageDown)
    shown("IMG_2.jpg")
    tab.view.setFocus()
    qtbot.keyClick(tab.view, Qt.Key.Key_PageDown)
    shown("IMG_10.jpg")
    qtbot.keyClick(tab.view, Qt.Key.Key_Right)  # the last photo: the skipped files are not stepped onto
    assert strip.current_path().name == "IMG_10.jpg"
    qtbot.keyClick(tab.view, Qt.Key.Key_PageUp)
    shown("IMG_2.jpg")
    qtbot.keyClick(tab.view, Qt.Key.Key_Left)
    assert strip.current_path().name == "damaged.jpg"
    tab.hide_choice.setFocus()
    qtbot.keyClick(tab.hide_choice, Qt.Key.Key_Left)  # a combo box keeps its arrows
    assert strip.current_path().name == "damaged.jpg"


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_export_all_writes_every_photo_and_the_tables_and_never_overwrites(qtbot, window, holiday, tmp_path):
    batch = open_folder(qtbot, window, holiday)
    window.view_options.set_hide("blur")
    out = tmp_path / "export"
    with qtbot.waitSignal(batch.exported, timeout=SETTLE_MS) as exported:
        batch.export_to(out)
        assert batch.is_busy()
    summary = exported.args[0]
    assert sorted(p.name for p in summary.written) == ["IMG_10-blurred.jpg", "IMG_2-faces.jpg", "cat-faces.jpg"]
    [(damaged, why)] = summary.failed
    assert damaged == holiday / "day 2" / "damaged.jpg" and "not a complete JPEG file" in why
    # The tables hold the detections the strip counted (reused, not found again).
    expected = [{"photo": str(path), "label": d.label, "score": round(d.score, 4), "x1": round(d.x1),
                 "y1": round(d.y1), "x2": round(d.x2), "y2": round(d.y2), "width": count.width,
                 "height": count.height, "detector": "yunet", "min_score": window.image_tab.score(),
                 "output": str(out / "IMG_10-blurred.jpg")}
                for path in batch.found.photos if (count := batch.queue.results.get(path)) for d in count.detections]
    assert len(expected) == 1
    assert [json.loads(line) for line in (out / "detections.jsonl").read_text().splitlines()] == expected
    assert read_csv(out / "detections.csv") == [{k: str(v) for k, v in row.items()} for row in expected]
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "export-summary") is not None, timeout=SETTLE_MS)
    box = window.findChild(QMessageBox, "export-summary")
    assert "Exported 3 photos and 1 face to" in box.text() and "damaged.jpg" in box.text()
    assert window.statusBar().currentMessage() == summary.text()
    box.close()

    first = {p: p.read_bytes() for p in out.iterdir()}
    with qtbot.waitSignal(batch.exported, timeout=SETTLE_MS) as again:
        batch.export_to(out)
    second = again.args[0]
    assert sorted(p.name for p in second.written) == ["IMG_10-blurred-2.jpg", "IMG_2-faces-2.jpg",
                                                      "cat-faces-2.jpg"]
    assert (second.csv.name, second.jsonl.name) == ("detections-2.csv", "detections-2.jsonl")
    assert {p: p.read_bytes() for p in first} == first  # the first export's files, byte for byte
    assert temporaries(out) == []


def test_export_can_be_cancelled_from_its_progress_dialog(qtbot, window, holiday, tmp_path, gate, monkeypatch):
    from lwface_desktop.core import export

    batch = open_folder(qtbot, window, holiday)
    monkeypatch.setattr(export, "_export_one", gate.wrap(export._export_one))
    with qtbot.waitSignal(batch.exported, timeout=SETTLE_MS) as exported:
        batch.export_to(tmp_path / "out")
        qtbot.waitUntil(gate.entered.is_set, timeout=SETTLE_MS)
        dialog = batch._dialog
        assert dialog is not None and dialog.isVisible()
        dialog.findChild(QPushButton).click()  # the dialog's Cancel, as the user presses it
        gate.open()
    summary = exported.args[0]
    assert summary.cancelled and len(summary.written) == 1
    assert summary.text().endswith("(cancelled)")


def test_another_detector_counts_the_list_again_and_the_counts_say_which(qtbot, window, holiday):
    batch = open_folder(qtbot, window, holiday)
    with qtbot.waitSignal(batch.queue.finished, timeout=SETTLE_MS):
        window.image_tab.set_kind("cascade")
    assert texts(batch.strip)[3] == "IMG_10.jpg\n1 face"
    assert "Faces (cascade, classic)" in batch.strip.tool_tip(3)
    assert {count.finding.kind for count in batch.queue.results.values()} == {"cascade"}


def test_the_photo_chosen_stays_chosen_when_the_list_is_counted_again(qtbot, window, holiday):
    """A change of detector counts every photo again: the strip still shows which photo is open,
    and Page Down goes on from it (not from the first photo)."""
    batch = open_folder(qtbot, window, holiday)
    tab, strip = window.image_tab, batch.strip
    strip.set_current(2)
    qtbot.waitUntil(lambda: tab.result is not None and tab.result.path.name == "IMG_2.jpg" and not tab.is_busy(),
                    timeout=SETTLE_MS)
    with qtbot.waitSignal(batch.queue.finished, timeout=SETTLE_MS):
        tab.set_kind("cascade")
    assert strip.current_path().name == "IMG_2.jpg"
    qtbot.keyClick(strip.list, Qt.Key.Key_PageDown)
    assert strip.current_path().name == "IMG_10.jpg"


def test_a_photo_opened_on_its_own_is_the_one_the_strip_marks(qtbot, window, holiday, photos):
    """Opened through File › Open (not the strip): the strip marks it if it lists it, else no
    photo, so it never points at a photo that is not shown; neither is opened twice."""
    batch = open_folder(qtbot, window, holiday)
    tab, strip = window.image_tab, batch.strip
    requests = tab._request
    window.open_path(holiday / "IMG_10.jpg")
    assert strip.current_path() == holiday / "IMG_10.jpg" and tab._request == requests + 1
    window.open_path(photos["chelsea"])
    assert strip.current_path() is None and tab._request == requests + 2
    qtbot.waitUntil(lambda: tab.result is not None and tab.result.path == photos["chelsea"] and not tab.is_busy(),
                    timeout=SETTLE_MS)


@pytest.fixture
def slow_calls(monkeypatch):
    """The thread of every call of what is slow on a big list (listing a folder, decoding,
    exporting, encoding), wherever the app's modules imported it from: name -> threads."""
    from lwface_desktop.core import export, images, photo_folder

    threads: dict[str, list[threading.Thread]] = {}
    for owner, name in ((photo_folder, "collect_photos"), (export, "export_photos"), (images, "open_photo"),
                        (images, "save_new")):
        original = getattr(owner, name)

        def recorded(*args, _name=name, _original=original, **kwargs):
            threads.setdefault(_name, []).append(threading.current_thread())
            return _original(*args, **kwargs)

        for module in [m for key, m in sys.modules.items() if key.startswith("lwface_desktop")]:
            if getattr(module, name, None) is original:
                monkeypatch.setattr(module, name, recorded)
    return threads


def test_the_gui_thread_never_waits_for_the_list_the_queue_or_the_export(qtbot, window, holiday, tmp_path,
                                                                         gui_waits, slow_calls):
    batch = window.image_tab.batch
    with gui_waits:
        open_folder(qtbot, window, holiday)
        with qtbot.waitSignal(batch.exported, timeout=SETTLE_MS):
            batch.export_to(tmp_path / "out")
    assert gui_waits.calls == []
    # Each slow step ran (the spies saw it), and never on the GUI thread.
    assert sorted(slow_calls) == ["collect_photos", "export_photos", "open_photo", "save_new"]
    on_gui = {name for name, threads in slow_calls.items() if threading.main_thread() in threads}
    assert on_gui == set()


def test_a_photo_opened_while_a_folder_is_listed_stays_shown(qtbot, window, holiday, photos, gate, monkeypatch):
    from lwface_desktop.gui import photo_batch

    monkeypatch.setattr(photo_batch, "collect_photos", gate.wrap(photo_batch.collect_photos))
    tab = window.image_tab
    drop_files(window, holiday)
    qtbot.waitUntil(gate.entered.is_set, timeout=SETTLE_MS)  # the folder is still being listed
    assert drop_files(window, photos["astronaut"])           # then one photo, on its own
    gate.open()
    qtbot.waitUntil(lambda: not workers.live_workers(), timeout=SETTLE_MS)  # the listing's end reached the tab
    assert tab.result is not None and tab.result.path == photos["astronaut"]
    assert not tab.batch.strip.isVisible() and not tab.batch.queue.photos  # the older listing was dropped


def test_page_keys_move_between_photos_from_the_results_table_and_its_arrows_stay_its_own(qtbot, window, holiday):
    batch = open_folder(qtbot, window, holiday)
    tab, strip, table = window.image_tab, batch.strip, window.image_tab.results.table
    strip.set_current(3)  # IMG_10.jpg: one face, one row
    qtbot.waitUntil(lambda: tab.result is not None and tab.result.path.name == "IMG_10.jpg" and not tab.is_busy(),
                    timeout=SETTLE_MS)
    table.setFocus()
    table.selectRow(0)
    qtbot.keyClick(table, Qt.Key.Key_Left)  # no step: ←/→ belong to the table
    assert strip.current_path().name == "IMG_10.jpg"
    qtbot.keyClick(table, Qt.Key.Key_PageUp)
    assert strip.current_path().name == "IMG_2.jpg"
    qtbot.keyClick(table, Qt.Key.Key_PageDown)
    assert strip.current_path().name == "IMG_10.jpg"
