"""export_photos on real photos with YuNet: annotated files, one CSV and one JSON Lines file
that hold exactly the detections, nothing overwritten, failures, a full disk and cancel said."""

import csv
import json
import os
import shutil
import subprocess
import threading

import numpy as np
import pytest
from PIL import Image

from lwface_desktop.core.detection import Detection, Detector
from lwface_desktop.core.export import FIELDS, export_photos
from lwface_desktop.core.pipeline import analyse_photo
from lwface_desktop.core.yunet import MIN_SCORE, default_yunet
from tests.conftest import temporaries


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def expected_rows(paths, detector, outputs):
    rows = []
    for path, output in zip(paths, outputs, strict=True):
        analysis = analyse_photo(path, detector)  # as the export decodes: at full resolution
        for d in analysis.detections:
            rows.append({"photo": str(path), "label": d.label, "score": round(d.score, 4),
                         "x1": round(d.x1), "y1": round(d.y1), "x2": round(d.x2), "y2": round(d.y2),
                         "width": analysis.width, "height": analysis.height,
                         "detector": "yunet", "min_score": detector.lowest_score(), "output": str(output)})
    return rows


class NoDetector(Detector):
    """For known detections: must never be asked to detect."""

    label, kind = "face", "yunet"

    def detect_photo(self, photo):
        raise AssertionError("known detections must be reused")

    def lowest_score(self):
        return 0.6


def test_export_writes_annotated_photos_and_tables_of_the_detections(photos, tmp_path):
    detector = default_yunet()
    inputs = [photos["astronaut"], photos["coffee"], photos["astronaut-12mp"]]
    progress = []
    summary = export_photos(inputs, tmp_path / "out", detector, hide="blur",
                            progress=lambda done, total, photo: progress.append((done, total, photo.name)))
    out = tmp_path / "out"
    assert [p.name for p in summary.written] == ["astronaut-blurred.jpg", "coffee-faces.jpg",
                                                 "astronaut-12mp-blurred.jpg"]
    assert Image.open(out / "astronaut-12mp-blurred.jpg").size == (4032, 3024)  # full resolution
    assert progress == [(1, 3, "astronaut.jpg"), (2, 3, "coffee.jpg"), (3, 3, "astronaut-12mp.jpg")]
    assert (summary.csv, summary.jsonl) == (out / "detections.csv", out / "detections.jsonl")
    expected = expected_rows(inputs, detector, summary.written)
    assert len(expected) == summary.detections == 2  # the astronaut's face, twice
    assert expected[0]["min_score"] == MIN_SCORE
    assert read_jsonl(summary.jsonl) == expected
    assert read_csv(summary.csv) == [{k: str(v) for k, v in row.items()} for row in expected]
    assert list(read_csv(summary.csv)[0]) == list(FIELDS)
    assert summary.text() == f"Exported 3 photos and 2 faces to {out}"
    assert temporaries(out) == []


def test_a_second_export_writes_new_names_and_leaves_the_first_untouched(photos, tmp_path):
    inputs = [photos["astronaut"], photos["chelsea"]]
    first = export_photos(inputs, tmp_path, default_yunet())
    before = {p: p.read_bytes() for p in [*first.written, first.csv, first.jsonl]}
    second = export_photos(inputs, tmp_path, default_yunet())
    assert [p.name for p in second.written] == ["astronaut-faces-2.jpg", "chelsea-faces-2.jpg"]
    assert (second.csv.name, second.jsonl.name) == ("detections-2.csv", "detections-2.jsonl")
    assert {p: p.read_bytes() for p in before} == before
    rows = read_jsonl(second.jsonl)
    assert [row.pop("output") for row in rows] == [str(second.written[0])]  # the astronaut's face, again
    assert rows == [{k: v for k, v in row.items() if k != "output"} for row in read_jsonl(first.jsonl)]


def test_known_detections_are_drawn_and_listed_without_detecting_again(photos, tmp_path):
    known = {photos["coffee"]: [Detection(10, 20, 110, 140, 0.5, "face")]}
    summary = export_photos([photos["coffee"]], tmp_path, NoDetector(), hide="box", known=known)
    assert [p.name for p in summary.written] == ["coffee-covered.jpg"]
    [row] = read_jsonl(summary.jsonl)
    assert row == {"photo": str(photos["coffee"]), "label": "face", "score": 0.5, "x1": 10, "y1": 20,
                   "x2": 110, "y2": 140, "width": 600, "height": 400, "detector": "yunet", "min_score": 0.6,
                   "output": str(tmp_path / "coffee-covered.jpg")}
    pixels = Image.open(summary.written[0]).convert("RGB")
    assert pixels.getpixel((60, 80)) == (0, 0, 0)  # the solid box is drawn where the known face is


def test_a_bad_photo_is_listed_and_the_others_exported(photos, bad_files, tmp_path):
    summary = export_photos([bad_files["truncated.jpg"], photos["astronaut"]], tmp_path, default_yunet())
    [(path, reason)] = summary.failed
    assert path == bad_files["truncated.jpg"] and "not a complete JPEG file" in reason
    assert [p.name for p in summary.written] == ["astronaut-faces.jpg"]
    assert summary.text().endswith("; 1 could not be exported")


def test_cancel_stops_before_the_next_photo_and_keeps_what_was_done(photos, tmp_path):
    cancel = threading.Event()
    summary = export_photos([photos["astronaut"], photos["chelsea"], photos["coffee"]], tmp_path,
                            default_yunet(), progress=lambda *_: cancel.set(), cancel=cancel)
    assert summary.cancelled and [p.name for p in summary.written] == ["astronaut-faces.jpg"]
    assert [row["photo"] for row in read_jsonl(summary.jsonl)] == [str(photos["astronaut"])]
    assert summary.text().endswith("(cancelled)")


def test_a_folder_that_cannot_be_made_is_said(photos, tmp_path):
    from lwface_desktop.core.outputs import OutputError

    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="cannot be made"):
        export_photos([photos["astronaut"]], tmp_path / "file" / "out", default_yunet())


def test_rows_say_the_detectors_setting_and_which_file_each_photo_became(photos, tmp_path):
    inputs = []
    for camera in ("100CANON", "101CANON"):  # two cards, the same file names
        (tmp_path / camera).mkdir()
        inputs.append(tmp_path / camera / "IMG_0001.JPG")
        shutil.copy(photos["astronaut"], inputs[-1])
    detector = default_yunet().with_options(min_score=0.7)
    summary = export_photos(inputs, tmp_path / "out", detector)
    assert [p.name for p in summary.written] == ["IMG_0001-faces.jpg", "IMG_0001-faces-2.jpg"]
    rows = read_jsonl(summary.jsonl)
    pairs = zip(inputs, summary.written, strict=True)
    assert [(row["photo"], row["output"]) for row in rows] == [(str(i), str(o)) for i, o in pairs]
    assert {(row["detector"], row["min_score"]) for row in rows} == {("yunet", 0.7)}
    assert read_csv(summary.csv) == [{k: str(v) for k, v in row.items()} for row in rows]


def latin1_copy(folder, source):
    """source copied to folder as caf\\xe9.jpg: the name a Windows or old Linux machine wrote in
    Latin-1, which is not UTF-8 (Python holds it as 'caf\\udce9.jpg')."""
    folder.mkdir(exist_ok=True)
    path = folder / os.fsdecode(b"caf\xe9.jpg")
    shutil.copy(source, path)
    return path


def test_a_photo_named_in_latin1_is_exported_and_its_name_written_readably(photos, tmp_path):
    photo = latin1_copy(tmp_path / "in", photos["astronaut"])
    summary = export_photos([photo, photos["coffee"]], tmp_path / "out", default_yunet())
    assert summary.failed == []
    assert [os.fsencode(p.name) for p in summary.written] == [b"caf\xe9-faces.jpg", b"coffee-faces.jpg"]
    [row] = read_jsonl(summary.jsonl)  # the astronaut's face
    assert row["photo"] == f"{tmp_path / 'in'}{os.sep}caf\\xe9.jpg"  # the odd byte as \xe9, as Python writes it
    assert row["output"] == f"{tmp_path / 'out'}{os.sep}caf\\xe9-faces.jpg"
    assert read_csv(summary.csv)[0]["photo"] == row["photo"]
    assert summary.text() == f"Exported 2 photos and 1 face to {tmp_path / 'out'}"


def test_csv_cells_a_spreadsheet_would_run_as_formulas_start_with_a_quote(photos, tmp_path):
    labels = ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "face"]  # a .pt file's class names
    known = {photos["coffee"]: [Detection(10, 20, 110, 140, 0.5, label) for label in labels]}
    summary = export_photos([photos["coffee"]], tmp_path, NoDetector(), known=known)
    rows = read_csv(summary.csv)
    assert [row["label"] for row in rows] == ["'=1+2", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "face"]
    assert {row["score"] for row in rows} == {"0.5"}  # numbers are numbers
    assert [row["label"] for row in read_jsonl(summary.jsonl)] == labels  # JSON is data, never run: as found


def test_a_photo_too_wide_for_jpeg_is_said_as_not_exported(photos, tmp_path, monkeypatch):
    # libjpeg decodes nothing over 65,500 pixels either, so a decoder that does stands in for one.
    from lwface_desktop.core import export
    from lwface_desktop.core.images import Photo, open_photo

    def decode(path):
        if path.name != "panorama.jpg":
            return open_photo(path)
        return Photo(np.full((16, 65_520, 3), 128, np.uint8), 65_520, 16)

    monkeypatch.setattr(export, "open_photo", decode)
    panorama = tmp_path / "panorama.jpg"
    summary = export_photos([panorama, photos["coffee"]], tmp_path / "out", NoDetector(),
                            known={panorama: [], photos["coffee"]: []})
    [(path, reason)] = summary.failed
    assert path == panorama
    assert reason == ("panorama.jpg is 65,520 pixels wide, too wide for a JPEG file (65,500 at most): "
                      "it was not exported.")
    assert [p.name for p in summary.written] == ["coffee-faces.jpg"]
    assert temporaries(tmp_path / "out") == []


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs mounted for the test: a disk that really fills up (needs root)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode:
        pytest.skip(f"a small tmpfs cannot be mounted here: {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_stops_the_export_and_keeps_what_was_written(photos, small_disk):
    inputs = [photos["astronaut"], photos["coffee"], photos["astronaut-12mp"], photos["chelsea"]]
    tried = []
    summary = export_photos(inputs, small_disk, default_yunet(),
                            progress=lambda done, total, photo: tried.append(photo))
    assert [p.name for p in summary.written] == ["astronaut-faces.jpg", "coffee-faces.jpg"]
    [(path, reason)] = summary.failed  # the 12-megapixel photo's 1.3 MB do not fit
    assert path == photos["astronaut-12mp"] and "the disk is full" in reason
    assert tried == inputs[:3]  # chelsea is not decoded nor detected: nothing could be written
    assert [row["photo"] for row in read_jsonl(summary.jsonl)] == [str(photos["astronaut"])]
    assert len(read_csv(summary.csv)) == 1
    assert summary.text() == (f"Exported 2 photos and 1 face to {small_disk}; 1 could not be exported; "
                              "stopped: the disk is full, 1 photo not tried")
    assert temporaries(small_disk) == []


def test_tables_that_cannot_be_put_in_place_are_said_and_the_photos_kept(photos, tmp_path):
    def take_the_name(done, total, photo):  # another program writes detections.csv meanwhile
        (tmp_path / "detections.csv").write_text("mine")

    summary = export_photos([photos["astronaut"]], tmp_path, default_yunet(), progress=take_the_name)
    assert [p.name for p in summary.written] == ["astronaut-faces.jpg"]
    assert (tmp_path / "detections.csv").read_text() == "mine"
    assert summary.csv is None and summary.jsonl == tmp_path / "detections.jsonl"  # the other table is in place
    assert len(read_jsonl(summary.jsonl)) == 1
    assert summary.text() == (f"Exported 1 photo and 1 face to {tmp_path}; "
                              f"{tmp_path / 'detections.csv'} already exists; choose another name")
    assert temporaries(tmp_path) == []


def test_a_disk_that_fills_while_rows_are_written_keeps_the_rows_written_before(small_disk):
    """The rows of a photo the disk refuses are cut back; those before are put in place whole.
    (A buffered write kept the refused rows and failed again at close, losing the whole table.)"""
    from lwface_desktop.core.export import DetectionTables
    from lwface_desktop.core.outputs import DiskFull

    detector = default_yunet()
    face = [Detection(10, 20, 110, 140, 0.9, "face")]
    tables = DetectionTables(small_disk / "detections.csv", small_disk / "detections.jsonl")
    with tables:
        tables.add(small_disk / "first.jpg", 640, 480, face, detector)
        filler = small_disk / "filler"
        with open(filler, "wb", buffering=0) as f, pytest.raises(OSError):  # the disk, full to its last byte
            while True:
                f.write(b"\0" * 4096)
        with pytest.raises(DiskFull):
            tables.add(small_disk / "second.jpg", 640, 480, face * 200, detector)
        filler.unlink()
        tables.close()
    assert tables.problems == []
    assert [row["photo"] for row in read_csv(small_disk / "detections.csv")] == [str(small_disk / "first.jpg")]
    assert [row["photo"] for row in read_jsonl(small_disk / "detections.jsonl")] == [str(small_disk / "first.jpg")]
