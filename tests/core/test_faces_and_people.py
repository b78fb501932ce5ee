"""Faces + people: YuNet and YOLOv5's person class on one frame, the faces on their own thread."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from lwface_desktop.core.faces_and_people import FacesAndPeople
from lwface_desktop.core.images import read_jpeg
from lwface_desktop.core.yunet import default_yunet
from tests.conftest import WEIGHTS, needs_official_model


@pytest.fixture(scope="module")
def random_people(random_weights):
    """YOLOv5 on random weights: 5 boxes on any image, always the same ones (their labels mean
    nothing, so the person class is left to the official model's test below)."""
    from lwface_desktop.core.yolo.detector import YoloDetector

    return YoloDetector(random_weights, img_size=320, precision="fp32", max_detections=5)


def test_the_result_is_the_faces_then_the_people_of_the_same_image(photos, random_people):
    image = read_jpeg(photos["astronaut"])
    both = FacesAndPeople(default_yunet(), random_people)
    faces, people = default_yunet().detect(image), random_people.detect(image)
    assert len(faces) == 1 and len(people) == 5
    assert both.detect(image) == faces + people
    assert both.label == "detection" and both.img_size == 320 and both.precision == "fp32"


def test_frames_from_several_threads_get_their_own_results(photos, random_people):
    both = FacesAndPeople(default_yunet(), random_people)
    images = [read_jpeg(photos[name]) for name in ("astronaut", "coffee", "chelsea", "astronaut-12mp")]
    alone = [both.faces.detect(image) + both.objects.detect(image) for image in images]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(both.detect, images * 2))
    assert together == alone * 2


def test_options_change_the_people_part_only(photos, random_people):
    both = FacesAndPeople(default_yunet(), random_people)
    fewer = both.with_options(max_detections=2, img_size=256)
    image = read_jpeg(photos["astronaut"])
    assert fewer.faces is both.faces and fewer.img_size == 256 and both.img_size == 320
    found = fewer.detect(image)
    assert [d.label for d in found[:1]] == ["face"] and len(found) == 3


@needs_official_model
def test_the_astronaut_is_a_face_and_a_person(photos):
    from lwface_desktop.core.detectors import Detectors

    found = Detectors(WEIGHTS).get("faces+people").detect(read_jpeg(photos["astronaut"]))
    assert [d.label for d in found] == ["face", "person"]
    face, person = found
    assert person.x1 <= face.x1 < face.x2 <= person.x2 and person.y1 <= face.y1 < face.y2 <= person.y2
