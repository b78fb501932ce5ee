"""`detect` on a folder: its JPEGs found recursively, the rest said as skipped, and the detections
of all in one CSV and one JSON Lines file, never over an existing file."""

import csv
import os
import shutil

from lwface_desktop.core.yunet import MIN_SCORE
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
                 "height": line["height"], "detector": "yunet", "min_score": MIN_SCORE,
                 "output": str(tmp_path / "out" / "IMG_10-faces.jpg")} for line in found for d in line["detections"]]
    assert rows == expected and len(rows) == 1  # the astronaut's face
    assert read_csv(tmp_path / "dets.csv") == [{k: str(v) for k, v in row.items()} for row in expected]


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_folder_output_names_files_as_export_all_does_and_the_rows_say_which(photos, tmp_path):
    root = holiday(tmp_path, photos)
    result = run_cli("detect", "--detector", "cascade", "--anonymize", "blur", "--output", tmp_path / "out",
                     "--jsonl", tmp_path / "dets.jsonl", root)
    assert result.returncode == 0, result.stderr
    # The astronaut's face blurred, the coffee (no face) only annotated: as File › Export all… names them.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["IMG_10-blurred.jpg", "IMG_2-faces.jpg"]
    [row] = json_lines((tmp_path / "dets.jsonl").read_text())
    assert (row["photo"], row["output"]) == (str(root / "IMG_10.jpg"), str(tmp_path / "out" / "IMG_10-blurred.jpg"))
    assert (row["detector"], row["min_score"]) == ("cascade", 0.5)  # the lowest score the cascade gives
    strict = run_cli("detect", "--detector", "cascade", "--min-score", "0.6", "--csv", tmp_path / "strict.csv",
                     root / "IMG_10.jpg")
    assert strict.returncode == 0, strict.stderr
    [row] = read_csv(tmp_path / "strict.csv")
    assert (row["detector"], row["min_score"], row["output"]) == ("cascade", "0.6", "")  # no --output: no file


def test_yolov5_rows_give_its_conf_as_the_minimum_score(photos, tmp_path, random_weights):
    result = run_cli("detect", "--detector", "yolov5", "--weights", random_weights, "--img-size", "320",
                     "--conf", "0.27", "--max-det", "3", "--jsonl", tmp_path / "dets.jsonl", photos["coffee"])
    assert result.returncode == 0, result.stderr
    rows = json_lines((tmp_path / "dets.jsonl").read_text())
    assert len(rows) == 3 and {(row["detector"], row["min_score"], row["output"]) for row in rows} == {
        ("yolov5", 0.27, None)}
    assert all(row["score"] >= 0.27 for row in rows)


def test_a_folder_with_a_latin1_file_name_gives_both_tables(photos, tmp_path):
    root = holiday(tmp_path, photos)
    shutil.copy(photos["astronaut"], root / os.fsdecode(b"caf\xe9.jpg"))  # not UTF-8: 'caf\udce9.jpg' in Python
    result = run_cli("detect", "--csv", tmp_path / "dets.csv", "--jsonl", tmp_path / "dets.jsonl",
                     "--output", tmp_path / "out", root)
    assert result.returncode == 0, result.stderr
    photos_listed = [row["photo"] for row in json_lines((tmp_path / "dets.jsonl").read_text())]
    assert photos_listed == [str(root / "caf\\xe9.jpg"), str(root / "IMG_10.jpg")]  # the odd byte as \xe9
    assert [row["photo"] for row in read_csv(tmp_path / "dets.csv")] == photos_listed
    assert b"caf\xe9-faces.jpg" in [os.fsencode(p.name) for p in (tmp_path / "out").iterdir()]


def test_csv_cells_that_would_be_formulas_start_with_a_quote(photos, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(photos["astronaut"], folder / "=HYPERLINK(A1).jpg")
    shutil.copy(photos["astronaut"], folder / "@SUM(1).jpg")
    result = run_cli("detect", "--csv", tmp_path / "dets.csv", "--jsonl", tmp_path / "dets.jsonl", ".", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert [row["photo"] for row in read_csv(tmp_path / "dets.csv")] == ["'=HYPERLINK(A1).jpg", "'@SUM(1).jpg"]
    assert [row["photo"] for row in json_lines((tmp_path / "dets.jsonl").read_text())] == [
        "=HYPERLINK(A1).jpg", "@SUM(1).jpg"]  # JSON is never run: as it is


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
