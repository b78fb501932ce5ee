"""Hiding faces: the mask covers the whole face, changes only what it covers, and follows a video's faces."""

import numpy as np
import pytest

from lwface_desktop.core.anonymise import KEEP_FRAMES, MODES, FaceTrack, anonymise
from lwface_desktop.core.detection import Detection
from lwface_desktop.core.images import read_jpeg
from lwface_desktop.core.palette import colour_of
from lwface_desktop.core.pipeline import render
from lwface_desktop.core.yunet import default_yunet


def _face(x1, y1, x2, y2, label="face"):
    return Detection(x1, y1, x2, y2, 0.9, label)


@pytest.fixture(scope="module")
def astronaut(photos):
    image = read_jpeg(photos["astronaut"])
    return image, default_yunet().detect(image)


@pytest.mark.parametrize("mode", [m for m in MODES if m != "off"])
def test_the_whole_face_is_hidden_and_nothing_far_from_it_changes(astronaut, mode):
    image, faces = astronaut
    hidden = anonymise(image, faces, mode)
    face = faces[0]
    x1, y1, x2, y2 = (round(v) for v in face.box)
    changed = np.any(hidden != image, axis=2)
    inside = changed[y1:y2, x1:x2]
    assert inside.mean() > 0.9  # practically every pixel of the face's box
    # The face's detail is gone: what is left is a few cells' worth of colour.
    assert hidden[y1:y2, x1:x2].std(axis=(0, 1)).max() < image[y1:y2, x1:x2].std(axis=(0, 1)).max()
    far = np.ones_like(changed)
    w, h = x2 - x1, y2 - y1
    far[max(0, y1 - h):y2 + h, max(0, x1 - w):x2 + w] = False
    assert not changed[far].any()
    assert hidden is not image and image is not None  # the input is never modified
    assert not np.shares_memory(hidden, image)


def test_off_and_no_faces_leave_the_image_alone(astronaut):
    image, faces = astronaut
    assert anonymise(image, faces, "off") is image
    person = _face(10, 10, 100, 200, label="person")
    assert anonymise(image, [person], "blur") is image
    with pytest.raises(ValueError, match="blur, pixelate, box"):
        anonymise(image, faces, "smudge")


def test_a_face_at_the_edge_is_clipped_not_refused():
    image = np.full((50, 60, 3), 200, np.uint8)
    image[::2] = 0  # detail for the blur to remove
    out = anonymise(image, [_face(-20, -20, 15, 15), _face(100, 100, 120, 120)], "blur")
    assert (out[:10, :10] != image[:10, :10]).any() and np.array_equal(out[40:], image[40:])


def test_render_hides_faces_and_boxes_only_the_rest(astronaut):
    image, faces = astronaut
    person = _face(5, 300, 120, 500, label="person")
    shown = render(image, [*faces, person], "box")
    x1, y1, x2, y2 = (round(v) for v in faces[0].box)
    assert (shown[y1 + 5:y2 - 5, x1 + 5:x2 - 5] == 0).all()  # a solid box, no red frame or label on it
    assert (shown[300:500, 5] == colour_of("person")).all()   # the person keeps its box


def test_a_face_missed_for_a_few_frames_stays_hidden():
    track = FaceTrack()
    face = _face(100, 100, 150, 150)
    assert track.update([face]) == [face]
    for _ in range(KEEP_FRAMES):
        assert track.update([]) == [face]
    assert track.update([]) == []
    moved = _face(104, 102, 154, 152)
    track.update([face])
    assert track.update([moved]) == [moved]  # the same face, seen again: not kept twice


def test_a_face_is_followed_while_hiding_is_off_and_hidden_once_it_comes_back(astronaut):
    from lwface_desktop.core.detection import Detector
    from lwface_desktop.core.pipeline import process_frame

    image, faces = astronaut

    class FaceOnce(Detector):  # a face in the first frame, then it has left
        label = "face"
        calls = 0

        def detect(self, frame):
            self.calls += 1
            return faces if self.calls == 1 else []

    detector, track = FaceOnce(), FaceTrack()
    first, _, kept, _ = process_frame(image, detector, "off", track)
    assert np.array_equal(first, render(image, faces)) and kept == []
    _, detections, kept, _ = process_frame(image, detector, "blur", track)  # missed here: still hidden
    assert detections == [] and kept == faces
    for _ in range(KEEP_FRAMES):
        last, _, kept, _ = process_frame(image, detector, "blur", track)
    assert kept == [] and np.array_equal(last, image)  # gone long enough: no stale box is hidden
