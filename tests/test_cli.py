"""The CLI as scripts use it: a real process, JSON lines, exit codes, never a traceback."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from lwface_desktop import __version__
from tests.conftest import COCO_NAMES, WEIGHTS, needs_official_model, needs_weights


def run_cli(*args, cwd=None):
    result = subprocess.run([sys.executable, "-m", "lwface_desktop", *map(str, args)],
                            capture_output=True, text=True, cwd=cwd, timeout=120)
    assert "Traceback" not in result.stderr
    return result


def json_lines(stdout):
    return [json.loads(line) for line in stdout.splitlines()]


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"lwface-desktop {__version__}"


def test_detect_json_for_good_and_bad_images(photos, bad_files):
    result = run_cli("detect", "--json", photos["astronaut"], bad_files["png-renamed.jpg"], photos["coffee"])
    assert result.returncode == 1  # one image failed
    astronaut, bad, coffee = json_lines(result.stdout)
    assert astronaut["image"] == str(photos["astronaut"])
    assert (astronaut["width"], astronaut["height"], astronaut["detector"]) == (512, 512, "yunet")
    [face] = astronaut["detections"]
    assert face["label"] == "face" and 0.5 <= face["score"] < 1 and len(face["box"]) == 4
    assert set(astronaut["timing_ms"]) >= {"decode", "detect", "total"}
    assert bad == {"image": str(bad_files["png-renamed.jpg"]),
                   "error": "png-renamed.jpg is a PNG image, not a JPEG. Only JPEG photos are supported."}
    assert coffee["detections"] == []


def test_twelve_megapixel_photo_reports_full_size_boxes(photos):
    result = run_cli("detect", "--json", photos["astronaut-12mp"])
    [line] = json_lines(result.stdout)
    assert (line["width"], line["height"]) == (4032, 3024)
    [face] = line["detections"]
    assert 1200 < face["box"][0] < face["box"][2] < 2600  # the face, in full-resolution pixels


def test_detect_exits_zero_when_all_succeed_and_speaks_plainly_without_json(photos):
    result = run_cli("detect", photos["astronaut"], photos["chelsea"])
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith(f"{photos['astronaut']}: 1 face in ")
    assert "no faces" in result.stdout.splitlines()[1]


def test_every_bad_input_kind_is_reported_not_raised(bad_files):
    result = run_cli("detect", "--json", *bad_files.values())
    assert result.returncode == 1
    lines = json_lines(result.stdout)
    assert len(lines) == len(bad_files) and all(set(line) == {"image", "error"} for line in lines)


def test_output_writes_annotated_file_and_never_overwrites_an_input(photos, tmp_path):
    photo = tmp_path / "astronaut.jpg"
    shutil.copy(photos["astronaut"], photo)
    original = photo.read_bytes()

    result = run_cli("detect", "--output", tmp_path / "boxed.jpg", photo)
    assert result.returncode == 0
    assert Image.open(tmp_path / "boxed.jpg").size == (512, 512)

    result = run_cli("detect", "--json", "--output", photo, photo)
    assert result.returncode == 1
    assert json_lines(result.stdout)[0]["error"] == (f"{photo} is the input astronaut.jpg: writing it would "
                                                     "destroy it. Choose another name.")
    assert photo.read_bytes() == original


def test_output_folder_for_several_images(photos, tmp_path):
    out = tmp_path / "annotated"
    result = run_cli("detect", "--output", out, photos["astronaut"], photos["coffee"])
    assert result.returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["astronaut-faces.jpg", "coffee-faces.jpg"]


def test_bench_prints_medians(photos):
    result = run_cli("bench", "--runs", "2", photos["astronaut"])
    assert result.returncode == 0
    [line] = json_lines(result.stdout)
    assert line["detections"] == 1 and line["runs"] == 2
    assert set(line["median_ms"]) == {"decode", "detect", "total"}
    assert line["median_ms"]["total"] >= line["median_ms"]["detect"] > 0


def test_bench_on_a_bad_image_fails_cleanly(bad_files):
    result = run_cli("bench", "--runs", "1", bad_files["truncated.jpg"])
    assert result.returncode == 1 and "not a complete JPEG" in result.stdout


def test_unknown_option_is_a_usage_error():
    result = run_cli("detect", "--detector", "magic", "x.jpg")
    assert result.returncode == 2 and "invalid choice" in result.stderr


@needs_weights
def test_detect_with_yolov5_names_the_classes(photos, tmp_path):
    result = run_cli("detect", "--detector", "yolov5", "--weights", WEIGHTS, "--img-size", "320",
                     "--json", photos["camera"], photos["coffee"])
    assert result.returncode == 0
    camera, coffee = json_lines(result.stdout)
    assert camera["detector"] == "yolov5"
    assert [d["label"] for d in camera["detections"]] == ["person", "car"]
    assert [d["label"] for d in coffee["detections"]] == ["cup", "dining table"]
    only_people = run_cli("detect", "--detector", "yolov5", "--weights", WEIGHTS, "--img-size", "320",
                          "--classes", "person", "--json", photos["camera"])
    assert [d["label"] for d in json_lines(only_people.stdout)[0]["detections"]] == ["person"]


def test_bench_yolov5_prints_stage_medians(photos, random_weights):
    result = run_cli("bench", "--detector", "yolov5", "--weights", random_weights, "--runs", "3",
                     "--img-size", "320", "--max-det", "7", photos["astronaut"])
    assert result.returncode == 0, result.stderr
    [line] = json_lines(result.stdout)
    assert (line["image"], line["detector"], line["runs"]) == (str(photos["astronaut"]), "yolov5", 3)
    assert (line["width"], line["height"], line["img_size"], line["weights"]) == (512, 512, 320, str(random_weights))
    assert line["detections"] == 7  # random weights score every box alike: --max-det is what limits them
    assert line["precision"] in ("fp32", "bf16") and line["threads"] >= 1
    medians = line["median_ms"]
    assert set(medians) == {"decode", "preprocess", "inference", "postprocess", "detect", "total"}
    assert medians["total"] >= medians["detect"] >= medians["inference"] > 0 and medians["decode"] > 0


def test_yolov5_without_a_model_says_how_to_get_one(photos, tmp_path):
    from lwface_desktop.core.resources import resource_path

    if resource_path("models", "yolov5n.pt").exists():
        pytest.skip("a model is baked into resources/models/ (make weights): there is no 'no model' case")
    env_home = {"XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "lwface_desktop", "detect", "--detector", "yolov5",
                             str(photos["astronaut"])], capture_output=True, text=True,
                            env={**os.environ, **env_home, "LWFACE_WEIGHTS": ""})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "lwface-desktop weights download yolov5n" in result.stderr


def test_bad_yolov5_options_are_usage_errors(photos):
    result = run_cli("detect", "--detector", "yolov5", "--img-size", "300", photos["astronaut"])
    assert result.returncode == 2 and "multiple of 32" in result.stderr


def test_weights_list_shows_where_models_are_looked_for():
    result = run_cli("weights", "list")
    assert result.returncode == 0
    assert "bundled" in result.stdout and "cache" in result.stdout and "yolov5s" in result.stdout


def test_video_writes_every_frame_and_one_json_line_each(clip, random_weights, tmp_path):
    import cv2

    out, lines = tmp_path / "out.avi", tmp_path / "dets.jsonl"
    result = run_cli("video", clip, "--weights", random_weights, "--img-size", "320", "--max-det", "4",
                     "--output", out, "--jsonl", lines)
    assert result.returncode == 0, result.stderr
    [summary] = json_lines(result.stdout)
    assert summary["frames"] == 60 and summary["fps"] > 0 and summary["img_size"] == 320
    per_frame = json_lines(lines.read_text())
    assert [f["frame"] for f in per_frame] == list(range(60))
    for frame in per_frame:  # random weights: the labels mean nothing, the shape of the output does
        assert len(frame["detections"]) == 4
        for d in frame["detections"]:
            x1, y1, x2, y2 = d["box"]
            assert d["label"] in COCO_NAMES and 0.25 <= d["score"] <= 1 and 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 480
    written = cv2.VideoCapture(str(out))
    assert written.get(cv2.CAP_PROP_FRAME_COUNT) == 60 and written.get(cv2.CAP_PROP_FPS) == 15
    assert (written.get(cv2.CAP_PROP_FRAME_WIDTH), written.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    decoded = 0
    while written.read()[0]:
        decoded += 1
    written.release()
    assert decoded == 60  # playable to the end
    assert "60/60 frames" in result.stderr  # the progress bar
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dets.jsonl", "out.avi"]  # no temporaries left


def test_video_from_a_missing_camera_fails_cleanly(random_weights, tmp_path):
    result = run_cli("video", "5", "--weights", random_weights, "--output", tmp_path / "out.avi")
    assert result.returncode == 1
    assert result.stderr.strip() == ("lwface-desktop: Camera 5 could not be opened: it is not connected, "
                                     "or another program is using it.")
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def self_test(weights, config_home):
    env = {**os.environ, "LWFACE_WEIGHTS": str(weights), "XDG_CONFIG_HOME": str(config_home)}
    return subprocess.run([sys.executable, "-m", "lwface_desktop", "--self-test"],
                          capture_output=True, text=True, env=env, timeout=120)


@needs_official_model
def test_self_test_finds_the_official_model_intact(tmp_path):
    result = self_test(WEIGHTS, tmp_path)
    assert result.returncode == 0, result.stdout
    assert "ok   The yolov5n model is intact (SHA-256 " in result.stdout and "cascade file loads" in result.stdout
    assert result.stdout.strip().endswith("All checks passed: lwface-desktop is ready.")


def test_self_test_runs_a_model_of_ones_own(random_weights, tmp_path):
    result = self_test(random_weights, tmp_path)
    assert result.returncode == 0, result.stdout
    assert (f"The model {random_weights} loads and runs (not an official file, so no checksum to compare)."
            in result.stdout)
    assert f"Settings can be saved in {tmp_path / 'lwface'}." in result.stdout
    assert result.stdout.strip().endswith("All checks passed: lwface-desktop is ready.")


def test_self_test_reports_failures_in_words(random_weights, tmp_path):
    damaged = tmp_path / "yolov5n.pt"  # the official name, other bytes: what a damaged download is
    damaged.write_bytes(random_weights.read_bytes()[:-1] + b"x")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the settings folder should be")
    result = self_test(damaged, blocked)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    model, cascade, yunet, settings, verdict = result.stdout.splitlines()
    assert model == (f"FAIL The model {damaged} is damaged (its SHA-256 is not the official yolov5n's). "
                     "Reinstall lwface-desktop or download it again.")
    assert cascade == "ok   The face detector's cascade file loads."
    assert yunet == "ok   The YuNet face model is intact (SHA-256 8f2383e4dd3c…)."
    assert settings == f"FAIL Settings cannot be saved in {blocked / 'lwface'}: Not a directory."
    assert verdict == "2 checks failed: see above."
