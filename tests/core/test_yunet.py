"""YuNet faces: the bundled model, its checks, and what it finds on real photos."""

import json

import pytest

from lwface_desktop.core.errors import ModelError
from lwface_desktop.core.images import read_jpeg
from lwface_desktop.core.yunet import MODEL_SHA256, YuNetFaces, default_yunet, model_path
from tests.conftest import SHARED, iou

FACES = SHARED / "faces"


def test_the_bundled_model_is_yunet():
    import hashlib

    assert hashlib.sha256(model_path().read_bytes()).hexdigest() == MODEL_SHA256
    assert (model_path().parent / "LICENSE-yunet.txt").is_file()  # MIT: the notice ships with it


def test_a_missing_or_damaged_model_is_said_in_words(tmp_path):
    with pytest.raises(ModelError, match="is missing; reinstall lwface-desktop .the classic cascade still works"):
        YuNetFaces(tmp_path / "nowhere.onnx")
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(model_path().read_bytes()[:-10])
    with pytest.raises(ModelError, match="is damaged"):
        YuNetFaces(damaged)


def test_the_astronaut_has_one_face_with_its_landmarks_inside(photos):
    faces = default_yunet().detect(read_jpeg(photos["astronaut"]))
    assert len(faces) == 1
    face = faces[0]
    assert face.label == "face" and face.score >= 0.6
    assert 150 < face.x1 < face.x2 < 300 and 40 < face.y1 < face.y2 < 200  # the cascade's box: 175, 66, 273, 164
    assert len(face.landmarks) == 5
    assert all(face.x1 <= x <= face.x2 and face.y1 <= y <= face.y2 for x, y in face.landmarks)
    half = face.scaled(0.5)
    assert half.landmarks[0] == (face.landmarks[0][0] / 2, face.landmarks[0][1] / 2)


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_no_face_where_there_is_none(photos, name):
    assert default_yunet().detect(read_jpeg(photos[name])) == []


@pytest.mark.skipif(not (FACES / "faces.json").is_file(), reason=f"the face dev set is not at {FACES}")
def test_the_dev_set_faces_are_found():
    """9 real photos, 43 third-party face boxes (tight squares: matched at IoU >= 0.3)."""
    truth = json.loads((FACES / "faces.json").read_text())["faces"]
    found = correct = total = 0
    for name, boxes in truth.items():
        faces = default_yunet().detect(read_jpeg(FACES / name))
        found += len(faces)
        total += len(boxes)
        correct += sum(any(iou(face.box, box) >= 0.3 for face in faces) for box in boxes)
    recall, precision = correct / total, correct / found
    print(f"recall {recall:.2f}, precision {precision:.2f}")
    assert recall >= 0.95 and precision >= 0.95  # measured: 43 of 43, one false box


def test_detect_and_bench_take_yunet(photos, tmp_path):
    from tests.test_cli import json_lines, run_cli

    out = tmp_path / "boxed.jpg"
    result = run_cli("detect", "--detector", "yunet", "--json", "--output", out, photos["astronaut"])
    assert result.returncode == 0 and result.stderr == ""
    line = json_lines(result.stdout)[0]
    assert line["detector"] == "yunet" and [d["label"] for d in line["detections"]] == ["face"]
    assert read_jpeg(out).shape == (512, 512, 3)
    bench = json_lines(run_cli("bench", "--detector", "yunet", "--runs", "2", photos["astronaut-12mp"]).stdout)[0]
    assert bench["detections"] == 1 and set(bench["median_ms"]) >= {"decode", "detect", "total"}
