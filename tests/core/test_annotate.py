import numpy as np
from skimage import data

from lwface_desktop.core.annotate import annotate
from lwface_desktop.core.detection import Detection

FACE = Detection(178, 74, 265, 161, 0.8, "face")


def test_draws_red_boxes_on_a_copy():
    image = data.astronaut()
    before = image.copy()
    out = annotate(image, [FACE], labels=False)
    assert (image == before).all()  # the input is untouched
    assert out.shape == image.shape and out.dtype == np.uint8
    assert tuple(out[120, 178]) == (255, 0, 0)  # left edge of the box
    assert tuple(out[160, 220]) == (255, 0, 0)  # bottom edge
    inside = (slice(90, 150), slice(195, 250))
    assert (out[inside] == image[inside]).all()  # the face itself is not painted over


def test_labels_add_text_above_the_box():
    plain = annotate(data.astronaut(), [FACE], labels=False)
    labelled = annotate(data.astronaut(), [FACE], labels=True)
    band = (slice(40, 72), slice(178, 265))  # just above the box
    assert (labelled[band] != plain[band]).any()
    assert (labelled[band] == 255).all(axis=2).any()  # white text


def test_no_detections_leaves_the_photo_as_it_was():
    image = data.coffee()
    assert (annotate(image, []) == image).all()
