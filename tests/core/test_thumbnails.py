"""Thumbnails of what was found: the box as drawn, framed by its own outline, small, and
never empty, whatever the box."""

import cv2
import numpy as np
from skimage import data

from lwface_desktop.core.annotate import annotate
from lwface_desktop.core.detection import Detection
from lwface_desktop.core.palette import colour_of
from lwface_desktop.core.pipeline import render
from lwface_desktop.core.thumbnails import SIDE, thumbnails

FACE = Detection(178, 74, 265, 161, 0.8, "face")   # the astronaut's face, in the 512 px photo


def test_a_thumbnail_is_the_box_as_drawn_framed_by_its_outline():
    shown = annotate(data.astronaut(), [FACE], labels=False)
    [thumb] = thumbnails(shown, [FACE], 1.0)
    assert thumb.dtype == np.uint8 and thumb.ndim == 3 and max(thumb.shape[:2]) == SIDE
    assert (thumb[:, 0] == colour_of("face")).all(axis=1).mean() > 0.8  # the box's left edge frames it
    # All of it is the box as shown, with the 1 px of its 2 px line that lies outside it.
    x1, y1, x2, y2 = (round(v) for v in FACE.box)
    expected = cv2.resize(shown[y1 - 1:y2 + 1, x1 - 1:x2 + 1], (SIDE, SIDE), interpolation=cv2.INTER_AREA)
    assert np.abs(thumb.astype(int) - expected).mean() < 1


def test_boxes_in_full_resolution_pixels_are_cut_from_a_smaller_view():
    photo = data.astronaut()
    view = cv2.resize(photo, (256, 256), interpolation=cv2.INTER_AREA)
    big = FACE.scaled(4.0)  # found in a 2048 px photo shown at 256 px
    [thumb] = thumbnails(view, [big], 256 / 2048)
    [same] = thumbnails(view, [FACE.scaled(0.5)], 1.0)
    assert thumb.shape == same.shape and (thumb == same).all()


def test_a_hidden_face_stays_hidden_in_its_thumbnail():
    shown = render(data.astronaut(), [FACE], hide="box")  # a solid black box over the face, no outline
    [thumb] = thumbnails(shown, [FACE], 1.0)
    middle = thumb[thumb.shape[0] // 4:-thumb.shape[0] // 4, thumb.shape[1] // 4:-thumb.shape[1] // 4]
    assert (middle == 0).all()


def test_small_boxes_are_not_enlarged_and_odd_boxes_still_give_a_picture():
    image = data.coffee()  # 400 x 600
    small = Detection(10, 10, 30, 40, 0.5, "cup")
    edge = Detection(590, 390, 700, 500, 0.5, "cup")      # mostly outside the picture
    outside = Detection(900, 900, 950, 950, 0.5, "cup")   # wholly outside it
    empty = Detection(50, 50, 50, 50, 0.5, "cup")         # no area at all
    out = thumbnails(image, [small, edge, outside, empty], 1.0)
    assert len(out) == 4 and all(t.size > 0 and t.shape[2] == 3 for t in out)
    assert max(out[0].shape[:2]) < SIDE  # 20 x 30 px (and its outline) stays that size
    assert all(max(t.shape[:2]) <= SIDE for t in out)


def test_no_detections_no_thumbnails():
    assert thumbnails(data.coffee(), [], 1.0) == []
