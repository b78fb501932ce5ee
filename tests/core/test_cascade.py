from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from skimage import data

from benchmarks.photos import PHONE_SIZE
from lwface_desktop.core.cascade import default_face_cascade, group_windows
from lwface_desktop.core.images import open_photo, read_jpeg
from tests.conftest import iou

# The face in skimage.data.astronaut(), as the scikit-image gallery example finds it (r=74, c=178, 87 px).
ASTRONAUT_FACE = (178, 74, 265, 161)


@pytest.fixture(scope="module")
def cascade():
    return default_face_cascade()


def test_finds_the_astronauts_face(cascade, photos):
    faces = cascade.detect(read_jpeg(photos["astronaut"]))
    assert len(faces) == 1
    assert iou(faces[0].box, ASTRONAUT_FACE) > 0.6
    assert faces[0].label == "face" and 0.5 <= faces[0].score < 1


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_no_faces_where_there_are_none(cascade, photos, name):
    assert cascade.detect(read_jpeg(photos[name])) == []


def test_twelve_megapixel_photo_is_handled_like_its_small_version(cascade, photos):
    small = cascade.detect(read_jpeg(photos["astronaut"]))
    big_image = read_jpeg(photos["astronaut-12mp"])
    assert big_image.shape[:2] == PHONE_SIZE[::-1]
    big = cascade.detect(big_image)
    assert len(big) == 1
    # benchmarks.photos scales the photo to the frame height and centres it.
    scale = PHONE_SIZE[1] / 512
    offset = (PHONE_SIZE[0] - PHONE_SIZE[1]) // 2
    x1, y1, x2, y2 = small[0].box
    expected = (x1 * scale + offset, y1 * scale, x2 * scale + offset, y2 * scale)
    assert iou(big[0].box, expected) > 0.7


def test_mirrored_photo_has_its_face_mirrored(cascade):
    faces = cascade.detect(data.astronaut()[:, ::-1])
    x1, y1, x2, y2 = ASTRONAUT_FACE
    assert len(faces) == 1 and iou(faces[0].box, (512 - x2, y1, 512 - x1, y2)) > 0.6


def test_neighbouring_faces_stay_separate(cascade):
    grid = np.concatenate([np.concatenate([data.astronaut()] * 2, axis=1)] * 2, axis=0)
    faces = cascade.detect(grid)
    assert len(faces) == 4
    x1, y1, x2, y2 = ASTRONAUT_FACE
    for dx in (0, 512):
        for dy in (0, 512):
            assert max(iou(f.box, (x1 + dx, y1 + dy, x2 + dx, y2 + dy)) for f in faces) > 0.6


def test_greyscale_arrays_are_accepted(cascade):
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    faces = cascade.detect(grey)
    assert len(faces) == 1 and iou(faces[0].box, ASTRONAUT_FACE) > 0.6


def test_tiny_image_gives_no_faces_and_no_error(cascade):
    assert cascade.detect(np.zeros((8, 300, 3), np.uint8)) == []


def test_boxes_stay_inside_the_image(cascade):
    # The face cut by the top-left corner: boxes must be clipped to the picture.
    crop = data.astronaut()[100:, 200:]
    for face in cascade.detect(crop):
        assert 0 <= face.x1 < face.x2 <= crop.shape[1] and 0 <= face.y1 < face.y2 <= crop.shape[0]


def test_one_detector_serves_several_threads(cascade):
    image = data.astronaut()
    expected = cascade.detect(image)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(cascade.detect, [image] * 3))
    assert results == [expected] * 3


def test_grouping_merges_one_face_and_never_chains_two():
    face_a = [[100, 100, 150, 150], [104, 102, 156, 154], [96, 98, 156, 158]]
    face_b = [[300, 100, 350, 150], [302, 104, 352, 154]]
    spanning = [[90, 90, 360, 360]]  # one big stray window over both faces
    groups = group_windows(np.array(face_a + face_b + spanning, dtype=float))
    assert sorted(count for _, count in groups) == [1, 2, 3]


def test_reduced_decode_finds_the_same_face_in_full_resolution_pixels(cascade, photos):
    full = cascade.detect(read_jpeg(photos["astronaut-12mp"]))
    reduced = cascade.detect_photo(open_photo(photos["astronaut-12mp"], min_side=cascade.work_side))
    assert len(full) == len(reduced) == 1
    assert iou(full[0].box, reduced[0].box) > 0.85
