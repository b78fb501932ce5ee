"""`detect` on a folder: its JPEGs found recursively, the rest said as skipped, and the detections
of all in one CSV and one JSON Lines file, never over an existing file."""

import csv
import shutil

from tests.test_cli import json_lines, run_cli


def holiday(tmp_path, photos):
    root = tmp_path / "holiday"
    (root / "day 2").mkdir(parents=True)
    shutil.copy(photos["astronaut"], root / "IMG_10.jpg")
    shutil.copy(photos["coffee"], root / "day 2" / "IMG_2.jpg")
    (root / "notes.txt").write_text("not a photo")
    return root


def test_detect_on_a_folder_runs_on_its_jpegs_and_says_what_it_skipped(photos, tmp_path):
    root = holiday(tmp_path, photos)
    result = run_cli("detect", "--json", "--csv", tmp_path / "dets.csv", "--jsonl", tmp_path / "dets.jsonl",
                     "--output", tmp_path / "out", root)
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert {"image": str(root / "notes.txt"), "skipped": "not a JPEG"} in lines
    found = [line for line in lines if "detections" in line]
    assert [line["image"] for line in found] == [str(root / "day 2" / "IMG_2.jpg"), str(root / "IMG_10.jpg")]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["IMG_10-faces.jpg", "IMG_2-faces.jpg"]
    # The tables hold every detection the JSON lines gave, and nothing else.
    rows = json_lines((tmp_path / "dets.jsonl").read_text())
    expected = [{"photo": line["image"], "label": d["label"], "score": d["score"], "x1": d["box"][0],
                 "y1": d["box"][1], "x2": d["box"][2], "y2": d["box"][3], "width": line["width"],
                 "height": line["height"]} for line in found for d in line["detections"]]
    assert rows == expected and len(rows) == 1  # the astronaut's face
    with open(tmp_path / "dets.csv", newline="", encoding="utf-8-sig") as f:
        assert list(csv.DictReader(f)) == [{k: str(v) for k, v in row.items()} for row in expected]


def test_tables_are_never_written_over_without_overwrite(photos, tmp_path):
    root = holiday(tmp_path, photos)
    table = tmp_path / "dets.csv"
    table.write_text("mine")
    result = run_cli("detect", "--csv", table, root)
    assert result.returncode == 1
    assert f"{table} already exists; add --overwrite to replace it" in result.stderr
    assert table.read_text() == "mine"
    result = run_cli("detect", "--csv", table, "--overwrite", root)
    assert result.returncode == 0 and table.read_text(encoding="utf-8-sig").startswith("photo,label,score")


def test_a_table_is_never_an_input(photos, tmp_path):
    root = holiday(tmp_path, photos)
    result = run_cli("detect", "--jsonl", root / "IMG_10.jpg", "--overwrite", root)
    assert result.returncode == 1 and "writing it would destroy it" in result.stderr
    assert (root / "IMG_10.jpg").read_bytes() == photos["astronaut"].read_bytes()


def test_a_folder_without_photos_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli("detect", "--json", tmp_path / "empty")
    assert result.returncode == 1
    assert json_lines(result.stdout) == [{"image": str(tmp_path / "empty"), "error": "empty holds no JPEG photos."}]
