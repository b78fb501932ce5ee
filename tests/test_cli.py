"""The CLI as scripts use it: a real process, JSON lines, exit codes, never a traceback."""

import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from benchmarks.clips import write_clip
from lwface_desktop import __version__
from lwface_desktop.core.yolo import fused
from tests.conftest import COCO_NAMES, SHARED, WEIGHTS, needs_official_model, needs_weights


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


def test_bench_times_yunets_live_setting_on_request(photos):
    result = run_cli("bench", "--live", "--runs", "1", photos["astronaut-vga"])
    assert result.returncode == 0
    [line] = json_lines(result.stdout)
    assert line["live"] is True and line["detector"] == "yunet" and line["detections"] >= 1
    assert (line["width"], line["height"]) == (640, 480)


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
    assert line["precision"] == "fp32" and line["precision_why"] == "asked for with --precision"  # photos: fp32
    assert line["threads"] >= 1
    assert line["engine"] == ("fused" if fused.available() else "eager")
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
    from lwface_desktop.core.yolo.detector import auto_precision

    precision, why = auto_precision()
    kernels = "oneDNN's fused kernels" if fused.available() else "PyTorch's plain kernels"
    assert f"The live camera runs it in {precision} ({why}) on {kernels}" in result.stdout
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


# Anonymise, --min-score and the live detectors of `video`.

GROUP = SHARED / "faces" / "2007_007763.jpg"  # seven faces (../shared/faces)
needs_group_photo = pytest.mark.skipif(not GROUP.is_file(), reason=f"missing {GROUP} (../shared/faces)")


def far_from(boxes, shape):
    """True where a pixel is farther from every face than its mask can reach (the box's size
    from its centre, beyond anonymise's padded ellipse)."""
    far = np.ones(shape[:2], bool)
    for x1, y1, x2, y2 in boxes:
        cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
        far[max(0, int(cy - h)):int(cy + h) + 1, max(0, int(cx - w)):int(cx + w) + 1] = False
    return far


def fine_detail(image):
    """What is left after a small blur: the detail that makes a face recognisable."""
    grey = image.astype(float).mean(axis=2)
    return grey - cv2.GaussianBlur(grey, (0, 0), 2)


@pytest.fixture(scope="module")
def group_faces():
    result = run_cli("detect", "--json", GROUP)
    [line] = json_lines(result.stdout)
    assert len(line["detections"]) == 7
    return line["detections"]


@needs_group_photo
@pytest.mark.parametrize("mode", ["blur", "pixelate", "box"])
def test_detect_anonymize_hides_every_face_in_the_written_image(mode, group_faces, tmp_path):
    from lwface_desktop.core.images import open_photo

    out = tmp_path / "hidden.png"  # lossless: every pixel away from the faces must be the photo's own
    result = run_cli("detect", "--json", "--anonymize", mode, "--output", out, GROUP)
    assert result.returncode == 0, result.stderr
    [line] = json_lines(result.stdout)
    assert line["detections"] == group_faces  # the JSON keeps every face and its box
    original = open_photo(GROUP).pixels
    hidden = np.asarray(Image.open(out).convert("RGB"))
    boxes = [d["box"] for d in group_faces]
    assert np.array_equal(hidden[far_from(boxes, hidden.shape)], original[far_from(boxes, hidden.shape)])
    for x1, y1, x2, y2 in boxes:
        inner = (slice(y1 + 2, y2 - 2), slice(x1 + 2, x2 - 2))  # inside the box, away from neighbours' edges
        was, now = original[inner].astype(int), hidden[inner].astype(int)
        assert np.abs(now - was).mean() > 8
        if mode == "box":
            assert (now == 0).all()
        elif mode == "blur":
            assert fine_detail(hidden)[inner].var() < 0.05 * fine_detail(original)[inner].var()
        else:  # pixelate: flat blocks of a few pixels, so most neighbours along a row are alike
            assert (now[:, 1:] == now[:, :-1]).all(axis=2).mean() > 0.5 > (was[:, 1:] == was[:, :-1]).all(axis=2).mean()


def test_detect_anonymise_in_a_jpeg_keeps_the_rest_of_the_photo(photos, tmp_path):
    from lwface_desktop.core.images import open_photo

    result = run_cli("detect", "--json", "--anonymise", "blur", "--output", tmp_path / "blurred.jpg",
                     photos["astronaut"])
    assert result.returncode == 0, result.stderr
    [face] = json_lines(result.stdout)[0]["detections"]
    original = open_photo(photos["astronaut"]).pixels
    blurred = open_photo(tmp_path / "blurred.jpg").pixels  # read back: the saved file keeps no face
    x1, y1, x2, y2 = face["box"]
    assert fine_detail(blurred)[y1:y2, x1:x2].var() < 0.05 * fine_detail(original)[y1:y2, x1:x2].var()
    far = far_from([face["box"]], original.shape)
    assert np.abs(blurred[far].astype(int) - original[far]).mean() < 2  # JPEG's re-encoding only
    text = run_cli("detect", "--anonymize", "box", "--output", tmp_path / "covered.jpg", photos["astronaut"])
    assert text.stdout.strip().endswith(f"saved {tmp_path / 'covered.jpg'} with faces covered")


@pytest.mark.parametrize("args, words", [
    (["detect", "--anonymize", "blur", "photo.jpg"],
     "--anonymize blur hides faces in the images written by --output, and there is no --output"),
    (["video", "--anonymize", "box", "--jsonl", "d.jsonl", "clip.avi"],
     "--anonymize box hides faces in the video written by --output, and there is no --output"),
    (["detect", "--detector", "yolov5", "--anonymize", "blur", "--output", "o.jpg", "photo.jpg"],
     "yolov5 finds no faces; use --detector yunet or cascade"),
    (["video", "--anonymize", "blur", "--output", "o.avi", "clip.avi"],
     "yolov5 finds no faces; use --detector yunet or faces+people"),
    (["detect", "--min-score", "0", "photo.jpg"], "--min-score must be above 0 and at most 1, got 0.0"),
    (["detect", "--min-score", "1.5", "photo.jpg"], "--min-score must be above 0 and at most 1, got 1.5"),
    (["detect", "--detector", "yolov5", "--min-score", "0.5", "photo.jpg"], "yolov5's minimum score is --conf"),
    (["detect", "--detector", "cascade", "--min-score", "0.3", "photo.jpg"],
     "the cascade scores every face it reports at least 0.5"),
    (["video", "--detector", "faces+people", "--classes", "car", "clip.avi"], "faces+people finds faces and people"),
    (["detect", "--anonymize", "smudge", "photo.jpg"], "invalid choice: 'smudge'"),
])
def test_options_that_do_not_fit_are_refused_before_any_work(args, words, tmp_path):
    result = run_cli(*args, cwd=tmp_path)  # the files named need not exist: nothing is opened
    assert result.returncode == 2 and words in result.stderr
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_the_parser_offers_the_modes_anonymise_has():
    from lwface_desktop.cli import HIDE_MODES
    from lwface_desktop.core.anonymise import MODES

    assert HIDE_MODES == MODES


@needs_group_photo
def test_min_score_keeps_the_faces_scoring_at_least_that(group_faces):
    threshold = round(min(d["score"] for d in group_faces) + 0.001, 4)  # just above the weakest face
    strict = run_cli("detect", "--json", "--min-score", threshold, GROUP)
    kept = json_lines(strict.stdout)[0]["detections"]
    assert kept == [d for d in group_faces if d["score"] >= threshold] and len(kept) < len(group_faces)
    loose = json_lines(run_cli("detect", "--json", "--min-score", "0.3", GROUP).stdout)[0]["detections"]
    assert len(loose) >= len(group_faces) and min(d["score"] for d in loose) >= 0.3


def test_min_score_filters_the_cascade(photos):
    def faces(*options):
        result = run_cli("detect", "--json", "--detector", "cascade", *options, photos["astronaut"])
        return json_lines(result.stdout)[0]["detections"]

    [face] = faces()
    assert faces("--min-score", face["score"]) == [face]
    assert faces("--min-score", min(1, face["score"] + 0.01)) == []


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory):
    """1 s at 10 fps of the astronaut panning: her face moves across the frame (benchmarks/clips.py)."""
    path = tmp_path_factory.mktemp("faces") / "astronaut.avi"
    assert write_clip(str(path), 1, 10) == 10
    return path


def read_video(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while (frame := capture.read()[1]) is not None:
        frames.append(frame)
    capture.release()
    return frames


def test_video_finds_faces_and_anonymize_hides_them_in_every_frame(face_clip, tmp_path):
    plain_out, hidden_out = tmp_path / "plain.avi", tmp_path / "hidden.avi"
    plain = run_cli("video", "--detector", "yunet", face_clip, "--output", plain_out,
                    "--jsonl", tmp_path / "plain.jsonl")
    assert plain.returncode == 0, plain.stderr
    [summary] = json_lines(plain.stdout)
    assert summary["detector"] == "yunet" and summary["frames"] == 10
    assert summary["img_size"] is None and summary["precision"] is None  # YOLOv5's settings: there is none
    hidden = run_cli("video", "--detector", "yunet", "--anonymize", "blur", face_clip, "--output", hidden_out,
                     "--jsonl", tmp_path / "hidden.jsonl")
    assert hidden.returncode == 0, hidden.stderr
    per_frame = json_lines((tmp_path / "hidden.jsonl").read_text())
    assert per_frame == json_lines((tmp_path / "plain.jsonl").read_text())  # the JSON lines keep the faces
    plain_frames, hidden_frames = read_video(plain_out), read_video(hidden_out)
    assert len(plain_frames) == len(hidden_frames) == len(per_frame) == 10
    for line, was, now in zip(per_frame, plain_frames, hidden_frames, strict=True):
        [face] = line["detections"]
        assert face["label"] == "face"
        x1, y1, x2, y2 = face["box"]
        inner = (slice(y1 + 4, y2 - 4), slice(x1 + 4, x2 - 4))  # inside the plain run's red box
        assert fine_detail(now)[inner].var() < 0.2 * fine_detail(was)[inner].var()
        far = far_from([face["box"]], was.shape)
        assert np.abs(now[far].astype(int) - was[far]).mean() < 3  # the codec's noise only


@needs_official_model
def test_video_faces_and_people_finds_both(face_clip, tmp_path):
    result = run_cli("video", "--detector", "faces+people", "--weights", WEIGHTS, "--img-size", "320",
                     face_clip, "--jsonl", tmp_path / "dets.jsonl")
    assert result.returncode == 0, result.stderr
    [summary] = json_lines(result.stdout)
    assert (summary["detector"], summary["img_size"]) == ("faces+people", 320)
    for line in json_lines((tmp_path / "dets.jsonl").read_text()):
        labels = [d["label"] for d in line["detections"]]
        assert labels[0] == "face" and "person" in labels and set(labels) == {"face", "person"}
    strict = run_cli("video", "--detector", "faces+people", "--weights", WEIGHTS, "--img-size", "320",
                     "--min-score", "0.9999", face_clip, "--jsonl", tmp_path / "strict.jsonl")
    assert strict.returncode == 0, strict.stderr
    for line in json_lines((tmp_path / "strict.jsonl").read_text()):
        assert {d["label"] for d in line["detections"]} == {"person"}  # --min-score is for the faces only
