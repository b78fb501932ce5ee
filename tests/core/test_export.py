"""export_photos on real photos with YuNet: annotated files, one CSV and one JSON Lines file
that hold exactly the detections, nothing overwritten, failures and cancel said."""

import csv
import json
import threading

import pytest
from PIL import Image

from lwface_desktop.core.detection import Detection
from lwface_desktop.core.export import FIELDS, export_photos
from lwface_desktop.core.pipeline import analyse_photo
from lwface_desktop.core.yunet import default_yunet
from tests.conftest import temporaries


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def expected_rows(paths, detector):
    rows = []
    for path in paths:
        analysis = analyse_photo(path, detector)  # as the export decodes: at full resolution
        for d in analysis.detections:
            rows.append({"photo": str(path), "label": d.label, "score": round(d.score, 4),
                         "x1": round(d.x1), "y1": round(d.y1), "x2": round(d.x2), "y2": round(d.y2),
                         "width": analysis.width, "height": analysis.height})
    return rows


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
    expected = expected_rows(inputs, detector)
    assert len(expected) == summary.detections == 2  # the astronaut's face, twice
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
    assert read_jsonl(second.jsonl) == read_jsonl(first.jsonl)


def test_known_detections_are_drawn_and_listed_without_detecting_again(photos, tmp_path):
    class NoDetector:
        label, decode_side = "face", None

        def detect_photo(self, photo):
            raise AssertionError("known detections must be reused")

    known = {photos["coffee"]: [Detection(10, 20, 110, 140, 0.5, "face")]}
    summary = export_photos([photos["coffee"]], tmp_path, NoDetector(), hide="box", known=known)
    assert [p.name for p in summary.written] == ["coffee-covered.jpg"]
    [row] = read_jsonl(summary.jsonl)
    assert row == {"photo": str(photos["coffee"]), "label": "face", "score": 0.5, "x1": 10, "y1": 20,
                   "x2": 110, "y2": 140, "width": 600, "height": 400}
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
